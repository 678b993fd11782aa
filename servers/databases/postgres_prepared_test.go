package databases

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

// newTestPgEngine opens the PostgreSQL engine on dsn with a 5 s deadline.
func newTestPgEngine(t testing.TB, dsn string) *pgEngine {
	t.Helper()
	cfg, err := parsePgURL(dsn, secret.String{})
	if err != nil {
		t.Fatal(err)
	}
	p := newPgEngine(cfg, 5*time.Second)
	t.Cleanup(func() { p.close() })
	return p
}

// pgRun runs sql through the engine and returns the rendered result.
func pgRun(t testing.TB, p *pgEngine, sql string, limit int) (string, error) {
	t.Helper()
	st, err := sqlguard.Check(sqlguard.Postgres, sql)
	if err != nil {
		st = sqlguard.Statement{SQL: sql, Kind: sqlguard.Show} // run as sent
	}
	s := newSink(limit, 64<<10)
	if err := p.query(context.Background(), st, s); err != nil {
		return "", err
	}
	return renderResult(s, 0, 1000), nil
}

func pgMustRun(t testing.TB, p *pgEngine, sql string, limit int) string {
	t.Helper()
	out, err := pgRun(t, p, sql, limit)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// pgPrepared lists the prepared statements of the engine's idle
// connections: name → statement text and how often its generic plan ran.
func pgPrepared(t *testing.T, p *pgEngine) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, c := range p.pool.AcquireAllIdle(ctx) {
		rows, err := c.Query(ctx, "SELECT name, statement, generic_plans FROM pg_prepared_statements")
		if err != nil {
			c.Release()
			t.Fatal(err)
		}
		for rows.Next() {
			var name, sql string
			var plans int64
			if err := rows.Scan(&name, &sql, &plans); err != nil {
				t.Fatal(err)
			}
			out[name] = fmt.Sprintf("%s (generic plans: %d)", sql, plans)
		}
		rows.Close()
		c.Release()
	}
	return out
}

// pgPaths runs f on the prepared path and on the unprepared fallback.
func pgPaths(t *testing.T, f func(t *testing.T, db *testDB, p *pgEngine)) {
	for _, unprepared := range []bool{false, true} {
		name := "prepared"
		if unprepared {
			name = "unprepared"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := newPostgresDB(t)
			p := newTestPgEngine(t, db.dsn)
			p.unprepared.Store(unprepared)
			f(t, db, p)
		})
	}
}

func TestPostgresPreparedPlanIsReused(t *testing.T) {
	db := newPostgresDB(t)
	p := newTestPgEngine(t, db.dsn)
	const sql = "SELECT id, total, status FROM orders WHERE id = 142"
	for range 3 {
		out := pgMustRun(t, p, sql, 10)
		containsAll(t, "result", out, "1 row", "142,42.00,bulk")
	}
	prepared := pgPrepared(t, p)
	if got, want := prepared[pgUserStatement(sql).name], sql+" (generic plans: 3)"; got != want {
		t.Errorf("want the statement prepared once and run three times from its cached plan: got %q, want %q; all: %v", got, want, prepared)
	}
	for _, o := range []pgStatement{p.begin, p.settings, p.timeouts, p.end} {
		if !strings.HasPrefix(prepared[o.name], o.sql) {
			t.Errorf("%q is not prepared as %s: %v", o.sql, o.name, prepared)
		}
	}
	// The user's statements are named apart from the engine's own, even
	// with the same text (sent here past the guard, which refuses them).
	for _, o := range []pgStatement{p.begin, p.end} {
		if _, err := pgRun(t, p, o.sql, 10); err != nil {
			t.Errorf("%s: %v", o.sql, err)
		}
	}
	if p.unprepared.Load() {
		t.Error("a direct connection fell back to unprepared statements")
	}
}

// The output formats are ISO dates and standard strings whatever the
// session's defaults; a session that has them already skips setting them.
func TestPostgresOutputFormatsWhateverTheSession(t *testing.T) {
	pgPaths(t, func(t *testing.T, db *testDB, p *pgEngine) {
		const sql = `SELECT timestamp '2026-01-02 03:04:05.5' AS ts, date '2026-01-02' AS d, 'a\b' AS s`
		const want = "\n2026-01-02T03:04:05.5,2026-01-02,a\\b\n"
		containsAll(t, "server defaults", pgMustRun(t, p, sql, 10), want)
		name := db.adminString(t, "SELECT current_database()")
		db.adminExec(t, "ALTER DATABASE "+name+" SET DateStyle = 'SQL, DMY'", "ALTER DATABASE "+name+" SET standard_conforming_strings = off")
		other := newTestPgEngine(t, db.dsn)
		other.unprepared.Store(p.unprepared.Load())
		containsAll(t, "SQL dates, backslash escapes", pgMustRun(t, other, sql, 10), want)
		if p.unprepared.Load() {
			return
		}
		// Which settings ran: each use of a prepared statement counts.
		for _, c := range []struct {
			p          *pgEngine
			used, idle pgStatement
		}{{p, p.timeouts, p.settings}, {other, other.settings, other.timeouts}} {
			prepared := pgPrepared(t, c.p)
			if !strings.HasSuffix(prepared[c.used.name], "(generic plans: 1)") || !strings.HasSuffix(prepared[c.idle.name], "(generic plans: 0)") {
				t.Errorf("want %q run once and %q never: %v", c.used.sql, c.idle.sql, prepared)
			}
		}
	})
}

func TestPostgresStatementCacheEvicts(t *testing.T) {
	db := newPostgresDB(t)
	p := newTestPgEngine(t, db.dsn)
	p.stmtCacheSize = 3
	for i := range 8 {
		out := pgMustRun(t, p, "SELECT "+strconv.Itoa(i)+" AS n", 10)
		containsAll(t, "result", out, "\n"+strconv.Itoa(i)+"\n")
	}
	pgMustRun(t, p, "SELECT 7 AS n", 10) // closes what the last call evicted
	prepared := pgPrepared(t, p)
	var user []string
	for _, sql := range prepared {
		if strings.HasPrefix(sql, "SELECT ") && strings.Contains(sql, " AS n") {
			user = append(user, sql)
		}
	}
	if len(user) != 3 {
		t.Errorf("want the 3 most recent statements prepared, got %d: %v", len(user), user)
	}
	if _, ok := prepared[pgUserStatement("SELECT 0 AS n").name]; ok {
		t.Errorf("the least recently used statement is still prepared: %v", prepared)
	}
	containsAll(t, "evicted statement again", pgMustRun(t, p, "SELECT 0 AS n", 10), "\n0\n")
}

// A SELECT * whose table gained a column fails to bind with "cached plan
// must not change result type"; the engine prepares it again.
func TestPostgresStalePlanIsPreparedAgain(t *testing.T) {
	db := newPostgresDB(t)
	p := newTestPgEngine(t, db.dsn)
	containsAll(t, "before", pgMustRun(t, p, "SELECT * FROM canary", 10), "1,untouched")
	db.adminExec(t, "ALTER TABLE canary ADD COLUMN extra int DEFAULT 7")
	out := pgMustRun(t, p, "SELECT * FROM canary", 10)
	containsAll(t, "after", out, "extra:int4", "1,untouched,7")
	if p.unprepared.Load() {
		t.Error("a stale plan made the engine give up prepared statements")
	}
}

// The statements are missing on the connection, as on a pooler's other
// server connection: the engine falls back and runs the call again.
func TestPostgresMissingStatementsFallBack(t *testing.T) {
	db := newPostgresDB(t)
	p := newTestPgEngine(t, db.dsn)
	const sql = "SELECT id FROM orders WHERE id = 142"
	containsAll(t, "first", pgMustRun(t, p, sql, 10), "1 row", "\n142\n")
	for _, c := range p.pool.AcquireAllIdle(context.Background()) {
		if _, err := c.Exec(context.Background(), "DEALLOCATE ALL"); err != nil {
			t.Fatal(err)
		}
		c.Release()
	}
	containsAll(t, "after the statements went missing", pgMustRun(t, p, sql, 10), "1 row", "\n142\n")
	if !p.unprepared.Load() {
		t.Error("the engine did not fall back to unprepared statements")
	}
	containsAll(t, "unprepared", pgMustRun(t, p, sql, 10), "1 row", "\n142\n")
}

// Our statement name is taken on the connection, as on a pooler's server
// connection where another client connection of ours prepared it.
func TestPostgresTakenStatementNameFallsBack(t *testing.T) {
	db := newPostgresDB(t)
	p := newTestPgEngine(t, db.dsn)
	c, err := p.pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), "PREPARE "+p.begin.name+" AS SELECT 1"); err != nil {
		t.Fatal(err)
	}
	c.Release()
	containsAll(t, "result", pgMustRun(t, p, "SELECT id FROM orders WHERE id = 142", 10), "1 row", "\n142\n")
	if !p.unprepared.Load() {
		t.Error("the engine did not fall back to unprepared statements")
	}
}

// TestPostgresEscapesOnBothPaths sends the escape corpus straight to the
// engine on each path, twice on the prepared one (the second run binds the
// statement prepared by the first), and checks the database is unchanged.
func TestPostgresEscapesOnBothPaths(t *testing.T) {
	pgPaths(t, func(t *testing.T, db *testDB, p *pgEngine) {
		before := fingerprint(t, db)
		runs := 1
		if !p.unprepared.Load() {
			runs = 2
		}
		for i, esc := range escapes["postgres"] {
			if esc.engineAllows != "" {
				continue
			}
			for range runs {
				_ = p.query(context.Background(), sqlguard.Statement{SQL: esc.sql, Kind: sqlguard.Show}, newSink(10, 4096))
				if got := fingerprint(t, db); got != before {
					t.Fatalf("case %d changed the database: %s\nbefore: %s\nafter:  %s", i, esc.sql, before, got)
				}
			}
		}
		if !p.unprepared.Load() && pgPrepared(t, p)[p.begin.name] == "" {
			t.Error("the prepared path gave up prepared statements on a direct connection")
		}
	})
}

func TestPostgresErrorPointsIntoTheSQL(t *testing.T) {
	pgPaths(t, func(t *testing.T, db *testDB, p *pgEngine) {
		_, err := pgRun(t, p, "SELECT id, nosuchcol FROM orders", 10)
		if err == nil {
			t.Fatal("no error")
		}
		containsAll(t, "error", err.Error(), `column "nosuchcol" does not exist`, `"SELECT id, ⟶nosuchcol FROM order"`)
	})
}

// The server computes limit+1 rows and no more: row 12 would divide by
// zero.
func TestPostgresProducesOnlyTheRowsShown(t *testing.T) {
	pgPaths(t, func(t *testing.T, db *testDB, p *pgEngine) {
		const sql = "SELECT g, 1 / (12 - g) AS x FROM generate_series(1, 1000) g"
		for range 2 {
			containsAll(t, "limited", pgMustRun(t, p, sql, 10), "10 rows shown, more exist")
		}
		containsAll(t, "exactly the limit", pgMustRun(t, p, "SELECT g FROM generate_series(1, 10) g", 10), "10 rows;")
		containsAll(t, "SHOW", pgMustRun(t, p, "SHOW statement_timeout", 10), "statement_timeout:text", "\n5s\n")
		containsAll(t, "no result set", pgMustRun(t, p, "/* nothing */", 10), "no result set")
		containsAll(t, "bool and timestamps", pgMustRun(t, p, "SELECT true AS t, false AS f, timestamp '2026-01-02 03:04:05.5' AS ts", 10), "\ntrue,false,2026-01-02T03:04:05.5\n")
	})
}

// A call whose context ends stops its statement on the server, and the
// engine goes on with a new connection.
func TestPostgresCancelledCallStopsTheStatement(t *testing.T) {
	pgPaths(t, func(t *testing.T, db *testDB, p *pgEngine) {
		marker := uniqueName("cancel")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := p.query(ctx, sqlguard.Statement{SQL: "SELECT pg_sleep(8) /* " + marker + " */", Kind: sqlguard.Select}, newSink(10, 4096))
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Errorf("want a deadline error, got %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the call took %s to return after its context ended", d)
		}
		waitFor(t, 5*time.Second, "the statement to stop on the server", func() bool {
			return db.adminString(t, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%"+marker+"%' AND pid <> pg_backend_pid()") == "0"
		})
		containsAll(t, "next call", pgMustRun(t, p, "SELECT 1 AS one", 10), "\n1\n")
	})
}

// TestPostgresThroughPgBouncerTransactionMode runs the engine through a
// real PgBouncer in transaction mode (no prepared statement support), where
// the next transaction may run on another server connection.
func TestPostgresThroughPgBouncerTransactionMode(t *testing.T) {
	db := newPostgresDB(t)
	port := startPgBouncer(t)
	cfg, err := pgx.ParseConfig(db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", cfg.User, port, cfg.Database)
	p := newTestPgEngine(t, url)
	const sql = "SELECT id FROM orders WHERE id = 142"
	containsAll(t, "first call", pgMustRun(t, p, sql, 10), "1 row", "\n142\n")

	// Hold the only server connection in a transaction, so that the next
	// call runs on a new one, which lacks our statements.
	ctx := context.Background()
	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	containsAll(t, "on another server connection", pgMustRun(t, p, sql, 10), "1 row", "\n142\n")
	if !p.unprepared.Load() {
		t.Error("the engine did not fall back to unprepared statements behind the pooler")
	}
	_ = tx.Rollback(ctx)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := 101 + (g*10+i)%250
				out, err := pgRun(t, p, fmt.Sprintf("SELECT id FROM orders WHERE id = %d", id), 10)
				if err != nil || !strings.Contains(out, "\n"+strconv.Itoa(id)+"\n") {
					t.Errorf("through the pooler: %v\n%s", err, out)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// startPgBouncer runs PgBouncer in transaction mode on a free port in
// front of the local PostgreSQL, stops it at cleanup and returns the port.
func startPgBouncer(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		mcptest.SkipOrFail(t, "pgbouncer is not installed (apt-get install -y pgbouncer)")
	}
	pg, err := pgx.ParseConfig(postgresBaseURL())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	// PgBouncer refuses to run as root; as root it switches to postgres,
	// who must be able to read its files.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ini, users := filepath.Join(dir, "pgbouncer.ini"), filepath.Join(dir, "users.txt")
	files := map[string]string{
		users: fmt.Sprintf("%q %q\n", pg.User, pg.Password),
		ini: fmt.Sprintf("[databases]\n* = host=%s port=%d\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = %d\n", pg.Host, pg.Port, port) +
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
		mcptest.SkipOrFail(t, "pgbouncer did not start: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return port
		}
		select {
		case <-exited:
			mcptest.SkipOrFail(t, "pgbouncer exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			mcptest.SkipOrFail(t, "pgbouncer did not listen on %d:\n%s", port, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkPostgresQuery measures one query call through the engine on
// the prepared path and on the unprepared fallback, side by side with the
// same query through pgx with its default statement cache (the least any
// client does for the same answer). The three take turns of 50 calls, so
// background load hits them alike; the metrics are each one's median and
// the engine's paths as multiples of pgx (ns/op mixes all three).
func BenchmarkPostgresQuery(b *testing.B) {
	db := newPostgresDB(b)
	db.adminExec(b,
		`CREATE TABLE bench_orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
		   total numeric(10,2) NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL, note text)`,
		`INSERT INTO bench_orders SELECT i, 1 + i % 50000, (ARRAY['pending','paid','shipped'])[1 + i % 3],
		   (i % 60000 + 499) / 100.0, 'EUR', timestamptz '2025-01-01 00:00:00+00' + i * interval '253.123456 s',
		   CASE WHEN i % 2 = 0 THEN NULL ELSE 'leave at the front door' END FROM generate_series(1, 100000) i`,
		`ANALYZE bench_orders`)
	ctx, cancel := context.WithCancel(context.Background()) // watched, as a call's is
	defer cancel()
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	prepared, unprepared := newTestPgEngine(b, db.dsn), newTestPgEngine(b, db.dsn)
	unprepared.unprepared.Store(true)
	for _, bc := range []struct{ name, sql, want string }{
		{"one_row", "SELECT * FROM bench_orders WHERE id = 42", "1 row"},
		{"100_rows", "SELECT * FROM bench_orders ORDER BY id LIMIT 100", "100 rows"},
	} {
		st, err := sqlguard.Check(sqlguard.Postgres, bc.sql)
		if err != nil {
			b.Fatal(err)
		}
		engine := func(p *pgEngine) func() {
			if out := pgMustRun(b, p, bc.sql, 100); !strings.HasPrefix(out, bc.want) {
				b.Fatalf("want %q, got:\n%s", bc.want, out)
			}
			return func() {
				if err := p.query(ctx, st, newSink(100, 64<<10)); err != nil {
					b.Fatal(err)
				}
			}
		}
		runs := []func(){
			func() {
				rows, err := conn.Query(ctx, bc.sql)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					_ = rows.RawValues()
				}
				if rows.Close(); rows.Err() != nil {
					b.Fatal(rows.Err())
				}
			},
			engine(prepared),
			engine(unprepared),
		}
		b.Run(bc.name, func(b *testing.B) {
			samples := make([][]time.Duration, len(runs))
			for n := 0; b.Loop(); n++ {
				i := n / 50 % len(runs) // in turns of 50 calls
				start := time.Now()
				runs[i]()
				samples[i] = append(samples[i], time.Since(start))
			}
			med := make([]float64, len(runs))
			for i, s := range samples {
				slices.Sort(s)
				med[i] = float64(s[len(s)/2].Nanoseconds()) / 1e3
			}
			b.ReportMetric(med[0], "pgx-µs")
			b.ReportMetric(med[1], "prepared-µs")
			b.ReportMetric(med[2], "unprepared-µs")
			b.ReportMetric(med[1]/med[0], "prepared/pgx")
			b.ReportMetric(med[2]/med[0], "unprepared/pgx")
		})
	}
}
