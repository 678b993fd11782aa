package logs

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// axiomFake speaks Axiom's REST API: GET /v2/datasets and POST
// /v1/datasets/_apl?format=tabular with a bearer token, rate-limit headers
// on every answer, and Axiom's {"code","message"} error bodies. It runs
// the small part of APL the server sends (dataset, search, where ==, sort,
// limit/take, summarize count() by field) over an in-memory dataset, with
// the request's startTime/endTime applied to _time.
type axiomFake struct {
	t       *testing.T
	srv     *httptest.Server
	token   string
	rows    map[string][]map[string]any
	mu      sync.Mutex
	queries []string
	pending []int // statuses to answer with before serving normally
	partial bool  // answer with status.isPartial
}

func newAxiomFake(t *testing.T, token string) *axiomFake {
	f := &axiomFake{t: t, token: token, rows: map[string][]map[string]any{}}
	var rows []map[string]any
	for ts := logstest.IncidentFrom.Add(-10 * time.Minute); ts.Before(logstest.IncidentTo); ts = ts.Add(5 * time.Second) {
		i := int(ts.Sub(logstest.Start) / time.Second)
		r := map[string]any{"_time": ts.Format(time.RFC3339Nano), "_sysTime": ts.Format(time.RFC3339Nano), "service": "checkout", "host": "web-" + strconv.Itoa(i%3)}
		if !ts.Before(logstest.IncidentFrom) {
			r["level"], r["message"] = "error", "payment failed for order "+strconv.Itoa(8000+i)+": timeout after 30s talking to 10.0.0."+strconv.Itoa(i%250)+":5432"
		} else {
			r["level"], r["message"] = "info", "GET /api/orders/"+strconv.Itoa(i)+" 200"
			r["duration_ms"] = json.Number(strconv.Itoa(5 + i%40))
		}
		rows = append(rows, r)
	}
	f.rows["app-logs"] = rows
	f.rows["edge-logs"] = nil
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *axiomFake) fail(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, status)
}

func axiomError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": status, "message": msg})
}

func (f *axiomFake) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-RateLimit-Scope", "organization")
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Remaining", "999")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	f.mu.Lock()
	token := f.token
	f.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		axiomError(w, http.StatusUnauthorized, "invalid token "+strings.TrimPrefix(got, "Bearer "))
		return
	}
	f.mu.Lock()
	if len(f.pending) > 0 {
		status := f.pending[0]
		f.pending = f.pending[1:]
		f.mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Remaining", "0")
			axiomError(w, status, "rate limit exceeded")
			return
		}
		axiomError(w, status, "upstream trouble")
		return
	}
	f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v2/datasets":
		var out []map[string]any
		names := make([]string, 0, len(f.rows))
		for n := range f.rows {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, map[string]any{"id": n, "name": n, "kind": "axiom:events:v1", "description": "logs of " + n, "who": "u-1", "created": "2026-01-01T00:00:00Z"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/datasets/_apl":
		if r.URL.Query().Get("format") != "tabular" {
			axiomError(w, http.StatusBadRequest, "this fake speaks format=tabular only")
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			axiomError(w, http.StatusUnsupportedMediaType, "content type must be application/json")
			return
		}
		var body struct {
			APL       string `json:"apl"`
			StartTime string `json:"startTime"`
			EndTime   string `json:"endTime"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			axiomError(w, http.StatusBadRequest, "invalid json")
			return
		}
		f.mu.Lock()
		f.queries = append(f.queries, body.APL)
		f.mu.Unlock()
		f.runAPL(w, body.APL, body.StartTime, body.EndTime)
	default:
		axiomError(w, http.StatusNotFound, "not found")
	}
}

var (
	aplDatasetRE   = regexp.MustCompile(`^\['([^']+)'\]`)
	aplSearchRE    = regexp.MustCompile(`^search "((?:[^"\\]|\\.)*)"$`)
	aplWhereRE     = regexp.MustCompile(`^where (\w+) == ['"]([^'"]*)['"]$`)
	aplLimitRE     = regexp.MustCompile(`^(?:limit|take) (\d+)$`)
	aplSummarizeRE = regexp.MustCompile(`^summarize count\(\) by (\w+)$`)
)

func (f *axiomFake) isPartial() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.partial
}

func (f *axiomFake) runAPL(w http.ResponseWriter, apl, start, end string) {
	stages := strings.Split(apl, "|")
	m := aplDatasetRE.FindStringSubmatch(strings.TrimSpace(stages[0]))
	if m == nil {
		axiomError(w, http.StatusBadRequest, "parse error: expected a dataset reference at line 1, column 1")
		return
	}
	rows, ok := f.rows[m[1]]
	if !ok {
		axiomError(w, http.StatusNotFound, "dataset not found")
		return
	}
	from, _ := time.Parse(time.RFC3339Nano, start)
	to, _ := time.Parse(time.RFC3339Nano, end)
	var out []map[string]any
	for _, r := range rows {
		t, _ := time.Parse(time.RFC3339Nano, r["_time"].(string))
		if (start == "" || !t.Before(from)) && (end == "" || t.Before(to)) {
			out = append(out, r)
		}
	}
	examined := len(out)
	var groupBy string
	for _, st := range stages[1:] {
		st = strings.TrimSpace(st)
		switch {
		case aplSearchRE.MatchString(st):
			var needle string
			_ = json.Unmarshal([]byte(`"`+aplSearchRE.FindStringSubmatch(st)[1]+`"`), &needle)
			var kept []map[string]any
			for _, r := range out {
				raw, _ := json.Marshal(r)
				if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(needle)) {
					kept = append(kept, r)
				}
			}
			out = kept
		case aplWhereRE.MatchString(st):
			wm := aplWhereRE.FindStringSubmatch(st)
			var kept []map[string]any
			for _, r := range out {
				if r[wm[1]] == wm[2] {
					kept = append(kept, r)
				}
			}
			out = kept
		case st == "sort by _time desc":
			sort.SliceStable(out, func(i, j int) bool { return out[i]["_time"].(string) > out[j]["_time"].(string) })
		case aplLimitRE.MatchString(st):
			n, _ := strconv.Atoi(aplLimitRE.FindStringSubmatch(st)[1])
			if len(out) > n {
				out = out[:n]
			}
		case aplSummarizeRE.MatchString(st):
			groupBy = aplSummarizeRE.FindStringSubmatch(st)[1]
		default:
			axiomError(w, http.StatusBadRequest, "parse error: unexpected operator at '"+st+"'")
			return
		}
	}
	type fieldT struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	var fields []fieldT
	var cols [][]any
	if groupBy != "" {
		counts := map[string]int{}
		for _, r := range out {
			counts[r[groupBy].(string)]++
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fields = []fieldT{{groupBy, "string"}, {"count_", "integer"}}
		cols = [][]any{{}, {}}
		for _, k := range keys {
			cols[0] = append(cols[0], k)
			cols[1] = append(cols[1], counts[k])
		}
	} else {
		names := []string{"_time", "_sysTime", "duration_ms", "host", "level", "message", "service"}
		for _, n := range names {
			fields = append(fields, fieldT{n, "string"})
			var col []any
			for _, r := range out {
				col = append(col, r[n])
			}
			cols = append(cols, col)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"format": "tabular",
		"status": map[string]any{"elapsedTime": 1234, "rowsExamined": examined, "rowsMatched": len(out), "isPartial": f.isPartial(), "messages": []any{}},
		"tables": []any{map[string]any{"name": "0", "sources": []any{map[string]any{"name": stages[0]}}, "fields": fields, "order": []any{}, "groups": []any{}, "columns": cols}},
	})
}

func serveConns(t testing.TB, conns []config.Connection, env map[string]string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := New(ctx, Config{Connections: conns, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	logstest.Must(t, err)
	return mcptest.Connect(t, s)
}

const axiomCanary = "xaat-canary-5b1e7c0d-9f3a-4e2b-8c6d-0a1b2c3d4e5f"

func TestAxiom(t *testing.T) {
	t.Parallel()
	fake := newAxiomFake(t, axiomCanary)
	conn := config.Connection{Name: "ax", Category: Category, Provider: "axiom", Settings: map[string]string{"base_url": fake.srv.URL}}
	cs := serveConns(t, []config.Connection{conn}, map[string]string{"AXIOM_TOKEN": axiomCanary})
	window := map[string]any{"source": "app-logs", "since": logstest.IncidentFrom.Add(-time.Hour).Format(time.RFC3339), "until": logstest.IncidentTo.Format(time.RFC3339)}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range window {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}

	out := mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "datasets", out, "app-logs,axiom:events:v1", "edge-logs")

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "payment", "limit": 3}))
	logstest.ContainsAll(t, "search", out, "more than 3 lines matched", "11:09:55.000 ERROR payment failed for order", "every line has: service=checkout")
	if strings.Contains(out, "Note: the window") {
		t.Errorf("a search the backend filtered whole is not a sample:\n%s", out)
	}
	if q := fake.queries[len(fake.queries)-1]; !strings.Contains(q, `['app-logs'] | search "payment" | sort by _time desc | limit 4`) {
		t.Errorf("APL sent: %s", q)
	}

	out = mcptest.MustText(t, cs, "error_signatures", window)
	logstest.ContainsAll(t, "signatures", out, "120,error,2026-03-01T11:00:00Z,2026-03-01T11:09:55Z,app-logs,payment failed for order <n>: timeout after <n>s talking to <ip>")

	out = mcptest.MustText(t, cs, "count_logs", with(map[string]any{"group_by": "level", "bucket": "5m"}))
	logstest.ContainsAll(t, "counts", out, "2026-03-01T10:50Z,60,0,60", "2026-03-01T11:05Z,60,60,0", "bucket,count,error,info")

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"filter": "level == 'info'", "fields": []string{"duration_ms>=40"}, "limit": 50}))
	logstest.ContainsAll(t, "native filter and fields", out, "lines matched", "INFO GET /api/orders/")
	if strings.Contains(out, "ERROR") {
		t.Errorf("native filter level == 'info' returned errors:\n%s", out)
	}

	out = mcptest.MustText(t, cs, "axiom_query", map[string]any{"apl": "['app-logs'] | summarize count() by level", "since": "2026-03-01T10:00:00Z", "until": "2026-03-01T12:00:00Z"})
	logstest.ContainsAll(t, "apl", out, "level:string,count_:integer", "error,120", "info,120", "(240 examined")

	msg := mcptest.MustError(t, cs, "search_logs", with(map[string]any{"source": "app-log"}))
	logstest.ContainsAll(t, "unknown dataset", msg, `no dataset "app-log"`, "did you mean app-logs")
	msg = mcptest.MustError(t, cs, "axiom_query", map[string]any{"apl": "['app-logs'] | wher level == 'x'"})
	logstest.ContainsAll(t, "bad apl", msg, "Axiom rejected the APL", "unexpected operator")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"text": "x"})
	logstest.ContainsAll(t, "no dataset", msg, "pass source")

	fake.fail(http.StatusTooManyRequests)
	start := time.Now()
	out = mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "after 429", out, "app-logs")
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("the retry came after %s, before Retry-After's 1 s", d)
	}

	fake.mu.Lock()
	fake.token = "xaat-rotated"
	fake.mu.Unlock()
	msg = mcptest.MustError(t, cs, "search_logs", window)
	logstest.ContainsAll(t, "expired token", msg, "rejected the credentials (401)", "expired")
	if strings.Contains(msg, axiomCanary) {
		t.Errorf("the token leaked into an error: %s", msg)
	}
}

// When Axiom stops a query at its own limits, the answer says the results
// are partial, in searches and in axiom_query.
func TestAxiomPartialResults(t *testing.T) {
	t.Parallel()
	fake := newAxiomFake(t, axiomCanary)
	fake.partial = true
	conn := config.Connection{Name: "ax", Category: Category, Provider: "axiom", Settings: map[string]string{"base_url": fake.srv.URL}}
	cs := serveConns(t, []config.Connection{conn}, map[string]string{"AXIOM_TOKEN": axiomCanary})
	since := logstest.IncidentFrom.Add(-time.Hour).Format(time.RFC3339)
	until := logstest.IncidentTo.Format(time.RFC3339)
	search := mcptest.MustText(t, cs, "search_logs", map[string]any{"source": "app-logs", "since": since, "until": until, "limit": 5})
	apl := mcptest.MustText(t, cs, "axiom_query", map[string]any{"apl": "['app-logs'] | take 3", "since": since, "until": until})
	for what, text := range map[string]string{"search_logs": search, "axiom_query": apl} {
		if !strings.Contains(text, "partial results") {
			t.Errorf("%s does not say the results are partial:\n%s", what, text)
		}
	}
}
