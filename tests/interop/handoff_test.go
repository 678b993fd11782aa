package interop

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

// fullOnce builds opstower-full beside binPath, once, for the tests that
// need opstower to hand a command over.
var fullOnce = sync.OnceValue(func() error {
	_, err := opstowerbin.BuildFull(filepath.Dir(binPath))
	return err
})

// runOpstower runs bin with args and env and returns its output and error.
func runOpstower(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// opstower does not link the agent host; asked for one of its commands, it
// replaces itself with the opstower-full installed beside it.
func TestHandOffToFull(t *testing.T) {
	if err := fullOnce(); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state.db")
	out, errOut, err := runOpstower(t, binPath, opstowerbin.Env(), "agents", "list", "--database", state)
	if err != nil {
		t.Fatalf("opstower agents list: %v\nstderr: %s", err, errOut)
	}
	if !strings.Contains(out, "No agents yet") {
		t.Errorf("opstower agents list printed %q, want the host's empty list", out)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("the host did not create its state database: %v", err)
	}
}

// Without opstower-full, the same command fails saying what to install,
// and the servers keep working.
func TestHandOffWithoutFull(t *testing.T) {
	dir := t.TempDir()
	lone := filepath.Join(dir, "opstower")
	data, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(opstowerbin.Env(), "PATH="+dir) // the later PATH wins
	_, errOut, err := runOpstower(t, lone, env, "chat", "-p", "why?")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("opstower chat without opstower-full: %v, want exit status 2\nstderr: %s", err, errOut)
	}
	for _, want := range []string{"opstower chat needs opstower-full", "make build", "go install"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	if out, errOut, err := runOpstower(t, lone, env, "version"); err != nil || !strings.HasPrefix(out, "opstower ") {
		t.Errorf("opstower version alone: %v %q %q", err, out, errOut)
	}
}

// A log connection on CloudWatch, whose AWS client opstower does not link,
// is served by opstower-full in its place, over the same stdio: the client
// sees the CloudWatch Logs Insights tool.
func TestHandOffForCloudLogs(t *testing.T) {
	if err := fullOnce(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "logs.yaml")
	doc := "connections:\n  - {name: prod, category: logs, provider: cloudwatch, region: eu-west-1, log_group: /app/api,\n     access_key_id: AKIDEXAMPLE, secret_access_key: not-a-real-secret, endpoint: http://127.0.0.1:9}\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "mcp", "logs", "--config", cfg)
	cmd.Env = opstowerbin.Env()
	stderr := &mcptest.SyncBuffer{}
	cmd.Stderr = stderr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: clientInfo.name, Version: clientInfo.version}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatalf("connecting: %v\nstderr:\n%s", err, stderr.String())
	}
	defer func() { opstowerbin.CheckExit(t, cs.Close(), stderr.String()) }()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if !slices.Contains(names, "cloudwatch_insights_query") {
		t.Errorf("tools %v: want cloudwatch_insights_query, served by opstower-full", names)
	}
}

// A copy of opstower installed as opstower-full cannot take over: the
// command fails at once instead of handing over to itself for ever.
func TestHandOffToACopy(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"opstower", "opstower-full"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var errOut string
	go func() {
		defer close(done)
		_, errOut, err = runOpstower(t, filepath.Join(dir, "opstower"), opstowerbin.Env(), "agents", "list")
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("opstower kept handing over to a copy of itself")
	}
	if err == nil || !strings.Contains(errOut, "does not have it either") {
		t.Errorf("want a failure naming the wrong opstower-full: %v\n%s", err, errOut)
	}
}

// --check reaches each connection, prints a line for each, and exits with
// a failure when one fails.
func TestCheck(t *testing.T) {
	out, errOut, err := runOpstower(t, binPath, opstowerbin.Env(), "mcp", "databases", "--check", "--dsn", "shop=sqlite://"+fixtureDB)
	if err != nil || !strings.HasPrefix(out, "shop (SQLite): ok in ") {
		t.Errorf("a working connection: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	out, errOut, err = runOpstower(t, binPath, opstowerbin.Env(), "mcp", "databases", "--check", "--dsn", "shop=sqlite://"+fixtureDB, "--dsn", "gone=postgres://u@"+closedPort+"/x?sslmode=disable")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(out, "shop (SQLite): ok") || !strings.Contains(out, "gone (PostgreSQL): FAILED: cannot reach PostgreSQL") ||
		!strings.Contains(errOut, "1 of 2 connections failed") {
		t.Errorf("one failing connection: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
}
