package mcpclient_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/orchestrator/mcpclient/mcpclienttest"
	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
)

func TestMain(m *testing.M) {
	mcpclienttest.ServeIfChild()
	os.Exit(m.Run())
}

func fixture() mcpclient.Server {
	name, args, env := mcpclienttest.Command()
	return mcpclient.Server{Name: "fixture", Command: name, Args: args, Env: env}
}

func connect(t *testing.T, servers ...mcpclient.Server) *mcpclient.Hub {
	t.Helper()
	h, err := mcpclient.Connect(context.Background(), servers, mcpclient.Options{MaxResultBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func sqliteDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total_cents INTEGER)`,
		`INSERT INTO orders (status, total_cents) VALUES ('paid', 1200), ('failed', 900), ('failed', 450)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func databasesServer(t *testing.T, path string) mcpclient.Server {
	return mcpclient.Server{Name: "databases", Build: func(ctx context.Context) (*mcp.Server, error) {
		c, err := databases.ParseDSN("shop=sqlite://" + path)
		if err != nil {
			return nil, err
		}
		return databases.New(ctx, databases.Config{Connections: []config.Connection{c}})
	}}
}

func TestInProcessCategoryServer(t *testing.T) {
	h := connect(t, databasesServer(t, sqliteDB(t)))
	var names []string
	for _, tl := range h.Tools() {
		names = append(names, tl.Name)
		if tl.Schema["type"] != "object" {
			t.Errorf("%s schema = %v", tl.Name, tl.Schema)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "databases__query") {
		t.Fatalf("tools = %v", names)
	}
	res := h.Call(context.Background(), "databases__query", json.RawMessage(`{"sql":"SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status"}`))
	if res.IsError || !strings.Contains(res.Text, "failed,2") {
		t.Fatalf("query result = %+v", res)
	}
	if !strings.Contains(h.Instructions()["databases"], "shop") {
		t.Errorf("instructions = %q", h.Instructions())
	}
}

func TestBadCallsAreToolErrors(t *testing.T) {
	h := connect(t, databasesServer(t, sqliteDB(t)))
	ctx := context.Background()
	cases := map[string]struct{ tool, args, want string }{
		"unknown tool":   {"databases__drop_everything", `{}`, "no tool named"},
		"not an object":  {"databases__query", `[1,2]`, "must be a json object"},
		"missing arg":    {"databases__query", `{}`, "sql"},
		"bad sql":        {"databases__query", `{"sql":"SELECT * FROM ordrs"}`, "ordrs"},
		"write rejected": {"databases__query", `{"sql":"DELETE FROM orders"}`, "read-only"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res := h.Call(ctx, c.tool, json.RawMessage(c.args))
			if !res.IsError || !strings.Contains(strings.ToLower(res.Text), c.want) {
				t.Errorf("%s(%s) = %+v; want a tool error mentioning %q", c.tool, c.args, res, c.want)
			}
		})
	}
}

func TestResultsAreCappedAndScrubbed(t *testing.T) {
	srv := fixture()
	srv.Env["SERVICE_API_KEY"] = "canary-9b1f7e2d-hub"
	h := connect(t, srv)
	ctx := context.Background()
	res := h.Call(ctx, "fixture__big", json.RawMessage(`{"bytes":100000}`))
	if res.IsError || len(res.Text) > 4096 || !strings.Contains(res.Text, "[cut]") {
		t.Fatalf("big result: %d bytes, error %v, tail %q", len(res.Text), res.IsError, res.Text[max(0, len(res.Text)-120):])
	}
	res = h.Call(ctx, "fixture__env", json.RawMessage(`{"name":"SERVICE_API_KEY"}`))
	if strings.Contains(res.Text, "canary") || !strings.Contains(res.Text, "redacted") {
		t.Errorf("secret from the server's env reached the result: %q", res.Text)
	}
}

func TestChildGetsNoHostKeys(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-canary-should-not-leak")
	h := connect(t, fixture())
	res := h.Call(context.Background(), "fixture__env", json.RawMessage(`{"name":"ANTHROPIC_API_KEY"}`))
	if res.Text != "(unset)" {
		t.Errorf("child saw ANTHROPIC_API_KEY = %q", res.Text)
	}
	res = h.Call(context.Background(), "fixture__env", json.RawMessage(`{"name":"PATH"}`))
	if res.Text == "(unset)" {
		t.Error("child has no PATH")
	}
}

// A stdio server killed in the middle of a call: that call is a tool error
// saying the server was restarted, and the next call reaches a new process.
func TestCrashedServerIsRestarted(t *testing.T) {
	h := connect(t, fixture())
	ctx := context.Background()
	first := h.Call(ctx, "fixture__pid", nil)
	if first.IsError {
		t.Fatal(first.Text)
	}
	var wg sync.WaitGroup
	var during mcpclient.Result
	wg.Add(1)
	go func() {
		defer wg.Done()
		during = h.Call(ctx, "fixture__sleep", json.RawMessage(`{"ms":20000}`))
	}()
	time.Sleep(200 * time.Millisecond)
	var pid int
	if _, err := fmtSscan(first.Text, &pid); err != nil {
		t.Fatal(err)
	}
	if p, err := os.FindProcess(pid); err != nil || p.Kill() != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !during.IsError || !strings.Contains(during.Text, "restarted") {
		t.Fatalf("call during the crash = %+v", during)
	}
	second := h.Call(ctx, "fixture__pid", nil)
	if second.IsError || second.Text == first.Text {
		t.Fatalf("after restart: %+v (before: %s)", second, first.Text)
	}
}

func TestConnectErrorsNameTheServer(t *testing.T) {
	_, err := mcpclient.Connect(context.Background(), []mcpclient.Server{{Name: "ghost", Command: "/nonexistent/mcp-server"}}, mcpclient.Options{})
	if err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("err = %v", err)
	}
	_, err = mcpclient.Connect(context.Background(), []mcpclient.Server{{Name: "noisy", Command: "sh", Args: []string{"-c", "echo 'missing DATABASE_URL' >&2; exit 1"}}}, mcpclient.Options{})
	if err == nil || !strings.Contains(err.Error(), "missing DATABASE_URL") {
		t.Fatalf("err = %v; want the child's stderr", err)
	}
}

func TestStreamableHTTPWithHeaders(t *testing.T) {
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcpclienttest.New() }, &mcp.StreamableHTTPOptions{Stateless: true})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123456" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	defer hs.Close()
	h := connect(t, mcpclient.Server{Name: "remote", URL: hs.URL, Headers: map[string]string{"Authorization": "Bearer tok-123456"}})
	if res := h.Call(context.Background(), "remote__sleep", json.RawMessage(`{"ms":1}`)); res.IsError || res.Text != "done" {
		t.Fatalf("result = %+v", res)
	}
	_, err := mcpclient.Connect(context.Background(), []mcpclient.Server{{Name: "remote", URL: hs.URL}}, mcpclient.Options{})
	if err == nil || !strings.Contains(err.Error(), "remote") {
		t.Fatalf("without the token: %v", err)
	}
}

func TestParseClaudeDesktopConfig(t *testing.T) {
	doc := `{
	  "globalShortcut": "Ctrl+Space",
	  "mcpServers": {
	    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]},
	    "github": {"command": "docker", "args": ["run", "-i", "ghcr.io/github/github-mcp-server"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_canary0123"}},
	    "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer abc12345"}},
	    "old": {"command": "x", "disabled": true}
	  }
	}`
	servers, err := mcpclient.ParseServers([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 3 || servers[0].Name != "filesystem" || servers[1].Env["GITHUB_PERSONAL_ACCESS_TOKEN"] == "" || servers[2].URL == "" {
		t.Fatalf("servers = %+v", servers)
	}
	bad := map[string]string{
		`{"mcpServers": {"a": {"comand": "x"}}}`:                     `did you mean "command"`,
		`{"mcpServers": {"a": {"command": "x", "url": "http://h"}}}`: "not both",
		`{"mcpServers": {"a": {"type": "sse", "url": "http://h"}}}`:  "legacy SSE",
		`{"mcpServers": {"a b": {"command": "x"}}}`:                  "letters, digits",
		`[1]`: "not a JSON object",
	}
	for doc, want := range bad {
		if _, err := mcpclient.ParseServers([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v; want %q", doc, err, want)
		}
	}
}

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(strings.TrimSpace(s), v) }
