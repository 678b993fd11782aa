package databases

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// serverFor starts a databases server on db's DSN and connects a client.
func serverFor(t *testing.T, db *testDB, limits config.Limits) *mcp.ClientSession {
	t.Helper()
	c, err := ParseDSN(db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := New(ctx, Config{Connections: []config.Connection{c}, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return mcptest.Connect(t, s)
}

func TestListAndDescribe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{})
		out := mcptest.MustText(t, cs, "list_tables", nil)
		table, view := "table", "view"
		if db.dialect == "clickhouse" {
			table, view = "MergeTree", "View" // the kind is the table engine
		}
		containsAll(t, "list_tables", out, "customers,"+table, "orders,"+table, "big_orders,"+view, "canary")

		out = mcptest.MustText(t, cs, "describe_table", map[string]any{"table": "orders"})
		containsAll(t, "describe_table", out, "table ", "orders", "customer_id", "not null", "PRIMARY KEY")
		if db.dialect == "clickhouse" {
			// No foreign keys in ClickHouse; no secondary indexes or table
			// comments in 18.x: its keys and column comments instead.
			containsAll(t, "describe_table", out, "MergeTree table orders", "PARTITION BY toYYYYMM(created_at)", "customer_id UInt64 not null -- customers.id", "total Nullable(Decimal(14, 2))\n")
		} else {
			containsAll(t, "describe_table", out, "FOREIGN KEY", "customers", "orders_customer_idx")
		}
		if db.dialect != "sqlite" && db.dialect != "clickhouse" {
			out = mcptest.MustText(t, cs, "describe_table", map[string]any{"table": "customers"})
			containsAll(t, "describe referenced", out, "referenced by", "people who buy")
		}

		msg := mcptest.MustError(t, cs, "describe_table", map[string]any{"table": "ordrs"})
		containsAll(t, "unknown table", msg, "does not exist", "orders")
	})
}

func TestQueryValuesAreExact(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{})
		out := mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id, total, note, created_at FROM orders WHERE id < 100 OR id > 1000000 ORDER BY id"})
		micro := "03:04:05.123456" // microseconds kept
		if db.dialect == "clickhouse" {
			micro = "03:04:05Z" // 18.x has no DateTime64: whole seconds, with the zone
		}
		containsAll(t, "exact values", out,
			"4 rows",
			"9007199254740993,123456789012.34,,2026-01-02", // bigint past 2^53, numeric, NULL as an empty field
			micro,
			`,"",2026-01-03`,              // the empty string is ""
			`,NULL,2026-01-04`,            // the text NULL is just text
			`"has, comma and ""quotes"""`, // CSV quoting
		)
		if !strings.Contains(out, "id:") || strings.Count(out, "id:") != 1 {
			t.Errorf("header with name:type should appear once:\n%s", out)
		}
		if !strings.Contains(out, "untrusted") {
			t.Errorf("rows should be fenced as untrusted data:\n%s", out)
		}
	})
}

func TestQueryLimitsAndFooters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{Bytes: 4096})
		out := mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id FROM orders ORDER BY id"})
		containsAll(t, "default row limit", out, "100 rows shown, more exist", "[cut]", "100-row limit")

		out = mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id FROM orders ORDER BY id", "limit": 5})
		containsAll(t, "explicit limit", out, "5 rows shown, more exist")

		out = mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id, note, status, created_at FROM orders ORDER BY id", "limit": 1000})
		containsAll(t, "byte cap", out, "[cut]", "4 KB text cap")
		if len(out) > 4096 {
			t.Errorf("result is %d bytes, over the 4096-byte cap", len(out))
		}

		out = mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT id FROM orders WHERE id = -1"})
		containsAll(t, "empty result", out, "0 rows", "Nothing matched")

		msg := mcptest.MustError(t, cs, "query", map[string]any{"sql": "SELECT 1", "limit": 100000})
		containsAll(t, "limit too large", msg, "between 1 and 1000")
	})
}

func TestQueryErrorsHelp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{})
		msg := mcptest.MustError(t, cs, "query", map[string]any{"sql": "SELECT * FROM ordrs"})
		containsAll(t, "unknown table", msg, "ordrs", "did you mean", "orders")

		msg = mcptest.MustError(t, cs, "query", map[string]any{"sql": "SELEC 1"})
		containsAll(t, "not a statement", msg, "not allowed", "SELECT")

		msg = mcptest.MustError(t, cs, "query", map[string]any{"sql": "SELECT * FROM orders WHERE"})
		if strings.Contains(msg, "internal error") || msg == "" {
			t.Errorf("syntax error should carry the database's message, got %q", msg)
		}

		msg = mcptest.MustError(t, cs, "query", map[string]any{"sql": "DELETE FROM canary"})
		containsAll(t, "write rejected", msg, "DELETE", "read-only")

		msg = mcptest.MustError(t, cs, "query", map[string]any{"sql": ""})
		containsAll(t, "empty sql", msg, "empty")
	})
}

func TestExplain(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{})
		if db.dialect == "clickhouse" && !clickhouseHasExplain(t, db) {
			// EXPLAIN arrived in ClickHouse 20.6: older servers get a clear
			// error instead of a plan; analyze=true still runs the query.
			msg := mcptest.MustError(t, cs, "explain", map[string]any{"sql": "SELECT * FROM orders WHERE customer_id = 1"})
			containsAll(t, "no EXPLAIN", msg, "has no EXPLAIN", "20.6", "analyze=true")
		} else {
			out := mcptest.MustText(t, cs, "explain", map[string]any{"sql": "SELECT * FROM orders WHERE customer_id = 1"})
			if len(out) < 10 {
				t.Errorf("plan too short: %q", out)
			}
		}
		out := mcptest.MustText(t, cs, "explain", map[string]any{"sql": "SELECT count(*) FROM orders", "analyze": true})
		if len(out) < 10 {
			t.Errorf("analyzed plan too short: %q", out)
		}
		msg := mcptest.MustError(t, cs, "explain", map[string]any{"sql": "DELETE FROM orders"})
		containsAll(t, "explain write", msg, "not allowed")
	})
}

// sleepSQL is a statement that takes about the given seconds on each engine.
func sleepSQL(dialect string, seconds int) string {
	switch dialect {
	case "postgres":
		return "SELECT pg_sleep(" + strconv.Itoa(seconds) + ")"
	case "mysql":
		return "SELECT SLEEP(" + strconv.Itoa(seconds) + ")"
	case "clickhouse":
		// sleep(1) pauses once per block (at most 3 s are allowed per
		// block), and system.numbers yields blocks of 65536 rows.
		return "SELECT sum(sleep(1)) FROM (SELECT number FROM system.numbers LIMIT " + strconv.Itoa(seconds*65536) + ")"
	}
	// SQLite has no sleep: a recursive count that runs for many seconds.
	return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c"
}

func TestStatementDeadline(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cs := serverFor(t, db, config.Limits{Timeout: config.Duration(time.Second)})
		start := time.Now()
		msg := mcptest.MustError(t, cs, "query", map[string]any{"sql": sleepSQL(db.dialect, 8)})
		containsAll(t, "deadline", msg, "deadline")
		if d := time.Since(start); d > 6*time.Second {
			t.Errorf("the 1s deadline took %s to stop the statement", d)
		}
		// The connection is usable afterwards.
		mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT 1"})
	})
}

// TestCancellationReachesTheServer cancels a call from the client and checks
// the statement stopped running on the database server, not just in the
// client.
func TestCancellationReachesTheServer(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		if db.dialect == "sqlite" {
			t.Skip("SQLite runs in-process; cancellation is covered by the deadline test")
		}
		cs := serverFor(t, db, config.Limits{})
		marker := uniqueName("cancel")
		sql := sleepSQL(db.dialect, 9) + " /* " + marker + " */"
		if db.dialect == "mysql" {
			sql = "SELECT SLEEP(9), '" + marker + "'"
		}
		if db.dialect == "clickhouse" {
			sql = strings.Replace(sleepSQL(db.dialect, 9), "SELECT sum(sleep(1))", "SELECT sum(sleep(1)), '"+marker+"'", 1)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": sql}})
			done <- err
		}()
		running := func() bool {
			// The slow statement is what runs; ours is the only other
			// session in this database.
			q := "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
			if db.dialect == "mysql" {
				q = "SELECT count(*) FROM information_schema.processlist WHERE info LIKE '%" + marker + "%' AND info NOT LIKE '%processlist%'"
			}
			if db.dialect == "clickhouse" {
				q = "SELECT count() FROM system.processes WHERE query LIKE '%" + marker + "%' AND query NOT LIKE '%system.processes%'"
			}
			return db.adminString(t, q) != "0"
		}
		waitFor(t, 5*time.Second, "statement to start", running)
		cancel()
		<-done
		waitFor(t, 5*time.Second, "statement to stop on the server after cancel", func() bool { return !running() })
	})
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTools(t *testing.T) {
	db := newSQLiteDB(t)
	cs := serverFor(t, db, config.Limits{})
	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	for _, tl := range tools {
		if !tl.Annotations.ReadOnlyHint {
			t.Errorf("tool %s must be read-only", tl.Name)
		}
	}
	if n := mcptest.ListBytes(t, tools); n > 3072 {
		t.Errorf("tools/list is %d bytes, over the 3 KB budget", n)
	}
}

// TestToolsSnapshot compares each tool's definition with its snapshot;
// make snapshots refreshes them.
func TestToolsSnapshot(t *testing.T) {
	cs := serverFor(t, newSQLiteDB(t), config.Limits{})
	mcptest.Snapshot(t, mcptest.Tools(t, cs))
}
