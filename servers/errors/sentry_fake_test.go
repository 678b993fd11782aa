package errors_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sentryFake speaks the part of Sentry's web API (/api/0/) the errors
// server uses, as the API reference and Sentry's own code describe it:
// bearer tokens, {"detail": ...} error bodies, 404 for unknown
// organizations and issues, cursor pagination in the Link header
// (<url&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"),
// X-Hits totals, X-Sentry-Rate-Limit-* headers, and strict checks of the
// query parameters each endpoint accepts. Answers queued with fail are
// sent first, to play rate limits and outages.
type sentryFake struct {
	t   testing.TB
	srv *httptest.Server
	org string

	mu       sync.Mutex
	token    string
	expired  bool
	echo     bool   // a 401 echoes the presented token, as careless servers do
	linkHost string // host written into Link headers; "" means the request's
	projects []map[string]any
	issues   []map[string]any
	events   map[string][]map[string]any // issue ID → full events, newest first
	releases []map[string]any
	pending  []fakeAnswer
	seen     []*url.URL
}

type fakeAnswer struct {
	status int
	header map[string]string
	body   string
}

func loadFixture[T any](t testing.TB, name string) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sentry", name))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func newSentryFake(t testing.TB, token string) *sentryFake {
	t.Helper()
	f := &sentryFake{t: t, org: "acme", token: token, events: map[string][]map[string]any{}}
	f.projects = loadFixture[[]map[string]any](t, "projects.json")
	f.issues = loadFixture[[]map[string]any](t, "issues.json")
	f.releases = loadFixture[[]map[string]any](t, "releases.json")
	api := loadFixture[map[string]any](t, "event_api_7q.json")
	older := cloneJSON(t, api)
	older["eventID"], older["id"], older["dateCreated"] = "7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "2026-11-24T08:00:00Z"
	older["tags"] = []any{map[string]any{"key": "environment", "value": "staging"}, map[string]any{"key": "release", "value": "api@2026.11.2"}}
	older["title"] = "KeyError: 'currency' (first occurrence)"
	older["release"] = nil
	f.events["6012345671"] = []map[string]any{api, older}
	f.events["6012345672"] = []map[string]any{loadFixture[map[string]any](t, "event_web_3f.json")}

	mux := http.NewServeMux()
	org := "/api/0/organizations/{org}/"
	mux.HandleFunc("GET "+org+"projects/{$}", f.listProjects)
	mux.HandleFunc("GET "+org+"issues/{$}", f.listIssues)
	mux.HandleFunc("GET "+org+"issues/{id}/{$}", f.issueDetails)
	mux.HandleFunc("GET "+org+"shortids/{short}/{$}", f.shortID)
	mux.HandleFunc("GET "+org+"issues/{id}/events/{$}", f.issueEvents)
	mux.HandleFunc("GET "+org+"issues/{id}/events/{event}/{$}", f.issueEvent)
	mux.HandleFunc("GET "+org+"stats_v2/{$}", f.stats)
	mux.HandleFunc("GET "+org+"releases/{$}", f.listReleases)
	f.srv = httptest.NewServer(f.guard(mux))
	t.Cleanup(f.srv.Close)
	return f
}

func cloneJSON(t testing.TB, v map[string]any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// fail queues an answer for the next request.
func (f *sentryFake) fail(status int, header map[string]string, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, fakeAnswer{status, header, body})
}

// requests returns the URLs of the requests that reached the API.
func (f *sentryFake) requests() []*url.URL {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seen)
}

// requestsTo returns the requests whose path ends with suffix.
func (f *sentryFake) requestsTo(suffix string) []*url.URL {
	var out []*url.URL
	for _, u := range f.requests() {
		if strings.HasSuffix(u.Path, suffix) {
			out = append(out, u)
		}
	}
	return out
}

func (f *sentryFake) set(fn func(f *sentryFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func detail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"detail": msg})
	_, _ = w.Write(body)
}

// guard does what every Sentry endpoint does first: rate-limit headers,
// authentication, the organization lookup, then queued failures.
func (f *sentryFake) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, cloneURL(r.URL))
		token, expired, echo := f.token, f.expired, f.echo
		var answer *fakeAnswer
		if len(f.pending) > 0 {
			answer = &f.pending[0]
			f.pending = f.pending[1:]
		}
		f.mu.Unlock()
		w.Header().Set("X-Sentry-Rate-Limit-Limit", "40")
		w.Header().Set("X-Sentry-Rate-Limit-Remaining", "39")
		w.Header().Set("X-Sentry-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
		w.Header().Set("X-Sentry-Rate-Limit-ConcurrentLimit", "25")
		w.Header().Set("X-Sentry-Rate-Limit-ConcurrentRemaining", "24")
		auth := r.Header.Get("Authorization")
		presented, ok := strings.CutPrefix(auth, "Bearer ")
		switch {
		case !ok:
			detail(w, http.StatusUnauthorized, "Authentication credentials were not provided.")
			return
		case presented != token && echo:
			detail(w, http.StatusUnauthorized, "Invalid token "+presented)
			return
		case presented != token:
			detail(w, http.StatusUnauthorized, "Invalid token")
			return
		case expired:
			detail(w, http.StatusUnauthorized, "Token expired")
			return
		}
		if parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/0/organizations/"), "/"); len(parts) == 0 || parts[0] != f.org {
			detail(w, http.StatusNotFound, "The requested resource does not exist")
			return
		}
		if answer != nil {
			for k, v := range answer.header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(answer.status)
			_, _ = w.Write([]byte(answer.body))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	return &c
}

// cursorOffset reads the offset of a Sentry cursor ("value:offset:is_prev").
func cursorOffset(w http.ResponseWriter, r *http.Request) (int, bool) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 0, true
	}
	parts := strings.Split(c, ":")
	if len(parts) != 3 {
		detail(w, http.StatusBadRequest, "Invalid cursor parameter.")
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		detail(w, http.StatusBadRequest, "Invalid cursor parameter.")
		return 0, false
	}
	return n, true
}

// page writes items[offset:offset+size] with Sentry's Link header.
func (f *sentryFake) page(w http.ResponseWriter, r *http.Request, items []map[string]any, sizeParam string, hits bool) {
	size := 100
	if v := r.URL.Query().Get(sizeParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			detail(w, http.StatusBadRequest, "Invalid per_page value.")
			return
		}
		size = min(n, 100)
	}
	offset, ok := cursorOffset(w, r)
	if !ok {
		return
	}
	end := min(offset+size, len(items))
	var chunk []map[string]any
	if offset < len(items) {
		chunk = items[offset:end]
	}
	q := r.URL.Query()
	q.Del("cursor")
	host := "http://" + r.Host
	f.mu.Lock()
	if f.linkHost != "" {
		host = f.linkHost
	}
	f.mu.Unlock()
	base := host + r.URL.Path + "?"
	if enc := q.Encode(); enc != "" {
		base += enc
	}
	prev := fmt.Sprintf("0:%d:1", offset)
	next := fmt.Sprintf("0:%d:0", end)
	link := fmt.Sprintf(`<%s&cursor=%s>; rel="previous"; results="%t"; cursor="%s", <%s&cursor=%s>; rel="next"; results="%t"; cursor="%s"`,
		base, prev, offset > 0, prev, base, next, end < len(items), next)
	w.Header().Set("Link", link)
	if hits {
		w.Header().Set("X-Hits", strconv.Itoa(len(items)))
		w.Header().Set("X-Max-Hits", "1000")
	}
	if chunk == nil {
		chunk = []map[string]any{}
	}
	writeJSON(w, chunk)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *sentryFake) listProjects(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	items := slices.Clone(f.projects)
	f.mu.Unlock()
	f.page(w, r, items, "per_page", false)
}

// projectFilter reads the project parameter as the issue, stats and
// release endpoints do: IDs, -1 for all; a project the token cannot see
// is a 403.
func (f *sentryFake) projectFilter(w http.ResponseWriter, r *http.Request) (map[string]bool, bool) {
	vals := r.URL.Query()["project"]
	if len(vals) == 0 || slices.Contains(vals, "-1") {
		return nil, true
	}
	known := map[string]bool{}
	f.mu.Lock()
	for _, p := range f.projects {
		known[p["id"].(string)] = true
	}
	f.mu.Unlock()
	out := map[string]bool{}
	for _, v := range vals {
		if _, err := strconv.Atoi(v); err != nil {
			detail(w, http.StatusBadRequest, "Invalid project parameter. Values must be numbers.")
			return nil, false
		}
		if !known[v] {
			detail(w, http.StatusForbidden, "You do not have permission to perform this action.")
			return nil, false
		}
		out[v] = true
	}
	return out, true
}

// dateRange checks start/end or statsPeriod the way Sentry's
// get_date_range_from_params does.
func dateRange(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	start, end := q.Get("start"), q.Get("end")
	if (start == "") != (end == "") {
		detail(w, http.StatusBadRequest, "start and end are both required")
		return false
	}
	if start == "" {
		return true
	}
	s, err1 := time.Parse("2006-01-02T15:04:05", start)
	e, err2 := time.Parse("2006-01-02T15:04:05", end)
	if err1 != nil || err2 != nil {
		detail(w, http.StatusBadRequest, "start and end must be ISO 8601 datetimes")
		return false
	}
	if !s.Before(e) {
		detail(w, http.StatusBadRequest, "start must be before end")
		return false
	}
	return true
}

var isValues = []string{"archived", "assigned", "escalating", "for_review", "ignored", "linked", "muted", "new", "ongoing", "regressed", "resolved", "unassigned", "unlinked", "unresolved"}

func (f *sentryFake) listIssues(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !dateRange(w, r) {
		return
	}
	projects, ok := f.projectFilter(w, r)
	if !ok {
		return
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "date"
	}
	if !slices.Contains([]string{"date", "freq", "inbox", "new", "recommended", "trends", "user"}, sortBy) {
		detail(w, http.StatusBadRequest, "Invalid sort: "+sortBy)
		return
	}
	query := q.Get("query")
	if !q.Has("query") {
		query = "is:unresolved"
	}
	f.mu.Lock()
	all := slices.Clone(f.issues)
	f.mu.Unlock()
	var out []map[string]any
	for _, is := range all {
		keep := projects == nil || projects[is["project"].(map[string]any)["id"].(string)]
		for _, term := range strings.Fields(query) {
			key, val, hasKey := strings.Cut(term, ":")
			switch {
			case hasKey && key == "is":
				if !slices.Contains(isValues, val) {
					detail(w, http.StatusBadRequest, fmt.Sprintf("Invalid value for \"is\" search, valid values are %v", isValues))
					return
				}
				keep = keep && (is["status"] == val || is["substatus"] == val)
			case hasKey && key == "level":
				keep = keep && is["level"] == val
			case hasKey:
				// other tags: the fixtures carry none, so nothing matches
				keep = false
			default:
				keep = keep && strings.Contains(strings.ToLower(is["title"].(string)), strings.ToLower(term))
			}
		}
		if env := q.Get("environment"); env != "" && env != "production" {
			keep = false
		}
		if keep {
			out = append(out, is)
		}
	}
	count := func(m map[string]any, k string) int {
		switch v := m[k].(type) {
		case string:
			n, _ := strconv.Atoi(v)
			return n
		case float64:
			return int(v)
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch sortBy {
		case "freq", "trends":
			return count(a, "count") > count(b, "count")
		case "user":
			return count(a, "userCount") > count(b, "userCount")
		case "new":
			return a["firstSeen"].(string) > b["firstSeen"].(string)
		}
		return a["lastSeen"].(string) > b["lastSeen"].(string)
	})
	for _, c := range q["collapse"] {
		if !slices.Contains([]string{"base", "filtered", "lifetime", "stats", "unhandled"}, c) {
			detail(w, http.StatusBadRequest, "Invalid collapse value: "+c)
			return
		}
	}
	f.page(w, r, out, "limit", true)
}

func (f *sentryFake) findIssue(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, is := range f.issues {
		if is["id"] == id {
			return is
		}
	}
	return nil
}

func (f *sentryFake) issueDetails(w http.ResponseWriter, r *http.Request) {
	is := f.findIssue(r.PathValue("id"))
	if is == nil {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	writeJSON(w, is)
}

func (f *sentryFake) shortID(w http.ResponseWriter, r *http.Request) {
	short := r.PathValue("short")
	f.mu.Lock()
	var found map[string]any
	for _, is := range f.issues {
		if is["shortId"] == short {
			found = is
		}
	}
	f.mu.Unlock()
	if found == nil {
		detail(w, http.StatusNotFound, "Short ID not found")
		return
	}
	writeJSON(w, map[string]any{
		"organizationSlug": f.org, "projectSlug": found["project"].(map[string]any)["slug"],
		"groupId": found["id"], "shortId": short, "group": found,
	})
}

func (f *sentryFake) issueEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if f.findIssue(id) == nil {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	q := r.URL.Query()
	if full := q.Get("full"); full != "" && full != "true" && full != "false" && full != "1" && full != "0" {
		detail(w, http.StatusBadRequest, "full must be a boolean")
		return
	}
	if !dateRange(w, r) {
		return
	}
	if strings.Contains(q.Get("query"), "(") {
		detail(w, http.StatusBadRequest, "Parse error at '(' (column 1). This is commonly caused by unmatched parentheses.")
		return
	}
	f.mu.Lock()
	evs := slices.Clone(f.events[id])
	f.mu.Unlock()
	var out []map[string]any
	for _, e := range evs {
		out = append(out, map[string]any{
			"id": e["id"], "eventID": e["eventID"], "dateCreated": e["dateCreated"], "title": e["title"], "message": e["message"],
			"location": e["location"], "culprit": e["culprit"], "user": e["user"], "tags": e["tags"], "platform": e["platform"],
			"event.type": "error", "groupID": e["groupID"], "projectID": e["projectID"], "crashFile": nil, "metadata": e["metadata"],
		})
	}
	f.page(w, r, out, "per_page", false)
}

func (f *sentryFake) issueEvent(w http.ResponseWriter, r *http.Request) {
	id, ev := r.PathValue("id"), r.PathValue("event")
	if f.findIssue(id) == nil {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	f.mu.Lock()
	evs := f.events[id]
	f.mu.Unlock()
	var found map[string]any
	switch {
	case len(evs) == 0:
	case ev == "latest" || ev == "recommended":
		found = evs[0]
	case ev == "oldest":
		found = evs[len(evs)-1]
	default:
		for _, e := range evs {
			if e["eventID"] == ev {
				found = e
			}
		}
	}
	if found == nil {
		detail(w, http.StatusNotFound, "Event not found")
		return
	}
	writeJSON(w, found)
}

var statsOutcomes = []string{"accepted", "filtered", "rate_limited", "invalid", "abuse", "client_discard", "cardinality_limited"}

// stats answers stats_v2 with deterministic counts: for interval i,
// accepted = 100+i, filtered = i%3, rate_limited = 7 in the last interval
// only; grouped by project, each project gets its share.
func (f *sentryFake) stats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("field") != "sum(quantity)" && q.Get("field") != "sum(times_seen)" {
		detail(w, http.StatusBadRequest, `field must be one of ["sum(quantity)", "sum(times_seen)"]`)
		return
	}
	if c := q.Get("category"); c != "" && !slices.Contains([]string{"error", "transaction", "attachment", "replay", "profile", "monitor"}, c) {
		detail(w, http.StatusBadRequest, "Invalid category: "+c)
		return
	}
	for _, g := range q["groupBy"] {
		if !slices.Contains([]string{"outcome", "category", "reason", "project"}, g) {
			detail(w, http.StatusBadRequest, "Invalid groupBy: "+g)
			return
		}
	}
	interval := map[string]time.Duration{"1h": time.Hour, "2h": 2 * time.Hour, "3h": 3 * time.Hour, "4h": 4 * time.Hour, "6h": 6 * time.Hour, "8h": 8 * time.Hour, "12h": 12 * time.Hour, "1d": 24 * time.Hour}[q.Get("interval")]
	if interval == 0 {
		detail(w, http.StatusBadRequest, "The interval has to be less than one day and must be a divisor of one day.")
		return
	}
	if q.Get("start") == "" {
		detail(w, http.StatusBadRequest, "Either statsPeriod or start and end are required")
		return
	}
	if !dateRange(w, r) {
		return
	}
	projects, ok := f.projectFilter(w, r)
	if !ok {
		return
	}
	start, _ := time.Parse("2006-01-02T15:04:05", q.Get("start"))
	end, _ := time.Parse("2006-01-02T15:04:05", q.Get("end"))
	start = start.Truncate(interval)
	var intervals []string
	for t := start; t.Before(end); t = t.Add(interval) {
		intervals = append(intervals, t.Format("2006-01-02T15:04:05Z"))
	}
	n := len(intervals)
	series := map[string][]int{"accepted": make([]int, n), "filtered": make([]int, n), "rate_limited": make([]int, n)}
	for i := range n {
		series["accepted"][i] = 100 + i
		series["filtered"][i] = i % 3
	}
	series["rate_limited"][n-1] = 7
	f.mu.Lock()
	var ids []string
	for _, p := range f.projects {
		if id := p["id"].(string); projects == nil || projects[id] {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	sum := func(s []int) int {
		t := 0
		for _, v := range s {
			t += v
		}
		return t
	}
	var groups []map[string]any
	byProject := slices.Contains(q["groupBy"], "project")
	for _, o := range statsOutcomes {
		s, ok := series[o]
		if !ok {
			continue
		}
		if !byProject {
			groups = append(groups, map[string]any{"by": map[string]any{"outcome": o}, "totals": map[string]int{"sum(quantity)": sum(s)}, "series": map[string][]int{"sum(quantity)": s}})
			continue
		}
		for k, id := range ids {
			share := make([]int, n)
			for i, v := range s {
				share[i] = v / (k + 1)
			}
			pid, _ := strconv.Atoi(id)
			groups = append(groups, map[string]any{"by": map[string]any{"outcome": o, "project": pid}, "totals": map[string]int{"sum(quantity)": sum(share)}})
		}
	}
	writeJSON(w, map[string]any{"start": intervals[0], "end": end.Format("2006-01-02T15:04:05Z"), "intervals": intervals, "groups": groups})
}

func (f *sentryFake) listReleases(w http.ResponseWriter, r *http.Request) {
	projects, ok := f.projectFilter(w, r)
	if !ok {
		return
	}
	query := strings.ToLower(r.URL.Query().Get("query"))
	f.mu.Lock()
	all := slices.Clone(f.releases)
	f.mu.Unlock()
	var out []map[string]any
	for _, rel := range all {
		if !strings.Contains(strings.ToLower(rel["version"].(string)), query) {
			continue
		}
		if projects != nil {
			in := false
			for _, p := range rel["projects"].([]any) {
				in = in || projects[strconv.Itoa(int(p.(map[string]any)["id"].(float64)))]
			}
			if !in {
				continue
			}
		}
		out = append(out, rel)
	}
	f.page(w, r, out, "per_page", false)
}

// manyIssues makes n issues in project web, most events first.
func manyIssues(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range n {
		id := strconv.Itoa(7000000000 + i)
		out[i] = map[string]any{
			"id": id, "shortId": fmt.Sprintf("WEB-%X", 0x100+i), "title": fmt.Sprintf("Error: generated failure %d", i),
			"culprit": "src/gen.ts in f", "permalink": "https://acme.sentry.io/issues/" + id + "/", "level": "error",
			"status": "unresolved", "substatus": "ongoing", "count": strconv.Itoa(10000 - i), "userCount": 1,
			"firstSeen": "2026-11-01T00:00:00Z", "lastSeen": "2026-11-25T00:00:00Z", "isUnhandled": false,
			"project": map[string]any{"id": "4508123456789001", "name": "Web storefront", "slug": "web", "platform": "javascript-react"},
		}
	}
	return out
}
