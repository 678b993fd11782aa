package databases_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// supaFixture is the database behind the fake PostgREST. Column types are
// PostgreSQL's names, which the fake reports in its OpenAPI document as
// PostgREST does; numeric and jsonb values are stored as their JSON text
// (numeric_blob keeps SQLite from turning numbers into floats).
var supaFixture = []string{
	`CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text)`,
	`CREATE TABLE orders (
		id bigint PRIMARY KEY,
		customer_id bigint NOT NULL REFERENCES customers(id),
		status text NOT NULL DEFAULT 'new',
		note text,
		amount numeric_blob,
		big bigint,
		meta jsonb,
		paid boolean)`,
	`CREATE VIEW paid_orders AS SELECT id, amount FROM orders WHERE paid`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
	 INSERT INTO customers (id, name, email) SELECT i, 'customer ' || i, 'c' || i || '@example.com' FROM n`,
	`INSERT INTO orders VALUES
		(1, 3, 'shipped', NULL, '1234567890123456789012345678.91', 9007199254740993, '{"b":1,"a":[true,null]}', 1),
		(2, 3, 'new', '', '0.10', 9223372036854775807, NULL, 0),
		(3, 7, 'shipped', 'gift, (wrapped)', NULL, NULL, NULL, NULL),
		(4, 9, 'cancelled', 'it''s "late"', '5', -1, NULL, 1)`,
}

var supaComments = map[string]string{"orders": "Orders placed in the shop.\nOne row per checkout.", "orders.status": "new, shipped or cancelled"}

// supaFake speaks PostgREST as Supabase serves it under /rest/v1: the
// OpenAPI document at /rest/v1/, GET and HEAD on tables with select,
// filters (eq, neq, lt, lte, gt, gte, like, ilike, is, in, and not.),
// order, limit and offset, Prefer: count=exact|planned answered in
// Content-Range, Accept-Profile, PostgREST's error bodies, and the
// gateway's apikey check. It runs the requests on a real SQLite database.
type supaFake struct {
	t   *testing.T
	srv *httptest.Server
	db  *sql.DB
	key string

	mu      sync.Mutex
	seen    []*http.Request
	pending []d1FakeAnswer
}

func newSupaFake(t *testing.T, key string) *supaFake {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "supabase.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range supaFixture {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("fixture %q: %v", stmt, err)
		}
	}
	f := &supaFake{t: t, db: db, key: key}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *supaFake) fail(status int, header map[string]string, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, d1FakeAnswer{status: status, header: header, body: body})
}

func (f *supaFake) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.seen...)
}

func (f *supaFake) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !f.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":"Invalid API key","hint":"Double check your Supabase anon or service_role API key (got %s)."}`, r.Header.Get("apikey"))
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, r.Clone(context.Background()))
	var answer *d1FakeAnswer
	if len(f.pending) > 0 {
		answer = &f.pending[0]
		f.pending = f.pending[1:]
	}
	f.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		f.t.Errorf("the REST form sent %s %s; it must only read", r.Method, r.URL)
		supaFakeError(w, http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: "+r.Method, nil)
		return
	}
	if answer != nil {
		for k, v := range answer.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(answer.status)
		_, _ = w.Write([]byte(answer.body))
		return
	}
	if p := r.Header.Get("Accept-Profile"); p != "" && p != "public" {
		supaFakeError(w, http.StatusNotAcceptable, "PGRST106", "Invalid schema: "+p, "Only the following schemas are exposed: public, graphql_public")
		return
	}
	switch path := strings.TrimPrefix(r.URL.Path, "/rest/v1"); {
	case path == "/" || path == "":
		f.openAPI(w)
	case strings.HasPrefix(path, "/rpc/"):
		supaFakeError(w, http.StatusNotFound, "PGRST202", "Could not find the function", nil)
	default:
		f.table(w, r, strings.TrimPrefix(path, "/"))
	}
}

// authorized checks the gateway's rules: apikey always; a legacy JWT key
// also as a bearer token; a new secret key never as a bearer token.
func (f *supaFake) authorized(r *http.Request) bool {
	if r.Header.Get("apikey") != f.key {
		return false
	}
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(f.key, "eyJ") {
		return auth == "Bearer "+f.key
	}
	return auth == ""
}

func supaFakeError(w http.ResponseWriter, status int, code, msg string, hint any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "details": nil, "hint": hint, "message": msg})
}

type supaFakeColumn struct {
	name, typ, def string
	notNull, pk    bool
	fk             [2]string
}

// columns reads a table's columns from SQLite, in order.
func (f *supaFake) columns(table string) []supaFakeColumn {
	rows, err := f.db.Query(`SELECT name, type, "notnull", COALESCE(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []supaFakeColumn
	for rows.Next() {
		var c supaFakeColumn
		var pk int
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.def, &pk); err != nil {
			f.t.Fatal(err)
		}
		c.typ = strings.TrimSuffix(strings.ToLower(c.typ), "_blob")
		c.pk = pk > 0
		c.notNull = c.notNull || c.pk
		out = append(out, c)
	}
	fks, err := f.db.Query(`SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)`, table)
	if err != nil {
		f.t.Fatal(err)
	}
	defer fks.Close()
	for fks.Next() {
		var from, to, col string
		if err := fks.Scan(&from, &to, &col); err != nil {
			f.t.Fatal(err)
		}
		for i := range out {
			if out[i].name == from {
				out[i].fk = [2]string{to, col}
			}
		}
	}
	return out
}

func (f *supaFake) relations() map[string]string {
	rows, err := f.db.Query(`SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			f.t.Fatal(err)
		}
		out[name] = kind
	}
	return out
}

// openAPI writes the document PostgREST serves at the root: definitions
// with properties in column order, paths with write methods for tables.
func (f *supaFake) openAPI(w http.ResponseWriter) {
	var defs, paths []string
	for name, kind := range f.relations() {
		var props, required []string
		for _, c := range f.columns(name) {
			props = append(props, string(d1FakeJSON(c.name))+":"+supaFakeProperty(name, c))
			if c.notNull {
				required = append(required, c.name)
			}
		}
		def := map[string]any{"type": "object"}
		if d, ok := supaComments[name]; ok {
			def["description"] = d
		}
		if len(required) > 0 {
			def["required"] = required
		}
		head := string(d1FakeJSON(def))
		defs = append(defs, fmt.Sprintf(`%s:%s,"properties":{%s}}`, d1FakeJSON(name), head[:len(head)-1], strings.Join(props, ",")))
		methods := `"get":{"responses":{"200":{"description":"OK"}}}`
		if kind == "table" {
			methods += `,"post":{"responses":{"201":{"description":"Created"}}},"patch":{},"delete":{}`
		}
		paths = append(paths, fmt.Sprintf(`"/%s":{%s}`, name, methods))
	}
	fmt.Fprintf(w, `{"swagger":"2.0","info":{"description":"","title":"standard public schema","version":"14.1"},"host":"abcdefghijklmnopqrst.supabase.co:443","basePath":"/","schemes":["https"],"consumes":["application/json"],"produces":["application/json"],"paths":{"/":{"get":{"tags":["Introspection"],"summary":"OpenAPI description (this document)"}},%s},"definitions":{%s}}`,
		strings.Join(paths, ","), strings.Join(defs, ","))
}

func supaFakeProperty(table string, c supaFakeColumn) string {
	p := map[string]any{"format": c.typ}
	switch c.typ {
	case "bigint":
		p["type"] = "integer"
	case "numeric":
		p["type"] = "number"
	case "boolean":
		p["type"] = "boolean"
	case "jsonb":
	default:
		p["type"] = "string"
	}
	var notes []string
	if c.pk {
		notes = append(notes, "This is a Primary Key.<pk/>")
	}
	if c.fk[0] != "" {
		notes = append(notes, fmt.Sprintf("This is a Foreign Key to `%s.%s`.<fk table='%s' column='%s'/>", c.fk[0], c.fk[1], c.fk[0], c.fk[1]))
	}
	desc := supaComments[table+"."+c.name]
	if len(notes) > 0 {
		if desc != "" {
			desc += "\n\n"
		}
		desc += "Note:\n" + strings.Join(notes, "\n")
	}
	if desc != "" {
		p["description"] = desc
	}
	if c.def != "" {
		p["default"] = strings.Trim(c.def, "'")
	}
	return string(d1FakeJSON(p))
}

var supaFakeOps = map[string]string{"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "like": "LIKE", "ilike": "LIKE"}

// table answers GET/HEAD /rest/v1/{table}.
func (f *supaFake) table(w http.ResponseWriter, r *http.Request, table string) {
	rels := f.relations()
	if _, ok := rels[table]; !ok {
		supaFakeError(w, http.StatusNotFound, "PGRST205", fmt.Sprintf("Could not find the table 'public.%s' in the schema cache", table), "Perhaps you meant the table 'public.orders'")
		return
	}
	cols := f.columns(table)
	known := map[string]supaFakeColumn{}
	for _, c := range cols {
		known[c.name] = c
	}
	q := r.URL.Query()
	var where []string
	var args []any
	for key, vals := range q {
		if key == "select" || key == "order" || key == "limit" || key == "offset" {
			continue
		}
		if _, ok := known[key]; !ok {
			supaFakeError(w, http.StatusBadRequest, "42703", fmt.Sprintf("column %s.%s does not exist", table, key), nil)
			return
		}
		for _, v := range vals {
			cond, a, err := supaFakeFilter(key, v)
			if err != nil {
				supaFakeError(w, http.StatusBadRequest, "PGRST100", err.Error(), nil)
				return
			}
			where, args = append(where, cond), append(args, a...)
		}
	}
	whereSQL := ""
	if len(where) > 0 {
		whereSQL = " WHERE " + strings.Join(where, " AND ")
	}
	outCols, exprs, err := supaFakeSelect(q.Get("select"), cols, known, table)
	if err != nil {
		supaFakeError(w, http.StatusBadRequest, "42703", err.Error(), nil)
		return
	}
	var total int
	if err := f.db.QueryRow(`SELECT count(*) FROM "`+table+`"`+whereSQL, args...).Scan(&total); err != nil {
		supaFakeError(w, http.StatusBadRequest, "22P02", err.Error(), nil)
		return
	}
	query := "SELECT " + strings.Join(exprs, ", ") + ` FROM "` + table + `"` + whereSQL + supaFakeOrder(q.Get("order"))
	limit, offset := -1, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	query += fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
	rows, err := f.db.Query(query, args...)
	if err != nil {
		supaFakeError(w, http.StatusBadRequest, "42601", err.Error(), nil)
		return
	}
	defer rows.Close()
	var objs []string
	for rows.Next() {
		vals := make([]any, len(outCols))
		ptrs := make([]any, len(outCols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			f.t.Fatal(err)
		}
		parts := make([]string, len(outCols))
		for i, c := range outCols {
			parts[i] = string(d1FakeJSON(c[0])) + ":" + supaFakeValue(known[c[1]].typ, vals[i])
		}
		objs = append(objs, "{"+strings.Join(parts, ",")+"}")
	}
	if strings.Contains(r.Header.Get("Prefer"), "count=") {
		if len(objs) == 0 {
			w.Header().Set("Content-Range", fmt.Sprintf("*/%d", total))
		} else {
			w.Header().Set("Content-Range", fmt.Sprintf("%d-%d/%d", offset, offset+len(objs)-1, total))
		}
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		fmt.Fprintf(w, "[%s]", strings.Join(objs, ",\n "))
	}
}

// supaFakeFilter turns one PostgREST filter ("not.in.(1,2)") into SQL.
func supaFakeFilter(col, v string) (string, []any, error) {
	neg := strings.HasPrefix(v, "not.")
	v = strings.TrimPrefix(v, "not.")
	op, val, ok := strings.Cut(v, ".")
	if !ok {
		return "", nil, fmt.Errorf(`"failed to parse filter (%s)" (line 1, column 1)`, v)
	}
	var cond string
	var args []any
	switch {
	case op == "is":
		m := map[string]string{"null": "IS NULL", "true": "= 1", "false": "= 0", "unknown": "IS NULL"}[val]
		if m == "" {
			return "", nil, fmt.Errorf("failed to parse filter (is.%s)", val)
		}
		cond = `"` + col + `" ` + m
	case op == "in":
		items, err := supaFakeList(val)
		if err != nil {
			return "", nil, err
		}
		cond = `"` + col + `" IN (` + strings.TrimSuffix(strings.Repeat("?,", len(items)), ",") + ")"
		for _, it := range items {
			args = append(args, it)
		}
	case supaFakeOps[op] != "":
		if op == "like" || op == "ilike" {
			val = strings.ReplaceAll(val, "*", "%")
		}
		cond = `"` + col + `" ` + supaFakeOps[op] + " ?"
		args = append(args, val)
	default:
		return "", nil, fmt.Errorf("unknown operator %q", op)
	}
	if neg {
		cond = "NOT (" + cond + ")"
	}
	return cond, args, nil
}

// supaFakeList parses PostgREST's list syntax: (a,"b,c",d).
func supaFakeList(v string) ([]string, error) {
	if !strings.HasPrefix(v, "(") || !strings.HasSuffix(v, ")") {
		return nil, fmt.Errorf("failed to parse filter (in.%s)", v)
	}
	v = v[1 : len(v)-1]
	var items []string
	for len(v) > 0 {
		if v[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			items = append(items, b.String())
			v = strings.TrimPrefix(v[min(i+1, len(v)):], ",")
			continue
		}
		item, rest, _ := strings.Cut(v, ",")
		items, v = append(items, item), rest
	}
	return items, nil
}

func supaFakeSelect(sel string, cols []supaFakeColumn, known map[string]supaFakeColumn, table string) ([][2]string, []string, error) {
	var out [][2]string
	if sel == "" || sel == "*" {
		for _, c := range cols {
			out = append(out, [2]string{c.name, c.name})
		}
	} else {
		for _, item := range strings.Split(sel, ",") {
			alias, name, ok := strings.Cut(item, ":")
			if !ok {
				alias, name = item, item
			}
			if _, found := known[name]; !found {
				return nil, nil, fmt.Errorf("column %s.%s does not exist", table, name)
			}
			out = append(out, [2]string{alias, name})
		}
	}
	exprs := make([]string, len(out))
	for i, c := range out {
		exprs[i] = `"` + c[1] + `"`
	}
	return out, exprs, nil
}

func supaFakeOrder(order string) string {
	if order == "" {
		return ""
	}
	var parts []string
	for _, item := range strings.Split(order, ",") {
		bits := strings.Split(item, ".")
		p := `"` + bits[0] + `"`
		for _, b := range bits[1:] {
			p += " " + map[string]string{"asc": "ASC", "desc": "DESC", "nullsfirst": "NULLS FIRST", "nullslast": "NULLS LAST"}[b]
		}
		parts = append(parts, p)
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// supaFakeValue writes a value as PostgREST's JSON: numbers with every
// digit, numeric and jsonb as the JSON they are, booleans as booleans.
func supaFakeValue(typ string, v any) string {
	if v == nil {
		return "null"
	}
	switch typ {
	case "numeric", "jsonb":
		return fmt.Sprint(v)
	case "boolean":
		return strconv.FormatBool(fmt.Sprint(v) == "1")
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	return string(d1FakeJSON(v))
}

// supaKey makes a canary service-role key: a JWT with role service_role,
// or a new-style secret key.
func supaKey(t *testing.T, jwt bool, role string) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	canary := hex.EncodeToString(b)
	if !jwt {
		return "sb_secret_" + canary
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"`+role+`","iat":1700000000,"exp":2000000000}`)) + "." + canary
}

// supaHarness is a databases server with one Supabase REST connection to
// the fake, and everything it printed.
type supaHarness struct {
	t      *testing.T
	fake   *supaFake
	cs     *mcp.ClientSession
	key    string
	logs   *bytes.Buffer
	output []string
}

func newSupaHarness(t *testing.T, jwt bool) *supaHarness {
	t.Helper()
	key := supaKey(t, jwt, "service_role")
	h := &supaHarness{t: t, key: key, fake: newSupaFake(t, key), logs: &bytes.Buffer{}}
	conn := config.Connection{Name: "shop", Provider: "supabase", Settings: map[string]string{"project_url": h.fake.srv.URL}}
	lookup := func(name string) (string, bool) { return key, name == "SUPABASE_SERVICE_ROLE_KEY" }
	logger := slog.New(slog.NewTextHandler(&d1LogWriter{w: h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := databases.New(ctx, databases.Config{Connections: []config.Connection{conn}, Lookup: lookup, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h.cs = mcptest.Connect(t, s)
	t.Cleanup(h.checkNoKey)
	return h
}

func (h *supaHarness) ok(tool string, args map[string]any) string {
	h.t.Helper()
	out := mcptest.MustText(h.t, h.cs, tool, args)
	h.output = append(h.output, out)
	return out
}

func (h *supaHarness) fails(tool string, args map[string]any) string {
	h.t.Helper()
	out := mcptest.MustError(h.t, h.cs, tool, args)
	h.output = append(h.output, out)
	return out
}

func (h *supaHarness) checkNoKey() {
	all := strings.Join(h.output, "\n") + h.logs.String()
	secretPart := h.key[strings.LastIndexAny(h.key, "._")+1:]
	if strings.Contains(all, h.key) || strings.Contains(all, secretPart) {
		h.t.Errorf("the service-role key leaked into output or logs:\n%s", all)
	}
}

// lastQuery is the query string of the last table request the fake saw.
func (h *supaHarness) lastQuery() string {
	reqs := h.fake.requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if p := reqs[i].URL.Path; p != "/rest/v1/" && reqs[i].Method == http.MethodGet {
			return p + "?" + reqs[i].URL.RawQuery
		}
	}
	return ""
}

func TestSupabaseRESTListAndDescribe(t *testing.T) {
	for _, jwt := range []bool{true, false} {
		t.Run(fmt.Sprintf("jwt=%v", jwt), func(t *testing.T) {
			h := newSupaHarness(t, jwt)
			out := h.ok("list_tables", nil)
			textHas(t, "list_tables", out, "3 tables and views in shop (Supabase)",
				"customers,table,~120,\n", "orders,table,~4,Orders placed in the shop.", "paid_orders,view,~2,\n")

			out = h.ok("describe_table", map[string]any{"table": "orders"})
			textHas(t, "describe_table", out,
				"table orders, ~4 rows, 8 columns.",
				"comment: Orders placed in the shop.",
				"  id bigint not null\n",
				"  customer_id bigint not null\n",
				"  status text not null default new -- new, shipped or cancelled\n",
				"  amount numeric\n",
				"PRIMARY KEY (id)",
				"FOREIGN KEY (customer_id) REFERENCES customers(id)",
				"does not show indexes")

			out = h.fails("describe_table", map[string]any{"table": "ordrs"})
			textHas(t, "unknown table", out, `table "ordrs" does not exist`, "did you mean orders")
		})
	}
}

func TestSupabaseRESTQueryTranslatesAndKeepsValues(t *testing.T) {
	h := newSupaHarness(t, true)
	out := h.ok("query", map[string]any{"sql": "SELECT * FROM orders WHERE customer_id = 3 ORDER BY id"})
	textHas(t, "select *", out,
		"2 rows;",
		"id:bigint,customer_id:bigint,status:text,note:text,amount:numeric,big:bigint,meta:jsonb,paid:boolean\n",
		`1,3,shipped,,1234567890123456789012345678.91,9007199254740993,"{""b"":1,""a"":[true,null]}",true`+"\n",
		"2,3,new,\"\",0.10,9223372036854775807,,false\n")
	textHas(t, "request", h.lastQuery(), "customer_id=eq.3", "order=id", "select=%2A")

	out = h.ok("query", map[string]any{"sql": `SELECT o.note AS remark, id FROM public.orders o WHERE o.note IN ('gift, (wrapped)', 'it''s "late"') AND status <> 'new' ORDER BY remark DESC NULLS LAST LIMIT 10`})
	textHas(t, "in list", out, "remark:text,id:bigint\n", `"it's ""late""",4`+"\n", `"gift, (wrapped)",3`+"\n")
	textHas(t, "request", h.lastQuery(), "select=remark%3Anote%2Cid", "status=neq.new", "order=note.desc.nullslast", "limit=10")

	out = h.ok("query", map[string]any{"sql": "SELECT id FROM customers WHERE name LIKE 'customer 1%' AND id BETWEEN 10 AND 19 AND email IS NOT NULL AND id NOT IN (12, 13) AND id != 14"})
	textHas(t, "like", out, "7 rows;", "\n10\n", "\n19\n")
	textLacks(t, "like", out, "\n12\n", "\n14\n")
	textHas(t, "request", h.lastQuery(), "name=like.customer+1%25", "id=gte.10", "id=lte.19", "email=not.is.null", "id=not.in.%2812%2C13%29", "id=neq.14")

	out = h.ok("query", map[string]any{"sql": "select ID from CUSTOMERS where NAME ilike 'CUSTOMER 11%' and id >= 100 order by 1 desc offset 2 limit 3"})
	textHas(t, "ilike", out, "3 rows;", "id:bigint\n117\n116\n115\n")

	out = h.ok("query", map[string]any{"sql": "SELECT id FROM orders WHERE paid IS TRUE AND amount > 1 ORDER BY id"})
	textHas(t, "booleans", out, "2 rows;", "id:bigint\n1\n4\n")
}

func TestSupabaseRESTLimitCountAndTotal(t *testing.T) {
	h := newSupaHarness(t, false)
	out := h.ok("query", map[string]any{"sql": "SELECT id, name FROM customers ORDER BY id", "limit": 5})
	textHas(t, "limit", out, "5 rows shown, more exist;", "120 rows match in all.", "5,customer 5\n", "[cut] Cut at the 5-row limit")
	textLacks(t, "limit", out, "customer 6")
	textHas(t, "request", h.lastQuery(), "limit=6")

	out = h.ok("query", map[string]any{"sql": "SELECT count(*) AS n FROM customers WHERE id > 100"})
	textHas(t, "count", out, "1 row;", "n:bigint\n20\n")
	last := h.fake.requests()
	if r := last[len(last)-1]; r.Method != http.MethodHead || r.Header.Get("Prefer") != "count=exact" {
		t.Errorf("count(*) should be a HEAD with Prefer: count=exact, got %s with Prefer %q", r.Method, r.Header.Get("Prefer"))
	}

	out = h.ok("query", map[string]any{"sql": "SELECT * FROM customers WHERE id > 1000"})
	textHas(t, "empty", out, "0 rows;", "id:bigint,name:text,email:text\n")
}

func TestSupabaseRESTRejectsWhatItCannotRun(t *testing.T) {
	h := newSupaHarness(t, true)
	for sql, want := range map[string]string{
		"SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id": "joins are not supported",
		"SELECT status, count(*) FROM orders GROUP BY status":                        "count(*) together with other columns",
		"SELECT id FROM orders WHERE id = 1 OR id = 2":                               "OR is not supported; use IN",
		"SELECT upper(name) FROM customers":                                          "functions and expressions such as upper(...)",
		"SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers)":      "subqueries are not supported",
		"WITH x AS (SELECT 1) SELECT * FROM x":                                       "WITH statements are not supported",
		"SELECT id FROM orders WHERE note = NULL":                                    "write note IS NULL",
		"SELECT id FROM orders WHERE created_at > now()":                             "functions such as now()",
		"SELECT DISTINCT status FROM orders":                                         "DISTINCT",
	} {
		out := h.fails("query", map[string]any{"sql": sql})
		textHas(t, sql, out, want, "Project Settings → Database", "[WHERE conditions joined by AND")
	}
	out := h.fails("explain", map[string]any{"sql": "SELECT * FROM orders"})
	textHas(t, "explain", out, "cannot show query plans", "over the Supabase REST API", "url")

	out = h.fails("query", map[string]any{"sql": "DELETE FROM orders"})
	textHas(t, "write", out, "read-only")
	out = h.fails("query", map[string]any{"sql": "SELECT 1; UPDATE orders SET note = 'x'"})
	textHas(t, "two statements", out, "one statement")
	if reqs := h.fake.requests(); len(reqs) > 0 {
		t.Errorf("statements the REST form cannot run must not reach Supabase; it got %d requests, first %s %s", len(reqs), reqs[0].Method, reqs[0].URL)
	}
}

func TestSupabaseRESTBackendErrors(t *testing.T) {
	h := newSupaHarness(t, true)
	out := h.fails("query", map[string]any{"sql": "SELECT * FROM ordrs"})
	textHas(t, "unknown table", out, "Could not find the table 'public.ordrs' in the schema cache", "did you mean orders")

	out = h.fails("query", map[string]any{"sql": "SELECT nme FROM customers"})
	textHas(t, "unknown column", out, "column customers.nme does not exist (42703)")

	out = h.fails("list_tables", map[string]any{"schema": "private"})
	textHas(t, "schema", out, "Invalid schema: private", "Exposed schemas")

	h.fake.fail(http.StatusServiceUnavailable, nil, `{"code":"PGRST002","details":null,"hint":null,"message":"Could not query the database for the schema cache. Retrying."}`)
	out = h.fails("query", map[string]any{"sql": "SELECT id FROM customers"})
	textHas(t, "503", out, "HTTP 503", "schema cache", "paused")

	h.fake.fail(http.StatusTooManyRequests, map[string]string{"Retry-After": "90"}, `{"message":"Too many requests"}`)
	out = h.fails("query", map[string]any{"sql": "SELECT id FROM customers"})
	textHas(t, "429", out, "HTTP 429", "retry in 1m30s")

	before := len(h.fake.requests())
	h.fake.fail(http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, `{"message":"Too many requests"}`)
	out = h.ok("query", map[string]any{"sql": "SELECT count(*) FROM customers"})
	textHas(t, "after retry", out, "count:bigint\n120\n")
	if n := len(h.fake.requests()) - before; n != 2 {
		t.Errorf("a short Retry-After should be waited out once: %d requests, want 2", n)
	}
}

func TestSupabaseRESTBadKey(t *testing.T) {
	h := newSupaHarness(t, true)
	h.fake.mu.Lock()
	h.fake.key = supaKey(t, true, "service_role")
	h.fake.mu.Unlock()
	out := h.fails("list_tables", nil)
	textHas(t, "bad key", out, "Supabase rejected the key (HTTP 401)", "Supabase said: Invalid API key", "service_role key from Project Settings → API")
}

func TestSupabaseConfigErrors(t *testing.T) {
	anon := supaKey(t, true, "anon")
	for name, tc := range map[string]struct {
		settings map[string]string
		want     string
	}{
		"nothing":          {map[string]string{}, "either url"},
		"no key":           {map[string]string{"project_url": "https://abcdefghijklmnopqrst.supabase.co"}, "SUPABASE_SERVICE_ROLE_KEY"},
		"no project":       {map[string]string{"service_role_key": supaKey(t, false, "")}, "needs project_url"},
		"anon key":         {map[string]string{"project_url": "abcdefghijklmnopqrst", "service_role_key": anon}, "holds the anon key"},
		"publishable key":  {map[string]string{"project_url": "abcdefghijklmnopqrst", "service_role_key": "sb_publishable_abc123"}, "publishable key"},
		"plain http":       {map[string]string{"project_url": "http://abcdefghijklmnopqrst.supabase.co", "service_role_key": supaKey(t, false, "")}, "plain http"},
		"project url junk": {map[string]string{"project_url": "https://", "service_role_key": supaKey(t, false, "")}, "is not a Supabase project URL"},
		"https in url":     {map[string]string{"url": "https://abcdefghijklmnopqrst.supabase.co"}, "goes in project_url"},
		"bad postgres url": {map[string]string{"url": "postgres://postgres:pw@db.example.com:notaport/postgres"}, "invalid PostgreSQL URL"},
	} {
		t.Run(name, func(t *testing.T) {
			conn := config.Connection{Provider: "supabase", Settings: tc.settings}
			_, err := databases.New(context.Background(), databases.Config{
				Connections: []config.Connection{conn},
				Lookup:      func(string) (string, bool) { return "", false },
			})
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			textHas(t, name, err.Error(), tc.want)
			textLacks(t, name, err.Error(), anon, "pw@")
		})
	}
}

func TestSupabaseProjectRefForms(t *testing.T) {
	c, err := databases.ParseDSN("supabase://abcdefghijklmnopqrst")
	if err != nil {
		t.Fatal(err)
	}
	key := supaKey(t, false, "")
	s, err := databases.New(context.Background(), databases.Config{
		Connections: []config.Connection{c},
		Lookup:      func(name string) (string, bool) { return key, name == "SUPABASE_SERVICE_ROLE_KEY" },
	})
	if err != nil {
		t.Fatal(err)
	}
	textHas(t, "instructions", mcptest.Connect(t, s).InitializeResult().Instructions, "abcdefghijklmnopqrst (Supabase)")
}
