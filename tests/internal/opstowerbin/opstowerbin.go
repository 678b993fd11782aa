// Package opstowerbin builds the opstower binary and runs it as a child
// process, the way the end-to-end suites (tests/interop,
// tests/conformance) drive it: only through its public surface of flags,
// environment, stdio, HTTP and stderr.
package opstowerbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opstower/opstower/shared/mcptest"
)

// Build builds cmd/opstower into dir and returns the binary's path. Under
// -race the binary is built with the race detector too, so that a data
// race in the server during an end-to-end run fails the test that caused
// it (see CheckExit), and so that the build shares the cache with the rest
// of the run.
func Build(dir string) (string, error) { return build(dir, "opstower") }

// BuildFull builds cmd/opstower-full into dir, beside the opstower that
// Build wrote there, which hands the agent host's commands over to it.
func BuildFull(dir string) (string, error) { return build(dir, "opstower-full") }

func build(dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if Race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/opstower/opstower/cmd/"+name)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build of cmd/%s: %v\n%s", name, err, stderr.String())
	}
	return bin, nil
}

// Env is the environment of a server process: the test's own environment
// without OPSTOWER_* variables (a developer's OPSTOWER_DSN or OPSTOWER_HTTP
// would otherwise change what the server does), plus extra.
//
// A race-enabled binary sleeps a second at exit by default, waiting for
// late race reports; stdio clients signal a server that takes that long to
// exit after stdin closes, so the sleep is turned off.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPSTOWER_") && !strings.HasPrefix(kv, "GORACE=") {
			env = append(env, kv)
		}
	}
	if Race {
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return append(env, extra...)
}

// CheckExit fails the test when a server process ended badly: a non-zero
// exit after a clean shutdown request, or a race report on stderr.
func CheckExit(t testing.TB, waitErr error, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("the server reported a data race:\n%s", stderr)
		return
	}
	if waitErr != nil {
		t.Errorf("the server did not exit cleanly: %v\nstderr:\n%s", waitErr, stderr)
	}
}

// HTTPServer is an opstower process serving streamable HTTP on loopback.
type HTTPServer struct {
	Base   string // http://127.0.0.1:PORT
	Stderr *mcptest.SyncBuffer
}

// Endpoint is the MCP endpoint.
func (s *HTTPServer) Endpoint() string { return s.Base + "/mcp" }

// StartHTTP starts `opstower mcp databases --http 127.0.0.1:PORT` from bin
// on a free port with Env(env...) and extra flags, waits until it answers
// HTTP, and stops it with SIGTERM at cleanup, where it must exit cleanly.
// The port is found by listening on :0 first; if another process takes it
// in between, the server fails to listen and another port is tried.
func StartHTTP(t testing.TB, bin string, env []string, flags ...string) *HTTPServer {
	t.Helper()
	var lastErr error
	for range 3 {
		s, err := tryStartHTTP(t, bin, env, flags)
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

func tryStartHTTP(t testing.TB, bin string, env, flags []string) (*HTTPServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, append([]string{"mcp", "databases", "--http", addr}, flags...)...)
	cmd.Env = Env(env...)
	stderr := &mcptest.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	s := &HTTPServer{Base: "http://" + addr, Stderr: stderr}
	if err := waitListening(s.Base+"/healthz", exited); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			CheckExit(t, err, stderr.String())
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
