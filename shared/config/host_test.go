package config_test

import (
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

func TestHostSections(t *testing.T) {
	doc := `
models:
  default: anthropic:claude-sonnet-4-6
  analyst: gemini:gemini-2.5-pro
  providers:
    ollama: {base_url: "http://gpu-box:11434/v1"}
    together: {kind: openai, base_url: "https://api.together.xyz/v1", api_key: "${TOGETHER_KEY}"}
connections:
  - {name: shop, provider: sqlite, url: "sqlite:///srv/shop.db", instructions: Amounts are in cents.}
agents:
  - name: Backend Debugger
    type: debugger
    connections: [shop]
    connected_agents: [Growth Analyst]
    knowledge: |
      Checkout runs on Acme Pay.
  - {name: Growth Analyst, type: analyst, model: "openai:gpt-5-mini"}
mcp_servers:
  github:
    command: docker
    args: [run, -i, ghcr.io/github/github-mcp-server]
    env: {GITHUB_PERSONAL_ACCESS_TOKEN: "${GH}"}
host:
  database: postgres://localhost/opstower
  knowledge_bytes: 10240
`
	env := map[string]string{"TOGETHER_KEY": "tk-1", "GH": "ghp-1"}
	f, err := config.Parse([]byte(doc), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if f.Models.Analyst != "gemini:gemini-2.5-pro" || f.Models.Providers["together"].APIKey != "tk-1" || f.Models.Providers["ollama"].BaseURL == "" {
		t.Errorf("models = %+v", f.Models)
	}
	if len(f.Agents) != 2 || f.Agents[0].ConnectedAgents[0] != "Growth Analyst" || f.Agents[0].Line != 11 || !strings.Contains(f.Agents[0].Knowledge, "Acme Pay") {
		t.Errorf("agents = %+v", f.Agents)
	}
	if f.MCPServers["github"].Env["GITHUB_PERSONAL_ACCESS_TOKEN"] != "ghp-1" || f.Host.KnowledgeBytes != 10240 {
		t.Errorf("mcp_servers = %+v, host = %+v", f.MCPServers, f.Host)
	}
	if f.Connections[0].Settings["instructions"] != "Amounts are in cents." {
		t.Errorf("connection = %+v", f.Connections[0])
	}
}

func TestHostSectionsAreStrict(t *testing.T) {
	for doc, want := range map[string]string{
		"models:\n  defualt: x:y\n":                                  `did you mean "default"`,
		"agents:\n  - name: a\n    conections: []\n":                 `did you mean "connections"`,
		"mcp_servers:\n  gh:\n    comand: x\n":                       `did you mean "command"`,
		"host:\n  databse: x\n":                                      `did you mean "database"`,
		"models:\n  providers:\n    x: {kind: openai, baseurl: u}\n": `did you mean "base_url"`,
	} {
		if _, err := config.Parse([]byte(doc), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v; want %q", doc, err, want)
		}
	}
}
