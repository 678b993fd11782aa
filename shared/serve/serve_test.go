package serve

import (
	"bytes"
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
