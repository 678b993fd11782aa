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
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
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

	binPath = filepath.Join(dir, "opstower")
	if err := buildBinary(binPath); err != nil {
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

// buildBinary builds cmd/opstower. Under -race the binary is built with
// the race detector too, so a data race in the server during these
// end-to-end runs fails the test that caused it (see checkExit).
func buildBinary(out string) error {
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/opstower/opstower/cmd/opstower")
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build of cmd/opstower: %v\n%s", err, stderr.String())
	}
	return nil
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

// childEnv is the environment of a server process: the test's own
// environment without OPSTOWER_* variables (a developer's OPSTOWER_DSN or
// OPSTOWER_HTTP would otherwise change what the server does), plus extra.
//
// A race-enabled binary sleeps a second at exit by default, waiting for
// late race reports; stdio clients signal a server that takes that long to
// exit after stdin closes, so the sleep is turned off.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSTOWER_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	if raceEnabled {
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return append(env, extra...)
}

// syncBuffer collects a child process's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkExit fails the test when a server process ended badly: a non-zero
// exit after a clean shutdown request, or a race report on stderr.
func checkExit(t testing.TB, waitErr error, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("the server reported a data race:\n%s", stderr)
		return
	}
	if waitErr != nil {
		t.Errorf("the server did not exit cleanly: %v\nstderr:\n%s", waitErr, stderr)
	}
}

// httpServer is an opstower process serving streamable HTTP on loopback.
type httpServer struct {
	base   string // http://127.0.0.1:PORT
	stderr *syncBuffer
}

func (s *httpServer) endpoint() string { return s.base + "/mcp" }

// startHTTP starts `opstower mcp databases --http 127.0.0.1:PORT` on a free
// port with the given environment and extra flags, waits until /healthz
// answers, and stops it with SIGTERM at cleanup. The port is found by
// listening on :0 first; if another process takes it in between, the
// server fails to listen and we try another.
func startHTTP(t testing.TB, env []string, flags ...string) *httpServer {
	t.Helper()
	var lastErr error
	for range 3 {
		s, err := tryStartHTTP(t, env, flags)
		if err == nil {
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("starting the HTTP server: %v", lastErr)
	return nil
}

func tryStartHTTP(t testing.TB, env, flags []string) (*httpServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	args := append([]string{"mcp", "databases", "--http", addr}, flags...)
	cmd := exec.Command(binPath, args...)
	cmd.Env = childEnv(env...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	s := &httpServer{base: "http://" + addr, stderr: stderr}
	if err := waitListening(s.base+"/healthz", exited); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			checkExit(t, err, stderr.String())
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the HTTP server ignored SIGTERM for 10s\nstderr:\n%s", stderr.String())
		}
	})
	return s, nil
}

// waitListening polls url until the server answers at all (a Host
// allow-list may make /healthz itself answer 403) or the process exits.
func waitListening(url string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited before listening: %v", err)
		case <-ctx.Done():
			return errors.New("the server did not start listening within 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
