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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/tests/internal/opstowerbin"
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
	bin, err := opstowerbin.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "conformance.db")
	createFixture(t, db)
	endpoint := opstowerbin.StartHTTP(t, bin, nil, "--dsn", "sqlite://"+db).Endpoint()

	results := filepath.Join(dir, "results")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "server", "--url", endpoint, "--expected-failures", "baseline.yml", "--output-dir", results)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
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
