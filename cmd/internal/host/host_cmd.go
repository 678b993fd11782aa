// Package host is the agent host's command line: opstower chat, agents,
// host and mcp agents. It registers them with package cli from init, and
// only opstower-full imports it, so the LLM client libraries stay out of
// the opstower program that MCP clients launch for every server.
package host

import (
	"context"
	"io"

	"github.com/opstower/opstower/cmd/internal/cli"
)

func init() {
	cli.Commands["chat"] = runChat
	cli.Commands["agents"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runAgents(ctx, args, stdout, stderr)
	}
	cli.Commands["host"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runHost(ctx, args, stdout, stderr)
	}
}
