// Package mcptest drives an MCP server from tests through a real go-sdk
// client over in-memory transports, and provides the checks every category
// server runs: tool annotations, schema snapshots, and the size of
// tools/list.
package mcptest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Connect connects a client to s in memory and closes both at cleanup.
func Connect(t testing.TB, s *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "mcptest", Version: "v0"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

// Call calls a tool and returns its text and whether it is a tool error.
// Protocol errors fail the test.
func Call(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("calling %s: %v", name, err)
	}
	return Text(res), res.IsError
}

// Text joins the text contents of a result.
func Text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// MustText calls a tool and fails the test on a tool error.
func MustText(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	text, isErr := Call(t, cs, name, args)
	if isErr {
		t.Fatalf("%s(%v): tool error: %s", name, args, text)
	}
	return text
}

// MustError calls a tool and fails the test unless it is a tool error.
func MustError(t testing.TB, cs *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	text, isErr := Call(t, cs, name, args)
	if !isErr {
		t.Fatalf("%s(%v): want a tool error, got: %s", name, args, text)
	}
	return text
}

// Tools lists the server's tools.
func Tools(t testing.TB, cs *mcp.ClientSession) []*mcp.Tool {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools
}

// CheckAnnotations fails for any tool that lacks a title or leaves one of
// the four hints to the client's default.
func CheckAnnotations(t testing.TB, tools []*mcp.Tool) {
	t.Helper()
	for _, tl := range tools {
		raw, err := json.Marshal(tl.Annotations)
		if err != nil {
			t.Fatal(err)
		}
		var ann map[string]any
		_ = json.Unmarshal(raw, &ann)
		for _, k := range []string{"title", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
			if _, ok := ann[k]; !ok {
				t.Errorf("tool %s: annotation %s is not set explicitly", tl.Name, k)
			}
		}
		if tl.Title == "" {
			t.Errorf("tool %s has no title", tl.Name)
		}
		if tl.Description == "" {
			t.Errorf("tool %s has no description", tl.Name)
		}
	}
}

// ListBytes is the size of the tools/list result as JSON: what a client
// sends the model on every turn.
func ListBytes(t testing.TB, tools []*mcp.Tool) int {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"tools": tools})
	if err != nil {
		t.Fatal(err)
	}
	return len(raw)
}

// Snapshot compares each tool's definition with testdata/toolsnaps/NAME.json
// next to the test. Run with OPSTOWER_UPDATE_SNAPSHOTS=1 to write them; a
// change to a schema or description then shows up in review as a diff.
func Snapshot(t testing.TB, tools []*mcp.Tool) {
	t.Helper()
	dir := filepath.Join("testdata", "toolsnaps")
	update := os.Getenv("OPSTOWER_UPDATE_SNAPSHOTS") == "1"
	for _, tl := range tools {
		got, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join(dir, tl.Name+".json")
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("tool %s has no snapshot (%v); run the tests with OPSTOWER_UPDATE_SNAPSHOTS=1 to write it", tl.Name, err)
			continue
		}
		if d := cmp.Diff(string(want), string(got)); d != "" {
			t.Errorf("tool %s differs from its snapshot (-want +got); if intended, refresh with OPSTOWER_UPDATE_SNAPSHOTS=1:\n%s", tl.Name, d)
		}
	}
}
