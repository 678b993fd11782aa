package errors_test

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	errorsrv "github.com/opstower/opstower/servers/errors"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// BenchmarkToolsList measures tools/list for the errors server with one
// Sentry connection and reports its size: the bytes a client sends the
// model on every turn (make bench prints it as bytes/list).
func BenchmarkToolsList(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	s, err := errorsrv.New(ctx, errorsrv.Config{Connections: []config.Connection{{Provider: "sentry",
		Settings: map[string]string{"organization": "acme", "auth_token": "sntryu_bench-not-a-real-token"}}}})
	if err != nil {
		b.Fatal(err)
	}
	cs := mcptest.Connect(b, s)
	size := mcptest.ListBytes(b, mcptest.Tools(b, cs))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cs.ListTools(ctx, &mcp.ListToolsParams{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "bytes/list")
}

// BenchmarkGetIssue measures get_issue end to end against the fake Sentry
// over loopback HTTP: two API calls, decoding a 90 KB event, trimming and
// rendering the stack.
func BenchmarkGetIssue(b *testing.B) {
	token := canary(b)
	fake := newSentryFake(b, token)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	s, err := errorsrv.New(ctx, errorsrv.Config{Connections: []config.Connection{{Provider: "sentry",
		Settings: map[string]string{"organization": "acme", "auth_token": token, "url": fake.srv.URL}}}})
	if err != nil {
		b.Fatal(err)
	}
	cs := mcptest.Connect(b, s)
	params := &mcp.CallToolParams{Name: "get_issue", Arguments: map[string]any{"issue": "6012345672"}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := cs.CallTool(ctx, params)
		if err != nil || res.IsError {
			b.Fatalf("get_issue: %v %v", err, res)
		}
	}
}
