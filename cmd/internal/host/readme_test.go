package host

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/config"
)

// readmeAgentsExample returns the README's agents example: the YAML block
// that declares agents. Reading it from the README keeps the two in step.
func readmeAgentsExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(data), "```yaml\n")[1:] {
		block = block[:strings.Index(block, "```")]
		if strings.Contains(block, "\nagents:\n") {
			return block
		}
	}
	t.Fatal("the README has no YAML example with agents")
	return ""
}

// TestReadmeHostExample checks the README's agents example: it parses, its
// providers, connections and MCP servers resolve, and its agents pass every
// rule when synced into the store.
func TestReadmeHostExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opstower.yaml")
	if err := os.WriteFile(path, []byte(readmeAgentsExample(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_TOKEN", "ghp_readme_example")
	if _, err := config.Load(path); err != nil {
		t.Fatal(err)
	}
	ws, err := openWorkspace(context.Background(), workspaceFlags{config: path, database: filepath.Join(dir, "state.db")}, nil, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var out strings.Builder
	if err := ws.listAgents(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Backend Debugger", "Growth Analyst", "openai:gpt-5-mini"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("agents list lacks %q:\n%s", want, out.String())
		}
	}
}

// The servers' example config, where two categories share a connection
// name, works for the host too: agents write category/name.
func TestConnectionNamesPerCategory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opstower.yaml")
	doc := "connections:\n  - {name: app, provider: sqlite, path: ./a.db}\n  - {name: app, category: logs, provider: files, path: ./logs/*.log}\n  - {name: shop, provider: sqlite, path: ./s.db}\n" +
		"agents:\n  - {name: Dbg, type: debugger, connections: [databases/app, logs/app, shop]}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	ws, err := openWorkspace(context.Background(), workspaceFlags{config: path, database: filepath.Join(dir, "state.db")}, nil, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, err = ws.host.Directory.Connection(context.Background(), ws.org, "app")
	if err == nil || !strings.Contains(err.Error(), "databases/app, logs/app") || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ambiguous name: %v", err)
	}
	_, err = ws.host.Directory.Connection(context.Background(), ws.org, "nope")
	if err == nil || !strings.Contains(err.Error(), "connections are: ") || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	if got := ws.quickStartAgent(false).Connections; strings.Join(got, " ") != "databases/app logs/app shop" {
		t.Errorf("quick-start connections = %v", got)
	}
}
