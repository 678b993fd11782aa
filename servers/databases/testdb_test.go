package databases

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection

	"github.com/opstower/opstower/shared/mcptest"
)

// testDB is a fresh database on one engine with the fixture loaded. admin
// is a read-write connection for setting up and for checking, after an
// escape attempt, that nothing changed.
type testDB struct {
	name    string // engine name in test output
	dsn     string // what a user passes to --dsn
	admin   *sql.DB
	dialect string
}

func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// adminExec runs statements on the admin connection, failing the test on error.
func (db *testDB) adminExec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.admin.Exec(s); err != nil {
			t.Fatalf("%s: fixture statement failed: %v\n%s", db.name, err, s)
		}
	}
}

// adminString returns the first column of the first row as text.
func (db *testDB) adminString(t testing.TB, q string) string {
	t.Helper()
	var s sql.NullString
	if err := db.admin.QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v\n%s", db.name, err, q)
	}
	return s.String
}

func postgresBaseURL() string {
	if u := os.Getenv("OPSTOWER_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// newPostgresDB creates a database with a unique name and drops it after.
func newPostgresDB(t testing.TB) *testDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := postgresBaseURL()
	root, err := pgx.Connect(ctx, base)
	if err != nil {
		mcptest.SkipOrFail(t, "PostgreSQL at %s: %v", base, err)
	}
	name := uniqueName("opstower_test")
	if _, err := root.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		root.Close(ctx)
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(base)
	dsn := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	if cfg.Password != "" {
		dsn = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = root.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		root.Close(ctx)
	})
	db := &testDB{name: "postgres", dsn: dsn, admin: admin, dialect: "postgres"}
	db.adminExec(t, postgresFixture...)
	return db
}

var postgresFixture = []string{
	`CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text UNIQUE, created_at timestamp NOT NULL DEFAULT now())`,
	`COMMENT ON TABLE customers IS 'people who buy'`,
	`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), status varchar(20) NOT NULL DEFAULT 'new',
	   total numeric(14,2), note text, created_at timestamptz NOT NULL)`,
	`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at)`,
	`CREATE TABLE canary (id int PRIMARY KEY, secret text NOT NULL)`,
	`CREATE SEQUENCE canary_seq`,
	`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000`,
	`INSERT INTO canary VALUES (1, 'untouched')`,
	`INSERT INTO customers (id, name, email, created_at) VALUES (1, 'Ada', 'ada@example.com', '2026-01-01 10:00:00'), (2, 'Linus', NULL, '2026-01-02 11:00:00')`,
	`INSERT INTO orders VALUES
	   (9007199254740993, 1, 'paid', 123456789012.34, NULL, '2026-01-02 03:04:05.123456+00'),
	   (2, 1, 'paid', 0.10, '', '2026-01-03 00:00:00+00'),
	   (3, 2, 'refunded', -5.00, 'NULL', '2026-01-04 00:00:00+00'),
	   (4, 2, 'new', 12.00, 'has, comma and "quotes"', '2026-01-05 00:00:00+00')`,
	`INSERT INTO orders SELECT 100 + g, 1 + g % 2, 'bulk', g, 'row ' || g, '2026-02-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 250) g`,
	`ANALYZE`,
}

func mysqlBaseDSN() string {
	if u := os.Getenv("OPSTOWER_TEST_MYSQL_DSN"); u != "" {
		return u
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// newMySQLDB creates a database with a unique name and drops it after.
func newMySQLDB(t testing.TB) *testDB {
	t.Helper()
	root, err := sql.Open("mysql", mysqlBaseDSN()+"?multiStatements=false")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		root.Close()
		mcptest.SkipOrFail(t, "MySQL/MariaDB at %s: %v", mysqlBaseDSN(), err)
	}
	name := uniqueName("opstower_test")
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", mysqlBaseDSN()+name+"?parseTime=false")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Close()
		_, _ = root.Exec("DROP DATABASE IF EXISTS " + name)
		root.Close()
	})
	db := &testDB{name: "mysql", dsn: "mysql://root@127.0.0.1:3306/" + name, admin: admin, dialect: "mysql"}
	db.adminExec(t, mysqlFixture...)
	return db
}

var mysqlFixture = []string{
	`CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200) UNIQUE, created_at datetime NOT NULL) COMMENT 'people who buy'`,
	`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status varchar(20) NOT NULL DEFAULT 'new',
	   total decimal(14,2), note text, created_at datetime(6) NOT NULL,
	   KEY orders_customer_idx (customer_id, created_at), CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id))`,
	`CREATE TABLE canary (id int PRIMARY KEY, secret varchar(50) NOT NULL)`,
	`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000`,
	`INSERT INTO canary VALUES (1, 'untouched')`,
	`INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', '2026-01-01 10:00:00'), (2, 'Linus', NULL, '2026-01-02 11:00:00')`,
	`INSERT INTO orders VALUES
	   (9007199254740993, 1, 'paid', 123456789012.34, NULL, '2026-01-02 03:04:05.123456'),
	   (2, 1, 'paid', 0.10, '', '2026-01-03 00:00:00'),
	   (3, 2, 'refunded', -5.00, 'NULL', '2026-01-04 00:00:00'),
	   (4, 2, 'new', 12.00, 'has, comma and "quotes"', '2026-01-05 00:00:00')`,
	`INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 250)
	   SELECT 100 + n, 1 + n % 2, 'bulk', n, CONCAT('row ', n), TIMESTAMP('2026-02-01') + INTERVAL n MINUTE FROM g`,
	`ANALYZE TABLE customers, orders`,
}

// newSQLiteDB creates a database file in a temporary directory.
func newSQLiteDB(t testing.TB) *testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	admin, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	admin.SetMaxOpenConns(1)
	t.Cleanup(func() { admin.Close() })
	db := &testDB{name: "sqlite", dsn: "sqlite://" + path, admin: admin, dialect: "sqlite"}
	db.adminExec(t, sqliteFixture...)
	return db
}

var sqliteFixture = []string{
	`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT NOT NULL DEFAULT 'new',
	   total NUMERIC, note TEXT, created_at TEXT NOT NULL)`,
	`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at)`,
	`CREATE TABLE canary (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)`,
	`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000`,
	`INSERT INTO canary VALUES (1, 'untouched')`,
	`INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', '2026-01-01 10:00:00'), (2, 'Linus', NULL, '2026-01-02 11:00:00')`,
	`INSERT INTO orders VALUES
	   (9007199254740993, 1, 'paid', '123456789012.34', NULL, '2026-01-02 03:04:05.123456'),
	   (2, 1, 'paid', 0.1, '', '2026-01-03 00:00:00'),
	   (3, 2, 'refunded', -5, 'NULL', '2026-01-04 00:00:00'),
	   (4, 2, 'new', 12, 'has, comma and "quotes"', '2026-01-05 00:00:00')`,
	`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 250)
	   INSERT INTO orders SELECT 100 + n, 1 + n % 2, 'bulk', n, 'row ' || n, datetime('2026-02-01', '+' || n || ' minutes') FROM g`,
}

func clickhouseAddr() string {
	if a := os.Getenv("OPSTOWER_TEST_CLICKHOUSE_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:9000"
}

// clickhouseAdmin opens a read-write connection as user default over the
// native protocol. LowCardinality columns need a setting on 18.x; newer
// servers accept and ignore it.
func clickhouseAdmin(database string) *sql.DB {
	return clickhouse.OpenDB(&clickhouse.Options{
		Addr: []string{clickhouseAddr()}, Auth: clickhouse.Auth{Database: database},
		DialTimeout: 3 * time.Second, ReadTimeout: 30 * time.Second,
		Settings: clickhouse.Settings{"allow_experimental_low_cardinality_type": 1},
	})
}

// newClickHouseDB creates a database with a unique name and drops it after.
// Rows are loaded with INSERT ... SELECT: over the native protocol an
// INSERT ... VALUES expects the client to send the data as blocks.
func newClickHouseDB(t testing.TB) *testDB {
	t.Helper()
	root := clickhouseAdmin("")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		root.Close()
		mcptest.SkipOrFail(t, "ClickHouse at %s: %v", clickhouseAddr(), err)
	}
	name := uniqueName("opstower_test")
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		root.Close()
		t.Fatal(err)
	}
	admin := clickhouseAdmin(name)
	t.Cleanup(func() {
		admin.Close()
		_, _ = root.Exec("DROP DATABASE IF EXISTS " + name)
		root.Close()
	})
	db := &testDB{name: "clickhouse", dsn: "clickhouse://default@" + clickhouseAddr() + "/" + name, admin: admin, dialect: "clickhouse"}
	db.adminExec(t, clickhouseFixture...)
	return db
}

// clickhouseFixture holds the same rows as the others. ClickHouse has no
// foreign keys, and 18.x no secondary indexes, table comments or
// sub-second DateTime.
var clickhouseFixture = []string{
	`CREATE TABLE customers (id UInt64, name String, email Nullable(String), created_at DateTime('UTC') DEFAULT now() COMMENT 'when the account was opened')
	   ENGINE = MergeTree ORDER BY id`,
	`CREATE TABLE orders (id UInt64, customer_id UInt64 COMMENT 'customers.id', status LowCardinality(String) DEFAULT 'new',
	   total Nullable(Decimal(14, 2)), note Nullable(String), created_at DateTime('UTC'))
	   ENGINE = MergeTree PARTITION BY toYYYYMM(created_at) ORDER BY id`,
	`CREATE TABLE canary (id UInt32, secret String) ENGINE = MergeTree ORDER BY id`,
	`CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000`,
	`INSERT INTO canary SELECT 1, 'untouched'`,
	`INSERT INTO customers (id, name, email, created_at)
	   SELECT toUInt64(1), 'Ada', CAST('ada@example.com' AS Nullable(String)), toDateTime('2026-01-01 10:00:00', 'UTC')
	   UNION ALL SELECT toUInt64(2), 'Linus', CAST(NULL AS Nullable(String)), toDateTime('2026-01-02 11:00:00', 'UTC')`,
	`INSERT INTO orders (id, customer_id, status, total, note, created_at)
	   SELECT toUInt64(9007199254740993), toUInt64(1), 'paid', CAST('123456789012.34' AS Nullable(Decimal(14, 2))), CAST(NULL AS Nullable(String)), toDateTime('2026-01-02 03:04:05', 'UTC')
	   UNION ALL SELECT toUInt64(2), toUInt64(1), 'paid', CAST('0.10' AS Nullable(Decimal(14, 2))), CAST('' AS Nullable(String)), toDateTime('2026-01-03 00:00:00', 'UTC')
	   UNION ALL SELECT toUInt64(3), toUInt64(2), 'refunded', CAST('-5.00' AS Nullable(Decimal(14, 2))), CAST('NULL' AS Nullable(String)), toDateTime('2026-01-04 00:00:00', 'UTC')
	   UNION ALL SELECT toUInt64(4), toUInt64(2), 'new', CAST('12.00' AS Nullable(Decimal(14, 2))), CAST('has, comma and "quotes"' AS Nullable(String)), toDateTime('2026-01-05 00:00:00', 'UTC')`,
	`INSERT INTO orders (id, customer_id, status, total, note, created_at)
	   SELECT 100 + number, 1 + number % 2, 'bulk', CAST(toDecimal64(number, 2) AS Nullable(Decimal(14, 2))), CAST(concat('row ', toString(number)) AS Nullable(String)),
	          toDateTime('2026-02-01 00:00:00', 'UTC') + number * 60
	   FROM system.numbers WHERE number BETWEEN 1 AND 250 LIMIT 250`,
}

// forEachEngine runs f against a fresh database on every engine that is
// available here.
func forEachEngine(t *testing.T, f func(t *testing.T, db *testDB)) {
	for _, e := range []struct {
		name string
		open func(testing.TB) *testDB
	}{{"postgres", newPostgresDB}, {"mysql", newMySQLDB}, {"sqlite", newSQLiteDB}, {"clickhouse", newClickHouseDB}} {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, e.open(t))
		})
	}
}

func containsAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, text)
		}
	}
}
