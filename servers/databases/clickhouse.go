package databases

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

var clickhouseProvider = &provider{
	Provider: connections.Provider{
		Name:  "clickhouse",
		Title: "ClickHouse",
		Fields: []config.Field{
			{Name: "url", Secret: true, Required: true, Help: "clickhouse://user:password@host:9000/db (native protocol), or the HTTP(S) endpoint https://host:8443"},
			{Name: "username", Help: "ClickHouse user; overrides the user in url (default: default)"},
			{Name: "password", Secret: true, Help: "overrides the password in url"},
			{Name: "database", Help: "default database; overrides the one in url (default: default)"},
		},
		DefaultName: func(v config.Values) string {
			if db := v.Get("database"); db != "" {
				return db
			}
			return dbNameFromURL(v.Secret("url").Reveal(), "clickhouse")
		},
	},
	schemes: []string{"clickhouse", "clickhouses"},
	open:    openClickHouse,
}

// chURLHelp is what a user should write; it is shown with URL errors.
const chURLHelp = "write clickhouse://user:password@host:9000/database (native protocol; clickhouses:// or ?secure=true for TLS on 9440) or the HTTP(S) endpoint https://host:8443 (http://host:8123) with the username, password and database settings"

// chEngine runs every statement with readonly=1 and max_execution_time sent
// in the query's own settings, so ClickHouse itself refuses writes, DDL,
// SET and SETTINGS clauses, and table functions, and stops the query a
// little before the call's deadline. A call that ends early (deadline,
// cancellation, or a full sink) cancels the query on the server rather than
// only dropping the connection: ClickHouse keeps running a query whose
// client has gone. The driver connects on first use.
type chEngine struct {
	conn     driver.Conn
	addr     string
	user     string
	database string
	protocol clickhouse.Protocol
	timeout  time.Duration

	mu      sync.Mutex
	server  *chServer       // learnt on first use
	refused map[string]bool // settings the user's own profile does not let us send
}

// chServer is what the engine learns about the server on first use.
type chServer struct {
	version      string
	major, minor int
	tableCols    map[string]bool // columns of system.tables, which vary by version
}

// atLeast reports whether the server is version major.minor or newer.
func (s *chServer) atLeast(major, minor int) bool {
	return s.major > major || (s.major == major && s.minor >= minor)
}

func openClickHouse(v config.Values, l config.Limits) (engine, error) {
	opts, err := clickhouseOptions(v)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(l.Timeout)
	if opts.DialTimeout == 0 {
		// Connecting and the handshake share this limit; it stays below
		// the call's deadline so a wrong port gets its own message.
		opts.DialTimeout = min(10*time.Second, max(timeout/2, time.Second))
	}
	// The driver's read timeout covers a whole query; ours is enforced by
	// the context and max_execution_time, so this is only a backstop.
	opts.ReadTimeout = timeout + 10*time.Second
	opts.MaxOpenConns = 8
	opts.MaxIdleConns = 4
	opts.ConnMaxLifetime = 10 * time.Minute
	opts.ClientInfo = clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "opstower"}}}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("invalid ClickHouse settings: %s", secret.Scrub(err.Error()))
	}
	return &chEngine{
		conn: conn, addr: opts.Addr[0], user: opts.Auth.Username, database: opts.Auth.Database,
		protocol: opts.Protocol, timeout: timeout, refused: map[string]bool{},
	}, nil
}

// clickhouseOptions reads the url, username, password and database
// settings. It does not pass the URL to the driver, whose parser turns
// unknown query parameters into server settings (readonly=0 among them).
func clickhouseOptions(v config.Values) (*clickhouse.Options, error) {
	u, err := url.Parse(v.Secret("url").Reveal())
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("invalid ClickHouse url: " + chURLHelp)
	}
	opts := &clickhouse.Options{}
	secure, port := false, "9000"
	switch strings.ToLower(u.Scheme) {
	case "clickhouse", "tcp":
	case "clickhouses":
		secure, port = true, "9440"
	case "http":
		opts.Protocol, port = clickhouse.HTTP, "8123"
	case "https":
		opts.Protocol, secure, port = clickhouse.HTTP, true, "8443"
	default:
		return nil, fmt.Errorf("unsupported ClickHouse url scheme %q: %s", u.Scheme, chURLHelp)
	}
	opts.Auth.Username = u.User.Username()
	opts.Auth.Password, _ = u.User.Password()
	opts.Auth.Database = strings.Trim(u.Path, "/")
	if strings.Contains(opts.Auth.Database, "/") {
		return nil, fmt.Errorf("invalid ClickHouse url: the path must be just the database name; %s", chURLHelp)
	}
	skipVerify := false
	for k, vals := range u.Query() {
		val := vals[len(vals)-1]
		switch k {
		case "secure", "skip_verify":
			on, err := strconv.ParseBool(cmp.Or(val, "true"))
			if err != nil {
				return nil, fmt.Errorf("invalid ClickHouse url parameter %s=%q: write true or false", k, val)
			}
			if k == "skip_verify" {
				skipVerify = on
				continue
			}
			if opts.Protocol == clickhouse.HTTP && on != secure {
				return nil, fmt.Errorf("ClickHouse url parameter secure=%s contradicts the %s:// scheme; use https:// for TLS and http:// without it", val, u.Scheme)
			}
			if on && !secure && u.Port() == "" {
				port = "9440"
			}
			secure = on
		case "database":
			opts.Auth.Database = val
		case "dial_timeout":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("invalid ClickHouse url parameter dial_timeout=%q: write a duration such as 5s", val)
			}
			opts.DialTimeout = d
		default:
			return nil, fmt.Errorf("unsupported ClickHouse url parameter %q; supported: secure, skip_verify, database, dial_timeout (server settings cannot be set here: every query runs with readonly=1)", k)
		}
	}
	if s := v.Get("username"); s != "" {
		opts.Auth.Username = s
	}
	if pw := v.Secret("password"); !pw.IsZero() {
		opts.Auth.Password = pw.Reveal()
	}
	if db := v.Get("database"); db != "" {
		opts.Auth.Database = db
	}
	if opts.Auth.Username == "" {
		opts.Auth.Username = "default"
	}
	secret.New(opts.Auth.Password)
	opts.Addr = []string{net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), port))}
	if secure {
		opts.TLS = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

func (e *chEngine) dialect() sqlguard.Dialect { return sqlguard.ClickHouse }

func (e *chEngine) close() error { return e.conn.Close() }

// ping checks the address, credentials and database, and (on first use)
// that the server takes our read-only settings.
func (e *chEngine) ping(ctx context.Context) error {
	if _, err := e.prepare(ctx); err != nil {
		return err
	}
	qctx, cancel := e.queryCtx(ctx)
	defer cancel()
	return e.queryErr(ctx, e.conn.Ping(qctx), "")
}

// settings are sent with every query. readonly=1 refuses writes, DDL,
// SET, SETTINGS clauses and table functions (file, url, remote...), and
// still lets ClickHouse apply the other settings of the same packet: the
// server checks them against the session as it was before the packet.
// Result caps (max_result_rows with result_overflow_mode=break) are not
// sent: ClickHouse 18.x only takes numeric settings from this driver, the
// default overflow mode turns a long result into an error, and newer
// servers apply the caps to subqueries and distributed shards too, which
// can truncate an aggregate's input silently. A full sink cancels the
// query instead.
func (e *chEngine) settings() clickhouse.Settings {
	s := clickhouse.Settings{"readonly": 1, "max_execution_time": chMaxExecutionTime(e.timeout)}
	if e.protocol == clickhouse.HTTP {
		// Over HTTP a dropped connection stops a query only with this.
		s["cancel_http_readonly_queries_on_client_close"] = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.refused {
		delete(s, k)
	}
	return s
}

// chMaxExecutionTime is the server-side limit in whole seconds: a little
// below the call's deadline, so ClickHouse stops the query itself (and
// says so) before the call gives up. 0 would mean no limit.
func chMaxExecutionTime(timeout time.Duration) int {
	return max(int((timeout - timeout/10).Seconds()), 1)
}

// queryCtx returns the context for one driver call. The driver sends
// ClickHouse a Cancel packet only when its context is cancelled; when a
// deadline it set on the socket fires first, it just closes the
// connection and the query runs on. So the driver gets a context without a
// deadline that is cancelled when ctx ends.
func (e *chEngine) queryCtx(ctx context.Context, opts ...clickhouse.QueryOption) (context.Context, context.CancelFunc) {
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	opts = append(opts, clickhouse.WithSettings(e.settings()))
	return clickhouse.Context(qctx, opts...), func() { stop(); cancel() }
}

// prepare learns the server's version and system.tables columns on first
// use. A user whose profile is already read-only cannot change settings,
// and newer servers then refuse ours ("Cannot modify 'max_execution_time'
// setting in readonly mode"): those settings are dropped, since that
// refusal itself proves the session is read-only. The probe is our own
// SQL, so the refusal cannot come from a user's SETTINGS clause.
func (e *chEngine) prepare(ctx context.Context) (*chServer, error) {
	e.mu.Lock()
	srv := e.server
	e.mu.Unlock()
	if srv != nil {
		return srv, nil
	}
	for range 4 {
		learnt, err := e.probe(ctx)
		if err == nil {
			e.mu.Lock()
			e.server = learnt
			e.mu.Unlock()
			return learnt, nil
		}
		name, ok := refusedSetting(err)
		if !ok {
			return nil, e.queryErr(ctx, err, "")
		}
		e.mu.Lock()
		e.refused[name] = true
		e.mu.Unlock()
	}
	return nil, errors.New("ClickHouse refuses the settings this connection sends with every query (readonly, max_execution_time); check the user's settings profile")
}

const chProbeSQL = "SELECT version(), groupArray(name) FROM system.columns WHERE database = 'system' AND table = 'tables'"

func (e *chEngine) probe(ctx context.Context) (*chServer, error) {
	qctx, cancel := e.queryCtx(ctx)
	defer cancel()
	srv := &chServer{tableCols: map[string]bool{}}
	var cols []string
	if err := e.conn.QueryRow(qctx, chProbeSQL).Scan(&srv.version, &cols); err != nil {
		return nil, err
	}
	for _, c := range cols {
		srv.tableCols[c] = true
	}
	parts := strings.SplitN(srv.version, ".", 3)
	srv.major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		srv.minor, _ = strconv.Atoi(parts[1])
	}
	return srv, nil
}

func (e *chEngine) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	if _, err := e.prepare(ctx); err != nil {
		return err
	}
	qctx, cancel := e.queryCtx(ctx)
	defer cancel()
	rows, err := e.conn.Query(qctx, st.SQL)
	if errors.Is(err, io.EOF) {
		return nil // a statement without a result set
	}
	if err != nil {
		return e.queryErr(ctx, err, st.SQL)
	}
	err = readCHRows(rows, s)
	switch {
	case s.full():
		closeRows(rows, cancel) // the server gets a Cancel packet and stops
		return nil
	case err != nil:
		closeRows(rows, cancel)
	default:
		err = rows.Close()
	}
	return e.queryErr(ctx, err, st.SQL)
}

// closeRows ends a result that may not have been read to its end: cancel
// first, so the server stops, since Close alone reads the rest.
func closeRows(rows driver.Rows, cancel context.CancelFunc) {
	cancel()
	_ = rows.Close()
}

// readCHRows streams rows into the sink until it is full. Column types are
// ClickHouse's own names; values are formatted exactly (see chValues).
func readCHRows(rows driver.Rows, s *sink) error {
	cts := rows.ColumnTypes()
	cols := make([]render.Column, len(cts))
	vals := newCHValues(cts)
	for i, ct := range cts {
		cols[i] = render.Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	s.columns(cols)
	for rows.Next() {
		vals.reset()
		if err := rows.Scan(vals.dests...); err != nil {
			return err
		}
		if !s.add(vals.cells()) {
			return nil
		}
	}
	return rows.Err()
}

// chRowsQuery runs one of our own catalog queries and calls f per row.
func (e *chEngine) chRowsQuery(ctx context.Context, sql string, f func(driver.Rows) error, args ...any) error {
	qctx, cancel := e.queryCtx(ctx)
	defer cancel()
	rows, err := e.conn.Query(qctx, sql, args...)
	if err != nil {
		return e.queryErr(ctx, err, "")
	}
	defer closeRows(rows, cancel)
	for rows.Next() {
		if err := f(rows); err != nil {
			return e.queryErr(ctx, err, "")
		}
	}
	if err := rows.Err(); err != nil {
		return e.queryErr(ctx, err, "")
	}
	return nil
}

// chSystemDatabases hold ClickHouse's own tables, not the user's.
const chSystemDatabases = "('system', 'INFORMATION_SCHEMA', 'information_schema')"

// colOr selects a system.tables column that only some versions have.
func (s *chServer) colOr(expr, col, fallback string) string {
	if s.tableCols[col] {
		return expr
	}
	return fallback
}

func (e *chEngine) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	srv, err := e.prepare(ctx)
	if err != nil {
		return nil, err
	}
	sizes, err := e.partSizes(ctx, schema, "")
	if err != nil {
		return nil, err
	}
	q := `SELECT database, name, engine, database = currentDatabase(), ` +
		srv.colOr("ifNull(toInt64(total_rows), -1)", "total_rows", "toInt64(-1)") + `, ` +
		srv.colOr("ifNull(toInt64(total_bytes), -1)", "total_bytes", "toInt64(-1)") + `, ` +
		srv.colOr("comment", "comment", "''") + `
FROM system.tables
WHERE database NOT IN ` + chSystemDatabases + ` AND NOT startsWith(name, '.inner') AND (? = '' OR database = ?)
ORDER BY database != currentDatabase(), database, name
LIMIT 5000`
	var out []tableInfo
	err = e.chRowsQuery(ctx, q, func(r driver.Rows) error {
		var t tableInfo
		var current bool
		if err := r.Scan(&t.Schema, &t.Name, &t.Kind, &current, &t.Rows, &t.Bytes, &t.Comment); err != nil {
			return err
		}
		if sz, ok := sizes[t.Schema+"."+t.Name]; ok {
			t.Rows, t.Bytes = sz[0], sz[1]
		}
		if current && schema == "" {
			t.Schema = "" // names in the connection's database need no prefix
		}
		out = append(out, t)
		return nil
	}, schema, schema)
	return out, err
}

// partSizes sums the active parts of MergeTree tables, keyed db.table: row
// counts and sizes that 18.x's system.tables does not have.
func (e *chEngine) partSizes(ctx context.Context, db, table string) (map[string][2]int64, error) {
	out := map[string][2]int64{}
	err := e.chRowsQuery(ctx, `
SELECT database, table, toInt64(sum(rows)), toInt64(sum(bytes_on_disk))
FROM system.parts
WHERE active AND database NOT IN `+chSystemDatabases+` AND (? = '' OR database = ?) AND (? = '' OR table = ?)
GROUP BY database, table`, func(r driver.Rows) error {
		var d, t string
		var rows, bytes int64
		if err := r.Scan(&d, &t, &rows, &bytes); err != nil {
			return err
		}
		out[d+"."+t] = [2]int64{rows, bytes}
		return nil
	}, db, db, table, table)
	return out, err
}

// splitCHName splits db.table; either part may be quoted with backquotes
// or double quotes.
func splitCHName(name string) (db, table string) {
	unquote := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && (s[0] == '`' || s[0] == '"') && s[len(s)-1] == s[0] {
			return s[1 : len(s)-1]
		}
		return s
	}
	if strings.HasPrefix(name, "`") || strings.HasPrefix(name, `"`) {
		if end := strings.IndexByte(name[1:], name[0]); end >= 0 && end+2 < len(name) && name[end+2] == '.' {
			return unquote(name[:end+2]), unquote(name[end+3:])
		}
		return "", unquote(name)
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return unquote(name[:i]), unquote(name[i+1:])
	}
	return "", unquote(name)
}

func (e *chEngine) describe(ctx context.Context, name string) (*tableDesc, error) {
	srv, err := e.prepare(ctx)
	if err != nil {
		return nil, err
	}
	db, table := splitCHName(name)
	var t chTable
	found := false
	q := `SELECT database, name, engine, engine_full, create_table_query, database = currentDatabase(), ` +
		srv.colOr("partition_key", "partition_key", "''") + `, ` +
		srv.colOr("sorting_key", "sorting_key", "''") + `, ` +
		srv.colOr("primary_key", "primary_key", "''") + `, ` +
		srv.colOr("sampling_key", "sampling_key", "''") + `, ` +
		srv.colOr("ifNull(toInt64(total_rows), -1)", "total_rows", "toInt64(-1)") + `, ` +
		srv.colOr("comment", "comment", "''") + `
FROM system.tables
WHERE database = if(? = '', currentDatabase(), ?) AND lower(name) = lower(?)
ORDER BY name = ? DESC LIMIT 1`
	err = e.chRowsQuery(ctx, q, func(r driver.Rows) error {
		found = true
		return r.Scan(&t.db, &t.name, &t.engine, &t.engineFull, &t.create, &t.current,
			&t.partitionKey, &t.sortingKey, &t.primaryKey, &t.samplingKey, &t.rows, &t.comment)
	}, db, db, table, table)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &notFoundError{name: name}
	}
	if sizes, err := e.partSizes(ctx, t.db, t.name); err == nil {
		if sz, ok := sizes[t.db+"."+t.name]; ok {
			t.rows = sz[0]
		}
	}
	d := t.desc()
	err = e.chRowsQuery(ctx, `SELECT name, type, default_kind, default_expression, comment FROM system.columns WHERE database = ? AND table = ?`,
		func(r driver.Rows) error {
			var c columnDesc
			var kind, expr string
			if err := r.Scan(&c.Name, &c.Type, &kind, &expr, &c.Comment); err != nil {
				return err
			}
			d.Columns = append(d.Columns, chColumn(c, kind, expr))
			return nil
		}, t.db, t.name)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// chTable is a row of system.tables.
type chTable struct {
	db, name, engine, engineFull, create, comment     string
	partitionKey, sortingKey, primaryKey, samplingKey string
	current                                           bool
	rows                                              int64
}

// desc turns the table's keys and engine into describe_table's lines.
// Servers older than 18.16 have no key columns: they come from engine_full.
func (t chTable) desc() *tableDesc {
	d := &tableDesc{Name: t.name, Kind: chKind(t.engine), Comment: t.comment, Rows: t.rows}
	if !t.current {
		d.Name = t.db + "." + t.name
	}
	if strings.HasSuffix(t.engine, "View") {
		d.Rows = -1
	}
	head, clauses := splitEngineFull(t.engineFull)
	key := func(col, clause string) string {
		if col != "" {
			return col
		}
		return stripParens(clauses[clause])
	}
	if head != "" && head != t.engine {
		d.Constraints = append(d.Constraints, "ENGINE = "+head) // with its arguments
	}
	pk, order := key(t.primaryKey, "PRIMARY KEY"), key(t.sortingKey, "ORDER BY")
	if pk == "" {
		pk = order // without PRIMARY KEY, the sorting key is the primary key
	}
	if pk != "" {
		d.Constraints = append(d.Constraints, "PRIMARY KEY ("+pk+")")
	}
	if order != "" && order != pk {
		d.Constraints = append(d.Constraints, "ORDER BY ("+order+")")
	}
	if p := key(t.partitionKey, "PARTITION BY"); p != "" {
		d.Constraints = append(d.Constraints, "PARTITION BY "+p)
	}
	if s := key(t.samplingKey, "SAMPLE BY"); s != "" {
		d.Constraints = append(d.Constraints, "SAMPLE BY "+s)
	}
	for _, c := range []string{"TTL", "SETTINGS"} {
		if v := clauses[c]; v != "" && v != "index_granularity = 8192" { // the default says nothing
			d.Constraints = append(d.Constraints, c+" "+v)
		}
	}
	if as := viewQuery(t.create); as != "" {
		d.Constraints = append(d.Constraints, "AS "+as)
	}
	return d
}

// stripParens removes one pair of parentheses around all of s: "(a, b)"
// becomes "a, b", while "f(x)" and "(a) + (b)" stay as they are.
func stripParens(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return s
	}
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '`' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth == 0 && i < len(s)-1 {
				return s // the first "(" closes before the end
			}
		}
	}
	return strings.TrimSpace(s[1 : len(s)-1])
}

// chKind names what describe_table shows first: the engine, and whether it
// is a table or a view.
func chKind(engine string) string {
	switch engine {
	case "View":
		return "view"
	case "MaterializedView":
		return "materialized view"
	case "LiveView", "WindowView":
		return engine + " view"
	case "Dictionary":
		return "dictionary"
	}
	return engine + " table"
}

// chColumn adds the default, materialized or alias expression of a column.
// A plain DEFAULT is the column's default; MATERIALIZED, ALIAS and
// EPHEMERAL columns are not stored as given, so they are part of the type.
func chColumn(c columnDesc, kind, expr string) columnDesc {
	c.Nullable = strings.HasPrefix(strings.TrimPrefix(c.Type, "LowCardinality("), "Nullable(")
	switch {
	case kind == "DEFAULT":
		c.Default = expr
	case kind != "":
		c.Type += " " + kind + " " + expr
	}
	return c
}

// engineClauses are the clauses of engine_full, in the order ClickHouse
// writes them.
var engineClauses = []string{"PARTITION BY", "PRIMARY KEY", "ORDER BY", "SAMPLE BY", "TTL", "SETTINGS"}

// splitEngineFull splits "MergeTree PARTITION BY p ORDER BY k SETTINGS s"
// into the engine with its arguments and the clauses, ignoring keywords
// inside parentheses and quotes.
func splitEngineFull(full string) (head string, clauses map[string]string) {
	clauses = map[string]string{}
	type mark struct {
		at   int
		name string
	}
	var marks []mark
	for _, i := range topLevel(full, ' ') {
		for _, k := range engineClauses {
			if strings.HasPrefix(full[i+1:], k+" ") {
				marks = append(marks, mark{i, k})
			}
		}
	}
	end := len(full)
	for j := len(marks) - 1; j >= 0; j-- {
		m := marks[j]
		clauses[m.name] = strings.TrimSpace(full[m.at+1+len(m.name) : end])
		end = m.at
	}
	return strings.TrimSpace(full[:end]), clauses
}

// viewQuery returns the SELECT of a view's CREATE statement, or "".
func viewQuery(create string) string {
	if !strings.HasPrefix(create, "CREATE VIEW") && !strings.HasPrefix(create, "CREATE MATERIALIZED VIEW") {
		return ""
	}
	for _, k := range []string{" AS SELECT ", " AS WITH ", " AS (SELECT "} {
		if i := strings.Index(create, k); i >= 0 {
			q := strings.TrimSpace(create[i+4:])
			if len(q) > 2000 {
				q = q[:2000] + "..."
			}
			return q
		}
	}
	return ""
}

// explain shows EXPLAIN's plan on servers that have it (20.6 and newer).
// analyze=true also runs the query and reports what it read, which is all
// that older servers can show.
func (e *chEngine) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	srv, err := e.prepare(ctx)
	if err != nil {
		return "", err
	}
	if !srv.atLeast(20, 6) {
		if !analyze {
			return "", fmt.Errorf("%w: ClickHouse %s has no EXPLAIN (it arrived in 20.6); pass analyze=true to run the query and see the rows and bytes it reads and the time it takes", errNoExplain, srv.version)
		}
		stats, err := e.runStats(ctx, st.SQL)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("ClickHouse %s has no EXPLAIN (it arrived in 20.6), so the query ran instead.\n%s", srv.version, stats), nil
	}
	plan, err := e.plan(ctx, "EXPLAIN indexes = 1 ", st.SQL)
	if err != nil {
		// indexes = 1 arrived after EXPLAIN itself.
		var qe *queryError
		if !errors.As(err, &qe) {
			return "", err
		}
		if plan, err = e.plan(ctx, "EXPLAIN ", st.SQL); err != nil {
			return "", err
		}
	}
	if analyze {
		stats, err := e.runStats(ctx, st.SQL)
		if err != nil {
			return "", err
		}
		plan += "\n" + stats
	}
	return plan, nil
}

// plan runs prefix+sql and joins the lines it returns.
func (e *chEngine) plan(ctx context.Context, prefix, sql string) (string, error) {
	qctx, cancel := e.queryCtx(ctx)
	defer cancel()
	rows, err := e.conn.Query(qctx, prefix+sql)
	if err != nil {
		return "", e.queryErrAt(ctx, err, sql, len(prefix))
	}
	defer closeRows(rows, cancel)
	var b strings.Builder
	for n := 0; rows.Next() && n < 2000; n++ {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", e.queryErr(ctx, err, sql)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		return "", e.queryErrAt(ctx, err, sql, len(prefix))
	}
	return b.String(), nil
}

// runStats runs a statement to the end, discarding its rows, and reports
// the time taken and what the server read.
func (e *chEngine) runStats(ctx context.Context, sql string) (string, error) {
	var mu sync.Mutex
	var readRows, readBytes uint64
	progress := clickhouse.WithProgress(func(p *clickhouse.Progress) {
		mu.Lock()
		readRows += p.Rows
		readBytes += p.Bytes
		mu.Unlock()
	})
	qctx, cancel := e.queryCtx(ctx, progress)
	defer cancel()
	start := time.Now()
	rows, err := e.conn.Query(qctx, sql)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", e.queryErr(ctx, err, sql)
	}
	n := 0
	if err == nil {
		defer closeRows(rows, cancel)
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			return "", e.queryErr(ctx, err, sql)
		}
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("Ran in %s: read %s rows (%s) and returned %s rows.\n",
		ms(elapsed), render.Count(int(readRows)), render.Bytes(int(readBytes)), render.Count(n)), nil
}
