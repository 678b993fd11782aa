package errors_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	errorsrv "github.com/opstower/opstower/servers/errors"
	"github.com/opstower/opstower/shared/config"
)

// TestBadInputs sends what a model or a person gets wrong and checks each
// gets a tool error that says what to do.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	cases := []struct {
		name      string
		tool      string
		args      map[string]any
		want      []string
		noRequest bool // refused before calling Sentry
	}{
		{"misspelt project", "list_issues", map[string]any{"project": "wbe"}, []string{`no project "wbe" in acme; did you mean web?`}, false},
		{"unknown project", "error_stats", map[string]any{"project": "payments"}, []string{`no project "payments" in acme; projects are: web, api, billing-worker`}, false},
		{"invalid search", "list_issues", map[string]any{"query": "is:open"}, []string{
			`Sentry rejected the request (400): Invalid value for "is" search, valid values are`, "Sentry search terms are key:value (is:unresolved"}, false},
		{"backwards range", "list_issues", map[string]any{"since": "2026-11-20", "until": "2026-11-10"}, []string{
			"the time range runs backwards", "since 2026-11-20T00:00:00Z is not before until 2026-11-10T00:00:00Z; swap them"}, true},
		{"backwards stats", "error_stats", map[string]any{"since": "1h", "until": "3h"}, []string{"runs backwards"}, true},
		{"unreadable time", "list_issue_events", map[string]any{"issue": "API-7Q", "since": "last tuesday"}, []string{`since: cannot read "last tuesday" as a time`}, true},
		{"unknown issue id", "get_issue", map[string]any{"issue": "999"}, []string{"Sentry found no issue 999 in organization acme (404)"}, false},
		{"unknown short id", "list_issue_events", map[string]any{"issue": "WEB-ZZZ"}, []string{"Sentry found no issue WEB-ZZZ in organization acme (404)"}, false},
		{"not an issue", "get_issue", map[string]any{"issue": "the checkout bug"}, []string{`issue "the checkout bug" is neither an issue ID (4711), a short ID (WEB-3F) nor a Sentry issue URL`}, true},
		{"empty issue", "get_issue", map[string]any{"issue": " "}, []string{"issue is empty; pass an id or short_id from list_issues"}, true},
		{"limit too large", "list_issues", map[string]any{"limit": 5000}, []string{"limit must be between 1 and 1000"}, true},
		{"bad sort", "list_issues", map[string]any{"sort": "freq"}, []string{"validating", "sort"}, true},
		{"bad interval", "error_stats", map[string]any{"interval": "5m"}, []string{"validating", "interval"}, true},
		{"too many intervals", "error_stats", map[string]any{"since": "60d", "interval": "1h"}, []string{"1440h0m0s by 1h is 1440 intervals, more than 1000; use a larger interval"}, true},
		{"unknown argument", "list_projects", map[string]any{"org": "acme"}, []string{"validating", "org"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(h.fake.requests())
			msg := h.fails(c.tool, c.args)
			has(t, c.name, msg, c.want...)
			if made := len(h.fake.requests()) - before; c.noRequest && made > 0 {
				t.Errorf("want the call refused before any request; made %d", made)
			}
		})
	}
}

func TestUnknownOrganization(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{settings: map[string]string{"organization": "acme-corp"}})
	msg := h.fails("list_issues", nil)
	has(t, "unknown org", msg, "Sentry found no organization acme-corp (404)", "The requested resource does not exist")
	msg = h.fails("list_projects", nil)
	has(t, "unknown org", msg, "Sentry found no organization acme-corp (404)")
}

func TestExpiredOrWrongToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.fake.set(func(f *sentryFake) { f.expired = true })
	msg := h.fails("list_issues", nil)
	has(t, "expired", msg, "Sentry rejected the credentials (401): the token is wrong, expired or revoked", "Sentry said: Token expired",
		"Custom Integrations", "SENTRY_AUTH_TOKEN")

	// A server that echoes the presented token must not make us print it.
	h.fake.set(func(f *sentryFake) { f.expired, f.echo, f.token = false, true, "sntryu_the-new-one" })
	msg = h.fails("get_issue", map[string]any{"issue": "API-7Q"})
	has(t, "wrong token", msg, "(401)", "Invalid token [redacted]")
	if n := len(h.fake.requests()); n != 2 {
		t.Errorf("a 401 is not retried: %d requests", n)
	}
}

func TestForbiddenSaysWhichPermission(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.fake.fail(http.StatusForbidden, nil, `{"detail":"You do not have permission to perform this action."}`)
	msg := h.fails("error_stats", nil)
	has(t, "403", msg, "Sentry refused access (403)", "Read access to Organization, Project, and Issue & Event", "org:read")
}

func TestRateLimitIsRetriedAfterRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.fake.fail(http.StatusTooManyRequests, map[string]string{"Retry-After": "1", "X-Sentry-Rate-Limit-Remaining": "0"},
		`{"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}`)
	start := time.Now()
	text := h.ok("list_issues", nil)
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the retry came after %s, before Retry-After", waited)
	}
	if n := len(h.fake.requestsTo("/issues/")); n != 2 {
		t.Errorf("want one retry, made %d requests", n)
	}
	has(t, "after retry", text, "4 issues")

	// A wait longer than the client will sleep is reported, not slept.
	h.fake.fail(http.StatusTooManyRequests, map[string]string{"Retry-After": "120"}, `{"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}`)
	start = time.Now()
	msg := h.fails("list_projects", nil)
	has(t, "long wait", msg, "Sentry is rate limiting these requests (429); retry after 2m0s.", "Limit is 40 requests in 1 seconds")
	if time.Since(start) > 5*time.Second {
		t.Errorf("a 120 s Retry-After must not be waited for")
	}
}

func TestServerErrorsAreRetriedThenExplained(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	for range 3 {
		h.fake.fail(http.StatusBadGateway, nil, "<html><body>502 Bad Gateway</body></html>")
	}
	msg := h.fails("list_releases", nil)
	has(t, "502", msg, "Sentry had a server error (502); try again shortly.")
	lacks(t, "502", msg, "<html>")
	if n := len(h.fake.requests()); n != 3 {
		t.Errorf("want two retries, made %d requests", n)
	}
}

func TestDeadlineStopsSlowSentry(t *testing.T) {
	t.Parallel()
	token := canary(t)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := newTestServer(t, slow)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := errorsrv.New(ctx, errorsrv.Config{
		Connections: []config.Connection{{Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": srv.URL, "auth_token": token}}},
		Limits:      config.Limits{Timeout: config.Duration(300 * time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	msg := mustError(t, s, "list_projects", nil)
	if time.Since(start) > 3*time.Second {
		t.Errorf("the call ran past its deadline: %s", time.Since(start))
	}
	has(t, "deadline", msg, "timed out")
}

// TestProjectScope checks a connection limited to some projects: every
// query carries them, and nothing outside them can be reached.
func TestProjectScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{settings: map[string]string{"projects": "api"}})
	text := h.ok("list_issues", nil)
	has(t, "scoped list", text, `in acme/api`, "API-7Q", "API-7R")
	lacks(t, "scoped list", text, "WEB-3F")
	if q := h.fake.requestsTo("/issues/")[0].Query(); strings.Join(q["project"], ",") != "4508123456789002" {
		t.Errorf("want project=api's ID, got %v", q["project"])
	}
	projects := h.ok("list_projects", nil)
	has(t, "scoped projects", projects, "1 projects in acme (the connection is limited to these).", "api,api,python-django")
	lacks(t, "scoped projects", projects, "web,")

	has(t, "outside", h.fails("get_issue", map[string]any{"issue": "WEB-3F"}), "issue WEB-3F belongs to project web, outside this connection's projects (api)")
	has(t, "outside", h.fails("list_issues", map[string]any{"project": "web"}), `project "web" is outside this connection's projects (api)`)
	has(t, "outside", h.fails("error_stats", map[string]any{"project": "apj"}), `project "apj" is outside this connection's projects (api); did you mean api?`)

	bad := newHarness(t, options{settings: map[string]string{"projects": "api,paymnts"}})
	has(t, "bad scope", bad.fails("list_issues", nil), `the connection's projects setting names "paymnts", which is not a project of acme`)
}

func TestSeveralConnections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{connections: func(base string) []config.Connection {
		return []config.Connection{
			{Name: "prod", Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": base}},
			{Name: "legacy", Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": base, "projects": "web"}},
		}
	}})
	has(t, "no connection", h.fails("list_issues", nil), `missing properties: ["connection"]`)
	has(t, "unknown connection", h.fails("list_issues", map[string]any{"connection": "staging"}), "validating")
	has(t, "legacy", h.ok("list_issues", map[string]any{"connection": "legacy"}), "in acme/web")
}
