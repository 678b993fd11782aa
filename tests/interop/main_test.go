// Package interop runs the opstower binary the way users run it and drives
// it through independent MCP client implementations: the official go-sdk
// and mark3labs/mcp-go, over stdio and streamable HTTP, on the newest
// protocol revision and on an old one. It also checks the HTTP endpoint's
// protections (bearer token, cross-origin and Host checks) and that secrets
// never leave the process.
//
// A failure here is what a user of that client, transport or revision would
// see, so the tests speak only through the binary's public surface: flags,
// environment, stdio, HTTP and stderr.
package interop

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

var (
	// binPath is the opstower binary built once for the whole package.
	binPath string
	// fixtureDB is a SQLite shop database every scenario reads.
	fixtureDB string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "opstower-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	if binPath, err = opstowerbin.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fixtureDB = filepath.Join(dir, "shop.db")
	if err := createFixture(fixtureDB); err != nil {
		fmt.Fprintln(os.Stderr, "creating the SQLite fixture:", err)
		return 1
	}
	return m.Run()
}

// createFixture writes a small shop database with the things that break
// naive clients and renderers: non-ASCII text, quotes and commas, an
// embedded newline, NULLs, a foreign key and an index.
func createFixture(path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`
CREATE TABLE customers (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL,
	email   TEXT UNIQUE,
	balance NUMERIC
);
CREATE TABLE orders (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	total_cents INTEGER NOT NULL,
	status      TEXT NOT NULL DEFAULT 'open',
	note        TEXT
);
CREATE INDEX orders_customer ON orders(customer_id);
INSERT INTO customers VALUES
	(1, 'Ada Lovelace', 'ada@example.com', 12.5),
	(2, 'Zoë "Z" Ünal, Jr.', 'zoe@example.com', NULL),
	(3, 'Grace Hopper', NULL, 0);
INSERT INTO orders VALUES
	(10, 1, 1999, 'paid', NULL),
	(11, 1, 250, 'open', 'gift, wrapped'),
	(12, 3, 100000, 'refunded', 'line one
line two');
`)
	return err
}
