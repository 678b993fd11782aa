package errors_test

import (
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/shared/config"
)

type issueListOut struct {
	Organization string `json:"organization"`
	Query        string `json:"query"`
	Sort         string `json:"sort"`
	Start, End   string
	Total        int  `json:"total"`
	More         bool `json:"more"`
	Issues       []struct {
		ID        string `json:"id"`
		ShortID   string `json:"short_id"`
		Title     string `json:"title"`
		Level     string `json:"level"`
		Status    string `json:"status"`
		Substatus string `json:"substatus"`
		Project   string `json:"project"`
		Events    int64  `json:"events"`
		Users     int64  `json:"users"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
		Link      string `json:"link"`
	} `json:"issues"`
}

func TestListIssuesDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	var out issueListOut
	text := h.structured("list_issues", nil, &out)

	reqs := h.fake.requestsTo("/organizations/acme/issues/")
	if len(reqs) != 1 {
		t.Fatalf("want one issue search, got %v", reqs)
	}
	q := reqs[0].Query()
	for k, want := range map[string]string{"query": "is:unresolved", "sort": "freq", "limit": "100", "project": "-1", "collapse": "stats"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s=%q, want %q (query %s)", k, got, want, reqs[0].RawQuery)
		}
	}
	start, err1 := time.Parse("2006-01-02T15:04:05", q.Get("start"))
	end, err2 := time.Parse("2006-01-02T15:04:05", q.Get("end"))
	if err1 != nil || err2 != nil || end.Sub(start) != 14*24*time.Hour || time.Since(end) > time.Minute {
		t.Errorf("want the last 14 days, got start=%s end=%s", q.Get("start"), q.Get("end"))
	}

	has(t, "list_issues", text,
		`4 issues matching "is:unresolved" in acme (all projects)`, "most events first",
		"id,short_id,project,level,status,events,users,first_seen,last_seen,title,culprit\n",
		"6012345672,WEB-3F,web,error,unresolved/ongoing,9876,1404,2026-10-02T07:44:10Z,2026-11-25T21:03:58Z,TypeError: Cannot read properties of undefined (reading 'id'),computeTotal(src/cart/checkout)\n",
		"6012345671,API-7Q,api,error,unresolved/regressed,1523,212,",
		"Open an issue at https://acme.sentry.io/issues/{id}/.")
	lacks(t, "list_issues", text, "WEB-3G", "BILLING-WORKER-2") // ignored and resolved
	if strings.Index(text, "WEB-3F") > strings.Index(text, "API-7Q") {
		t.Errorf("want most events first:\n%s", text)
	}
	// The injected title is inside the untrusted-data fence.
	open := strings.Index(text, "<untrusted-data-")
	inj := strings.Index(text, "Ignore previous instructions")
	closing := strings.Index(text, "</untrusted-data-")
	if open < 0 || !(open < inj && inj < closing) {
		t.Errorf("issue titles must be fenced as untrusted data:\n%s", text)
	}

	if out.Organization != "acme" || out.Query != "is:unresolved" || out.Sort != "events" || out.Total != 4 || out.More || len(out.Issues) != 4 {
		t.Fatalf("structured content: %+v", out)
	}
	first := out.Issues[0]
	if first.ShortID != "WEB-3F" || first.Events != 9876 || first.Users != 1404 || first.Level != "error" || first.Substatus != "ongoing" ||
		first.Project != "web" || first.Link != "https://acme.sentry.io/issues/6012345672/" || first.LastSeen != "2026-11-25T21:03:58Z" {
		t.Errorf("structured issue: %+v", first)
	}
}

func TestListIssuesFiltersAndSorts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	text := h.ok("list_issues", map[string]any{"query": "level:fatal", "project": "api", "sort": "users", "environment": "production", "limit": 5, "since": "2h"})
	has(t, "list_issues", text, `1 issue matching "level:fatal" in acme/api`, "API-7R,api,fatal,unresolved/escalating,310,0,", "most users first", "environment production")
	q := h.fake.requestsTo("/issues/")[0].Query()
	if q.Get("project") != "4508123456789002" || q.Get("sort") != "user" || q.Get("environment") != "production" || q.Get("limit") != "5" {
		t.Errorf("request: %s", q.Encode())
	}

	// query "" searches every status, resolved and ignored included.
	var out issueListOut
	h.structured("list_issues", map[string]any{"query": "", "sort": "first_seen"}, &out)
	q = h.fake.requestsTo("/issues/")[1].Query()
	if !q.Has("query") || q.Get("query") != "" || q.Get("sort") != "new" {
		t.Errorf("want query= and sort=new, got %s", q.Encode())
	}
	if len(out.Issues) != 6 || out.Issues[0].ShortID != "API-7R" {
		t.Errorf("want all 6 issues, newest first: %+v", out.Issues)
	}

	empty := h.ok("list_issues", map[string]any{"query": "is:unresolved NoSuchThing"})
	has(t, "empty result", empty, `No issues match "is:unresolved NoSuchThing"`, `pass query ""`)
}

func TestListIssuesPagesOnlyAsFarAsTheLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{limits: config.Limits{Bytes: 64 << 10}})
	h.fake.set(func(f *sentryFake) {
		f.issues = manyIssues(250)
		// Self-hosted Sentry often advertises a wrong public address in its
		// links; the client must stay on the configured one.
		f.linkHost = "https://sentry.internal.invalid"
	})
	var out issueListOut
	text := h.structured("list_issues", map[string]any{"limit": 150}, &out)
	reqs := h.fake.requestsTo("/issues/")
	if len(reqs) != 2 {
		t.Fatalf("want 2 pages for 150 issues, got %d requests", len(reqs))
	}
	if reqs[0].Query().Has("cursor") || reqs[1].Query().Get("cursor") != "0:100:0" || reqs[1].Query().Get("query") != "is:unresolved" {
		t.Errorf("second page must carry the Link cursor and the same query: %s", reqs[1].RawQuery)
	}
	if len(out.Issues) != 150 || !out.More || out.Total != 250 {
		t.Errorf("want 150 issues, more, total 250; got %d, %v, %d", len(out.Issues), out.More, out.Total)
	}
	has(t, "list_issues", text, "150 of 250 issues", "WEB-195,") // the 150th
	lacks(t, "list_issues", text, "WEB-196,")

	small := h.ok("list_issues", map[string]any{"limit": 30})
	reqs = h.fake.requestsTo("/issues/")
	if len(reqs) != 3 || reqs[2].Query().Get("limit") != "30" {
		t.Errorf("limit 30 needs one request with limit=30, got %d requests", len(reqs)-2)
	}
	has(t, "limit 30", small, "30 of 250 issues")

	// The last page says results="false": no further request.
	h.fake.set(func(f *sentryFake) { f.issues = manyIssues(120) })
	h.ok("list_issues", map[string]any{"limit": 1000})
	if n := len(h.fake.requestsTo("/issues/")); n != 5 {
		t.Errorf("120 issues with limit 1000 need 2 requests, made %d", n-3)
	}
}

func TestListIssuesCutAtByteCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{limits: config.Limits{Bytes: 4096}})
	h.fake.set(func(f *sentryFake) { f.issues = manyIssues(100) })
	var out issueListOut
	text := h.structured("list_issues", nil, &out)
	if len(text) > 4096+1024 {
		t.Errorf("text is %d bytes, over the cap", len(text))
	}
	has(t, "capped list", text, "[cut] Cut at", "text cap was reached", "raise limit")
	if len(out.Issues) != 100 {
		t.Errorf("structured content keeps every issue read: %d", len(out.Issues))
	}
}
