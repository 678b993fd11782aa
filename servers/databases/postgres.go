package databases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

var postgresProvider = &provider{
	Provider: connections.Provider{
		Name:    "postgres",
		Aliases: []string{"postgresql"},
		Title:   "PostgreSQL",
		Fields: []config.Field{
			{Name: "url", Secret: true, Required: true, Help: "postgres://user:password@host:5432/dbname"},
			{Name: "password", Secret: true, Help: "overrides the password in url"},
		},
		DefaultName: func(v config.Values) string { return dbNameFromURL(v.Secret("url").Reveal(), "postgres") },
	},
	schemes: []string{"postgres", "postgresql"},
	open:    openPostgres,
}

// pgEngine runs every statement inside BEGIN READ ONLY ... ROLLBACK, with
// the statement deadline set locally to that transaction, all sent as one
// pipelined exchange so the transaction costs no extra round trips.
// Nothing relies on session state, so the engine works the same through a
// transaction-mode pooler (PgBouncer, Supavisor) as on a direct
// connection, and a statement cannot loosen the session for the next one.
// The server produces only the rows that are shown (limit+1). Values are
// read in PostgreSQL's text format, which is exact for numeric, bigint and
// timestamps.
//
// Statements run as named prepared statements, cached per connection, so
// a repeated statement is not parsed or planned again (postgres_prepared.go).
// Where those cannot be kept (a transaction-mode pooler without prepared
// statement support) the engine switches for good to unnamed statements
// and a cursor (queryUnprepared).
type pgEngine struct {
	pool  *pgxpool.Pool
	types sync.Map // uint32 OID → type name, for types pgx does not know
	// local sets the transaction's deadline and output formats.
	local string
	// begin, settings (local), timeouts and end are prepared once per
	// connection. timeouts is local without the output formats, for a
	// session that reports them set already.
	begin, settings, timeouts, end pgStatement
	stmtCacheSize                  int
	// unprepared is set once prepared statements turned out not to stay
	// on their server connection.
	unprepared atomic.Bool
}

func openPostgres(v config.Values, l config.Limits) (engine, error) {
	cfg, err := parsePgURL(v.Secret("url").Reveal(), v.Secret("password"))
	if err != nil {
		return nil, err
	}
	return newPgEngine(cfg, time.Duration(l.Timeout)), nil
}

// parsePgURL parses a connection URL without letting a driver error echo
// part of it: a password with unescaped special characters makes pgx quote
// the rest of the URL.
func parsePgURL(raw string, password secret.String) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return nil, errors.New("invalid PostgreSQL URL: write postgres://user:password@host:5432/dbname, percent-encoding special characters in the password (@ as %40, / as %2F, space as %20), or pass the password as its own setting")
	}
	if !password.IsZero() {
		cfg.ConnConfig.Password = password.Reveal()
	}
	secret.New(cfg.ConnConfig.Password)
	return cfg, nil
}

func newPgEngine(cfg *pgxpool.Config, timeout time.Duration) *pgEngine {
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "opstower"
	}
	// Our own catalog queries use unnamed statements: a named prepared
	// statement would not survive a transaction-mode pooler.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// On cancellation, ask the server to stop the statement rather than only
	// dropping the socket, so the work stops on the server too.
	cfg.ConnConfig.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 2 * time.Second}
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxConns = 8
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		// NewWithConfig only fails on invalid configuration, which
		// ParseConfig has already checked.
		panic(err)
	}
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	// The guard lexes '...' without backslash escapes, so the server must
	// agree (standard_conforming_strings); ISO dates are what the renderer
	// turns into RFC 3339.
	timeouts := "SELECT set_config('statement_timeout', '" + ms + "', true), " +
		"set_config('idle_in_transaction_session_timeout', '" + ms + "', true)"
	local := timeouts + ", set_config('standard_conforming_strings', 'on', true), set_config('DateStyle', 'ISO', true)"
	return &pgEngine{
		pool: pool, local: local,
		begin: pgOwnStatement("BEGIN READ ONLY"), settings: pgOwnStatement(local),
		timeouts: pgOwnStatement(timeouts), end: pgOwnStatement("ROLLBACK"),
		stmtCacheSize: pgStmtCacheSize,
	}
}

func (p *pgEngine) dialect() sqlguard.Dialect { return sqlguard.Postgres }

func (p *pgEngine) close() error { p.pool.Close(); return nil }

func (p *pgEngine) ping(ctx context.Context) error { return p.connErr(p.pool.Ping(ctx)) }

const cursorPrefix = "DECLARE opstower_q NO SCROLL CURSOR FOR "

func (p *pgEngine) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return p.connErr(err)
	}
	defer c.Release()
	// At most two runs: the second after the engine fell back to
	// unprepared statements or a cached plan went stale.
	for range 2 {
		if p.unprepared.Load() {
			break
		}
		retry, err := p.queryPrepared(ctx, c.Conn(), st, s)
		if !retry {
			return err
		}
	}
	return p.queryUnprepared(ctx, c.Conn(), st, s)
}

// queryUnprepared runs st as unnamed statements, a row source through a
// cursor: BEGIN READ ONLY; the settings; DECLARE; FETCH limit+1; ROLLBACK.
func (p *pgEngine) queryUnprepared(ctx context.Context, c *pgx.Conn, st sqlguard.Statement, s *sink) error {
	pc := c.PgConn()
	b := &pgconn.Batch{}
	b.ExecParams("BEGIN READ ONLY", nil, nil, nil, nil)
	b.ExecParams(p.local, nil, nil, nil, nil)
	offset := 0
	if st.Kind == sqlguard.Select {
		b.ExecParams(cursorPrefix+st.SQL, nil, nil, nil, nil)
		b.ExecParams("FETCH FORWARD "+strconv.Itoa(s.maxRows+1)+" FROM opstower_q", nil, nil, nil, nil)
		offset = len(cursorPrefix)
	} else {
		b.ExecParams(st.SQL, nil, nil, nil, nil)
	}
	b.ExecParams("ROLLBACK", nil, nil, nil, nil)
	dataIdx := 2 // BEGIN, settings, then the statement's result (or DECLARE, FETCH)
	if offset > 0 {
		dataIdx = 3
	}

	mrr := pc.ExecBatch(ctx, b)
	for i := 0; mrr.NextResult(); i++ {
		rr := mrr.ResultReader()
		if i == dataIdx && len(rr.FieldDescriptions()) > 0 {
			p.readRows(ctx, c, rr, s)
		}
		if _, err := rr.Close(); err != nil {
			break
		}
	}
	err := mrr.Close()
	if pc.TxStatus() != 'I' && !pc.IsClosed() {
		// The statement failed inside the transaction: end it so the
		// connection goes back to the pool clean.
		_ = pc.Exec(ctx, "ROLLBACK").Close()
	}
	if err != nil {
		return p.queryErr(err, st.SQL, offset)
	}
	return nil
}

// readRows streams a result into the sink, stopping when it is full.
func (p *pgEngine) readRows(ctx context.Context, c *pgx.Conn, rr *pgconn.ResultReader, s *sink) {
	fds := rr.FieldDescriptions()
	cols := make([]render.Column, len(fds))
	oids := make([]uint32, len(fds))
	for i, fd := range fds {
		cols[i] = render.Column{Name: fd.Name, Type: p.typeName(ctx, c, fd.DataTypeOID)}
		oids[i] = fd.DataTypeOID
	}
	s.columns(cols)
	r := &pgRows{s: s, oids: oids}
	for !r.full && rr.NextRow() {
		r.add(rr.Values())
	}
}

const (
	pgBoolOID        = 16
	pgTimestampOID   = 1114
	pgTimestamptzOID = 1184
)

var trueText, falseText = []byte("true"), []byte("false")

func boolText(v []byte) []byte {
	if len(v) == 1 && v[0] == 't' {
		return trueText
	}
	if len(v) == 1 && v[0] == 'f' {
		return falseText
	}
	return v
}

// appendRFC3339 rewrites PostgreSQL's ISO timestamp text
// ("2026-01-02 03:04:05.123456+00") as RFC 3339
// ("2026-01-02T03:04:05.123456Z"): the same instant and digits, in the form
// every reader parses, two bytes shorter for UTC. Values in another form
// (infinity, BC dates) are kept as they are.
func appendRFC3339(dst, v []byte) []byte {
	if len(v) < 19 || v[10] != ' ' || v[4] != '-' || v[13] != ':' || bytes.HasSuffix(v, []byte(" BC")) {
		return append(dst, v...)
	}
	dst = append(dst, v[:10]...)
	dst = append(dst, 'T')
	rest := v[11:]
	// The offset starts at the last + or - after the time.
	i := bytes.LastIndexAny(rest, "+-")
	if i < 8 {
		return append(dst, rest...) // timestamp without time zone
	}
	dst = append(dst, rest[:i]...)
	switch off := rest[i:]; {
	case string(off) == "+00" || string(off) == "-00" || string(off) == "+00:00":
		return append(dst, 'Z')
	case len(off) == 3:
		return append(append(dst, off...), ":00"...)
	default:
		return append(dst, off...)
	}
}

// typeName names a column type: pgx knows the built-in ones; others
// (enums, domains, extension types) are looked up once, on another
// connection, and cached.
func (p *pgEngine) typeName(ctx context.Context, c *pgx.Conn, oid uint32) string {
	if t, ok := c.TypeMap().TypeForOID(oid); ok {
		return t.Name
	}
	if n, ok := p.types.Load(oid); ok {
		return n.(string)
	}
	// Bounded, so a saturated pool cannot hold this result up.
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var name string
	if err := p.pool.QueryRow(ctx, "SELECT format_type($1, NULL)", oid).Scan(&name); err != nil {
		return "oid:" + strconv.FormatUint(uint64(oid), 10)
	}
	p.types.Store(oid, name)
	return name
}

const pgTablesSQL = `
SELECT n.nspname, c.relname,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END,
       CASE WHEN c.relkind = 'v' THEN -1
            WHEN c.reltuples >= 0 THEN c.reltuples::bigint
            ELSE COALESCE(s.n_live_tup, -1) END,
       CASE WHEN c.relkind IN ('r', 'm', 'p') THEN pg_total_relation_size(c.oid) ELSE -1 END,
       COALESCE(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND ($1 = '' OR n.nspname = $1)
ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname
LIMIT 5000`

func (p *pgEngine) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	rows, err := p.pool.Query(ctx, pgTablesSQL, schema)
	if err != nil {
		return nil, p.connErr(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (tableInfo, error) {
		var t tableInfo
		err := r.Scan(&t.Schema, &t.Name, &t.Kind, &t.Rows, &t.Bytes, &t.Comment)
		return t, err
	})
}

func (p *pgEngine) describe(ctx context.Context, name string) (*tableDesc, error) {
	var oid *uint32
	if err := p.pool.QueryRow(ctx, "SELECT to_regclass($1)::oid", name).Scan(&oid); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42602" || pe.Code == "3F000" || pe.Code == "42601") {
			return nil, &notFoundError{name: name} // invalid name or unknown schema
		}
		return nil, p.connErr(err)
	}
	if oid == nil {
		return nil, &notFoundError{name: name}
	}
	d := &tableDesc{}
	err := p.pool.QueryRow(ctx, `
SELECT $1::regclass::text,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
            WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE c.relkind::text END,
       COALESCE(obj_description(c.oid, 'pg_class'), ''),
       CASE WHEN c.relkind = 'v' THEN -1 WHEN c.reltuples >= 0 THEN c.reltuples::bigint
            ELSE COALESCE((SELECT n_live_tup FROM pg_stat_all_tables WHERE relid = c.oid), -1) END
FROM pg_class c WHERE c.oid = $1`, *oid).Scan(&d.Name, &d.Kind, &d.Comment, &d.Rows)
	if err != nil {
		return nil, p.connErr(err)
	}
	rows, err := p.pool.Query(ctx, `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       COALESCE(pg_get_expr(d.adbin, d.adrelid), ''), COALESCE(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, *oid)
	if err != nil {
		return nil, p.connErr(err)
	}
	d.Columns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (columnDesc, error) {
		var c columnDesc
		err := r.Scan(&c.Name, &c.Type, &c.Nullable, &c.Default, &c.Comment)
		return c, err
	})
	if err != nil {
		return nil, p.connErr(err)
	}
	rows, err = p.pool.Query(ctx, `
SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1
UNION ALL
SELECT 'referenced by ' || conrelid::regclass::text || ': ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE confrelid = $1 AND contype = 'f'`, *oid)
	if err != nil {
		return nil, p.connErr(err)
	}
	if d.Constraints, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, p.connErr(err)
	}
	rows, err = p.pool.Query(ctx, `SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = $1 ORDER BY indisprimary DESC, indexrelid`, *oid)
	if err != nil {
		return nil, p.connErr(err)
	}
	if d.Indexes, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, p.connErr(err)
	}
	return d, nil
}

func (p *pgEngine) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	opts := "FORMAT TEXT"
	if analyze {
		opts += ", ANALYZE, BUFFERS"
	}
	prefix := "EXPLAIN (" + opts + ") "
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return "", p.connErr(err)
	}
	defer c.Release()
	pc := c.Conn().PgConn()
	b := &pgconn.Batch{}
	b.ExecParams("BEGIN READ ONLY", nil, nil, nil, nil)
	b.ExecParams(p.local, nil, nil, nil, nil)
	b.ExecParams(prefix+st.SQL, nil, nil, nil, nil)
	b.ExecParams("ROLLBACK", nil, nil, nil, nil)
	results, err := pc.ExecBatch(ctx, b).ReadAll()
	if pc.TxStatus() != 'I' && !pc.IsClosed() {
		_ = pc.Exec(ctx, "ROLLBACK").Close()
	}
	if err != nil {
		return "", p.queryErr(err, st.SQL, len(prefix))
	}
	var out strings.Builder
	for _, row := range results[2].Rows {
		out.Write(row[0])
		out.WriteByte('\n')
	}
	return out.String(), nil
}

var pgMissingRelation = regexp.MustCompile(`relation "([^"]+)" does not exist`)

// queryErr turns a server error into a message with the server's detail,
// hint and the place in the SQL it points at. offset is how many bytes we
// put before the user's SQL.
func (p *pgEngine) queryErr(err error, sql string, offset int) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return p.connErr(err)
	}
	var b strings.Builder
	b.WriteString("PostgreSQL: " + pe.Message)
	if pe.Code == "25006" {
		b.WriteString(" (this connection is read-only)")
	}
	if pe.Code == "57014" {
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, pe.Message)
	}
	if pe.Detail != "" {
		b.WriteString("\nDetail: " + pe.Detail)
	}
	if pe.Hint != "" {
		b.WriteString("\nHint: " + pe.Hint)
	}
	if pe.Position > 0 {
		if near := around(sql, int(pe.Position)-1-offset); near != "" {
			b.WriteString("\nAt: " + near)
		}
	}
	qe := &queryError{msg: b.String()}
	if m := pgMissingRelation.FindStringSubmatch(pe.Message); m != nil {
		qe.table = m[1]
	}
	return qe
}

// around quotes the SQL near a character position.
func around(sql string, pos int) string {
	r := []rune(sql)
	if pos < 0 || pos >= len(r) {
		return ""
	}
	lo, hi := max(0, pos-20), min(len(r), pos+20)
	return strconv.Quote(string(r[lo:pos])+"⟶"+string(r[pos:hi])) + " (⟶ marks the error)"
}

// connErr explains failures to reach the server.
func (p *pgEngine) connErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &queryError{msg: "PostgreSQL: " + pe.Message}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	cc := p.pool.Config().ConnConfig
	return fmt.Errorf("cannot reach PostgreSQL at %s:%d (database %q, user %q): %s", cc.Host, cc.Port, cc.Database, cc.User, secret.Scrub(err.Error()))
}
