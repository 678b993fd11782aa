// Command opstower runs OpsTower's MCP servers and tools.
//
//	opstower mcp <category> [flags]   serve one category over stdio or HTTP
//	opstower demo [dir]               build a demo workspace and tour it
//	opstower version
package main

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

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, usage, categoryNames())
		return flag.ErrHelp
	}
	switch args[0] {
	case "mcp":
		return runMCP(ctx, args[1:], stderr)
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "chat":
		return runChat(ctx, args[1:], os.Stdin, stdout, stderr)
	case "agents":
		return runAgents(ctx, args[1:], stdout, stderr)
	case "host":
		return runHost(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "opstower", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, usage, categoryNames())
		return nil
	}
	fmt.Fprintf(stderr, usage, categoryNames())
	return fmt.Errorf("unknown command %q", args[0])
}

// tuneGC trades a little memory for CPU: the MCP SDK allocates tens of
// kilobytes per request, so the default GOGC=100 collects every few calls.
// Doubling the target halves that work and keeps a server in the tens of
// megabytes. An explicit GOGC in the environment wins.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
