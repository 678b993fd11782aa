package databases_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

const (
	d1TestAccount  = "0123456789abcdef0123456789abcdef"
	d1TestDatabase = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
)

// d1Fixture is the database behind the fake D1 API. _cf_KV stands for
// D1's internal table, which must never be listed.
var d1Fixture = []string{
	`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)`,
	`CREATE TABLE orders (
		id INTEGER PRIMARY KEY,
		customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
		total_cents INTEGER NOT NULL DEFAULT 0,
		note TEXT,
		big INTEGER,
		ratio REAL,
		payload BLOB)`,
	`CREATE INDEX orders_customer_idx ON orders(customer_id)`,
	`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total_cents > 1000`,
	`CREATE TABLE _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
	 INSERT INTO customers (id, name, email) SELECT i, 'customer ' || i, 'c' || i || '@example.com' FROM n`,
	`INSERT INTO orders (id, customer_id, total_cents, note, big, ratio, payload) VALUES
		(1, 3, 1500, NULL, 9007199254740993, 0.1, X'DEADBEEF'),
		(2, 3, 500, '', 9223372036854775807, 2.5, NULL),
		(3, 7, 2500, 'gift, wrapped', -9223372036854775808, NULL, NULL)`,
}

// d1Fake speaks Cloudflare's D1 HTTP API (POST
// /client/v4/accounts/{account}/d1/database/{database}/raw) over a real
// SQLite database, so statements really run. It checks the request shape
// and answers in Cloudflare's envelope; answers queued with fail are sent
// first, to play API errors.
type d1Fake struct {
	t     *testing.T
	srv   *httptest.Server
	db    *sql.DB
	token string

	mu      sync.Mutex
	sent    []string // SQL of every request that reached the API
	pending []d1FakeAnswer
}

type d1FakeAnswer struct {
	status int
	header map[string]string
	body   string
}

func newD1Fake(t *testing.T, token string) *d1Fake {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "d1.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range d1Fixture {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("fixture %q: %v", stmt, err)
		}
	}
	f := &d1Fake{t: t, db: db, token: token}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *d1Fake) baseURL() string { return f.srv.URL + "/client/v4" }

// fail queues an answer for the next request.
func (f *d1Fake) fail(status int, header map[string]string, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, d1FakeAnswer{status: status, header: header, body: body})
}

// setToken changes the token the fake accepts.
func (f *d1Fake) setToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

func (f *d1Fake) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

var d1FakePath = regexp.MustCompile(`^/client/v4/accounts/([^/]+)/d1/database/([^/]+)/raw$`)

func (f *d1Fake) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	m := d1FakePath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodPost {
		d1FakeError(w, http.StatusNotFound, 7000, "No route for that URI")
		return
	}
	f.mu.Lock()
	token := f.token
	f.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		// Echo what was sent, as careless servers do: the client must scrub it.
		d1FakeError(w, http.StatusUnauthorized, 10000, "Authentication error for "+strings.TrimPrefix(got, "Bearer "))
		return
	}
	if m[1] != d1TestAccount || m[2] != d1TestDatabase {
		d1FakeError(w, http.StatusNotFound, 7404, "The database "+m[2]+" could not be found")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		d1FakeError(w, http.StatusBadRequest, 7400, "The request is malformed: Content-Type "+ct)
		return
	}
	var body struct {
		SQL    string `json:"sql"`
		Params []any  `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.SQL == "" {
		d1FakeError(w, http.StatusBadRequest, 7400, "The request is malformed: sql is required")
		return
	}
	f.mu.Lock()
	f.sent = append(f.sent, body.SQL)
	var answer *d1FakeAnswer
	if len(f.pending) > 0 {
		answer = &f.pending[0]
		f.pending = f.pending[1:]
	}
	f.mu.Unlock()
	if strings.Contains(body.SQL, ";") {
		f.t.Errorf("the client sent several statements in one request: %q", body.SQL)
	}
	if answer != nil {
		for k, v := range answer.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(answer.status)
		_, _ = w.Write([]byte(answer.body))
		return
	}
	f.run(w, body.SQL, body.Params)
}

// run executes the statement and answers like the raw endpoint: rows as
// arrays, integers as JSON numbers with every digit, BLOBs as byte arrays.
func (f *d1Fake) run(w http.ResponseWriter, query string, params []any) {
	rows, err := f.db.Query(query, params...)
	if err != nil {
		d1FakeError(w, http.StatusBadRequest, 7500, d1FakeSQLMessage(err))
		return
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := []json.RawMessage{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			d1FakeError(w, http.StatusBadRequest, 7500, d1FakeSQLMessage(err))
			return
		}
		out = append(out, d1FakeRow(vals))
	}
	if err := rows.Err(); err != nil {
		d1FakeError(w, http.StatusBadRequest, 7500, d1FakeSQLMessage(err))
		return
	}
	fmt.Fprintf(w, `{"result":[{"results":{"columns":%s,"rows":[%s]},"success":true,`+
		`"meta":{"served_by":"v3-prod","served_by_region":"WEUR","served_by_primary":true,"timings":{"sql_duration_ms":0.2},`+
		`"duration":0.2,"changes":0,"last_row_id":0,"changed_db":false,"size_after":16384,"rows_read":%d,"rows_written":0}}],`+
		`"errors":[],"messages":[],"success":true}`, d1FakeJSON(cols), d1FakeJoin(out), len(out))
}

func d1FakeRow(vals []any) json.RawMessage {
	cells := make([]json.RawMessage, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case []byte:
			nums := make([]int, len(x))
			for j, b := range x {
				nums[j] = int(b)
			}
			cells[i] = d1FakeJSON(nums)
		default:
			cells[i] = d1FakeJSON(x)
		}
	}
	return d1FakeJSON(cells)
}

func d1FakeJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func d1FakeJoin(rows []json.RawMessage) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = string(r)
	}
	return strings.Join(parts, ",")
}

// d1FakeSQLMessage words a SQLite error as D1 does: "no such table: x: SQLITE_ERROR".
func d1FakeSQLMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "SQL logic error: ")
	if i := strings.LastIndex(msg, " ("); i > 0 {
		msg = msg[:i]
	}
	return msg + ": SQLITE_ERROR"
}

func d1FakeError(w http.ResponseWriter, status, code int, msg string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"result":null,"success":false,"errors":[{"code":%d,"message":%s}],"messages":[]}`, code, d1FakeJSON(msg))
}

// d1Canary is a token that must never show up in any output.
func d1Canary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "cf-canary-" + hex.EncodeToString(b)
}

// d1Harness is a databases server with one D1 connection to a fake, and
// everything it printed: tool results, errors and log lines.
type d1Harness struct {
	t      *testing.T
	fake   *d1Fake
	cs     *mcp.ClientSession
	token  string
	logs   *bytes.Buffer
	output []string
}

func newD1Harness(t *testing.T, settings map[string]string) *d1Harness {
	t.Helper()
	token := d1Canary(t)
	h := &d1Harness{t: t, token: token, fake: newD1Fake(t, token), logs: &bytes.Buffer{}}
	conn := config.Connection{Name: "edge", Provider: "d1", Settings: map[string]string{
		"account_id": d1TestAccount, "database_id": d1TestDatabase, "base_url": h.fake.baseURL(),
	}}
	for k, v := range settings {
		conn.Settings[k] = v
	}
	lookup := func(name string) (string, bool) {
		if name == "CLOUDFLARE_API_TOKEN" {
			return token, true
		}
		return "", false
	}
	logger := slog.New(slog.NewTextHandler(&d1LogWriter{w: h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := databases.New(ctx, databases.Config{Connections: []config.Connection{conn}, Lookup: lookup, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h.cs = mcptest.Connect(t, s)
	t.Cleanup(h.checkNoToken)
	return h
}

// d1LogWriter serialises writes from concurrent log calls.
type d1LogWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *d1LogWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (h *d1Harness) ok(tool string, args map[string]any) string {
	h.t.Helper()
	out := mcptest.MustText(h.t, h.cs, tool, args)
	h.output = append(h.output, out)
	return out
}

func (h *d1Harness) fails(tool string, args map[string]any) string {
	h.t.Helper()
	out := mcptest.MustError(h.t, h.cs, tool, args)
	h.output = append(h.output, out)
	return out
}

// checkNoToken fails the test if the token appears in anything the server
// returned or logged.
func (h *d1Harness) checkNoToken() {
	all := strings.Join(h.output, "\n") + h.logs.String()
	if strings.Contains(all, h.token) || strings.Contains(all, h.token[len("cf-canary-"):]) {
		h.t.Errorf("the API token leaked into output or logs:\n%s", all)
	}
}

func textHas(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, text)
		}
	}
}

func textLacks(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s: did not want %q in:\n%s", what, w, text)
		}
	}
}

func TestD1ListAndDescribe(t *testing.T) {
	h := newD1Harness(t, nil)
	out := h.ok("list_tables", nil)
	textHas(t, "list_tables", out, "3 tables and views in edge (Cloudflare D1)", "customers,table,~150\n", "orders,table,~3\n", "big_orders,view,?\n")
	textLacks(t, "list_tables", out, "_cf_KV", "sqlite_")

	out = h.ok("describe_table", map[string]any{"table": "ORDERS"})
	textHas(t, "describe_table", out,
		"table orders, ~3 rows, 7 columns.",
		"customer_id INTEGER not null\n",
		"total_cents INTEGER not null default 0\n",
		"note TEXT\n",
		"PRIMARY KEY (id)",
		"FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE",
		"CREATE INDEX orders_customer_idx ON orders(customer_id)")

	out = h.ok("describe_table", map[string]any{"table": "big_orders"})
	textHas(t, "describe view", out, "view big_orders, 7 columns.")

	out = h.fails("describe_table", map[string]any{"table": "ordrs"})
	textHas(t, "unknown table", out, `table "ordrs" does not exist`, "did you mean orders")
	h.fails("describe_table", map[string]any{"table": "_cf_KV"})

	for _, sent := range h.fake.requests() {
		if strings.Contains(sent, "count(") {
			t.Errorf("row estimates must not count every row (D1 bills rows read): %q", sent)
		}
	}
}

func TestD1QueryValuesAreExact(t *testing.T) {
	h := newD1Harness(t, nil)
	out := h.ok("query", map[string]any{"sql": "SELECT id, big, note, ratio, payload FROM orders ORDER BY id"})
	textHas(t, "query", out,
		"3 rows;",
		"id,big,note,ratio,payload\n",
		"1,9007199254740993,,0.1,X'DEADBEEF'\n",
		"2,9223372036854775807,\"\",2.5,\n",
		`3,-9223372036854775808,"gift, wrapped",,`)

	out = h.ok("query", map[string]any{"sql": "SELECT 'NULL' AS word, '' AS empty, NULL AS absent"})
	textHas(t, "NULL vs text", out, "\nNULL,\"\",\n")

	out = h.ok("query", map[string]any{"sql": "PRAGMA table_info(customers)"})
	textHas(t, "pragma", out, "cid,name,type,notnull,dflt_value,pk\n", "1,name,TEXT,1,,0")
}

func TestD1QueryLimitCutsRows(t *testing.T) {
	h := newD1Harness(t, nil)
	out := h.ok("query", map[string]any{"sql": "SELECT id, name FROM customers ORDER BY id", "limit": 5})
	textHas(t, "limit", out, "5 rows shown, more exist", "5,customer 5\n", "[cut] Cut at the 5-row limit: more rows exist.")
	textLacks(t, "limit", out, "6,customer 6")

	out = h.ok("query", map[string]any{"sql": "SELECT id FROM customers WHERE id > 1000"})
	textHas(t, "empty", out, "0 rows;", "Nothing matched")
}

func TestD1Explain(t *testing.T) {
	h := newD1Harness(t, nil)
	out := h.ok("explain", map[string]any{"sql": "SELECT * FROM orders WHERE customer_id = 3"})
	textHas(t, "explain", out, "SEARCH orders USING INDEX orders_customer_idx (customer_id=?)")

	out = h.ok("explain", map[string]any{"sql": "SELECT * FROM orders WHERE customer_id = 3", "analyze": true})
	textHas(t, "explain analyze", out, "returned 2 rows", "rows read")

	out = h.fails("explain", map[string]any{"sql": "SELECT * FROM nowhere"})
	textHas(t, "explain unknown table", out, "no such table: nowhere")
}

func TestD1GuardRejectsBeforeAnyRequest(t *testing.T) {
	h := newD1Harness(t, nil)
	for _, q := range []string{
		"DELETE FROM orders",
		"DROP TABLE customers",
		"SELECT 1; DELETE FROM orders",
		"UPDATE orders SET note = 'x'",
		"PRAGMA foreign_keys = OFF",
		"ATTACH DATABASE 'x.db' AS x",
	} {
		out := h.fails("query", map[string]any{"sql": q})
		if !strings.Contains(out, "not allowed") && !strings.Contains(out, "read-only") && !strings.Contains(out, "one statement") && !strings.Contains(out, "change") {
			t.Errorf("query %q: the rejection does not say why: %s", q, out)
		}
	}
	h.fails("explain", map[string]any{"sql": "DELETE FROM orders"})
	if sent := h.fake.requests(); len(sent) > 0 {
		t.Fatalf("rejected statements must not reach Cloudflare; the API received %q", sent)
	}
	var n int
	if err := h.fake.db.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil || n != 3 {
		t.Fatalf("orders has %d rows (%v); want the 3 it started with", n, err)
	}
}

func TestD1SQLErrorsSuggestTables(t *testing.T) {
	h := newD1Harness(t, nil)
	out := h.fails("query", map[string]any{"sql": "SELECT * FROM ordrs"})
	textHas(t, "unknown table", out, "D1: no such table: ordrs", "did you mean orders")
	textLacks(t, "unknown table", out, "SQLITE_ERROR", "code 7500")

	out = h.fails("query", map[string]any{"sql": "SELECT nme FROM customers"})
	textHas(t, "unknown column", out, "D1: no such column: nme")
}

func TestD1APIErrors(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    []string
		nowant  []string
		reqsMin int
	}{
		{
			name: "forbidden", status: http.StatusForbidden,
			body: `{"result":null,"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[]}`,
			want: []string{"HTTP 403", "Authentication error", "Account → D1 → Read", d1TestAccount}, reqsMin: 1,
		},
		{
			name: "server error", status: http.StatusBadGateway,
			body: `<html><body>502 Bad Gateway</body></html>`,
			want: []string{"HTTP 502", "Cloudflare's side", "try again"}, nowant: []string{"<html>"}, reqsMin: 1,
		},
		{
			name: "rate limited for long", status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "120"},
			body: `{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}`,
			want: []string{"HTTP 429", "retry in 2m0s", "throttling"}, reqsMin: 1,
		},
		{
			name: "response too large", status: http.StatusBadRequest,
			body: `{"result":[],"success":false,"errors":[{"code":7500,"message":"D1_ERROR: string or blob too big: SQLITE_TOOBIG"}],"messages":[]}`,
			want: []string{"D1: string or blob too big", "add a LIMIT"}, reqsMin: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newD1Harness(t, nil)
			h.fake.fail(tc.status, tc.header, tc.body)
			out := h.fails("query", map[string]any{"sql": "SELECT id FROM customers"})
			textHas(t, tc.name, out, tc.want...)
			textLacks(t, tc.name, out, tc.nowant...)
			if n := len(h.fake.requests()); n != tc.reqsMin {
				t.Errorf("%s: the API got %d requests, want %d", tc.name, n, tc.reqsMin)
			}
		})
	}
}

func TestD1RetriesOnceAfterShortRetryAfter(t *testing.T) {
	h := newD1Harness(t, nil)
	h.fake.fail(http.StatusTooManyRequests, map[string]string{"Retry-After": "1"},
		`{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}`)
	out := h.ok("query", map[string]any{"sql": "SELECT count(*) AS n FROM customers"})
	textHas(t, "after retry", out, "n\n150\n")
	if n := len(h.fake.requests()); n != 2 {
		t.Errorf("the API got %d requests, want 2 (one 429, one retry)", n)
	}
}

func TestD1BadTokenAndWrongDatabase(t *testing.T) {
	h := newD1Harness(t, nil)
	h.fake.setToken("another-token-entirely")
	out := h.fails("list_tables", nil)
	textHas(t, "bad token", out, "Cloudflare rejected the API token (HTTP 401", "CLOUDFLARE_API_TOKEN", "Account → D1 → Read")

	h2 := newD1Harness(t, map[string]string{"database_id": "ffffffff-e5f6-7890-abcd-ef1234567890"})
	out = h2.fails("query", map[string]any{"sql": "SELECT 1"})
	textHas(t, "wrong database", out, "HTTP 404", "no D1 database ffffffff-e5f6-7890-abcd-ef1234567890 in account "+d1TestAccount, "database_id")
}

func TestD1TokenFromDSNAndEnvironment(t *testing.T) {
	token := d1Canary(t)
	fake := newD1Fake(t, token)
	c, err := databases.ParseDSN("d1://" + d1TestAccount + "/" + d1TestDatabase)
	if err != nil {
		t.Fatal(err)
	}
	c.Settings["base_url"] = fake.baseURL()
	lookup := func(name string) (string, bool) { return token, name == "CLOUDFLARE_API_TOKEN" }
	s, err := databases.New(context.Background(), databases.Config{Connections: []config.Connection{c}, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	out := mcptest.MustText(t, mcptest.Connect(t, s), "query", map[string]any{"sql": "SELECT name FROM customers WHERE id = 42"})
	textHas(t, "dsn", out, "customer 42")
}

func TestD1ConfigErrors(t *testing.T) {
	token := d1Canary(t)
	good := map[string]string{"account_id": d1TestAccount, "database_id": d1TestDatabase, "api_token": token}
	cases := []struct {
		name   string
		change map[string]string
		lookup map[string]string
		want   string
	}{
		{"missing token", map[string]string{"api_token": ""}, nil, "CLOUDFLARE_API_TOKEN"},
		{"account id", map[string]string{"account_id": "my-account"}, nil, `account_id "my-account" is not a Cloudflare account ID`},
		{"database name instead of id", map[string]string{"database_id": "prod-db"}, nil, "the database name does not work here"},
		{"plain http", map[string]string{"base_url": "http://api.example.com/client/v4"}, nil, "plain http"},
		{"not a url", map[string]string{"base_url": "api.cloudflare.com"}, nil, "not an http(s) URL"},
		{"unknown setting", map[string]string{"databse_id": "x"}, nil, `did you mean "database_id"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{}
			for k, v := range good {
				settings[k] = v
			}
			for k, v := range tc.change {
				settings[k] = v
			}
			conn := config.Connection{Provider: "d1", Settings: settings}
			_, err := databases.New(context.Background(), databases.Config{
				Connections: []config.Connection{conn},
				Lookup:      func(string) (string, bool) { return "", false },
			})
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			textHas(t, tc.name, err.Error(), tc.want)
			textLacks(t, tc.name, err.Error(), token)
		})
	}
}
