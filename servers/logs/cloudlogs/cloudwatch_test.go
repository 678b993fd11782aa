package cloudlogs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

const (
	cwAccessKey = "AKIAOPSTOWERTEST0001"
	cwCanary    = "cw-canary-secret/8f2d1c0b9a7e6d5c4b3a2f1e0d9c8b7a"
)

// cloudwatchFake speaks the CloudWatch Logs API as the SDK sends it: the
// AWS JSON 1.1 protocol (POST / with X-Amz-Target: Logs_20140328.<Op> and
// Content-Type application/x-amz-json-1.1), SigV4-signed, errors as
// {"__type","message"} with HTTP 400, nextToken paging. Log events are
// generated from the fixture story (10:30-11:30 UTC on 2026-03-01).
type cloudwatchFake struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	calls    []string
	throttle int // ThrottlingException answers still to give
	badKey   bool
	queries  map[string]string // id -> query string
	stopped  []string
	polls    int
}

func newCloudWatchFake(t *testing.T) *cloudwatchFake {
	f := &cloudwatchFake{t: t, queries: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

var sigV4RE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=` + cwAccessKey + `/\d{8}/us-east-1/logs/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`)

func cwError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", "req-1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// cwGroups are the fake account's log groups.
var cwGroups = []string{"/aws/lambda/checkout", "/aws/lambda/checkout-worker", "/ecs/api", "/ecs/web", "/aws/apigateway/shop"}

// cwEvents returns the events of a group, oldest first: one per 5 s, the
// checkout group failing from 11:00 to 11:10.
func cwEvents(group string) []map[string]any {
	var out []map[string]any
	for ts := logstest.Start.Add(30 * time.Minute); ts.Before(logstest.Start.Add(90 * time.Minute)); ts = ts.Add(5 * time.Second) {
		i := int(ts.Sub(logstest.Start) / time.Second)
		msg := fmt.Sprintf(`{"level":"info","msg":"GET /orders/%d 200","duration_ms":%d}`, i, i%40)
		if group == "/aws/lambda/checkout" && !ts.Before(logstest.IncidentFrom) && ts.Before(logstest.IncidentTo) {
			msg = fmt.Sprintf(`{"level":"error","msg":"payment failed for order %d: timeout after 30s talking to 10.0.0.%d:5432","duration_ms":30000}`, i, i%250)
		}
		out = append(out, map[string]any{"logStreamName": fmt.Sprintf("2026/03/01/[$LATEST]%04x", i/600), "timestamp": ts.UnixMilli(), "message": msg + "\n", "ingestionTime": ts.UnixMilli() + 100, "eventId": strconv.Itoa(i)})
	}
	return out
}

func (f *cloudwatchFake) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "Logs_20140328.")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		cwError(w, "UnknownOperationException", "bad target "+target)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		cwError(w, "SerializationException", "content type "+ct)
		return
	}
	if !sigV4RE.MatchString(r.Header.Get("Authorization")) || r.Header.Get("X-Amz-Date") == "" {
		cwError(w, "IncompleteSignature", "Authorization header requires a SigV4 signature: "+r.Header.Get("Authorization"))
		return
	}
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		cwError(w, "SerializationException", err.Error())
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, op)
	if f.badKey {
		f.mu.Unlock()
		cwError(w, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if f.throttle > 0 {
		f.throttle--
		f.mu.Unlock()
		cwError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	enc := json.NewEncoder(w)
	known := func(g any) bool {
		for _, k := range cwGroups {
			if k == g {
				return true
			}
		}
		return false
	}
	switch op {
	case "DescribeLogGroups":
		groups := cwGroups
		if p, _ := in["logGroupNamePattern"].(string); p != "" {
			groups = nil
			for _, g := range cwGroups {
				if strings.Contains(g, p) {
					groups = append(groups, g)
				}
			}
		}
		start, _ := strconv.Atoi(fmt.Sprint(in["nextToken"]))
		limit := 2 // small pages, to prove paging
		end := min(len(groups), start+limit)
		var out []map[string]any
		for _, g := range groups[start:end] {
			out = append(out, map[string]any{"logGroupName": g, "arn": "arn:aws:logs:us-east-1:123456789012:log-group:" + g + ":*", "storedBytes": 1 << 20, "retentionInDays": 30, "creationTime": logstest.Start.UnixMilli(), "logGroupClass": "STANDARD"})
		}
		resp := map[string]any{"logGroups": out}
		if end < len(groups) {
			resp["nextToken"] = strconv.Itoa(end)
		}
		_ = enc.Encode(resp)
	case "FilterLogEvents":
		g := in["logGroupName"]
		if !known(g) {
			cwError(w, "ResourceNotFoundException", "The specified log group does not exist.")
			return
		}
		from, _ := in["startTime"].(float64)
		to, _ := in["endTime"].(float64)
		pattern, _ := in["filterPattern"].(string)
		term := strings.Trim(pattern, `"`)
		limit := 10000
		if l, ok := in["limit"].(float64); ok {
			limit = int(l)
		}
		pageSize := min(limit, 300)
		var matched []map[string]any
		for _, e := range cwEvents(g.(string)) {
			ts := float64(e["timestamp"].(int64))
			if ts < from || ts > to || (term != "" && !strings.Contains(e["message"].(string), term)) {
				continue
			}
			matched = append(matched, e)
		}
		start, _ := strconv.Atoi(fmt.Sprint(in["nextToken"]))
		end := min(len(matched), start+pageSize)
		resp := map[string]any{"events": matched[start:end], "searchedLogStreams": []any{}}
		if end < len(matched) {
			resp["nextToken"] = strconv.Itoa(end)
		}
		_ = enc.Encode(resp)
	case "GetLogGroupFields":
		if !known(in["logGroupName"]) {
			cwError(w, "ResourceNotFoundException", "The specified log group does not exist.")
			return
		}
		_ = enc.Encode(map[string]any{"logGroupFields": []any{map[string]any{"name": "@timestamp", "percent": 100}, map[string]any{"name": "level", "percent": 100}, map[string]any{"name": "duration_ms", "percent": 97}}})
	case "StartQuery":
		for _, g := range in["logGroupNames"].([]any) {
			if !known(g) {
				cwError(w, "ResourceNotFoundException", "Log group '"+fmt.Sprint(g)+"' does not exist")
				return
			}
		}
		q, _ := in["queryString"].(string)
		if strings.Contains(q, "stats count(*) bye") {
			cwError(w, "MalformedQueryException", "unexpected symbol found bye at line 1 and position 21")
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("q-%d", len(f.queries)+1)
		f.queries[id] = q
		f.mu.Unlock()
		_ = enc.Encode(map[string]any{"queryId": id})
	case "GetQueryResults":
		id, _ := in["queryId"].(string)
		f.mu.Lock()
		q := f.queries[id]
		f.polls++
		polls := f.polls
		f.mu.Unlock()
		if strings.Contains(q, "slow") || polls%2 == 1 {
			_ = enc.Encode(map[string]any{"status": "Running", "results": []any{}, "statistics": map[string]any{"recordsMatched": 0, "recordsScanned": 100, "bytesScanned": 1000}})
			return
		}
		_ = enc.Encode(map[string]any{"status": "Complete", "results": []any{
			[]any{map[string]any{"field": "bin(5m)", "value": "2026-03-01 11:00:00.000"}, map[string]any{"field": "count()", "value": "60"}, map[string]any{"field": "@ptr", "value": "CmAKJwoj"}},
			[]any{map[string]any{"field": "bin(5m)", "value": "2026-03-01 11:05:00.000"}, map[string]any{"field": "count()", "value": "60"}},
		}, "statistics": map[string]any{"recordsMatched": 120, "recordsScanned": 1440, "bytesScanned": 204800}})
	case "StopQuery":
		f.mu.Lock()
		f.stopped = append(f.stopped, fmt.Sprint(in["queryId"]))
		f.mu.Unlock()
		_ = enc.Encode(map[string]any{"success": true})
	default:
		cwError(w, "UnknownOperationException", op)
	}
}

// init shortens the retry backoff and Insights polling for every test, so
// tests can run in parallel without changing them.
func init() {
	cloudwatchMaxBackoff, insightsPoll = 20*time.Millisecond, 10*time.Millisecond
}

func TestCloudWatchLogs(t *testing.T) {
	t.Parallel()
	fake := newCloudWatchFake(t)
	conn := config.Connection{Name: "aws", Category: logs.Category, Provider: "cloudwatch", Settings: map[string]string{"endpoint": fake.srv.URL, "log_group": "/aws/lambda/checkout"}}
	env := map[string]string{"AWS_ACCESS_KEY_ID": cwAccessKey, "AWS_SECRET_ACCESS_KEY": cwCanary, "AWS_REGION": "us-east-1"}
	ctx := t.Context()
	s, err := logs.New(ctx, logs.Config{Connections: []config.Connection{conn}, Limits: config.Limits{Timeout: config.Duration(2 * time.Second)}, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	logstest.Must(t, err)
	cs := mcptest.Connect(t, s)
	window := map[string]any{"since": "2026-03-01T10:30:00Z", "until": "2026-03-01T11:30:00Z"}
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
	logstest.ContainsAll(t, "groups over 3 pages", out, "5 sources", "/aws/lambda/checkout,1 MB,30,", "/aws/apigateway/shop", "Default log group: /aws/lambda/checkout")

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "payment failed", "limit": 3}))
	logstest.ContainsAll(t, "search (any case, filtered here)", out, "120 lines matched", "Showing the newest 3", "11:09:55.000 ERROR payment failed for order")

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "GET /orders/1800 ", "source": "/ecs/api"}))
	logstest.ContainsAll(t, "exact text pushed as a filter pattern", out, "1 lines matched", "10:30:00.000 INFO GET /orders/1800 200")

	out = mcptest.MustText(t, cs, "error_signatures", window)
	logstest.ContainsAll(t, "signatures over pages", out, "120,error,2026-03-01T11:00:00Z,2026-03-01T11:09:55Z", "payment failed for order <n>: timeout after <n>s talking to <ip>", "$LATEST")

	out = mcptest.MustText(t, cs, "count_logs", with(map[string]any{"bucket": "10m", "level": "error"}))
	logstest.ContainsAll(t, "counts", out, "2026-03-01T11:00Z,120,")

	out = mcptest.MustText(t, cs, "log_fields", nil)
	logstest.ContainsAll(t, "fields", out, "duration_ms,-,in 97% of events")

	out = mcptest.MustText(t, cs, "cloudwatch_insights_query", map[string]any{"query": "filter level = 'error' | stats count() by bin(5m)", "since": "2026-03-01T10:00:00Z", "until": "2026-03-01T12:00:00Z"})
	logstest.ContainsAll(t, "insights", out, "bin(5m),count()", "2026-03-01 11:00:00.000,60", "120 records matched of 1,440 scanned")
	if strings.Contains(out, "@ptr") {
		t.Errorf("@ptr is an internal pointer and should not be shown:\n%s", out)
	}

	msg := mcptest.MustError(t, cs, "cloudwatch_insights_query", map[string]any{"query": "stats count(*) bye x"})
	logstest.ContainsAll(t, "malformed", msg, "MalformedQueryException", "unexpected symbol")

	start := time.Now()
	msg = mcptest.MustError(t, cs, "cloudwatch_insights_query", map[string]any{"query": "filter @message like /slow/"})
	logstest.ContainsAll(t, "deadline", msg, "did not finish within 2s and was stopped")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the deadline took %s", d)
	}
	fake.mu.Lock()
	stopped := len(fake.stopped)
	fake.mu.Unlock()
	if stopped != 1 {
		t.Errorf("StopQuery was called %d times after the deadline, want 1", stopped)
	}

	// A client that gives up cancels the call: the query is stopped too.
	cctx, ccancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); ccancel() }()
	_, _ = cs.CallTool(cctx, &mcp.CallToolParams{Name: "cloudwatch_insights_query", Arguments: map[string]any{"query": "filter @message like /slow/"}})
	waitUntil(t, 3*time.Second, "StopQuery after the client cancelled", func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return len(fake.stopped) == 2
	})

	msg = mcptest.MustError(t, cs, "search_logs", with(map[string]any{"source": "/aws/lambda/chekout"}))
	logstest.ContainsAll(t, "unknown group", msg, "no log group /aws/lambda/chekout", "did you mean /aws/lambda/checkout")

	fake.mu.Lock()
	fake.throttle = 2
	fake.mu.Unlock()
	out = mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "after throttling", out, "5 sources")

	fake.mu.Lock()
	fake.badKey = true
	fake.mu.Unlock()
	msg = mcptest.MustError(t, cs, "search_logs", window)
	logstest.ContainsAll(t, "bad credentials", msg, "AWS rejected the credentials (UnrecognizedClientException)", "create a new key")
	if strings.Contains(msg, cwCanary) {
		t.Errorf("the secret key leaked: %s", msg)
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
