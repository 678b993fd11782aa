package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// dataVersion is stored as the table's comment. A table carrying another
// comment (an older generator, a half-finished load) is rebuilt, so every
// run measures the same rows.
const dataVersion = "opstower bench data v1: 100000 orders"

// benchRows is the size of bench_orders.
const benchRows = 100000

// createSQL and insertSQL build bench_orders deterministically: values come
// from hashes of the row number, so every machine gets the same rows. The
// values look like an orders table's: ids and customers, a handful of
// statuses and currencies, prices, created_at at microsecond precision (what
// a default now() stores) and a note on half of the rows.
const createSQL = `
CREATE TABLE bench_orders (
  id          bigint PRIMARY KEY,
  customer_id int NOT NULL,
  status      text NOT NULL,
  total       numeric(10,2) NOT NULL,
  currency    char(3) NOT NULL,
  created_at  timestamptz NOT NULL,
  note        text
)`

const insertSQL = `
INSERT INTO bench_orders
SELECT i,
  1 + (hashint4(i) & 2147483647) % 50000,
  (ARRAY['pending','paid','shipped','delivered','cancelled','refunded'])[1 + (hashint4(i*7) & 2147483647) % 6],
  round(((hashint4(i*13) & 2147483647) % 60000 + 499) / 100.0, 2),
  (ARRAY['USD','EUR','GBP','USD','CAD'])[1 + (hashint4(i*17) & 2147483647) % 5],
  timestamptz '2025-01-01 00:00:00+00' + i * interval '4 min 13 s'
    + ((hashint4(i*19) & 2147483647) % 1000000) * interval '1 microsecond',
  CASE WHEN (hashint4(i*23) & 2147483647) % 10 < 5 THEN NULL
  ELSE (ARRAY['leave at the front door','gift wrap, please','deliver after 6pm','call before delivery',
              'customer asked to split the shipment','invoice to billing address','fragile: glassware inside',
              'express shipping upgrade','replacement for order with damaged item','pick up in store'])
       [1 + (hashint4(i*29) & 2147483647) % 10] END
FROM generate_series(1, 100000) AS i` // keep in step with benchRows

// benchData is the bench database, ready to query.
type benchData struct {
	dsn  string    // URL of the bench database, given to both servers
	conn *pgx.Conn // the bench's own connection, for checks and the baseline
}

func (d *benchData) close() { _ = d.conn.Close(context.Background()) }

// ensureData creates the bench database and table if they are missing and
// returns a connection to it. It is idempotent and safe to run twice at
// once (an advisory lock serialises the load).
func ensureData(ctx context.Context, adminDSN, database string) (*benchData, error) {
	dsn, err := withDatabase(adminDSN, database)
	if err != nil {
		return nil, err
	}
	if err := ensureDatabase(ctx, adminDSN, database); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to the bench database: %w", err)
	}
	if err := ensureTable(ctx, conn); err != nil {
		_ = conn.Close(ctx)
		return nil, err
	}
	return &benchData{dsn: dsn, conn: conn}, nil
}

// withDatabase returns the URL dsn with its database replaced.
func withDatabase(dsn, database string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("-pg must be a postgres:// URL, got %q", dsn)
	}
	u.Path = "/" + database
	return u.String(), nil
}

func ensureDatabase(ctx context.Context, adminDSN, database string) error {
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL (-pg): %w", err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{database}.Sanitize())
	var dup interface{ SQLState() string }
	if errors.As(err, &dup) && dup.SQLState() == "42P04" {
		return nil // created meanwhile by another run
	}
	return err
}

// ensureTable (re)builds bench_orders unless it already carries dataVersion.
func ensureTable(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('opstower bench data'))"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext('opstower bench data'))")

	var comment *string
	err := conn.QueryRow(ctx, "SELECT obj_description(to_regclass('public.bench_orders'), 'pg_class')").Scan(&comment)
	if err != nil {
		return err
	}
	if comment != nil && *comment == dataVersion {
		return nil
	}
	fmt.Fprintf(os.Stderr, "bench: loading %d rows into bench_orders...\n", benchRows)
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS bench_orders",
		createSQL,
		insertSQL,
		"COMMENT ON TABLE bench_orders IS '" + strings.ReplaceAll(dataVersion, "'", "''") + "'",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("loading bench_orders: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "ANALYZE bench_orders"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: loaded in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
