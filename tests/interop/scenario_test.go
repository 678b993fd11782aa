package interop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

// Protocol revisions the matrix runs. newest is what current clients
// negotiate with the server over both transports (HTTP is stateless, so it
// can serve it); old is an early revision still in the field, which must
// keep working through the initialize handshake.
const (
	newestProtocol = "2026-07-28"
	oldProtocol    = "2025-03-26"
)

// TestScenario runs one user-level scenario through every pairing of client
// library (go-sdk, mcp-go), transport (stdio, streamable HTTP with a bearer
// token) and protocol revision (the client's newest, and 2025-03-26).
func TestScenario(t *testing.T) {
	token := randomToken(t)
	srv := opstowerbin.StartHTTP(t, binPath, []string{"OPSTOWER_HTTP_TOKEN=" + token}, "--dsn", "sqlite://"+fixtureDB)

	type pairing struct {
		name    string
		connect func(t *testing.T, version string) client
	}
	pairings := []pairing{
		{"go-sdk/stdio", connectGoSDKStdio},
		{"mcp-go/stdio", connectMcpGoStdio},
		{"go-sdk/http", func(t *testing.T, version string) client {
			c, err := connectGoSDKHTTP(t, srv.Endpoint(), token, version)
			if err != nil {
				t.Fatalf("connecting over HTTP: %v\nserver stderr:\n%s", err, srv.Stderr.String())
			}
			return c
		}},
		{"mcp-go/http", func(t *testing.T, version string) client {
			c, err := connectMcpGoHTTP(t, srv.Endpoint(), token, version)
			if err != nil {
				t.Fatalf("connecting over HTTP: %v\nserver stderr:\n%s", err, srv.Stderr.String())
			}
			return c
		}},
	}
	versions := []struct{ pin, want string }{
		{"", newestProtocol},
		{oldProtocol, oldProtocol},
	}
	for _, p := range pairings {
		for _, v := range versions {
			name := p.name + "/" + v.want
			t.Run(name, func(t *testing.T) {
				c := p.connect(t, v.pin)
				if got := c.protocol(); got != v.want {
					t.Errorf("negotiated protocol %q, want %q", got, v.want)
				}
				runScenario(t, c)
			})
		}
	}
}

// runScenario is what a model does on its first visit to a database:
// discover the tools, look around, query, make mistakes.
func runScenario(t *testing.T, c client) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("tools", func(t *testing.T) {
		tools, err := c.tools(ctx)
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		var names []string
		for _, tl := range tools {
			names = append(names, tl.Name)
			checkToolDefinition(t, tl)
		}
		slices.Sort(names)
		if want := []string{"describe_table", "explain", "list_tables", "query"}; !slices.Equal(names, want) {
			t.Errorf("tools = %v, want %v", names, want)
		}
		for _, tl := range tools {
			want := map[string][]string{"describe_table": {"table"}, "query": {"sql"}, "explain": {"sql"}}[tl.Name]
			for _, req := range want {
				if !slices.Contains(tl.InputSchema.Required, req) {
					t.Errorf("tool %s: %q is not required in its input schema (required: %v)", tl.Name, req, tl.InputSchema.Required)
				}
			}
			if _, ok := tl.InputSchema.Properties["connection"]; ok {
				t.Errorf("tool %s offers a connection argument, but only one connection is loaded", tl.Name)
			}
		}
	})

	t.Run("list_tables", func(t *testing.T) {
		text := mustText(ctx, t, c, "list_tables", nil)
		for _, want := range []string{"customers", "orders"} {
			if !containsLineStartingWith(text, want) {
				t.Errorf("list_tables does not list %s:\n%s", want, text)
			}
		}
	})

	t.Run("describe_table", func(t *testing.T) {
		text := mustText(ctx, t, c, "describe_table", map[string]any{"table": "orders"})
		for _, want := range []string{"customer_id", "total_cents", "status", "not null", "'open'", "customers", "orders_customer"} {
			if !strings.Contains(text, want) {
				t.Errorf("describe_table orders lacks %q:\n%s", want, text)
			}
		}
	})

	t.Run("query", func(t *testing.T) {
		text := mustText(ctx, t, c, "query", map[string]any{
			"sql": "SELECT id, name, email, balance FROM customers ORDER BY id",
		})
		got := csvRows(t, text)
		want := [][]string{
			{"1", "Ada Lovelace", "ada@example.com", "12.5"},
			{"2", `Zoë "Z" Ünal, Jr.`, "zoe@example.com", ""}, // NULL is an empty field
			{"3", "Grace Hopper", "", "0"},
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("rows = %q, want %q\nfull result:\n%s", got, want, text)
		}
		// Commas and newlines inside values must survive the round trip.
		text = mustText(ctx, t, c, "query", map[string]any{"sql": "SELECT id, note FROM orders WHERE note IS NOT NULL ORDER BY id"})
		got = csvRows(t, text)
		want = [][]string{{"11", "gift, wrapped"}, {"12", "line one\nline two"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("rows = %q, want %q\nfull result:\n%s", got, want, text)
		}
	})

	t.Run("bad_sql", func(t *testing.T) {
		text := mustToolError(ctx, t, c, "query", map[string]any{"sql": "SELECT nme FROM customers"})
		if !strings.Contains(text, "nme") {
			t.Errorf("the error does not name the unknown column: %s", text)
		}
		text = mustToolError(ctx, t, c, "query", map[string]any{"sql": "SELECT * FROM ordrs"})
		if !strings.Contains(text, "ordrs") || !strings.Contains(text, "orders") {
			t.Errorf("the error for a misspelled table should name it and suggest orders: %s", text)
		}
	})

	t.Run("write_rejected", func(t *testing.T) {
		for _, sql := range []string{
			"DELETE FROM orders",
			"UPDATE customers SET name = 'x'",
			"INSERT INTO orders (id, customer_id, total_cents) VALUES (99, 1, 1)",
			"DROP TABLE orders",
		} {
			text := mustToolError(ctx, t, c, "query", map[string]any{"sql": sql})
			if !strings.Contains(strings.ToLower(text), "read-only") && !strings.Contains(strings.ToLower(text), "read only") {
				t.Errorf("%s: the error should say the connection is read-only: %s", sql, text)
			}
		}
		got := csvRows(t, mustText(ctx, t, c, "query", map[string]any{
			"sql": "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers WHERE name <> 'x')",
		}))
		if want := [][]string{{"3", "3"}}; !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("after rejected writes, counts = %v, want %v", got, want)
		}
	})

	t.Run("bad_arguments", func(t *testing.T) {
		text := mustToolError(ctx, t, c, "describe_table", map[string]any{})
		if !strings.Contains(text, "table") {
			t.Errorf("the error for a missing argument should name it: %s", text)
		}
	})

	t.Run("unknown_tool", func(t *testing.T) {
		text, isErr, err := c.call(ctx, "drop_everything", map[string]any{})
		if err == nil {
			t.Fatalf("calling an unknown tool returned a result (isError=%v): %s", isErr, text)
		}
		if !c.invalidParams(err) {
			t.Errorf("unknown tool: want a JSON-RPC invalid params error, got %T: %v", err, err)
		}
		if !strings.Contains(err.Error(), "drop_everything") {
			t.Errorf("the error does not name the tool: %v", err)
		}
	})
}

// checkToolDefinition checks what hosts rely on to present and gate a tool:
// a description, a title, and all four hints set explicitly to the values
// of a read-only tool over a closed system.
func checkToolDefinition(t *testing.T, tl toolView) {
	t.Helper()
	if tl.Description == "" {
		t.Errorf("tool %s has no description", tl.Name)
	}
	if tl.InputSchema.Type != "object" {
		t.Errorf("tool %s: input schema type %q, want object", tl.Name, tl.InputSchema.Type)
	}
	a := tl.Annotations
	if a.Title == "" {
		t.Errorf("tool %s has no title annotation", tl.Name)
	}
	for _, h := range []struct {
		name string
		got  *bool
		want bool
	}{
		{"readOnlyHint", a.ReadOnlyHint, true},
		{"destructiveHint", a.DestructiveHint, false},
		{"idempotentHint", a.IdempotentHint, true},
		{"openWorldHint", a.OpenWorldHint, false},
	} {
		switch {
		case h.got == nil:
			t.Errorf("tool %s: %s is not set", tl.Name, h.name)
		case *h.got != h.want:
			t.Errorf("tool %s: %s = %v, want %v", tl.Name, h.name, *h.got, h.want)
		}
	}
}

func mustText(ctx context.Context, t *testing.T, c client, name string, args map[string]any) string {
	t.Helper()
	text, isErr, err := c.call(ctx, name, args)
	if err != nil {
		t.Fatalf("%s(%v): %v", name, args, err)
	}
	if isErr {
		t.Fatalf("%s(%v): tool error: %s", name, args, text)
	}
	return text
}

func mustToolError(ctx context.Context, t *testing.T, c client, name string, args map[string]any) string {
	t.Helper()
	text, isErr, err := c.call(ctx, name, args)
	if err != nil {
		t.Fatalf("%s(%v): want a tool error result, got a protocol error: %v", name, args, err)
	}
	if !isErr {
		t.Fatalf("%s(%v): want a tool error, got: %s", name, args, text)
	}
	return text
}

func containsLineStartingWith(text, prefix string) bool {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func randomToken(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
