// Package cli is the opstower command line, shared by the two programs
// built from it: opstower, which serves every MCP category and hands the
// agent host's commands over to opstower-full, and opstower-full, which
// links everything. The split keeps the servers small: the LLM, AWS and
// Google client libraries the host and two log providers import would
// otherwise double the memory and start-up time of every server an MCP
// client launches.
//
//	opstower mcp <category> [flags]   serve one category over stdio or HTTP
//	opstower demo [dir]               build a demo workspace and tour it
//	opstower version
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Build describes the program running the command line.
type Build struct {
	// Version is set at build time with -ldflags "-X main.version=v1.2.3".
	Version string
	// Full is true in opstower-full, which links every command and
	// provider and so never hands over.
	Full bool
}

var build Build

// Command is a command other than mcp, demo and version, registered from
// an init function by a package only opstower-full links.
type Command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// Commands holds the registered commands by name.
var Commands = map[string]Command{}

// Main runs the command line with os.Args and exits.
func Main(b Build) {
	build = b
	if b.Full {
		_ = os.Unsetenv(handOffEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "opstower:", err)
		}
		os.Exit(2)
	}
}

const usage = `OpsTower: read-only MCP servers for a company's operational data.

Usage:
  opstower mcp <category> [flags]  serve one category of connections over MCP
                                   (stdio by default, --http ADDR for streamable HTTP)
  opstower demo [dir]              build a demo workspace (no accounts, no network)
                                   and show what an agent sees
  opstower chat [flags]            chat with an agent in the terminal (-p "question" answers once)
  opstower agents [list|show|create|edit|delete]
                                   manage agents
  opstower host [flags]            run the agent host's HTTP API
  opstower version                 print the version

Categories: %s

Run "opstower mcp <category> --help" for a category's flags.
`

// Run runs one command line (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, categoryNames())
		return flag.ErrHelp
	}
	switch args[0] {
	case "mcp":
		return runMCP(ctx, args[1:], stdout, stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "opstower", Version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, usage, categoryNames())
		return nil
	}
	if cmd, ok := Commands[args[0]]; ok {
		return cmd(ctx, args[1:], os.Stdin, stdout, stderr)
	}
	if isFullOnly(fullOnlyCommands, args[0]) {
		return handOff(args, "opstower "+args[0])
	}
	fmt.Fprintf(stderr, usage, categoryNames())
	return fmt.Errorf("unknown command %q", args[0])
}

// tuneGCForHTTP trades memory for CPU in a streamable HTTP server, which
// handles many clients at once: the SDK allocates hundreds of kilobytes per
// stateless request (a fresh session, JSON decoder buffers), nearly all
// garbage at once, so collecting at ten times the live heap (tens of
// megabytes) instead of twice lets the same cores serve about twice as
// many calls. The soft memory limit makes the collector work harder rather
// than let a burst of large results grow the heap without bound. A stdio
// server keeps Go's default: its one client waits for each answer, and
// collection does not show in its latency. GOGC and GOMEMLIMIT in the
// environment win.
func tuneGCForHTTP() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(1000)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

// Version is the version string of this build.
func Version() string {
	if build.Version != "" {
		return build.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
