package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/serve"
)

// floorEnv, when set in the environment, makes this program serve the floor
// server instead of benchmarking: "stdio" or "http".
const floorEnv = "OPSTOWER_BENCH_FLOOR"

// The floor is what the SDK alone costs: a server built like ours (the same
// go-sdk, the same serve package for stdio and HTTP) whose query tool
// returns a fixed one-row text without touching a database. Measured in the
// same rounds as ours, it splits ours's figures into the SDK's share and
// the rest (PostgreSQL, the engine, our tool code).

// floorServer is how the harness launches the floor: itself, with floorEnv.
func floorServer(mode string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &server{name: "floor", argv: []string{self}, env: []string{floorEnv + "=" + mode}}, nil
}

// floorArgs is the floor's query tool input, a subset of ours's.
type floorArgs struct {
	SQL   string `json:"sql" jsonschema:"one read-only statement"`
	Limit int    `json:"limit,omitempty" jsonschema:"rows to return"`
}

// floorText is about the size of ours's answer to the one-row query.
const floorText = "1 row; 0.1 ms.\n<untrusted-data-00000000>\n" +
	"id:int8,customer_id:int4,status:text,total:numeric,currency:bpchar,created_at:timestamptz,note:text\n" +
	"42,2521,delivered,98.80,GBP,2025-01-01T02:57:06.028824Z,call before delivery\n</untrusted-data-00000000>\n"

// serveFloor runs the floor server until its stdin closes (stdio) or it is
// signalled (HTTP, on a free loopback port it logs like ours does).
func serveFloor(ctx context.Context, mode string) error {
	s := mcp.NewServer(&mcp.Implementation{Name: "opstower-bench-floor", Version: "1"},
		&mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{}})
	mcp.AddTool(s, &mcp.Tool{Name: "query", Description: "returns a fixed row"},
		func(context.Context, *mcp.CallToolRequest, floorArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: floorText}}}, nil, nil
		})
	switch mode {
	case "stdio":
		return serve.Stdio(ctx, s)
	case "http":
		logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
		err := serve.HTTP(ctx, s, serve.Options{Addr: "127.0.0.1:0", Logger: logger})
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	return fmt.Errorf("%s=%q: want stdio or http", floorEnv, mode)
}
