package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mgclient "github.com/mark3labs/mcp-go/client"
	mgtransport "github.com/mark3labs/mcp-go/client/transport"
	mg "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

// canaries are secret values planted in every place a user puts a
// credential: database URLs, a config file's ${ENV} references, the HTTP
// bearer token. Each contains characters that URL escaping changes, so the
// escaped form a driver might echo differs from the plain one, and a random
// part, so a match cannot come from anywhere else.
type canaries map[string]string // what it is → value

// newCanaries makes one password-like canary per kind: every character
// class a password may hold, including the URL delimiters / @ : and a space.
func newCanaries(t *testing.T, kinds ...string) canaries {
	c := canaries{}
	for _, k := range kinds {
		c[k] = "cAnArY-" + randomToken(t)[:12] + "!/p@ss w:rd"
	}
	return c
}

// tokenCanary is a bearer-token-like canary: RFC 6750 tokens have no
// spaces, but / + ~ . and trailing = are common (base64).
func tokenCanary(t *testing.T) string {
	return "cAnArY-" + randomToken(t)[:12] + "/t+k~n.x=="
}

// forms are the spellings of a secret that count as a leak: plain, and
// escaped for a query, a path and a URL's userinfo.
func forms(v string) []string {
	userinfo := strings.TrimPrefix(url.UserPassword("u", v).String(), "u:")
	return []string{v, url.QueryEscape(v), url.PathEscape(v), userinfo}
}

// leaks returns, for each canary found in text in any form, its kind and
// the form found.
func (c canaries) leaks(text string) []string {
	var out []string
	for kind, v := range c {
		for _, f := range forms(v) {
			if strings.Contains(text, f) {
				out = append(out, fmt.Sprintf("the %s (as %q)", kind, f))
				break
			}
		}
	}
	return out
}

// check fails the test if any canary, in any form, appears in text.
func (c canaries) check(t *testing.T, where, text string) {
	t.Helper()
	for _, l := range c.leaks(text) {
		t.Errorf("%s leaked into %s:\n%s", l, where, text)
	}
}

// pgURL and mysqlURL build connection URLs the way a user writes them, with
// the password escaped in the userinfo.
func pgURL(user, password, hostport, db string) string {
	return (&url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: hostport, Path: "/" + db}).String()
}

func mysqlURL(user, password, hostport, db string) string {
	return (&url.URL{Scheme: "mysql", User: url.UserPassword(user, password), Host: hostport, Path: "/" + db}).String()
}

// Connections that fail: a closed port (connection refused), and a user
// that does not exist on the project's PostgreSQL (trust auth would accept
// any password for a real user) and MariaDB. Where those services are not
// running, the second kind is refused too; both must fail without leaking.
const (
	closedPort = "127.0.0.1:1"
	pgAddr     = "127.0.0.1:5432"
	mysqlAddr  = "127.0.0.1:3306"
	noSuchUser = "opstower_canary_nobody"
)

// driveFailingTools calls every tool on every connection and returns each
// result's text. All of them must be tool errors: the backends are
// unreachable or refuse the user.
func driveFailingTools(ctx context.Context, t *testing.T, c client, conns []string) []string {
	t.Helper()
	var out []string
	for _, conn := range conns {
		for _, call := range []struct {
			tool string
			args map[string]any
		}{
			{"list_tables", map[string]any{}},
			{"describe_table", map[string]any{"table": "customers"}},
			{"query", map[string]any{"sql": "SELECT 1"}},
			{"explain", map[string]any{"sql": "SELECT 1", "analyze": true}},
		} {
			call.args["connection"] = conn
			text, isErr, err := c.call(ctx, call.tool, call.args)
			if err != nil {
				t.Errorf("%s on %s: protocol error %v; a backend failure should be a tool error", call.tool, conn, err)
				out = append(out, err.Error())
				continue
			}
			out = append(out, text)
			if !isErr {
				t.Errorf("%s on %s: want a tool error from an unreachable backend, got: %s", call.tool, conn, text)
			}
			if !strings.Contains(text, noSuchUser) && !strings.Contains(text, "cannot reach") {
				t.Errorf("%s on %s: the error should say the server is unreachable or which user it refused: %s", call.tool, conn, text)
			}
		}
	}
	return out
}

// TestCanarySecretsStdio puts canary passwords in postgres:// and mysql://
// URLs given in OPSTOWER_DSN (how MCP hosts such as Claude Desktop pass
// settings to a stdio server), drives every tool against the failing
// connections with debug logging, and checks the JSON-RPC messages, the
// tool results and stderr.
func TestCanarySecretsStdio(t *testing.T) {
	secrets := newCanaries(t, "postgres password", "mysql password")
	pg, my := secrets["postgres password"], secrets["mysql password"]
	dsns := []string{
		"pg_refused=" + pgURL("postgres", pg, closedPort, "postgres"),
		"pg_nobody=" + pgURL(noSuchUser, pg, pgAddr, "postgres"),
		"my_refused=" + mysqlURL("root", my, closedPort, "test"),
		"my_nobody=" + mysqlURL(noSuchUser, my, mysqlAddr, "test"),
		// A working connection, so debug lines for successful calls are
		// logged (and checked) too.
		"shop=sqlite://" + fixtureDB,
	}
	conns := []string{"pg_refused", "pg_nobody", "my_refused", "my_nobody"}

	cmd := exec.Command(binPath, "mcp", "databases", "--log-level", "debug")
	cmd.Env = opstowerbin.Env("OPSTOWER_DSN=" + strings.Join(dsns, " "))
	stderr := &mcptest.SyncBuffer{}
	cmd.Stderr = stderr
	wire := &mcptest.SyncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: clientInfo.name, Version: clientInfo.version}, nil)
	tr := &mcp.LoggingTransport{Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: 200 * time.Millisecond}, Writer: wire}
	cs, err := c.Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connecting: %v\nstderr:\n%s", err, stderr.String())
	}
	closed := false
	closeSession := func() {
		if !closed {
			closed = true
			opstowerbin.CheckExit(t, cs.Close(), stderr.String())
		}
	}
	t.Cleanup(closeSession)

	initJSON, err := json.Marshal(cs.InitializeResult())
	if err != nil {
		t.Fatal(err)
	}
	secrets.check(t, "the initialize result", string(initJSON))
	for _, conn := range conns {
		if !strings.Contains(string(initJSON), conn) {
			t.Errorf("the server instructions do not name connection %s: %s", conn, initJSON)
		}
	}
	tools := mcptest.Tools(t, cs)
	listed, _ := json.Marshal(tools)
	secrets.check(t, "tools/list", string(listed))

	for _, text := range driveFailingTools(ctx, t, goSDKClient{cs}, conns) {
		secrets.check(t, "a tool result", text)
	}
	secrets.check(t, "a tool result", mcptest.MustText(t, cs, "list_tables", map[string]any{"connection": "shop"}))
	closeSession() // flush stderr and the wire log before checking them
	secrets.check(t, "the JSON-RPC messages", wire.String())
	secrets.check(t, "the server's debug log", stderr.String())
	if !strings.Contains(stderr.String(), "level=DEBUG") {
		t.Errorf("no debug lines on stderr, so the log was not checked at debug level:\n%s", stderr.String())
	}
}

// TestCanarySecretsHTTPConfig loads the secrets from a YAML config through
// ${ENV} interpolation (a database password, a whole database URL and the
// HTTP bearer token), serves HTTP with JSON debug logs, and drives the tools
// with mcp-go. Every byte the server sends back, to an authorized client
// and to one presenting a wrong token, is checked.
func TestCanarySecretsHTTPConfig(t *testing.T) {
	secrets := newCanaries(t, "config database password", "config database URL password")
	token := tokenCanary(t)
	secrets["HTTP bearer token"] = token
	config := filepath.Join(t.TempDir(), "opstower.yaml")
	err := os.WriteFile(config, []byte(`
connections:
  - name: cfg_pg
    provider: postgres
    url: postgres://postgres@`+closedPort+`/postgres
    password: ${CANARY_PG_PASSWORD}
  - name: cfg_my
    url: ${CANARY_MYSQL_URL}
  - name: shop
    provider: sqlite
    path: `+fixtureDB+`
http:
  token: ${CANARY_HTTP_TOKEN}
log:
  level: debug
  format: json
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	srv := opstowerbin.StartHTTP(t, binPath, []string{
		"CANARY_PG_PASSWORD=" + secrets["config database password"],
		"CANARY_MYSQL_URL=" + mysqlURL(noSuchUser, secrets["config database URL password"], mysqlAddr, "test"),
		"CANARY_HTTP_TOKEN=" + token,
	}, "--config", config)

	// Everything the server sends back is recorded on its way to mcp-go.
	received := &mcptest.SyncBuffer{}
	hc := &http.Client{Transport: recorder{next: http.DefaultTransport, into: received}}
	tr, err := mgtransport.NewStreamableHTTP(srv.Endpoint(),
		mgtransport.WithHTTPBasicClient(hc),
		mgtransport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	mc := mgclient.NewClient(tr)
	t.Cleanup(func() { _ = mc.Close() })
	if err := initMcpGo(t, mc); err != nil {
		t.Fatalf("connecting with the configured token: %v\nstderr:\n%s", err, srv.Stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := mc.ListTools(ctx, mg.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, text := range driveFailingTools(ctx, t, mcpGoClient{mc}, []string{"cfg_pg", "cfg_my"}) {
		secrets.check(t, "a tool result", text)
	}
	if text, isErr, err := (mcpGoClient{mc}).call(ctx, "list_tables", map[string]any{"connection": "shop"}); err != nil || isErr {
		t.Errorf("list_tables on the working connection: %v %s", err, text)
	}

	// A client that gets the token slightly wrong, or sends it where a
	// token does not belong, must not have it echoed back.
	for _, h := range []map[string]string{
		{"Authorization": "Bearer " + token + "x"},
		{"Authorization": "Basic " + token},
		{"Authorization": token},
	} {
		status, body := do(t, srv, rawRequest{method: http.MethodPost, path: "/mcp", header: h})
		if status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", h["Authorization"][:6], status)
		}
		received.Write([]byte(body))
	}
	_, body := do(t, srv, rawRequest{method: http.MethodGet, path: "/" + url.PathEscape(token)})
	received.Write([]byte(body))

	secrets.check(t, "the HTTP responses", received.String())
	secrets.check(t, "the server's debug log", srv.Stderr.String())
	if !strings.Contains(srv.Stderr.String(), `"level":"DEBUG"`) {
		t.Errorf("no JSON debug lines on stderr, so the log was not checked at debug level:\n%s", srv.Stderr.String())
	}
}

// recorder copies every response's status line, headers and body into a
// buffer as the client reads them.
type recorder struct {
	next http.RoundTripper
	into io.Writer
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(r.into, "%s\n", resp.Status)
	_ = resp.Header.Write(r.into)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, r.into), resp.Body}
	return resp, nil
}

// TestCanarySecretsCLI checks what the command prints before it serves
// anything: --help with secrets already on the command line and in the
// environment, and the errors for DSNs and configs that cannot work.
func TestCanarySecretsCLI(t *testing.T) {
	secrets := newCanaries(t, "password")
	pw := secrets["password"]
	good := pgURL("postgres", pw, closedPort, "postgres")
	dir := t.TempDir()
	writeConfig := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	cases := []struct {
		name string
		args []string
		env  []string
	}{
		{"help with --dsn", []string{"--dsn", good, "--help"}, nil},
		{"help with OPSTOWER_DSN", []string{"--help"}, []string{"OPSTOWER_DSN=" + good}},
		{"unknown scheme", []string{"--dsn", "postgress://postgres:" + url.QueryEscape(pw) + "@h/db"}, nil},
		{"bad percent-escape", []string{"--dsn", "postgres://postgres:" + pw + "%zz@h/db"}, nil},
		{"unescaped password", []string{"--dsn", "postgres://postgres:" + pw + "@h/db"}, nil},
		{"bad port", []string{"--dsn", pgURL("postgres", pw, "127.0.0.1:99999999", "db")}, nil},
		{"check an unreachable server", []string{"--check", "--dsn", good, "--dsn", "my=" + mysqlURL("root", pw, closedPort, "db")}, nil},
		{"bad postgres option", []string{"--dsn", pgURL("postgres", pw, closedPort, "db") + "?sslmode=bogus"}, nil},
		{"bad mysql parameter", []string{"--dsn", mysqlURL("root", pw, closedPort, "db") + "?bogus=1"}, nil},
		{"bad mysql URL", []string{"--dsn", "mysql://root:" + pw + "@h:1:2/db"}, nil},
		{"duplicate label", []string{"--dsn", "a=" + good, "--dsn", "a=" + good}, nil},
		{"bad limit after a DSN", []string{"--dsn", good, "--rows", "-1"}, nil},
		{"bad flag after a DSN", []string{"--dsn", good, "--no-such-flag"}, nil},
		{"config setting typo", []string{"--config", writeConfig("typo.yaml", `
connections:
  - name: c
    provider: postgres
    url: postgres://postgres@h/db
    pasword: ${CANARY}
`)}, []string{"CANARY=" + pw}},
		{"config bad URL", []string{"--config", writeConfig("badurl.yaml", `
connections:
  - name: c
    url: ${CANARY_URL}
`)}, []string{"CANARY_URL=postgres://postgres:" + pw + "%zz@h/db"}},
		{"config bad origin next to token", []string{"--http", "127.0.0.1:0", "--config", writeConfig("origin.yaml", `
connections:
  - url: '`+good+`'
http:
  token: ${CANARY}
  allowed_origins: ["not a url"]
`)}, []string{"CANARY=" + pw}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(binPath, append([]string{"mcp", "databases"}, c.args...)...)
			cmd.Env = opstowerbin.Env(c.env...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			// Nothing here should get as far as serving; if it did, the
			// closed stdin ends the stdio server at once.
			cmd.Stdin = strings.NewReader("")
			err := cmd.Run()
			secrets.check(t, "the command's output", out.String())
			isHelp := strings.HasPrefix(c.name, "help")
			if isHelp {
				if !strings.Contains(out.String(), "-dsn") {
					t.Errorf("--help does not describe --dsn:\n%s", out.String())
				}
				return
			}
			if err == nil {
				t.Errorf("want a non-zero exit for a setup that cannot work; output:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "opstower:") {
				t.Errorf("want an error message, got:\n%s", out.String())
			}
		})
	}
}

// TestCanaryDetection checks the checker: each spelling of a canary is
// found inside other text, the spellings really differ (so the escaped ones
// are checked in their own right), and text without a canary passes.
func TestCanaryDetection(t *testing.T) {
	c := newCanaries(t, "password")
	c["token"] = tokenCanary(t)
	for kind, v := range c {
		fs := forms(v)
		distinct := map[string]bool{}
		for _, f := range fs {
			distinct[f] = true
			if got := c.leaks("error: dial postgres://u:" + f + "@db/x failed"); len(got) != 1 {
				t.Errorf("%s spelled %q: leaks = %v, want one", kind, f, got)
			}
		}
		if len(distinct) < 3 {
			t.Errorf("%s: the escaped spellings barely differ from the plain value: %q", kind, fs)
		}
	}
	if got := c.leaks("opstower: connection \"db\": invalid PostgreSQL URL: cannot parse `postgres://u:xxxxx@h/db`"); len(got) != 0 {
		t.Errorf("a redacted message was reported as a leak: %v", got)
	}
}
