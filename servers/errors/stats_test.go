package errors_test

import (
	"strings"
	"testing"
	"time"
)

type statsOut struct {
	Organization string   `json:"organization"`
	GroupBy      string   `json:"group_by"`
	Start, End   string   `json:"-"`
	Interval     string   `json:"interval"`
	Intervals    []string `json:"intervals"`
	Total        int64    `json:"total"`
	Groups       []struct {
		Outcome string  `json:"outcome"`
		Project string  `json:"project"`
		Total   int64   `json:"total"`
		Series  []int64 `json:"series"`
	} `json:"groups"`
}

func TestErrorStatsByOutcome(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	var out statsOut
	text := h.structured("error_stats", nil, &out)

	req := h.fake.requestsTo("/stats_v2/")[0]
	q := req.Query()
	for k, want := range map[string]string{"field": "sum(quantity)", "category": "error", "groupBy": "outcome", "interval": "1h", "project": "-1"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	start, _ := time.Parse("2006-01-02T15:04:05", q.Get("start"))
	end, _ := time.Parse("2006-01-02T15:04:05", q.Get("end"))
	if end.Sub(start) != 24*time.Hour {
		t.Errorf("want the last 24 hours: %s", q.Encode())
	}

	n := len(out.Intervals)
	if n < 24 || n > 25 || out.Interval != "1h" || out.GroupBy != "outcome" || len(out.Groups) != 3 {
		t.Fatalf("structured content: %+v", out)
	}
	byOutcome := map[string][]int64{}
	var total int64
	for _, g := range out.Groups {
		byOutcome[g.Outcome] = g.Series
		total += g.Total
	}
	if byOutcome["accepted"][0] != 100 || byOutcome["rate_limited"][n-1] != 7 || len(byOutcome["filtered"]) != n || out.Total != total {
		t.Errorf("series: %+v", byOutcome)
	}
	has(t, "error_stats", text, "Error events in acme (all projects)", "by 1h:", " accepted, ", " filtered, 7 rate_limited.",
		"bucket,count,accepted,filtered,rate_limited,bar\n", ",100,100,0,0,#")
	if strings.Count(text, "\n") < 25 {
		t.Errorf("want a row per hour:\n%s", text)
	}

	week := h.ok("error_stats", map[string]any{"since": "7d", "interval": "1d", "project": "web,api"})
	q = h.fake.requestsTo("/stats_v2/")[1].Query()
	if q.Get("interval") != "1d" || strings.Join(q["project"], ",") != "4508123456789001,4508123456789002" {
		t.Errorf("request: %s", q.Encode())
	}
	has(t, "weekly", week, "Error events in acme/web,api", "by 1d:")
	auto := h.ok("error_stats", map[string]any{"since": "10d"})
	has(t, "auto interval", auto, "by 6h:")
}

func TestErrorStatsByProject(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	var out statsOut
	text := h.structured("error_stats", map[string]any{"group_by": "project", "since": "2026-11-20", "until": "2026-11-21"}, &out)
	q := h.fake.requestsTo("/stats_v2/")[0].Query()
	if strings.Join(q["groupBy"], ",") != "outcome,project" || q.Get("start") != "2026-11-20T00:00:00" || q.Get("end") != "2026-11-21T00:00:00" {
		t.Errorf("request: %s", q.Encode())
	}
	has(t, "by project", text, "per project (most events first)", "project,total,accepted,filtered,rate_limited\n",
		"web,2707,2676,24,7\n", "api,", "billing-worker,")
	if strings.Index(text, "web,") > strings.Index(text, "api,") {
		t.Errorf("want most events first:\n%s", text)
	}
	projects := map[string]bool{}
	for _, g := range out.Groups {
		projects[g.Project] = true
	}
	if !projects["web"] || !projects["api"] || !projects["billing-worker"] || out.GroupBy != "project" {
		t.Errorf("structured groups name projects by slug: %+v", out.Groups)
	}
}

func TestListProjectsAndReleases(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	text := h.ok("list_projects", nil)
	has(t, "list_projects", text, "3 projects in acme.", "slug,name,platform,created,first_event\n",
		"api,api,python-django,2025-02-11,2025-02-12\n", "billing-worker,billing-worker,python-celery,2025-06-30,never\n",
		"web,Web storefront,javascript-react,2025-02-11,2025-02-11\n")
	req := h.fake.requests()[0]
	if req.Path != "/api/0/organizations/acme/projects/" || req.Query().Get("per_page") != "100" {
		t.Errorf("request: %s", req)
	}

	rels := h.ok("list_releases", map[string]any{"project": "web"})
	has(t, "list_releases", rels, "2 releases of acme/web, newest first",
		"version,created,released,new_issues,first_event,last_event,deploys,last_deploy_env,commits,projects\n",
		"web@4.18.2,2026-11-25T09:00:00Z,2026-11-25T09:20:00Z,3,2026-11-25T09:21:13Z,2026-11-25T21:03:58Z,1,production,9,web\n",
		"web@4.18.1,2026-11-20T09:00:00Z,,0,", "list_issues with query release:VERSION")
	lacks(t, "list_releases", rels, "api@")
	q := h.fake.requestsTo("/releases/")[0].Query()
	if q.Get("project") != "4508123456789001" || q.Get("per_page") != "25" {
		t.Errorf("request: %s", q.Encode())
	}
	none := h.ok("list_releases", map[string]any{"query": "9.9.9"})
	has(t, "no release", none, `No release of acme (all projects) has "9.9.9" in its version`)
}
