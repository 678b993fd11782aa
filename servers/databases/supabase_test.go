package databases_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// supaPostgresURL is the local PostgreSQL the Postgres-form tests use.
const supaPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// supaTable creates a uniquely named table in the local PostgreSQL and
// drops it at cleanup. It skips (or fails under OPSTOWER_REQUIRE_SERVICES)
// when PostgreSQL is not there.
func supaTable(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, supaPostgresURL)
	if err != nil {
		mcptest.SkipOrFail(t, "PostgreSQL at 127.0.0.1:5432 (database test): %v", err)
		return ""
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("supa_orders_%d", time.Now().UnixNano())
	for _, stmt := range []string{
		`CREATE TABLE ` + name + ` (id bigint PRIMARY KEY, customer text NOT NULL, note text, amount numeric(30,2), created_at timestamptz NOT NULL DEFAULT now())`,
		`COMMENT ON TABLE ` + name + ` IS 'orders placed in the shop'`,
		`INSERT INTO ` + name + ` (id, customer, note, amount, created_at) VALUES
			(9007199254740993, 'ada', NULL, 1234567890123456789012345678.91, '2024-05-01T10:00:00Z'),
			(2, 'bob', '', 0.10, '2024-05-02T10:00:00Z'),
			(3, 'cy', 'gift', NULL, '2024-05-03T10:00:00Z')`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, supaPostgresURL); err == nil {
			_, _ = c.Exec(ctx, "DROP TABLE IF EXISTS "+name)
			c.Close(ctx)
		}
	})
	return name
}

func supaServer(t *testing.T, conn config.Connection, lookup func(string) (string, bool)) *mcp.ClientSession {
	t.Helper()
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := databases.New(ctx, databases.Config{Connections: []config.Connection{conn}, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	return mcptest.Connect(t, s)
}

// supaPostgresChecks runs the tools against the connection string form.
func supaPostgresChecks(t *testing.T, cs *mcp.ClientSession, table string) {
	t.Helper()
	out := mcptest.MustText(t, cs, "list_tables", map[string]any{"schema": "public"})
	textHas(t, "list_tables", out, "(Supabase)", "public."+table+",table", "orders placed in the shop")

	out = mcptest.MustText(t, cs, "describe_table", map[string]any{"table": table})
	textHas(t, "describe_table", out, "customer text not null", "amount numeric(30,2)", "PRIMARY KEY (id)")

	for i := 0; i < 3; i++ { // several calls, so a pooler hands out different server connections
		out = mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id, customer, note, amount FROM " + table + " ORDER BY customer"})
		textHas(t, "query", out, "id:int8,customer:text,note:text,amount:numeric",
			"9007199254740993,ada,,1234567890123456789012345678.91\n", "2,bob,\"\",0.10\n")
	}
	out = mcptest.MustText(t, cs, "explain", map[string]any{"sql": "SELECT * FROM " + table + " WHERE id = 2"})
	textHas(t, "explain", out, "Index Scan")

	out = mcptest.MustError(t, cs, "query", map[string]any{"sql": "DELETE FROM " + table})
	textHas(t, "write", out, "read-only")
	out = mcptest.MustError(t, cs, "query", map[string]any{"sql": "SELECT * FROM " + table + "x"})
	textHas(t, "unknown table", out, "does not exist", "did you mean")
}

func TestSupabasePostgresConnectionString(t *testing.T) {
	table := supaTable(t)
	cs := supaServer(t, config.Connection{Name: "shop", Provider: "supabase", Settings: map[string]string{"url": supaPostgresURL}}, nil)
	supaPostgresChecks(t, cs, table)
}

// TestSupabasePostgresThroughTransactionPooler goes through a real
// PgBouncer in transaction mode on port 6543, as Supabase's poolers run:
// PgBouncer refuses session settings at startup, and hands each
// transaction whichever server connection is free.
func TestSupabasePostgresThroughTransactionPooler(t *testing.T) {
	table := supaTable(t)
	supaStartPgBouncer(t)
	url := "postgres://postgres@127.0.0.1:6543/test?sslmode=disable"
	cs := supaServer(t, config.Connection{Name: "pooled", Provider: "supabase", Settings: map[string]string{"url": url}}, nil)
	supaPostgresChecks(t, cs, table)

	// Concurrent calls spread the engine's connections over the pooler's
	// server connections: a named prepared statement made on one would be
	// missing on the next.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 4; j++ {
				for _, call := range []struct {
					tool string
					args map[string]any
				}{{"list_tables", nil}, {"describe_table", map[string]any{"table": table}}} {
					res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: call.tool, Arguments: call.args})
					if err != nil {
						t.Errorf("%s through the pooler: %v", call.tool, err)
						return
					}
					if res.IsError {
						t.Errorf("%s through the pooler: %s", call.tool, mcptest.Text(res))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// supaStartPgBouncer runs PgBouncer on 127.0.0.1:6543 in transaction mode
// in front of the local PostgreSQL, and stops it at cleanup.
func supaStartPgBouncer(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		mcptest.SkipOrFail(t, "pgbouncer is not installed (apt-get install -y pgbouncer)")
		return
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6543", 200*time.Millisecond); err == nil {
		c.Close()
		t.Fatalf("port 6543 is taken; the pooler test needs it free")
	}
	dir, err := os.MkdirTemp("", "pgbouncer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// PgBouncer refuses to run as root; as root it switches to postgres,
	// who must be able to read its files.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "pgbouncer.ini")
	users := filepath.Join(dir, "users.txt")
	files := map[string]string{
		users: `"postgres" ""` + "\n",
		ini: "[databases]\n* = host=127.0.0.1 port=5432\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = 6543\n" +
			"auth_type = trust\nauth_file = " + users + "\npool_mode = transaction\ndefault_pool_size = 4\n" +
			"unix_socket_dir =\nlogfile =\npidfile =\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{ini}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", ini}
	}
	cmd := exec.Command(bin, args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:6543", 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen on 6543:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSupabaseConnectionStringNamesTheProject(t *testing.T) {
	c, err := databases.ParseDSN("postgresql://postgres.abcdefghijklmnopqrst:secretpw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if c.Provider != "supabase" {
		t.Fatalf("provider = %q, want supabase", c.Provider)
	}
	s, err := databases.New(context.Background(), databases.Config{Connections: []config.Connection{c}, Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	cs := mcptest.Connect(t, s)
	instructions := cs.InitializeResult().Instructions
	textHas(t, "instructions", instructions, "abcdefghijklmnopqrst (Supabase)")
	textLacks(t, "instructions", instructions, "secretpw")
}

func TestSupabaseUnreachableDatabaseSaysWhy(t *testing.T) {
	password := fmt.Sprintf("canary%dpw", time.Now().UnixNano())
	url := "postgresql://postgres:" + password + "@127.0.0.1:1/postgres?connect_timeout=2"
	cs := supaServer(t, config.Connection{Name: "down", Provider: "supabase", Settings: map[string]string{"url": url}}, nil)
	out := mcptest.MustError(t, cs, "list_tables", nil)
	textHas(t, "unreachable", out, "cannot reach PostgreSQL at 127.0.0.1:1", "paused", "Session pooler")
	textLacks(t, "unreachable", out, password)
}
