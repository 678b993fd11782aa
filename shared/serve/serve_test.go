package serve

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/secret"
)

const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

func post(h http.Handler, host string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "http://"+host+"/mcp", bytes.NewReader([]byte(listTools)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandlerChecks(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	h := Handler(s, Options{
		Token:          secret.New("serve-test-token"),
		AllowedOrigins: []string{"https://app.example.com"},
		AllowedHosts:   []string{"mcp.example.com"},
	})
	auth := map[string]string{"Authorization": "Bearer serve-test-token"}
	cases := []struct {
		name    string
		host    string
		headers map[string]string
		want    int
	}{
		{"token", "mcp.example.com", auth, 200},
		{"no token", "mcp.example.com", nil, 401},
		{"wrong token", "mcp.example.com", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"other host", "evil.example.com", auth, 403},
		{"cross-site browser", "mcp.example.com", map[string]string{"Authorization": "Bearer serve-test-token", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"allowed origin", "mcp.example.com", map[string]string{"Authorization": "Bearer serve-test-token", "Origin": "https://app.example.com", "Sec-Fetch-Site": "cross-site"}, 200},
	}
	for _, c := range cases {
		if got := post(h, c.host, c.headers).Code; got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	req := httptest.NewRequest("GET", "http://10.0.0.7:8080/healthz", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "ok" {
		t.Errorf("healthz for a probe: %d %q", w.Code, w.Body.String())
	}
}

func TestValidateOrigins(t *testing.T) {
	if err := ValidateOrigins([]string{"https://ok.example", "not a url"}); err == nil || !strings.Contains(err.Error(), "https://host[:port]") {
		t.Errorf("got %v", err)
	}
}

// A call that reports progress reaches the client as an event stream with
// the notification before the result when Stream is set; otherwise the
// answer is one JSON body.
func TestStreamAnswers(t *testing.T) {
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if tok := req.Params.GetProgressToken(); tok != nil {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Message: "step one"})
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
	})
	call := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"p1"}}}`
	for _, stream := range []bool{false, true} {
		req := httptest.NewRequest("POST", "http://localhost/mcp", strings.NewReader(call))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		w := httptest.NewRecorder()
		Handler(s, Options{Stream: stream}).ServeHTTP(w, req)
		body, ctype := w.Body.String(), w.Header().Get("Content-Type")
		if w.Code != 200 || !strings.Contains(body, `"done"`) {
			t.Fatalf("stream=%v: %d %s", stream, w.Code, body)
		}
		progress := strings.Index(body, "step one")
		switch {
		case stream && (!strings.HasPrefix(ctype, "text/event-stream") || progress < 0 || progress > strings.Index(body, `"done"`)):
			t.Errorf("stream: want an event stream with the progress before the result, got %s:\n%s", ctype, body)
		case !stream && !strings.HasPrefix(ctype, "application/json"):
			t.Errorf("no stream: want one JSON answer, got %s:\n%s", ctype, body)
		}
	}
}
