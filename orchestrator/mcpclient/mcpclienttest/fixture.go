// Package mcpclienttest provides a small MCP server that tests run as a
// real child process over stdio: the test binary re-executes itself with
// EnvVar set, and its TestMain calls ServeIfChild first. Tests use it to
// kill a server in the middle of a call and watch the host recover.
package mcpclienttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/toolkit"
)

// EnvVar, set to 1, makes ServeIfChild serve the fixture.
const EnvVar = "OPSTOWER_TEST_MCP_FIXTURE"

// ServeIfChild serves the fixture over stdio and exits when the process was
// started as a fixture; otherwise it returns at once.
func ServeIfChild() {
	if os.Getenv(EnvVar) != "1" {
		return
	}
	err := New().Run(context.Background(), &mcp.StdioTransport{})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "fixture:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Command returns how to start the fixture as a child: the running test
// binary, running no tests, with EnvVar set.
func Command() (name string, args []string, env map[string]string) {
	return os.Args[0], []string{"-test.run=^$"}, map[string]string{EnvVar: "1"}
}

type pidIn struct{}

type sleepIn struct {
	Ms int `json:"ms" jsonschema:"milliseconds to sleep"`
}

type envIn struct {
	Name string `json:"name" jsonschema:"variable name"`
}

type bigIn struct {
	Bytes int `json:"bytes" jsonschema:"size of the text to return"`
}

// New returns the fixture server: pid, sleep, env, big and fail.
func New() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "fixture", Version: "v0"}, &mcp.ServerOptions{
		Instructions: "Fixture server for tests.",
		Capabilities: &mcp.ServerCapabilities{},
	})
	toolkit.Add(s, toolkit.Options{MaxBytes: 1 << 20},
		toolkit.New(toolkit.Def{Name: "pid", Title: "PID", Description: "The server's process id.", Hints: toolkit.Read},
			func(ctx context.Context, _ pidIn) (string, error) { return fmt.Sprint(os.Getpid()), nil }),
		toolkit.New(toolkit.Def{Name: "sleep", Title: "Sleep", Description: "Sleep, then say done.", Hints: toolkit.Read},
			func(ctx context.Context, in sleepIn) (string, error) {
				select {
				case <-ctx.Done():
					return "", ctx.Err()
				case <-time.After(time.Duration(in.Ms) * time.Millisecond):
					return "done", nil
				}
			}),
		toolkit.New(toolkit.Def{Name: "env", Title: "Env", Description: "Read an environment variable.", Hints: toolkit.Read},
			func(ctx context.Context, in envIn) (string, error) {
				v, ok := os.LookupEnv(in.Name)
				if !ok {
					return "(unset)", nil
				}
				return v, nil
			}),
		toolkit.New(toolkit.Def{Name: "big", Title: "Big", Description: "Return a large text.", Hints: toolkit.Read},
			func(ctx context.Context, in bigIn) (string, error) { return strings.Repeat("x", in.Bytes), nil }),
		toolkit.New(toolkit.Def{Name: "fail", Title: "Fail", Description: "Always fails.", Hints: toolkit.Read},
			func(ctx context.Context, _ pidIn) (string, error) {
				return "", toolkit.Errorf("this tool always fails")
			}),
	)
	return s
}
