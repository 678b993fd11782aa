package errors_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	errorsrv "github.com/opstower/opstower/servers/errors"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// appSecrets are credentials and session data the monitored application
// sent to Sentry (request headers, cookies, query strings, local
// variables, breadcrumb data, tags). Sentry stores them; the tools must
// never show them.
var appSecrets = []string{
	"app-session-canary", "cookie-canary-7c1d", "hunter2-canary", "apikey-canary-991", "querytoken-canary-55",
	"sk_test_querycanary77", "crumb-canary-0042", "tag-canary-31", "xhr-canary-12",
}

// pii are the user details the fixtures carry; masked unless show_pii.
var pii = []string{"ana.customer@customer.example", "203.0.113.77", "Ana Customer", "buyer@mail.example", "198.51.100.23"}

// canary returns a Sentry-looking user token that must never be shown.
func canary(t testing.TB) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "sntryu_" + hex.EncodeToString(b)
}

// harness is an errors server with Sentry connections to a fake, and
// everything it printed: tool results (text and structured), errors and
// log lines.
type harness struct {
	t      *testing.T
	fake   *sentryFake
	cs     *mcp.ClientSession
	token  string
	logs   *mcptest.SyncBuffer
	mu     sync.Mutex
	output []string
	// leaks are strings that must appear in no output.
	leaks []string
}

// options tune a harness.
type options struct {
	settings    map[string]string // added to the connection
	limits      config.Limits
	connections func(base string) []config.Connection // replaces the default connection
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	token := canary(t)
	h := &harness{t: t, token: token, fake: newSentryFake(t, token), logs: &mcptest.SyncBuffer{}}
	h.leaks = append([]string{token, strings.TrimPrefix(token, "sntryu_")}, appSecrets...)
	conn := config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": h.fake.srv.URL}}
	for k, v := range o.settings {
		conn.Settings[k] = v
	}
	conns := []config.Connection{conn}
	if o.connections != nil {
		conns = o.connections(h.fake.srv.URL)
	}
	lookup := func(name string) (string, bool) {
		if name == "SENTRY_AUTH_TOKEN" {
			return token, true
		}
		return "", false
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := errorsrv.New(ctx, errorsrv.Config{Connections: conns, Lookup: lookup, Logger: logger, Limits: o.limits, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h.cs = mcptest.Connect(t, s)
	t.Cleanup(h.checkLeaks)
	return h
}

// call calls a tool and records its text and structured content.
func (h *harness) call(tool string, args map[string]any) *mcp.CallToolResult {
	h.t.Helper()
	res, err := h.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		h.t.Fatalf("calling %s: %v", tool, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.output = append(h.output, mcptest.Text(res))
	if res.StructuredContent != nil {
		raw, _ := json.Marshal(res.StructuredContent)
		h.output = append(h.output, string(raw))
	}
	return res
}

// ok calls a tool that must succeed and returns its text.
func (h *harness) ok(tool string, args map[string]any) string {
	h.t.Helper()
	res := h.call(tool, args)
	if res.IsError {
		h.t.Fatalf("%s(%v): tool error: %s", tool, args, mcptest.Text(res))
	}
	return mcptest.Text(res)
}

// fails calls a tool that must fail and returns its message.
func (h *harness) fails(tool string, args map[string]any) string {
	h.t.Helper()
	res := h.call(tool, args)
	if !res.IsError {
		h.t.Fatalf("%s(%v): want a tool error, got: %s", tool, args, mcptest.Text(res))
	}
	if res.StructuredContent != nil {
		h.t.Errorf("%s: a tool error carries structured content", tool)
	}
	return mcptest.Text(res)
}

// structured calls a tool and decodes its structured content into out.
func (h *harness) structured(tool string, args map[string]any, out any) string {
	h.t.Helper()
	res := h.call(tool, args)
	if res.IsError {
		h.t.Fatalf("%s(%v): tool error: %s", tool, args, mcptest.Text(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		h.t.Fatalf("%s: structured content %s: %v", tool, raw, err)
	}
	return mcptest.Text(res)
}

// checkLeaks fails the test if a secret appears in anything the server
// returned or logged.
func (h *harness) checkLeaks() {
	h.mu.Lock()
	all := strings.Join(h.output, "\n")
	h.mu.Unlock()
	all += "\n" + h.logs.String()
	for _, s := range h.leaks {
		if strings.Contains(all, s) {
			h.t.Errorf("%q leaked into output or logs", s)
		}
	}
}

func has(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, text)
		}
	}
}

func lacks(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s: did not want %q in:\n%s", what, w, text)
		}
	}
}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// mustError calls a tool on s and returns its tool error.
func mustError(t *testing.T, s *mcp.Server, tool string, args map[string]any) string {
	t.Helper()
	return mcptest.MustError(t, mcptest.Connect(t, s), tool, args)
}
