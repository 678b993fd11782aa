package databases

import (
	"context"
	"errors"
	"math"
	"math/big"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// clickhouseHasExplain reports whether the test server is 20.6 or newer.
func clickhouseHasExplain(t *testing.T, db *testDB) bool {
	t.Helper()
	parts := strings.SplitN(db.adminString(t, "SELECT version()"), ".", 3)
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major > 20 || (major == 20 && minor >= 6)
}

// chOpen opens a ClickHouse engine from settings, as the server would.
func chOpen(t *testing.T, settings map[string]string, limits config.Limits) (*chEngine, error) {
	t.Helper()
	c := config.Connection{Name: "ch", Provider: "clickhouse", Settings: settings}
	conns, err := open(Config{Connections: []config.Connection{c}, Limits: limits})
	if err != nil {
		return nil, err
	}
	e := conns.All()[0].Backend.(*chEngine)
	t.Cleanup(func() { e.close() })
	return e, nil
}

func TestClickHouseSettings(t *testing.T) {
	const pw = "s3cret-Pa55word"
	type want struct {
		addr, user, db string
		http, tls      bool
	}
	cases := []struct {
		name     string
		settings map[string]string
		want     want
	}{
		{"native", map[string]string{"url": "clickhouse://bob:" + pw + "@db.example:9000/shop"}, want{"db.example:9000", "bob", "shop", false, false}},
		{"native default port and user", map[string]string{"url": "clickhouse://db.example"}, want{"db.example:9000", "default", "", false, false}},
		{"native TLS scheme", map[string]string{"url": "clickhouses://bob@db.example/shop"}, want{"db.example:9440", "bob", "shop", false, true}},
		{"native secure=true", map[string]string{"url": "clickhouse://bob@db.example/shop?secure=true"}, want{"db.example:9440", "bob", "shop", false, true}},
		{"native secure keeps an explicit port", map[string]string{"url": "clickhouse://db.example:19440?secure=true&skip_verify=true"}, want{"db.example:19440", "default", "", false, true}},
		{"database parameter", map[string]string{"url": "clickhouse://db.example?database=logs&dial_timeout=3s"}, want{"db.example:9000", "default", "logs", false, false}},
		{"HTTPS endpoint with separate settings", map[string]string{"url": "https://abc.eu-west-1.aws.clickhouse.cloud:8443", "username": "default", "password": pw, "database": "analytics"},
			want{"abc.eu-west-1.aws.clickhouse.cloud:8443", "default", "analytics", true, true}},
		{"HTTPS default port", map[string]string{"url": "https://ch.example"}, want{"ch.example:8443", "default", "", true, true}},
		{"HTTP default port", map[string]string{"url": "http://ch.example", "username": "reader"}, want{"ch.example:8123", "reader", "", true, false}},
		{"settings override the url", map[string]string{"url": "clickhouse://bob:old@db.example/shop", "username": "alice", "password": pw, "database": "logs"}, want{"db.example:9000", "alice", "logs", false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := chOpen(t, c.settings, config.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := want{e.addr, e.user, e.database, e.protocol == clickhouse.HTTP, false}
			opts, _ := clickhouseOptions(resolveCH(t, c.settings))
			got.tls = opts.TLS != nil
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if c.settings["password"] != "" && opts.Auth.Password != pw {
				t.Errorf("the password setting was not used")
			}
			if _, ok := e.settings()["cancel_http_readonly_queries_on_client_close"]; ok != c.want.http {
				t.Errorf("cancel_http_readonly_queries_on_client_close sent: %v, want it only over HTTP", ok)
			}
		})
	}
}

func resolveCH(t *testing.T, settings map[string]string) config.Values {
	t.Helper()
	v, err := config.Connection{Provider: "clickhouse", Settings: settings}.Resolve(clickhouseProvider.Fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestClickHouseBadSettings(t *testing.T) {
	const pw = "s3cret-Pa55word"
	cases := []struct{ url, want string }{
		{"clickhouse://bob:" + pw + "@db.example/shop?readonly=0", `unsupported ClickHouse url parameter "readonly"`},
		{"clickhouse://bob:" + pw + "@db.example/shop?max_execution_time=0", "every query runs with readonly=1"},
		{"mysql://bob:" + pw + "@db.example/shop", `unsupported ClickHouse url scheme "mysql"`},
		{"http://bob:" + pw + "@db.example?secure=true", "contradicts the http:// scheme"},
		{"clickhouse://db.example?secure=maybe", "write true or false"},
		{"clickhouse://db.example?dial_timeout=soon", "write a duration"},
		{"clickhouse://db.example/shop/extra", "just the database name"},
		{"clickhouse://bob:" + pw + "@db.example:port/shop", "invalid ClickHouse url"},
		{"db.example:9000", "invalid ClickHouse url"},
	}
	for _, c := range cases {
		_, err := chOpen(t, map[string]string{"url": c.url}, config.Limits{})
		if err == nil {
			t.Errorf("%s: accepted", c.url)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: error shows the password: %v", c.url, err)
		}
	}
}

func TestClickHouseParseDSN(t *testing.T) {
	for _, dsn := range []string{"clickhouse://default@127.0.0.1:9000/shop", "clickhouses://u:p@ch.example/shop", "shop=clickhouse://ch.example/other"} {
		c, err := ParseDSN(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if c.Provider != "clickhouse" {
			t.Errorf("%s: provider %q, want clickhouse", dsn, c.Provider)
		}
		conns, err := open(Config{Connections: []config.Connection{c}})
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if conns.All()[0].Name != "shop" {
			t.Errorf("%s: connection named %q, want shop", dsn, conns.All()[0].Name)
		}
		conns.Close()
	}
}

func TestClickHouseMaxExecutionTime(t *testing.T) {
	for timeout, want := range map[time.Duration]int{time.Second: 1, 10 * time.Second: 9, 30 * time.Second: 27, 400 * time.Millisecond: 1} {
		if got := chMaxExecutionTime(timeout); got != want {
			t.Errorf("timeout %s: max_execution_time %d, want %d", timeout, got, want)
		}
	}
}

func TestClickHouseTypeNames(t *testing.T) {
	ty := parseCHType("Array(Tuple(id UInt64, `the tags` Array(LowCardinality(Nullable(String))), at DateTime64(3, 'Asia/Tokyo')))")
	tup := ty.elem(0)
	if ty.name != "Array" || tup.name != "Tuple" || !reflect.DeepEqual(tup.names, []string{"id", "the tags", "at"}) {
		t.Fatalf("parsed %+v / %+v", ty, tup)
	}
	if got := tup.elem(1).elem(0).base().name; got != "String" {
		t.Errorf("LowCardinality(Nullable(String)) base is %q", got)
	}
	if got := tup.elem(2).args; !reflect.DeepEqual(got, []string{"3", "'Asia/Tokyo'"}) {
		t.Errorf("DateTime64 args %q", got)
	}
	if got := parseCHType("Enum8('a, b' = 1, 'c' = 2)").args; len(got) != 2 {
		t.Errorf("Enum8 args split inside quotes: %q", got)
	}
	if got := parseCHType("Nested(a UInt8, b String)"); got.name != "Array" || got.elem(0).names[1] != "b" {
		t.Errorf("Nested is not Array(Tuple): %+v", got)
	}
	if got := parseCHType("Ring").elem(0); got.name != "Tuple" {
		t.Errorf("Ring is not Array(Point): %+v", got)
	}
}

// TestClickHouseValueFormatting covers the types 18.16 cannot produce
// (Map, IPv4/IPv6, 128-bit integers, DateTime64, Bool) with the Go values
// the driver returns for them.
func TestClickHouseValueFormatting(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	s := func(v string) *string { return &v }
	cases := []struct {
		typ  string
		v    any
		want string
	}{
		{"UInt64", uint64(math.MaxUint64), "18446744073709551615"},
		{"Int64", int64(math.MinInt64), "-9223372036854775808"},
		{"Int128", new(big.Int).Lsh(big.NewInt(1), 100), "1267650600228229401496703205376"},
		{"Decimal(38, 10)", decimal.RequireFromString("-12345678901234567890.0123456789"), "-12345678901234567890.0123456789"},
		{"Float64", 0.1, "0.1"},
		{"Float64", 123456789.125, "123456789.125"},
		{"Float64", 1e300, "1e+300"},
		{"Float64", math.Inf(-1), "-inf"},
		{"Float32", float32(0.1), "0.1"},
		{"Bool", true, "true"},
		{"String", "a\x00b\xff,'\"", "a\x00b\xff,'\""},
		{"FixedString(4)", "ab\x00\x00", "ab\x00\x00"},
		{"Date", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "2026-01-02"},
		{"DateTime('Asia/Tokyo')", time.Date(2026, 1, 2, 3, 4, 5, 0, tokyo), "2026-01-02T03:04:05+09:00"},
		{"DateTime64(6, 'UTC')", time.Date(2026, 1, 2, 3, 4, 5, 123400000, time.UTC), "2026-01-02T03:04:05.123400Z"},
		{"UUID", uuid.MustParse("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), "61f0c404-5cb3-11e7-907b-a6006ad3dba0"},
		{"IPv4", net.ParseIP("10.1.2.3"), "10.1.2.3"},
		{"IPv6", netip.MustParseAddr("2001:db8::1"), "2001:db8::1"},
		{"Nullable(String)", s("x"), "x"},
		{"Array(Nullable(String))", []*string{nil, s("it's")}, `[NULL,'it\'s']`},
		{"Array(UInt8)", []uint8{1, 2}, "[1,2]"},
		{"Array(Array(Float64))", [][]float64{{0.5}, {}}, "[[0.5],[]]"},
		{"Array(DateTime('UTC'))", []time.Time{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, "['2026-01-02T03:04:05Z']"},
		{"Tuple(String, UInt8, Array(Nullable(String)))", []any{"a\nb", uint8(1), []*string{nil}}, `('a\nb',1,[NULL])`},
		{"Tuple(z String, a UInt8)", map[string]any{"a": uint8(7), "z": "last"}, "('last',7)"},
		{"Array(Map(String, UInt64))", []map[string]uint64{{"b": 2, "a": 1}}, "[{'a':1,'b':2}]"},
		{"Map(String, Array(UUID))", &chOrderedMap{keys: []any{"z", "a"}, vals: []any{[]uuid.UUID{{}}, []uuid.UUID{}}}, "{'z':['00000000-0000-0000-0000-000000000000'],'a':[]}"},
		{"Point", [2]float64{1.5, -2}, "(1.5,-2)"},
		{"Enum8('a' = 1, 'b' = 2)", "b", "b"},
		{"Array(Enum8('a' = 1, 'b' = 2))", []string{"a"}, "['a']"},
	}
	for _, c := range cases {
		got := string(appendCH(nil, reflect.ValueOf(c.v), parseCHType(c.typ), false))
		if got != c.want {
			t.Errorf("%s %#v: got %q, want %q", c.typ, c.v, got, c.want)
		}
	}
	var nilStr *string
	if !isNull(reflect.ValueOf(&nilStr).Elem()) || isNull(reflect.ValueOf(new(big.Int))) {
		t.Error("isNull: a nil *string is NULL and a *big.Int is not")
	}
}

func TestClickHouseExceptions(t *testing.T) {
	e := &chEngine{addr: "ch.example:9440", user: "reader", database: "shop"}
	ctx := context.Background()
	sql := "SELECT * FROM orders WHER id = 1"
	cases := []struct {
		ex    *clickhouse.Exception
		want  []string
		table string
	}{
		{&clickhouse.Exception{Code: 62, Message: "Syntax error: failed at position 27 ('id'): id = 1. Expected one of: ..."}, []string{"ClickHouse error 62", `FROM orders WHER ⟶id = 1"`}, ""},
		{&clickhouse.Exception{Code: 60, Message: "Table shop.ordrs doesn't exist."}, []string{"ClickHouse error 60"}, "shop.ordrs"},
		{&clickhouse.Exception{Code: 60, Message: "Unknown table expression identifier 'ordrs' in scope SELECT * FROM ordrs. (UNKNOWN_TABLE)"}, nil, "ordrs"},
		{&clickhouse.Exception{Code: 47, Message: "Unknown identifier: foo, context: required_names: 'foo' source_tables: table_aliases: private_aliases: column_aliases: public_columns: 'foo' masked_columns: array_join_columns: source_columns: "},
			[]string{"Unknown identifier: foo\n", "describe_table"}, ""},
		{&clickhouse.Exception{Code: 164, Message: "Table functions are forbidden in readonly mode"}, []string{"read-only", "system.numbers"}, ""},
		{&clickhouse.Exception{Code: 81, Message: "Database logs doesn't exist"}, []string{`database is "shop"`, "list_tables"}, ""},
		{&clickhouse.Exception{Code: 516, Message: "reader: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)"}, []string{"ch.example:9440", `user "reader"`, "username and password"}, ""},
	}
	for _, c := range cases {
		err := e.queryErr(ctx, c.ex, sql)
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("code %d: %q does not contain %q", c.ex.Code, err, w)
			}
		}
		var qe *queryError
		if errors.As(err, &qe) && qe.table != c.table {
			t.Errorf("code %d: table %q, want %q", c.ex.Code, qe.table, c.table)
		}
		if strings.Contains(err.Error(), "context:") {
			t.Errorf("code %d: 18.x debugging context kept: %q", c.ex.Code, err)
		}
	}
	if err := e.queryErr(ctx, &clickhouse.Exception{Code: 159, Message: "Timeout exceeded: elapsed 27.0 seconds"}, sql); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("code 159 is %v, want a deadline error", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.queryErr(cancelled, errors.New("read: use of closed network connection"), sql); !errors.Is(err, context.Canceled) {
		t.Errorf("an error after cancellation is %v, want context.Canceled", err)
	}
	for msg, want := range map[string]string{
		"code: 164, message: Cannot modify 'max_execution_time' setting in readonly mode":                               "max_execution_time",
		"sendQuery: [HTTP 500] Code: 164. DB::Exception: Cannot modify 'readonly' setting in readonly mode. (READONLY)": "readonly",
		"code: 164, message: Cannot modify 'max_threads' setting in readonly mode":                                      "",
		"code: 164, message: Cannot execute SET query in readonly mode":                                                 "",
	} {
		if got, _ := refusedSetting(errors.New(msg)); got != want {
			t.Errorf("refusedSetting(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestClickHouseEngineFull(t *testing.T) {
	head, cl := splitEngineFull("ReplicatedMergeTree('/clickhouse/tables/{shard}/t', '{replica}') PARTITION BY toYYYYMM(d) ORDER BY (a, intHash32(b)) SAMPLE BY intHash32(b) TTL d + toIntervalDay(30) SETTINGS index_granularity = 8192")
	if head != "ReplicatedMergeTree('/clickhouse/tables/{shard}/t', '{replica}')" || cl["PARTITION BY"] != "toYYYYMM(d)" ||
		cl["ORDER BY"] != "(a, intHash32(b))" || cl["SAMPLE BY"] != "intHash32(b)" || cl["TTL"] != "d + toIntervalDay(30)" {
		t.Errorf("head %q, clauses %q", head, cl)
	}
	for in, want := range map[string]string{"(a, b)": "a, b", "toYYYYMM(d)": "toYYYYMM(d)", "(a) + (b)": "(a) + (b)", "(f(x), ')')": "f(x), ')'", "id": "id"} {
		if got := stripParens(in); got != want {
			t.Errorf("stripParens(%q) = %q, want %q", in, got, want)
		}
	}
	// Servers older than 18.16 have no key columns in system.tables.
	d := chTable{name: "t", current: true, engine: "ReplicatedMergeTree", engineFull: "ReplicatedMergeTree('/p', 'r') PARTITION BY toYYYYMM(d) ORDER BY (a, b) SETTINGS index_granularity = 4096"}.desc()
	got := strings.Join(d.Constraints, "; ")
	if got != "ENGINE = ReplicatedMergeTree('/p', 'r'); PRIMARY KEY (a, b); PARTITION BY toYYYYMM(d); SETTINGS index_granularity = 4096" || d.Kind != "ReplicatedMergeTree table" {
		t.Errorf("kind %q, constraints %q", d.Kind, got)
	}
}

// TestClickHouseQueries checks, on the real server, exact values of every
// type 18.16 has, the read-only settings each query carries, and errors.
func TestClickHouseQueries(t *testing.T) {
	db := newClickHouseDB(t)
	cs := serverFor(t, db, config.Limits{})
	out := mcptest.MustText(t, cs, "query", map[string]any{"sql": `SELECT toUInt64(18446744073709551615) AS u64, toInt64(-9223372036854775808) AS i64,
	  toDecimal128('-12345678901234567890.123456789', 9) AS d128, CAST(NULL AS Nullable(Decimal(18, 2))) AS nd, toFloat32(0.1) AS f32, 0.1 + 0.2 AS f64,
	  toDateTime('2026-01-02 03:04:05', 'Asia/Tokyo') AS tokyo, toDate('2026-01-02') AS day, [NULL, 'it''s'] AS arr, tuple('a', 1, [[1], [2, 3]]) AS tup,
	  toLowCardinality('lc') AS lc, CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS enum, toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS id,
	  toFixedString('ab', 3) AS fixed, 'x\0y' AS bin, '' AS empty, NULL AS nothing, nan AS not_a_number`})
	containsAll(t, "types", out,
		"u64:UInt64,i64:Int64,\"d128:Decimal(38, 9)\",\"nd:Nullable(Decimal(18, 2))\",f32:Float32,f64:Float64,tokyo:DateTime('Asia/Tokyo'),day:Date,arr:Array(Nullable(String)),\"tup:Tuple(String, UInt8, Array(Array(UInt8)))\",lc:LowCardinality(String),\"enum:Enum8('a' = 1, 'b' = 2)\",id:UUID,fixed:FixedString(3),bin:String,empty:String,nothing:Nullable(Nothing),not_a_number:Float64\n",
		"18446744073709551615,-9223372036854775808,-12345678901234567890.123456789,,0.1,0.30000000000000004,2026-01-02T03:04:05+09:00,2026-01-02,\"[NULL,'it\\'s']\",\"('a',1,[[1],[2,3]])\",lc,b,61f0c404-5cb3-11e7-907b-a6006ad3dba0,ab\x00,x\x00y,\"\",,nan\n")

	// Every query carries readonly=1 and a time limit below the deadline.
	out = mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT name, value FROM system.settings WHERE name IN ('readonly', 'max_execution_time') ORDER BY name"})
	containsAll(t, "settings", out, "max_execution_time,27\n", "readonly,1\n")

	for sql, wants := range map[string][]string{
		"SELECT * FROM numbers(3)":                   {"error 164", "read-only", "system.numbers"},
		"SELECT 1 SETTINGS max_execution_time = 0":   {"error 164", "read-only"},
		"SELECT nosuch FROM orders":                  {"error 47", "nosuch", "describe_table"},
		"SELECT id FROM orders WHER id = 1":          {"error 62", "At: ", "⟶"},
		"SELECT uniqState(id) FROM orders":           {"cannot read columns of type AggregateFunction(uniq, UInt64)", "uniqMerge"},
		"SELECT * FROM nosuchdb.orders":              {"error 81", "list_tables"},
		"SELECT toStartOfHour(created_at) FROM ordr": {"error 60", "did you mean orders"},
	} {
		containsAll(t, sql, mcptest.MustError(t, cs, "query", map[string]any{"sql": sql}), wants...)
	}

	// Names can be qualified and quoted; views show their query.
	name := strings.TrimPrefix(db.dsn[strings.LastIndexByte(db.dsn, '/'):], "/")
	out = mcptest.MustText(t, cs, "describe_table", map[string]any{"table": "`" + name + "`.big_orders"})
	containsAll(t, "describe view", out, "view big_orders", "total Nullable(Decimal(14, 2))", "AS SELECT")
	out = mcptest.MustText(t, cs, "list_tables", map[string]any{"schema": name})
	containsAll(t, "list_tables in a schema", out, name+".orders,MergeTree,~254,", name+".big_orders,View,?,?")

	out = mcptest.MustText(t, cs, "explain", map[string]any{"sql": "SELECT count() FROM orders WHERE customer_id = 1", "analyze": true})
	containsAll(t, "explain analyze", out, "read 254 rows", "returned 1 rows")
}

// TestClickHouseStopsServerWork checks that a full result and a deadline
// both stop the query on the server, which keeps running a query whose
// client only went away.
func TestClickHouseStopsServerWork(t *testing.T) {
	db := newClickHouseDB(t)
	running := func(marker string) func() bool {
		return func() bool {
			return db.adminString(t, "SELECT count() FROM system.processes WHERE query LIKE '%"+marker+"%' AND query NOT LIKE '%system.processes%'") != "0"
		}
	}

	t.Run("full sink", func(t *testing.T) {
		cs := serverFor(t, db, config.Limits{})
		marker := uniqueName("endless")
		start := time.Now()
		out := mcptest.MustText(t, cs, "query", map[string]any{"sql": "SELECT number, '" + marker + "' FROM system.numbers", "limit": 5})
		containsAll(t, "endless query", out, "5 rows shown, more exist")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("5 rows of an endless query took %s", d)
		}
		waitFor(t, 5*time.Second, "the endless query to stop on the server", func() bool { return !running(marker)() })
	})

	t.Run("deadline", func(t *testing.T) {
		cs := serverFor(t, db, config.Limits{Timeout: config.Duration(2 * time.Second)})
		marker := uniqueName("slow")
		// A query that sends nothing until it ends, so only a Cancel packet
		// or max_execution_time can stop it early.
		sql := "SELECT count(), '" + marker + "' FROM system.numbers WHERE NOT ignore(sleep(0.5))"
		msg := mcptest.MustError(t, cs, "query", map[string]any{"sql": sql})
		containsAll(t, "deadline", msg, "deadline")
		waitFor(t, 4*time.Second, "the slow query to stop on the server", func() bool { return !running(marker)() })
	})
}

// TestClickHouseConnectionErrors checks that a bad address, user, password
// or database gets a message naming what to fix, and never the password.
func TestClickHouseConnectionErrors(t *testing.T) {
	newClickHouseDB(t) // skips when there is no server
	const pw = "hunter2-Canary-5ecret"
	addr := clickhouseAddr()
	cases := []struct{ url, want string }{
		{"clickhouse://nobody:" + pw + "@" + addr + "/default", `refused user "nobody"`},
		{"clickhouse://default:" + pw + "@" + addr + "/default", `refused user "default"`},
		{"clickhouse://default@" + addr + "/nosuchdb", `database is "nosuchdb"`},
		{"clickhouses://default:" + pw + "@" + addr + "/default", "does not speak TLS on this port"},
		{"clickhouse://default:" + pw + "@127.0.0.1:1/default", "cannot reach ClickHouse at 127.0.0.1:1 (native protocol, database \"default\", user \"default\")"},
	}
	for _, c := range cases {
		conn := config.Connection{Name: "ch", Provider: "clickhouse", Settings: map[string]string{"url": c.url}}
		ctx, cancel := context.WithCancel(context.Background())
		s, err := New(ctx, Config{Connections: []config.Connection{conn}})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		msg := mcptest.MustError(t, mcptest.Connect(t, s), "query", map[string]any{"sql": "SELECT 1"})
		cancel()
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: %q does not contain %q", c.url, msg, c.want)
		}
		if strings.Contains(msg, pw) {
			t.Errorf("%s: the message shows the password: %s", c.url, msg)
		}
	}
}

func TestClickHouseConnectionHints(t *testing.T) {
	timeout := errors.New("handshake: read tcp 10.0.0.1:51416->10.0.0.2:8123: i/o timeout")
	cases := []struct {
		e    *chEngine
		err  error
		want string
	}{
		{&chEngine{addr: "ch.example:8123", protocol: clickhouse.Native}, timeout, "port 8123 is usually ClickHouse's HTTP interface"},
		{&chEngine{addr: "ch.example:9000", protocol: clickhouse.HTTP}, errors.New(`[HTTP 400] "Port 9000 is for clickhouse-client program."`), "write the URL as clickhouse://host:9000"},
		{&chEngine{addr: "ch.example:9440", protocol: clickhouse.Native}, errors.New("tls: first record does not look like a TLS handshake"), "does not speak TLS"},
	}
	for _, c := range cases {
		if got := c.e.connErr(c.err).Error(); !strings.Contains(got, c.want) || !strings.Contains(got, c.e.addr) {
			t.Errorf("%s: %q should name the address and contain %q", c.e.addr, got, c.want)
		}
	}
}
