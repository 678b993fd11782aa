package logs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

const (
	cfTestAccount = "0123456789abcdef0123456789abcdef"
	cfCanary      = "cf-canary-token-8d7e6f5a4b3c2d1e0f9a8b7c"
)

// cloudflareFake speaks the Workers Observability telemetry API and the
// scripts list under /client/v4/accounts/{account}: Cloudflare's
// {success, errors, messages, result} envelope, bearer tokens, 429 with
// Retry-After, and paging of events by the last event's $metadata.id.
type cloudflareFake struct {
	srv     *httptest.Server
	token   string
	events  []map[string]any // newest first
	mu      sync.Mutex
	bodies  []map[string]any
	pending []int
}

func newCloudflareFake(t *testing.T) *cloudflareFake {
	f := &cloudflareFake{token: cfCanary}
	now := time.Now().UTC().Truncate(time.Second)
	// 3,000 events over the last 50 minutes; the last 10 minutes fail.
	for i := 0; i < 3000; i++ {
		ts := now.Add(-time.Duration(i) * time.Second)
		md := map[string]any{"id": fmt.Sprintf("evt-%05d", i), "service": "api-gateway", "level": "log", "trigger": "GET /v1/items", "requestId": fmt.Sprintf("req%06x", i), "statusCode": 200}
		var source any = fmt.Sprintf("served item %d in %dms", i, i%50)
		if i < 600 && i%2 == 0 {
			md["level"], md["statusCode"] = "error", 500
			md["error"] = fmt.Sprintf("TypeError: Cannot read properties of undefined (reading 'price') at item %d", i)
			md["message"] = md["error"]
			source = map[string]any{"message": md["error"], "itemId": i, "region": "WEUR"}
		}
		if i%100 == 7 {
			md["service"] = "auth-worker"
		}
		f.events = append(f.events, map[string]any{"$metadata": md, "$workers": map[string]any{"scriptName": md["service"], "outcome": "ok", "eventType": "fetch", "requestId": md["requestId"]}, "dataset": "cloudflare-workers", "source": source, "timestamp": ts.UnixMilli()})
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func cfWrite(w http.ResponseWriter, status int, result any, errs ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var e []map[string]any
	for _, m := range errs {
		e = append(e, map[string]any{"code": 10000 + status, "message": m})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"success": len(errs) == 0, "errors": e, "messages": []any{}, "result": result})
}

func (f *cloudflareFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	token := f.token
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		cfWrite(w, http.StatusUnauthorized, nil, "Authentication error")
		return
	}
	f.mu.Lock()
	if len(f.pending) > 0 {
		st := f.pending[0]
		f.pending = f.pending[1:]
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		cfWrite(w, st, nil, "Rate limited")
		return
	}
	f.mu.Unlock()
	prefix := "/client/v4/accounts/" + cfTestAccount
	if !strings.HasPrefix(r.URL.Path, prefix+"/") {
		cfWrite(w, http.StatusNotFound, nil, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, prefix)
	var body map[string]any
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			cfWrite(w, http.StatusBadRequest, nil, "Invalid JSON body")
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
	}
	switch {
	case r.Method == http.MethodGet && path == "/workers/scripts":
		cfWrite(w, 200, []any{
			map[string]any{"id": "api-gateway", "created_on": "2026-01-02T03:04:05Z", "modified_on": "2026-11-01T00:00:00Z", "usage_model": "standard"},
			map[string]any{"id": "auth-worker", "created_on": "2026-01-02T03:04:05Z", "modified_on": "2026-10-01T00:00:00Z", "usage_model": "standard"},
		})
	case r.Method == http.MethodPost && path == "/workers/observability/telemetry/query":
		f.query(w, body)
	case r.Method == http.MethodPost && path == "/workers/observability/telemetry/keys":
		cfWrite(w, 200, []any{
			map[string]any{"key": "$metadata.service", "type": "string", "lastSeenAt": time.Now().UnixMilli()},
			map[string]any{"key": "$metadata.statusCode", "type": "number", "lastSeenAt": time.Now().UnixMilli()},
		})
	case r.Method == http.MethodPost && path == "/workers/observability/telemetry/values":
		if body["key"] != "$metadata.service" {
			cfWrite(w, 200, []any{})
			return
		}
		cfWrite(w, 200, []any{
			map[string]any{"key": "$metadata.service", "type": "string", "value": "api-gateway", "dataset": "cloudflare-workers"},
			map[string]any{"key": "$metadata.service", "type": "string", "value": "auth-worker", "dataset": "cloudflare-workers"},
		})
	default:
		cfWrite(w, http.StatusNotFound, nil, "No route for that URI")
	}
}

func (f *cloudflareFake) query(w http.ResponseWriter, body map[string]any) {
	tf, _ := body["timeframe"].(map[string]any)
	from, _ := tf["from"].(float64)
	to, _ := tf["to"].(float64)
	limit, _ := body["limit"].(float64)
	if body["view"] != "events" || from == 0 || to <= from || limit < 1 || limit > 2000 || body["queryId"] == "" {
		cfWrite(w, http.StatusBadRequest, nil, "Invalid query: timeframe, view and a limit of 1 to 2000 are required")
		return
	}
	params, _ := body["parameters"].(map[string]any)
	var needle string
	matchCase := false
	if n, ok := params["needle"].(map[string]any); ok {
		needle, _ = n["value"].(string)
		matchCase, _ = n["matchCase"].(bool)
	}
	service := ""
	if fl, ok := params["filters"].([]any); ok {
		for _, x := range fl {
			m := x.(map[string]any)
			if m["key"] == "$metadata.service" && m["operation"] == "eq" {
				service, _ = m["value"].(string)
			}
		}
	}
	offset, _ := body["offset"].(string)
	var out []map[string]any
	started := offset == ""
	for _, e := range f.events {
		md := e["$metadata"].(map[string]any)
		if !started {
			started = md["id"] == offset
			continue
		}
		ts := float64(e["timestamp"].(int64))
		if ts < from || ts >= to || (service != "" && md["service"] != service) {
			continue
		}
		if needle != "" {
			raw, _ := json.Marshal(e)
			hay, n := string(raw), needle
			if !matchCase {
				hay, n = strings.ToLower(hay), strings.ToLower(n)
			}
			if !strings.Contains(hay, n) {
				continue
			}
		}
		out = append(out, e)
		if len(out) == int(limit) {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i]["timestamp"].(int64) > out[j]["timestamp"].(int64) })
	cfWrite(w, 200, map[string]any{
		"run":        map[string]any{"id": "run-1", "accountId": cfTestAccount, "dry": body["dry"], "granularity": 0},
		"statistics": map[string]any{"elapsed": 0.01, "rows_read": len(f.events), "bytes_read": 123456},
		"events":     map[string]any{"events": out, "count": len(out), "fields": []any{}},
	})
}

func TestCloudflareWorkersLogs(t *testing.T) {
	t.Parallel()
	fake := newCloudflareFake(t)
	conn := config.Connection{Category: Category, Provider: "cloudflare", Settings: map[string]string{"base_url": fake.srv.URL + "/client/v4", "account_id": cfTestAccount}}
	cs := serveConns(t, []config.Connection{conn}, map[string]string{"CLOUDFLARE_API_TOKEN": cfCanary})

	out := mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "workers", out, "api-gateway,", "auth-worker,", "7 days")

	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"source": "api-gateway", "text": "typeerror", "limit": 5})
	logstest.ContainsAll(t, "search", out, "more than 5 lines matched", "ERROR TypeError: Cannot read properties of undefined", "statusCode=500")
	fake.mu.Lock()
	last := fake.bodies[len(fake.bodies)-1]
	fake.mu.Unlock()
	raw, _ := json.Marshal(last)
	for _, want := range []string{`"view":"events"`, `"needle":{"isRegex":false,"matchCase":false,"value":"typeerror"}`, `"key":"$metadata.service","operation":"eq","type":"string","value":"api-gateway"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("query body lacks %s: %s", want, raw)
		}
	}

	// Signatures and counts read past one page (2,000 events).
	out = mcptest.MustText(t, cs, "error_signatures", map[string]any{"since": "1h"})
	logstest.ContainsAll(t, "signatures", out, ",error,", "TypeError: Cannot read properties of undefined (reading '*') at item <n>", "api-gateway")
	if !strings.Contains(out, "300,error") && !strings.Contains(out, "294,error") {
		t.Errorf("expected the ~300 errors of api-gateway to group into one signature:\n%s", out)
	}
	out = mcptest.MustText(t, cs, "count_logs", map[string]any{"since": "1h", "bucket": "10m", "group_by": "level"})
	logstest.ContainsAll(t, "counts", out, "3,000 lines matched", "error")

	out = mcptest.MustText(t, cs, "log_fields", nil)
	logstest.ContainsAll(t, "keys", out, `$metadata.service,-,"string, last seen`, "$metadata.statusCode")
	out = mcptest.MustText(t, cs, "log_fields", map[string]any{"field": "$metadata.service"})
	logstest.ContainsAll(t, "values", out, "api-gateway,-", "auth-worker,-")

	msg := mcptest.MustError(t, cs, "search_logs", map[string]any{"since": "30d"})
	logstest.ContainsAll(t, "retention", msg, "7 days")

	fake.mu.Lock()
	fake.pending = append(fake.pending, http.StatusTooManyRequests)
	fake.mu.Unlock()
	out = mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "after 429", out, "api-gateway")

	fake.mu.Lock()
	fake.token = "rotated"
	fake.mu.Unlock()
	msg = mcptest.MustError(t, cs, "search_logs", nil)
	logstest.ContainsAll(t, "expired", msg, "401", "Authentication error")
	if strings.Contains(msg, cfCanary) {
		t.Errorf("token leaked: %s", msg)
	}
}

func TestCloudflareBadAccountID(t *testing.T) {
	t.Parallel()
	conn := config.Connection{Category: Category, Provider: "cloudflare", Settings: map[string]string{"account_id": "my-account"}}
	_, err := New(t.Context(), Config{Connections: []config.Connection{conn}, Lookup: func(string) (string, bool) { return cfCanary, true }})
	if err == nil || !strings.Contains(err.Error(), "32 hexadecimal") || strings.Contains(err.Error(), cfCanary) {
		t.Fatalf("want a clear account_id error without the token, got %v", err)
	}
}
