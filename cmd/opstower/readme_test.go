package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

// readmeConfig is the host example of the README, kept valid here: it
// parses, its providers, connections and MCP servers resolve, and its
// agents pass every rule when synced into the store.
const readmeConfig = `
models:
  default: anthropic:claude-sonnet-4-6
  analyst: gemini:gemini-2.5-flash
  providers:
    ollama: {base_url: "http://gpu-box:11434/v1"}

connections:
  - name: shop
    url: sqlite://./opstower-demo/shop.db
    instructions: Amounts are in cents. Orders with status failed were never charged.
  - name: app
    provider: files
    path: ./opstower-demo/logs/*.jsonl
  - name: shop-backend
    provider: git
    path: ./opstower-demo/shop-backend

mcp_servers:
  github:
    command: docker
    args: [run, -i, --rm, -e, GITHUB_PERSONAL_ACCESS_TOKEN, ghcr.io/github/github-mcp-server]
    env: {GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}"}

agents:
  - name: Backend Debugger
    type: debugger
    connections: [shop, app, shop-backend]
    connected_agents: [Growth Analyst]
    knowledge: |
      Checkout calls the Acme Pay card gateway; config/payments.yaml sets its timeout.
  - name: Growth Analyst
    type: analyst
    model: openai:gpt-5-mini
    connections: [shop]
  - name: Code Reviewer
    type: custom
    mcp_servers: [github]
    visibility: only_me
`

func TestReadmeHostExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opstower.yaml")
	if err := os.WriteFile(path, []byte(readmeConfig), 0o600); err != nil {
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
	for _, want := range []string{"Backend Debugger", "Growth Analyst", "openai:gpt-5-mini", "Code Reviewer", "github"} {
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
	if err == nil || !strings.Contains(err.Error(), "databases/app, logs/app") {
		t.Errorf("ambiguous name: %v", err)
	}
	if got := ws.quickStartAgent(false).Connections; strings.Join(got, " ") != "databases/app logs/app shop" {
		t.Errorf("quick-start connections = %v", got)
	}
}
