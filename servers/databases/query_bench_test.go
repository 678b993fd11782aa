package databases

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// benchOrdersSQLite writes an orders table of n rows (the columns of the
// make bench data set) to a fresh SQLite file and returns its path.
func benchOrdersSQLite(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		`CREATE TABLE bench_orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL,
			total NUMERIC NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL, note TEXT)`,
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
			INSERT INTO bench_orders SELECT i, 1 + (i * 7919) %% 50000,
				CASE i %% 4 WHEN 0 THEN 'paid' WHEN 1 THEN 'shipped' WHEN 2 THEN 'pending' ELSE 'refunded' END,
				((i * 104729) %% 60000 + 499) / 100.0, 'EUR',
				strftime('%%Y-%%m-%%d %%H:%%M:%%f', '2025-01-01', '+' || (i * 253) || ' seconds'),
				CASE WHEN i %% 2 = 0 THEN NULL ELSE 'leave at the front door' END
			FROM s`, n),
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatalf("fixture: %v", err)
		}
	}
	return path
}

// BenchmarkQueryTool measures one query call in process, through a go-sdk
// client over in-memory transports: the SDK's request handling, schema
// validation, the guard, the engine (SQLite, so no network) and rendering.
// Compare with make bench, which adds a process boundary and PostgreSQL.
func BenchmarkQueryTool(b *testing.B) {
	conn, err := ParseDSN("sqlite://" + benchOrdersSQLite(b, 1000))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	s, err := New(ctx, Config{Connections: []config.Connection{conn}})
	if err != nil {
		b.Fatal(err)
	}
	cs := mcptest.Connect(b, s)
	for _, bc := range []struct{ name, sql, want string }{
		{"one_row", "SELECT * FROM bench_orders WHERE id = 42", "1 row;"},
		{"100_rows", "SELECT * FROM bench_orders ORDER BY id LIMIT 100", "100 rows;"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			params := &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": bc.sql}}
			if text := mcptest.MustText(b, cs, "query", map[string]any{"sql": bc.sql}); !strings.HasPrefix(text, bc.want) {
				b.Fatalf("want a result starting %q, got:\n%s", bc.want, text)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := cs.CallTool(ctx, params)
				if err != nil || res.IsError {
					b.Fatalf("query failed: %v %v", err, res)
				}
			}
		})
	}
}
