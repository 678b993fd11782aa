package errors_test

import (
	"strings"
	"testing"
)

func TestGetIssueShowsTheStackThatMatters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	text := h.ok("get_issue", map[string]any{"issue": "API-7Q"})

	if reqs := h.fake.requests(); len(reqs) != 2 || reqs[0].Path != "/api/0/organizations/acme/shortids/API-7Q/" ||
		reqs[1].Path != "/api/0/organizations/acme/issues/6012345671/events/latest/" {
		t.Fatalf("want the short-ID lookup then the latest event, got %v", reqs)
	}
	has(t, "summary", text,
		"Issue API-7Q (id 6012345671) in project api: 1,523 events, 212 users; error, unhandled, unresolved/regressed;",
		"Showing the latest event.")
	// The exception raised last comes first, then its cause; in-app frames
	// most recent first with file:line and function; library frames
	// collapsed to a count by package; source around the top frame.
	has(t, "stack", text,
		"KeyError: 'currency' [unhandled, mechanism django]\n  billing/views.py:57 in create_invoice\n",
		"    > 57 |     currency = payload[\"currency\"]\n",
		"      55 |         log.warning(",
		"  billing/views.py:41 in post\n    > 41 |         invoice = create_invoice(request.user, payload)\n",
		"  … 5 library frames (django 3, rest_framework 2)\n",
		"caused by ValueError: price table missing for region EU [handled, mechanism chained]\n  billing/pricing.py:88 in price_for\n")
	lacks(t, "stack", text, "52 | def create_invoice", "inner", "_get_response")
	if strings.Index(text, "KeyError") > strings.Index(text, "caused by ValueError") {
		t.Errorf("the final exception must come before its cause")
	}
	has(t, "context", text,
		"event a3f1c2d4e5f60718293a4b5c6d7e8f90 at 2026-11-25T20:58:11Z, environment production, release api@2026.11.3, platform python",
		"request: POST https://api.acme.example/v1/invoices/?page=2&token=%5BFiltered%5D (Content-Type: application/json; Host: api.acme.example; User-Agent: python-requests/2.32.3)",
		"user: id=8812 username=ana email=…@customer.example ip=203.0.113.x geo=Berlin, DE",
		"session_token=[Filtered]", "server_name=api-7f9c",
		"contexts: os=Linux 6.1.0-26-cloud-amd64; runtime=CPython 3.12.7; trace=9a7c2e41d6b84d02a1f3c0e5b7d9a611 http.server",
		"breadcrumbs (5, oldest first):",
		"httplib GET https://api.stripe.com/v1/customers/cus_Q2?api_key=%5BFiltered%5D&expand=sources → 200",
		"billing.auth debug calling ledger {Authorization=[Filtered], customer=8812, email=[Filtered]}",
		"billing.views warning Falling back to default currency for customer 8812")
	// What was cut, and what is never shown, is said once at the end.
	has(t, "footer", text, "[trimmed] 5 library frames collapsed", "user email, IP and name masked",
		"7 request headers, cookies or body fields withheld", "custom contexts (invoice)", "extra data (1 key)",
		"Never shown: local variables, cookies, request bodies, credentials.")
	lacks(t, "privacy", text, append(pii, "X-Forwarded-For", "Cookie:", "Authorization:", "card_password", "SERVER_NAME")...)
	body := text[strings.Index(text, "<untrusted-data-"):strings.LastIndex(text, "</untrusted-data-")]
	if !strings.Contains(body, "KeyError") || !strings.Contains(body, "breadcrumbs") {
		t.Errorf("the event must be inside the untrusted-data fence:\n%s", text)
	}
}

func TestGetIssueCollapsesFrameworkFrames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	text := h.ok("get_issue", map[string]any{"issue": "https://acme.sentry.io/issues/6012345672/?project=4508123456789001"})
	if p := h.fake.requests()[0].Path; p != "/api/0/organizations/acme/issues/6012345672/" {
		t.Errorf("an issue URL must be read as its ID; requested %s", p)
	}
	has(t, "stack", text,
		"TypeError: Cannot read properties of undefined (reading 'id') [unhandled, mechanism onunhandledrejection]\n  ./src/cart/checkout.ts:88:14 in computeTotal\n",
		"    > 88 |     total += price.amount * it.quantity + prices[it.sku].id\n",
		"…[+", // the 600-byte minified comment is clipped
		"  ./src/cart/checkout.ts:112:20 in handleCheckout\n",
		"  … 2 library frames (lodash 2)\n  ./src/cart/CheckoutButton.tsx:31:9 in onClick\n",
		"  … 14 library frames (react-dom 9, scheduler 5)\n",
		"breadcrumbs (last 10 of 34, oldest first):",
		"21:03:53.500 fetch GET https://api.acme.example/v1/prices?access_token=%5BFiltered%5D&currency=EUR → 503",
		"[trimmed] 24 older breadcrumbs; 16 library frames collapsed",
		"full=true shows every frame and breadcrumb")
	lacks(t, "stack", text, "dispatchDiscreteEvent", "performWorkUntilDeadline", "21:03:07")

	full := h.ok("get_issue", map[string]any{"issue": "WEB-3F", "full": true})
	has(t, "full", full, "breadcrumbs (34, oldest first):", "21:03:07.000 navigation /cart → /checkout?step=0",
		"scheduler.production.min.js:10:100 in performWorkUntilDeadline [library]", "in dispatchDiscreteEvent [library]")
	lacks(t, "full", full, "library frames collapsed", "older breadcrumbs", "full=true shows")
}

func TestGetIssueEventChoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	oldest := h.ok("get_issue", map[string]any{"issue": "6012345671", "event": "oldest"})
	has(t, "oldest", oldest, "Showing the oldest event.", "event 7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "environment staging, release api@2026.11.2")

	byID := h.ok("get_issue", map[string]any{"issue": "API-7Q", "event": "7D1E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6"})
	has(t, "by ID", byID, "Showing event 7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6.")
	if p := h.fake.requests()[len(h.fake.requests())-1].Path; !strings.HasSuffix(p, "/events/7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6/") {
		t.Errorf("event IDs are sent normalised: %s", p)
	}

	// An issue whose events have all aged out still shows.
	none := h.ok("get_issue", map[string]any{"issue": "API-7R"})
	has(t, "no event", none, "Showing no event: none is retained for this issue.", "title: OperationalError")

	n := len(h.fake.requests())
	msg := h.fails("get_issue", map[string]any{"issue": "API-7Q", "event": "newest"})
	has(t, "bad event", msg, `event "newest" is not an event ID`, "latest, oldest or recommended")
	missing := h.fails("get_issue", map[string]any{"issue": "API-7Q", "event": "ffffffffffffffffffffffffffffffff"})
	has(t, "missing event", missing, "Sentry found no event ffffffffffffffffffffffffffffffff of issue API-7Q (404)")
	if got := len(h.fake.requests()) - n; got != 2 {
		t.Errorf("a malformed event ID must be refused before any request; made %d requests", got)
	}
}

func TestShowPIIUnmasksUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{settings: map[string]string{"show_pii": "true"}})
	text := h.ok("get_issue", map[string]any{"issue": "API-7Q"})
	has(t, "show_pii", text, "user: id=8812 username=ana name=Ana Customer email=ana.customer@customer.example ip=203.0.113.77",
		"X-Forwarded-For: 203.0.113.77", "email=ana.customer@customer.example}")
	lacks(t, "show_pii", text, "masked")
	// Credentials stay hidden whatever show_pii says.
	lacks(t, "show_pii", text, "Authorization:", "Cookie:")
}

func TestListIssueEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	text := h.ok("list_issue_events", map[string]any{"issue": "API-7Q", "since": "7d", "query": "release:api@2026.11.3"})
	has(t, "events", text, "2 events of issue API-7Q (1,523 events in total) matching \"release:api@2026.11.3\"",
		"event_id,time,environment,release,user,location,message\n",
		"a3f1c2d4e5f60718293a4b5c6d7e8f90,2026-11-25T20:58:11Z,production,api@2026.11.3,8812,billing/views.py,KeyError: 'currency'\n",
		"get_issue with issue and event=EVENT_ID")
	req := h.fake.requestsTo("/events/")[0]
	q := req.Query()
	if req.Path != "/api/0/organizations/acme/issues/6012345671/events/" || q.Get("full") != "false" || q.Get("per_page") != "25" ||
		q.Get("query") != "release:api@2026.11.3" || q.Get("start") == "" || q.Get("end") == "" {
		t.Errorf("request: %s?%s", req.Path, q.Encode())
	}
	web := h.ok("list_issue_events", map[string]any{"issue": "WEB-3F"})
	has(t, "masked user", web, ",…@mail.example,")
	lacks(t, "masked user", web, "buyer@mail.example")

	bad := h.fails("list_issue_events", map[string]any{"issue": "API-7Q", "query": "(release:1"})
	has(t, "bad query", bad, "Sentry rejected the request (400): Parse error at '('", "Sentry search terms are key:value")
}
