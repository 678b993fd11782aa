// Package conformance runs the MCP project's own conformance suite
// (@modelcontextprotocol/conformance, pinned in package.json and installed
// with `npm ci --prefix tests/conformance`) against `opstower mcp databases`
// over streamable HTTP.
//
// Scenarios that need the suite's fixture tools, resources and prompts are
// listed with reasons in baseline.yml; every other scenario must pass, and a
// listed one that starts passing fails the run too.
package conformance

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/shared/mcptest"
)

// cli is the suite's command, installed by npm next to this file.
var cli = filepath.Join("node_modules", ".bin", "conformance")

func TestConformance(t *testing.T) {
	if _, err := os.Stat(cli); err != nil {
		mcptest.SkipOrFail(t, "the MCP conformance suite is not installed (%v); run: npm ci --prefix tests/conformance", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		mcptest.SkipOrFail(t, "node is not on PATH (%v); the MCP conformance suite needs Node 20", err)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "opstower")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/opstower/opstower/cmd/opstower")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of cmd/opstower: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "conformance.db")
	createFixture(t, db)
	endpoint := startServer(t, bin, "--dsn", "sqlite://"+db)

	results := filepath.Join(dir, "results")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "server", "--url", endpoint, "--expected-failures", "baseline.yml", "--output-dir", results)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := ansi.ReplaceAllString(out.String(), "")
	total := totalLine(text)
	if err != nil {
		t.Fatalf("the conformance suite failed (%v); %s\nfailed checks:\n%s\nlast lines of its output:\n%s",
			err, total, failedChecks(t, results), tail(text, 40))
	}
	if total == "" {
		t.Fatalf("the conformance suite printed no Total line:\n%s", tail(text, 40))
	}
	t.Log(total)
}

var (
	// ansi matches the colour escapes the suite prints.
	ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")
	// timestamp matches the suffix of a per-scenario results directory.
	timestamp = regexp.MustCompile(`-\d{4}-\d\d-\d\dT[\d-]+Z$`)
)

// totalLine returns the suite's "Total: N passed, N failed" line.
func totalLine(text string) string {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "Total: ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failedChecks lists the checks that did not succeed in scenarios outside
// the baseline, with the suite's reason, from the checks.json files it
// writes per scenario (in server-SCENARIO-TIMESTAMP directories). The
// summary alone names only scenarios.
func failedChecks(t *testing.T, results string) string {
	raw, err := os.ReadFile("baseline.yml")
	if err != nil {
		t.Fatal(err)
	}
	var baseline struct {
		Server []string `yaml:"server"`
	}
	if err := yaml.Unmarshal(raw, &baseline); err != nil {
		t.Fatalf("baseline.yml: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(results, "*", "checks.json"))
	var b strings.Builder
	for _, f := range files {
		scenario := strings.TrimPrefix(timestamp.ReplaceAllString(filepath.Base(filepath.Dir(f)), ""), "server-")
		if slices.Contains(baseline.Server, scenario) {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var checks []struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			Description  string `json:"description"`
			ErrorMessage string `json:"errorMessage"`
		}
		if json.Unmarshal(raw, &checks) != nil {
			continue
		}
		for _, c := range checks {
			if c.Status != "SUCCESS" {
				fmt.Fprintf(&b, "  %s: %s %s: %s %s\n", scenario, c.ID, c.Status, c.Description, c.ErrorMessage)
			}
		}
	}
	if b.Len() == 0 {
		return "  (none outside the baseline; see the suite's output below)\n"
	}
	return b.String()
}

// createFixture writes a small SQLite database: the suite lists and calls
// the server's real tools, so there must be something to read.
func createFixture(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO items VALUES (1, 'first'), (2, 'second');`); err != nil {
		t.Fatal(err)
	}
}

// startServer runs `opstower mcp databases --http 127.0.0.1:PORT` on a free
// port, waits for /healthz and returns the MCP endpoint. The server is
// stopped with SIGTERM at cleanup and must exit cleanly.
func startServer(t *testing.T, bin string, flags ...string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()

		cmd := exec.Command(bin, append([]string{"mcp", "databases", "--http", addr}, flags...)...)
		cmd.Env = cleanEnv()
		stderr := &syncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitHealthy("http://"+addr+"/healthz", exited); err != nil {
			_ = cmd.Process.Kill()
			if attempt < 2 && strings.Contains(stderr.String(), "address already in use") {
				continue // another process took the port in between
			}
			t.Fatalf("starting the server: %v\nstderr:\n%s", err, stderr.String())
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil || strings.Contains(stderr.String(), "WARNING: DATA RACE") {
					t.Errorf("the server did not exit cleanly: %v\nstderr:\n%s", err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("the server ignored SIGTERM for 10s\nstderr:\n%s", stderr.String())
			}
		})
		return "http://" + addr + "/mcp"
	}
}

func waitHealthy(url string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the server exited: %v", err)
		case <-ctx.Done():
			return errors.New("/healthz did not answer 200 within 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cleanEnv keeps a developer's OPSTOWER_* variables (a token, another DSN)
// from changing the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSTOWER_") {
			env = append(env, kv)
		}
	}
	return env
}

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
