package databases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/sqlguard"
)

var sqliteProvider = &provider{
	Provider: connections.Provider{
		Name:    "sqlite",
		Aliases: []string{"sqlite3"},
		Title:   "SQLite",
		Fields: []config.Field{
			{Name: "url", Help: "sqlite:///absolute/path.db or sqlite:relative/path.db"},
			{Name: "path", Help: "path of the database file"},
		},
		DefaultName: func(v config.Values) string {
			p, _ := sqlitePath(v)
			return fileLabel(p)
		},
	},
	schemes: []string{"sqlite", "sqlite3", "file"},
	open:    openSQLite,
}

// sqlitePath reads the file path from the path or url setting.
func sqlitePath(v config.Values) (string, error) {
	if p := v.Get("path"); p != "" {
		return p, nil
	}
	raw := v.Get("url")
	if raw == "" {
		return "", errors.New("SQLite needs a path (sqlite:///absolute/path.db or sqlite:relative/path.db)")
	}
	s := scheme(raw)
	rest := raw[len(s)+1:]
	switch {
	case strings.HasPrefix(rest, "//"):
		// sqlite:///abs/path → /abs/path; sqlite://rel/path → rel/path
		rest = rest[2:]
		if !strings.HasPrefix(rest, "/") {
			rest = strings.TrimPrefix(rest, "localhost")
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	p, err := url.PathUnescape(rest)
	if err != nil || p == "" {
		return "", fmt.Errorf("cannot read a file path from %q; write sqlite:///absolute/path.db or sqlite:relative/path.db", raw)
	}
	return p, nil
}

// sqliteEngine opens the file read-only (mode=ro) with query_only set, and
// installs an authorizer on every connection that lets SQLite compile only
// reads: so SQLite itself refuses every write, ATTACH (which could create
// files) and file-touching functions, whatever the statement.
type sqliteEngine struct {
	path string
	db   *sql.DB
}

func openSQLite(v config.Values, _ config.Limits) (engine, error) {
	path, err := sqlitePath(v)
	if err != nil {
		return nil, err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)&_pragma=trusted_schema(0)"
	db, err := sql.Open(sqliteReadOnlyDriver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return &sqliteEngine{path: path, db: db}, nil
}

// sqliteReadOnlyDriver is modernc's driver registered under a name of our
// own, so its authorizer applies to our connections only.
const sqliteReadOnlyDriver = "opstower-sqlite-readonly"

func init() {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		r, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("the SQLite driver cannot install a read-only authorizer")
		}
		return r.RegisterAuthorizer(authorizeRead)
	})
	sql.Register(sqliteReadOnlyDriver, d)
}

// sqliteTablePragmas take a table or index name as their argument.
var sqliteTablePragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true,
	"index_info": true, "index_xinfo": true, "foreign_key_list": true,
}

// authorizeRead allows what a read needs and denies everything else.
func authorizeRead(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthFunction:
		if _, denied := sqlguard.DeniedFunction(sqlguard.SQLite, arg2); denied {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		name := strings.ToLower(arg1)
		if sqliteTablePragmas[name] || (arg2 == "" && sqlguard.ReadPragma(name)) {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}

func (e *sqliteEngine) dialect() sqlguard.Dialect { return sqlguard.SQLite }

func (e *sqliteEngine) close() error { return e.db.Close() }

func (e *sqliteEngine) ping(ctx context.Context) error {
	if err := e.exists(); err != nil {
		return err
	}
	return e.db.PingContext(ctx)
}

// exists gives a clear error for a missing file; SQLite's own is vague.
func (e *sqliteEngine) exists() error {
	if _, err := os.Stat(e.path); err != nil {
		return fmt.Errorf("SQLite database file %s: %w", e.path, errors.Unwrap(err))
	}
	return nil
}

func (e *sqliteEngine) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	if err := e.exists(); err != nil {
		return err
	}
	rows, err := e.db.QueryContext(ctx, st.SQL)
	if err != nil {
		return e.queryErr(err)
	}
	defer rows.Close()
	return scanRows(rows, s, sqliteType)
}

func sqliteType(ct *sql.ColumnType) string { return strings.ToLower(ct.DatabaseTypeName()) }

// scanRows streams database/sql rows into the sink, formatting each value
// exactly (integers in full, floats in shortest round-trip form, times in
// RFC 3339 with all their digits).
func scanRows(rows *sql.Rows, s *sink, typeName func(*sql.ColumnType) string) error {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]render.Column, len(cts))
	for i, ct := range cts {
		cols[i] = render.Column{Name: ct.Name(), Type: typeName(ct)}
	}
	s.columns(cols)
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	cells := make([][]byte, len(cts))
	bounds := make([][2]int, len(cts))
	buf := make([]byte, 0, 512) // non-nil, so an empty value is not NULL
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		buf = buf[:0]
		for i, v := range vals {
			if v == nil {
				bounds[i] = [2]int{-1, -1}
				continue
			}
			start := len(buf)
			buf = appendValue(buf, v)
			bounds[i] = [2]int{start, len(buf)}
		}
		for i, bd := range bounds {
			if bd[0] < 0 {
				cells[i] = nil
			} else {
				cells[i] = buf[bd[0]:bd[1]]
			}
		}
		if !s.add(cells) {
			return nil
		}
	}
	return rows.Err()
}

// appendValue appends the exact text form of a database/sql value.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		// Shortest digits that round-trip, without an exponent for the
		// magnitudes people read (strconv's 'g' switches at 1e6).
		if a := math.Abs(x); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(b, x, 'f', -1, 64)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case time.Time:
		return x.AppendFormat(b, time.RFC3339Nano)
	}
	return fmt.Append(b, v)
}

func (e *sqliteEngine) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	if err := e.exists(); err != nil {
		return nil, err
	}
	if schema != "" && schema != "main" {
		return nil, nil
	}
	rows, err := e.db.QueryContext(ctx, `SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, e.queryErr(err)
	}
	var out []tableInfo
	for rows.Next() {
		var t tableInfo
		if err := rows.Scan(&t.Name, &t.Kind); err != nil {
			rows.Close()
			return nil, err
		}
		t.Rows, t.Bytes = -1, -1
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e.estimateRows(ctx, out)
	return out, nil
}

// estimateRows fills row counts: from ANALYZE's statistics where present,
// else by counting, within a small time budget so a huge file stays fast.
func (e *sqliteEngine) estimateRows(ctx context.Context, tabs []tableInfo) {
	stats := map[string]int64{}
	if rows, err := e.db.QueryContext(ctx, `SELECT tbl, stat FROM sqlite_stat1 WHERE idx IS NULL OR idx = tbl OR stat NOT LIKE '% %'`); err == nil {
		for rows.Next() {
			var tbl, stat string
			if rows.Scan(&tbl, &stat) == nil {
				n, _ := strconv.ParseInt(strings.Fields(stat + " ")[0], 10, 64)
				stats[tbl] = n
			}
		}
		rows.Close()
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	for i := range tabs {
		if n, ok := stats[tabs[i].Name]; ok {
			tabs[i].Rows = n
			continue
		}
		if tabs[i].Kind != "table" || time.Now().After(deadline) {
			continue
		}
		cctx, cancel := context.WithDeadline(ctx, deadline)
		var n int64
		if e.db.QueryRowContext(cctx, `SELECT count(*) FROM "`+strings.ReplaceAll(tabs[i].Name, `"`, `""`)+`"`).Scan(&n) == nil {
			tabs[i].Rows = n
		}
		cancel()
	}
}

func (e *sqliteEngine) describe(ctx context.Context, name string) (*tableDesc, error) {
	if err := e.exists(); err != nil {
		return nil, err
	}
	bare := strings.TrimPrefix(name, "main.")
	d := &tableDesc{Rows: -1}
	err := e.db.QueryRowContext(ctx, `SELECT name, type FROM sqlite_schema WHERE type IN ('table','view') AND name = ? COLLATE NOCASE`, bare).Scan(&d.Name, &d.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &notFoundError{name: name}
	}
	if err != nil {
		return nil, e.queryErr(err)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3) ORDER BY cid`, d.Name)
	if err != nil {
		return nil, e.queryErr(err)
	}
	var pk []string
	for rows.Next() {
		var c columnDesc
		var notNull, pkPos int
		var def sql.NullString
		if err := rows.Scan(&c.Name, &c.Type, &notNull, &def, &pkPos); err != nil {
			rows.Close()
			return nil, err
		}
		c.Nullable, c.Default = notNull == 0 && pkPos == 0, def.String
		if pkPos > 0 {
			pk = append(pk, c.Name)
		}
		d.Columns = append(d.Columns, c)
	}
	rows.Close()
	if len(pk) > 0 {
		d.Constraints = append(d.Constraints, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
	}
	fks, err := e.db.QueryContext(ctx, `SELECT "from", "table", COALESCE("to", ''), on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`, d.Name)
	if err == nil {
		for fks.Next() {
			var from, table, to, onDelete string
			if fks.Scan(&from, &table, &to, &onDelete) == nil {
				k := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", from, table, to)
				if onDelete != "NO ACTION" {
					k += " ON DELETE " + onDelete
				}
				d.Constraints = append(d.Constraints, k)
			}
		}
		fks.Close()
	}
	ixs, err := e.db.QueryContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, d.Name)
	if err == nil {
		for ixs.Next() {
			var s string
			if ixs.Scan(&s) == nil {
				d.Indexes = append(d.Indexes, s)
			}
		}
		ixs.Close()
	}
	if d.Kind == "table" {
		tabs := []tableInfo{{Name: d.Name, Kind: "table", Rows: -1}}
		e.estimateRows(ctx, tabs)
		d.Rows = tabs[0].Rows
	}
	return d, nil
}

func (e *sqliteEngine) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	if err := e.exists(); err != nil {
		return "", err
	}
	rows, err := e.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+st.SQL)
	if err != nil {
		return "", e.queryErr(err)
	}
	depth := map[int]int{}
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			rows.Close()
			return "", err
		}
		depth[id] = depth[parent] + 1
		b.WriteString(strings.Repeat("  ", depth[id]-1) + detail + "\n")
	}
	rows.Close()
	if analyze {
		start := time.Now()
		r, err := e.db.QueryContext(ctx, st.SQL)
		if err != nil {
			return "", e.queryErr(err)
		}
		n := 0
		for r.Next() {
			n++
		}
		r.Close()
		fmt.Fprintf(&b, "Ran in %s and returned %s rows (SQLite reports no per-step timings).\n", ms(time.Since(start)), render.Count(n))
	}
	return b.String(), nil
}

var sqliteNoTable = regexp.MustCompile(`no such table: (\S+)`)

func (e *sqliteEngine) queryErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	msg := strings.TrimPrefix(se.Error(), "SQL logic error: ")
	qe := &queryError{msg: "SQLite: " + msg}
	if m := sqliteNoTable.FindStringSubmatch(msg); m != nil {
		qe.table = strings.TrimPrefix(m[1], "main.")
	}
	if strings.Contains(msg, "readonly") || strings.Contains(msg, "read-only") || strings.Contains(msg, "query_only") {
		qe.msg += " (this connection is read-only)"
	}
	return qe
}
