package databases

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

var mysqlProvider = &provider{
	Provider: connections.Provider{
		Name:    "mysql",
		Aliases: []string{"mariadb"},
		Title:   "MySQL/MariaDB",
		Fields: []config.Field{
			{Name: "url", Secret: true, Required: true, Help: "mysql://user:password@host:3306/dbname"},
			{Name: "password", Secret: true, Help: "overrides the password in url"},
		},
		DefaultName: func(v config.Values) string { return dbNameFromURL(v.Secret("url").Reveal(), "mysql") },
	},
	schemes: []string{"mysql", "mariadb"},
	open:    openMySQL,
}

// mysqlEngine runs every statement in its own START TRANSACTION READ ONLY,
// on sessions that also default to read-only, with a per-statement time
// limit and sql_select_limit so the server never sends much more than can
// be shown. The explicit transaction matters: a session setting alone could
// be switched back by a statement on the same session. Values come from the text protocol, exactly
// as the server formats them. A cancelled call kills its statement on the
// server with KILL QUERY.
type mysqlEngine struct {
	db      *sql.DB
	addr    string
	dbName  string
	user    string
	timeout time.Duration
}

func openMySQL(v config.Values, l config.Limits) (engine, error) {
	cfg, err := mysqlConfig(v.Secret("url").Reveal())
	if err != nil {
		return nil, err
	}
	if pw := v.Secret("password"); !pw.IsZero() {
		cfg.Passwd = pw.Reveal()
	}
	secret.New(cfg.Passwd)
	base, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid MySQL URL: %s", secret.Scrub(err.Error()))
	}
	timeout := time.Duration(l.Timeout)
	e := &mysqlEngine{addr: cfg.Addr, dbName: cfg.DBName, user: cfg.User, timeout: timeout}
	e.db = sql.OpenDB(&mysqlConnector{base: base, timeout: timeout, selectLimit: l.MaxRows + 1})
	e.db.SetMaxOpenConns(8)
	e.db.SetMaxIdleConns(4)
	e.db.SetConnMaxIdleTime(5 * time.Minute)
	return e, nil
}

// mysqlConfig converts a mysql://user:pass@host:port/db?param=value URL.
func mysqlConfig(raw string) (*mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("invalid MySQL URL; write mysql://user:password@host:3306/dbname")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	host := u.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = strings.Trim(u.Path, "/")
	cfg.Timeout = 10 * time.Second
	cfg.MultiStatements = false // the server refuses "SELECT 1; DROP ..." outright
	cfg.InterpolateParams = false
	for k, vals := range u.Query() {
		val := vals[len(vals)-1]
		switch k {
		case "tls", "ssl-mode", "sslmode":
			if val == "required" || val == "require" || val == "REQUIRED" {
				val = "true"
			}
			cfg.TLSConfig = val
		case "charset":
			cfg.Params = map[string]string{"charset": val}
		case "timeout":
			d, err := time.ParseDuration(val)
			if err != nil {
				return nil, fmt.Errorf("invalid MySQL URL parameter timeout=%q: write a duration such as 5s", val)
			}
			cfg.Timeout = d
		default:
			return nil, fmt.Errorf("unsupported MySQL URL parameter %q; supported: tls, charset, timeout", k)
		}
	}
	if cfg.TLSConfig != "" {
		if err := cfg.Apply(); err != nil {
			return nil, fmt.Errorf("invalid MySQL TLS setting: %v", err)
		}
	}
	return cfg, nil
}

// mysqlConnector sets up each new session before database/sql uses it.
type mysqlConnector struct {
	base        driver.Connector
	timeout     time.Duration
	selectLimit int
}

func (c *mysqlConnector) Driver() driver.Driver { return c.base.Driver() }

func (c *mysqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	mc := &mysqlConn{Conn: dc}
	if err := mc.setup(ctx, c.timeout, c.selectLimit); err != nil {
		dc.Close()
		return nil, err
	}
	return mc, nil
}

// mysqlConn is a driver connection that knows its server thread id (for
// KILL QUERY) and flavour. It forwards the interfaces database/sql uses.
type mysqlConn struct {
	driver.Conn
	id      uint64
	mariadb bool
	version string
}

func (mc *mysqlConn) setup(ctx context.Context, timeout time.Duration, selectLimit int) error {
	q := mc.Conn.(driver.QueryerContext)
	rows, err := q.QueryContext(ctx, "SELECT CONNECTION_ID(), VERSION()", nil)
	if err != nil {
		return err
	}
	vals := make([]driver.Value, 2)
	if err := rows.Next(vals); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	mc.id, _ = strconv.ParseUint(fmt.Sprint(asString(vals[0])), 10, 64)
	mc.version = asString(vals[1])
	mc.mariadb = strings.Contains(strings.ToLower(mc.version), "mariadb")
	stmts := []string{
		"SET SESSION TRANSACTION READ ONLY",
		"SET SESSION sql_select_limit = " + strconv.Itoa(selectLimit),
	}
	if mc.mariadb {
		stmts = append(stmts, fmt.Sprintf("SET SESSION max_statement_time = %.3f", timeout.Seconds()))
	} else {
		stmts = append(stmts, fmt.Sprintf("SET SESSION max_execution_time = %d", timeout.Milliseconds()))
	}
	ex := mc.Conn.(driver.ExecerContext)
	for _, s := range stmts {
		if _, err := ex.ExecContext(ctx, s, nil); err != nil {
			return fmt.Errorf("setting up a read-only session (%s): %w", s, err)
		}
	}
	return nil
}

func asString(v driver.Value) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func (mc *mysqlConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return mc.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (mc *mysqlConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return mc.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (mc *mysqlConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return mc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (mc *mysqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return mc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (mc *mysqlConn) Ping(ctx context.Context) error { return mc.Conn.(driver.Pinger).Ping(ctx) }

func (mc *mysqlConn) ResetSession(ctx context.Context) error {
	return mc.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (mc *mysqlConn) IsValid() bool { return mc.Conn.(driver.Validator).IsValid() }

func (mc *mysqlConn) CheckNamedValue(nv *driver.NamedValue) error {
	return mc.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

func (e *mysqlEngine) dialect() sqlguard.Dialect { return sqlguard.MySQL }

func (e *mysqlEngine) close() error { return e.db.Close() }

func (e *mysqlEngine) ping(ctx context.Context) error { return e.connErr(e.db.PingContext(ctx)) }

// withConn runs f on one session; if ctx ends first, the statement running
// on that session is killed on the server, not just abandoned.
func (e *mysqlEngine) withConn(ctx context.Context, f func(*sql.Conn, *mysqlConn) error) error {
	c, err := e.db.Conn(ctx)
	if err != nil {
		return e.connErr(err)
	}
	defer c.Close()
	var mc *mysqlConn
	if err := c.Raw(func(dc any) error { mc = dc.(*mysqlConn); return nil }); err != nil {
		return e.connErr(err)
	}
	stop := context.AfterFunc(ctx, func() { e.kill(mc.id) })
	defer stop()
	return f(c, mc)
}

// kill stops a statement on the server from another session.
func (e *mysqlEngine) kill(id uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = e.db.ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(id, 10))
}

func (e *mysqlEngine) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	return e.withConn(ctx, func(c *sql.Conn, _ *mysqlConn) error {
		tx, err := c.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return e.connErr(err)
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, st.SQL)
		if err != nil {
			return e.queryErr(err)
		}
		defer rows.Close()
		if err := scanRawRows(rows, s); err != nil {
			return e.queryErr(err)
		}
		return nil
	})
}

// scanRawRows streams rows as the driver's raw bytes: for the MySQL text
// protocol these are the server's own exact text.
func scanRawRows(rows *sql.Rows, s *sink) error {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]render.Column, len(cts))
	for i, ct := range cts {
		cols[i] = render.Column{Name: ct.Name(), Type: strings.ToLower(ct.DatabaseTypeName())}
	}
	s.columns(cols)
	raw := make([]sql.RawBytes, len(cts))
	ptrs := make([]any, len(cts))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	cells := make([][]byte, len(cts))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, r := range raw {
			cells[i] = r
			if r == nil {
				continue
			}
			if len(r) == 0 {
				cells[i] = []byte{} // empty text, not NULL
			}
		}
		if !s.add(cells) {
			return nil
		}
	}
	return rows.Err()
}

func (e *mysqlEngine) schemaFilter(schema string) (string, []any) {
	if schema != "" {
		return "table_schema = ?", []any{schema}
	}
	if e.dbName != "" {
		return "table_schema = ?", []any{e.dbName}
	}
	return "table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')", nil
}

func (e *mysqlEngine) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	where, args := e.schemaFilter(schema)
	rows, err := e.db.QueryContext(ctx, `
SELECT table_schema, table_name,
       CASE table_type WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' WHEN 'SYSTEM VIEW' THEN 'system view' ELSE LOWER(table_type) END,
       COALESCE(table_rows, -1), COALESCE(data_length + index_length, -1), COALESCE(table_comment, '')
FROM information_schema.tables WHERE `+where+` ORDER BY table_schema, table_name LIMIT 5000`, args...)
	if err != nil {
		return nil, e.connErr(err)
	}
	defer rows.Close()
	var out []tableInfo
	for rows.Next() {
		var t tableInfo
		if err := rows.Scan(&t.Schema, &t.Name, &t.Kind, &t.Rows, &t.Bytes, &t.Comment); err != nil {
			return nil, err
		}
		if t.Kind == "view" {
			t.Rows = -1
		}
		if schema == "" && e.dbName != "" {
			t.Schema = "" // names in the default database need no prefix
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (e *mysqlEngine) describe(ctx context.Context, name string) (*tableDesc, error) {
	schema, table := e.dbName, name
	if i := strings.IndexByte(name, '.'); i >= 0 {
		schema, table = name[:i], name[i+1:]
	}
	schema, table = strings.Trim(schema, "`"), strings.Trim(table, "`")
	d := &tableDesc{}
	var realSchema string
	err := e.db.QueryRowContext(ctx, `
SELECT table_schema, table_name, CASE table_type WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' ELSE LOWER(table_type) END,
       COALESCE(table_comment, ''), COALESCE(table_rows, -1)
FROM information_schema.tables WHERE table_schema = COALESCE(NULLIF(?, ''), DATABASE()) AND LOWER(table_name) = LOWER(?)
ORDER BY table_name = ? DESC LIMIT 1`, schema, table, table).Scan(&realSchema, &d.Name, &d.Kind, &d.Comment, &d.Rows)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &notFoundError{name: name}
	}
	if err != nil {
		return nil, e.connErr(err)
	}
	if d.Kind == "view" {
		d.Rows = -1
	}
	rows, err := e.db.QueryContext(ctx, `
SELECT column_name, column_type, is_nullable = 'YES', COALESCE(column_default, ''), COALESCE(column_comment, ''), extra
FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`, realSchema, d.Name)
	if err != nil {
		return nil, e.connErr(err)
	}
	for rows.Next() {
		var c columnDesc
		var extra string
		if err := rows.Scan(&c.Name, &c.Type, &c.Nullable, &c.Default, &c.Comment, &extra); err != nil {
			rows.Close()
			return nil, err
		}
		if extra != "" {
			c.Type += " " + extra
		}
		d.Columns = append(d.Columns, c)
	}
	rows.Close()
	cons, err := e.db.QueryContext(ctx, `
SELECT k.constraint_name, GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '),
       COALESCE(MAX(k.referenced_table_name), ''),
       COALESCE(GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR ', '), '')
FROM information_schema.key_column_usage k
WHERE k.table_schema = ? AND k.table_name = ?
GROUP BY k.constraint_name ORDER BY k.constraint_name = 'PRIMARY' DESC, k.constraint_name`, realSchema, d.Name)
	if err == nil {
		for cons.Next() {
			var cname, cols, refTable, refCols string
			if cons.Scan(&cname, &cols, &refTable, &refCols) != nil {
				continue
			}
			switch {
			case cname == "PRIMARY":
				d.Constraints = append(d.Constraints, "PRIMARY KEY ("+cols+")")
			case refTable != "":
				d.Constraints = append(d.Constraints, fmt.Sprintf("%s: FOREIGN KEY (%s) REFERENCES %s(%s)", cname, cols, refTable, refCols))
			default:
				d.Constraints = append(d.Constraints, fmt.Sprintf("%s: UNIQUE (%s)", cname, cols))
			}
		}
		cons.Close()
	}
	refs, err := e.db.QueryContext(ctx, `
SELECT table_name, GROUP_CONCAT(column_name ORDER BY ordinal_position SEPARATOR ', '), GROUP_CONCAT(referenced_column_name ORDER BY ordinal_position SEPARATOR ', ')
FROM information_schema.key_column_usage WHERE referenced_table_schema = ? AND referenced_table_name = ?
GROUP BY table_name, constraint_name`, realSchema, d.Name)
	if err == nil {
		for refs.Next() {
			var t, cols, refCols string
			if refs.Scan(&t, &cols, &refCols) == nil {
				d.Constraints = append(d.Constraints, fmt.Sprintf("referenced by %s: FOREIGN KEY (%s) REFERENCES %s(%s)", t, cols, d.Name, refCols))
			}
		}
		refs.Close()
	}
	ixs, err := e.db.QueryContext(ctx, `
SELECT index_name, MAX(non_unique), GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', '), MAX(index_type)
FROM information_schema.statistics WHERE table_schema = ? AND table_name = ?
GROUP BY index_name ORDER BY index_name = 'PRIMARY' DESC, index_name`, realSchema, d.Name)
	if err == nil {
		for ixs.Next() {
			var iname, cols, typ string
			var nonUnique int
			if ixs.Scan(&iname, &nonUnique, &cols, &typ) != nil {
				continue
			}
			kind := "INDEX"
			if nonUnique == 0 {
				kind = "UNIQUE INDEX"
			}
			d.Indexes = append(d.Indexes, fmt.Sprintf("%s %s (%s) USING %s", kind, iname, cols, typ))
		}
		ixs.Close()
	}
	if realSchema != e.dbName {
		d.Name = realSchema + "." + d.Name
	}
	return d, nil
}

func (e *mysqlEngine) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	var out string
	err := e.withConn(ctx, func(c *sql.Conn, mc *mysqlConn) error {
		prefix := "EXPLAIN "
		if analyze {
			prefix = "EXPLAIN ANALYZE "
			if mc.mariadb {
				prefix = "ANALYZE "
			}
		}
		rows, err := c.QueryContext(ctx, prefix+st.SQL)
		if err != nil {
			return e.queryErr(err)
		}
		defer rows.Close()
		s := newSink(1000, 64<<10)
		if err := scanRawRows(rows, s); err != nil {
			return e.queryErr(err)
		}
		out = s.table.Render(fmt.Sprintf("Plan from %s:", mc.version), "")
		return nil
	})
	return out, err
}

var mysqlMissingTable = regexp.MustCompile(`Table '([^']+)' doesn't exist`)

func (e *mysqlEngine) queryErr(err error) error {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return e.connErr(err)
	}
	switch me.Number {
	case 1969, 3024: // MariaDB max_statement_time, MySQL max_execution_time
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, me.Message)
	case 1317: // query interrupted (KILL QUERY after cancellation)
		return context.Canceled
	}
	qe := &queryError{msg: fmt.Sprintf("MySQL error %d: %s", me.Number, me.Message)}
	if me.Number == 1792 {
		qe.msg += " (this connection is read-only)"
	}
	if m := mysqlMissingTable.FindStringSubmatch(me.Message); m != nil {
		t := m[1]
		if i := strings.IndexByte(t, '.'); i >= 0 && t[:i] == e.dbName {
			t = t[i+1:]
		}
		qe.table = t
	}
	return qe
}

func (e *mysqlEngine) connErr(err error) error {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return &queryError{msg: fmt.Sprintf("MySQL error %d: %s", me.Number, me.Message)}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("cannot reach MySQL at %s (database %q, user %q): %s", e.addr, e.dbName, e.user, secret.Scrub(err.Error()))
}
