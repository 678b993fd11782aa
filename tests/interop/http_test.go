package interop

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	mgtransport "github.com/mark3labs/mcp-go/client/transport"

	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

// toolsList is a complete MCP request a stateless server answers without a
// handshake: tools/list on a pre-2026 revision, named in the
// Mcp-Protocol-Version header. An accepted request therefore comes back 200
// with the tool list, which tells "allowed" apart from "rejected" exactly.
const toolsList = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

// rawRequest is one hand-written HTTP request to a server, as a browser,
// a proxy or a script would send it.
type rawRequest struct {
	method string
	path   string
	host   string // Host header; empty means the listener's address
	header map[string]string
}

func do(t *testing.T, s *opstowerbin.HTTPServer, r rawRequest) (int, string) {
	t.Helper()
	var body io.Reader
	if r.method == http.MethodPost {
		body = strings.NewReader(toolsList)
	}
	req, err := http.NewRequest(r.method, s.Base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestHTTPProtections checks what stands between the HTTP endpoint and the
// network: the bearer token, cross-origin protection for browsers, and the
// Host allow-list, each against a real server process.
func TestHTTPProtections(t *testing.T) {
	token := randomToken(t)
	dsn := "sqlite://" + fixtureDB
	withToken := opstowerbin.StartHTTP(t, binPath, []string{"OPSTOWER_HTTP_TOKEN=" + token}, "--dsn", dsn)
	withOrigin := opstowerbin.StartHTTP(t, binPath, nil, "--dsn", dsn, "--allowed-origin", "https://evil.example")
	withHosts := opstowerbin.StartHTTP(t, binPath, nil, "--dsn", dsn, "--allowed-host", "localhost", "--allowed-host", "mcp.example.com")
	plain := opstowerbin.StartHTTP(t, binPath, nil, "--dsn", dsn)

	auth := map[string]string{"Authorization": "Bearer " + token}
	crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	port := func(s *opstowerbin.HTTPServer) string {
		u, err := url.Parse(s.Base)
		if err != nil {
			t.Fatal(err)
		}
		return u.Port()
	}

	post := http.MethodPost
	cases := []struct {
		name       string
		server     *opstowerbin.HTTPServer
		req        rawRequest
		wantStatus int
	}{
		{"no token", withToken, rawRequest{method: post, path: "/mcp"}, http.StatusUnauthorized},
		{"wrong token", withToken, rawRequest{method: post, path: "/mcp", header: map[string]string{"Authorization": "Bearer " + token + "x"}}, http.StatusUnauthorized},
		{"token as basic auth", withToken, rawRequest{method: post, path: "/mcp", header: map[string]string{"Authorization": "Basic " + token}}, http.StatusUnauthorized},
		{"right token", withToken, rawRequest{method: post, path: "/mcp", header: auth}, http.StatusOK},
		{"healthz needs no token", withToken, rawRequest{method: http.MethodGet, path: "/healthz"}, http.StatusOK},

		{"cross-origin browser POST", plain, rawRequest{method: post, path: "/mcp", header: crossSite}, http.StatusForbidden},
		{"cross-origin browser POST with token", withToken, rawRequest{method: post, path: "/mcp", header: merge(crossSite, auth)}, http.StatusForbidden},
		{"same-origin browser POST", plain, rawRequest{method: post, path: "/mcp", header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, http.StatusOK},
		{"non-browser POST", plain, rawRequest{method: post, path: "/mcp"}, http.StatusOK},
		{"allowed origin", withOrigin, rawRequest{method: post, path: "/mcp", header: crossSite}, http.StatusOK},
		{"origin not allowed", withOrigin, rawRequest{method: post, path: "/mcp", header: map[string]string{"Origin": "https://other.example", "Sec-Fetch-Site": "cross-site"}}, http.StatusForbidden},

		{"DNS rebinding Host", plain, rawRequest{method: post, path: "/mcp", host: "evil.example"}, http.StatusForbidden},
		{"Host not in allow-list", withHosts, rawRequest{method: post, path: "/mcp"}, http.StatusForbidden},
		{"Host not in allow-list, rebinding", withHosts, rawRequest{method: post, path: "/mcp", host: "evil.example"}, http.StatusForbidden},
		{"allowed Host localhost", withHosts, rawRequest{method: post, path: "/mcp", host: "localhost:" + port(withHosts)}, http.StatusOK},
		// A reverse proxy on the same machine forwards the public name to
		// the loopback listener; naming it in --allowed-host lets it in.
		{"allowed Host behind a local proxy", withHosts, rawRequest{method: post, path: "/mcp", host: "mcp.example.com"}, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(t, c.server, c.req)
			if status != c.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body:\n%s", c.req.method, c.req.path, status, c.wantStatus, body)
			}
			switch {
			case c.req.path == "/healthz":
				if strings.TrimSpace(body) != "ok" {
					t.Errorf("/healthz body %q, want ok", body)
				}
			case status == http.StatusOK:
				if !strings.Contains(body, `"list_tables"`) {
					t.Errorf("an accepted tools/list did not list the tools:\n%s", body)
				}
			default:
				if strings.Contains(body, "list_tables") {
					t.Errorf("a rejected request leaked the tool list:\n%s", body)
				}
			}
		})
	}

	// What a user of each client library sees when the token is missing,
	// and that the same clients work once it is set.
	t.Run("clients without token", func(t *testing.T) {
		if _, err := connectGoSDKHTTP(t, withToken.Endpoint(), "", ""); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("go-sdk without a token: want an Unauthorized error, got %v", err)
		}
		if _, err := connectMcpGoHTTP(t, withToken.Endpoint(), "", ""); !errors.Is(err, mgtransport.ErrAuthorizationRequired) {
			t.Errorf("mcp-go without a token: want %v, got %v", mgtransport.ErrAuthorizationRequired, err)
		}
	})
	t.Run("clients with token", func(t *testing.T) {
		for name, connect := range map[string]func(*testing.T, string, string, string) (client, error){
			"go-sdk": connectGoSDKHTTP, "mcp-go": connectMcpGoHTTP,
		} {
			c, err := connect(t, withToken.Endpoint(), token, "")
			if err != nil {
				t.Fatalf("%s with the token: %v", name, err)
			}
			if tools, err := c.tools(t.Context()); err != nil || len(tools) == 0 {
				t.Errorf("%s with the token: tools/list = %d tools, %v", name, len(tools), err)
			}
		}
	})
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
