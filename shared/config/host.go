package config

import "go.yaml.in/yaml/v3"

// The sections below configure the agent host (opstower host, chat,
// agents). The category servers ignore them.

// Models chooses the models agents use, per scope, and declares extra
// providers (any OpenAI-compatible endpoint).
type Models struct {
	// Default is the system default, as provider:model.
	Default string `yaml:"default"`
	// Defaults per agent type (the scope), overriding Default.
	Debugger       string `yaml:"debugger"`
	Analyst        string `yaml:"analyst"`
	ProductManager string `yaml:"product_manager"`
	Custom         string `yaml:"custom"`
	// Providers adds or adjusts providers by name: a base URL, a key, and
	// for a new name its kind (anthropic, openai or gemini).
	Providers map[string]ModelProvider `yaml:"providers"`
	// MaxSteps per answer (default 15).
	MaxSteps int `yaml:"max_steps"`
	// WebSearch turns on the providers' own web search for every agent.
	WebSearch bool `yaml:"web_search"`
}

// ModelProvider is one provider's endpoint.
type ModelProvider struct {
	Kind    string `yaml:"kind"`
	BaseURL string `yaml:"base_url"`
	APIKey  string `yaml:"api_key"`
}

// Agent declares an agent in the config file.
type Agent struct {
	Name            string   `yaml:"name"`
	Type            string   `yaml:"type"`
	Model           string   `yaml:"model"`
	Visibility      string   `yaml:"visibility"`
	Connections     []string `yaml:"connections"`
	MCPServers      []string `yaml:"mcp_servers"`
	Knowledge       string   `yaml:"knowledge"`
	ConnectedAgents []string `yaml:"connected_agents"` // names
	WebSearch       bool     `yaml:"web_search"`
	MaxSteps        int      `yaml:"max_steps"`
	Line            int      `yaml:"-"`
}

// MCPServer is an external MCP server, with the keys of Claude Desktop's
// mcpServers entries: command/args/env/cwd for stdio, url/headers for
// streamable HTTP.
type MCPServer struct {
	Type     string            `yaml:"type"`
	Command  string            `yaml:"command"`
	Args     []string          `yaml:"args"`
	Env      map[string]string `yaml:"env"`
	Cwd      string            `yaml:"cwd"`
	URL      string            `yaml:"url"`
	Headers  map[string]string `yaml:"headers"`
	Disabled bool              `yaml:"disabled"`
}

// Host configures `opstower host` and the state every host command reads.
type Host struct {
	Addr string `yaml:"addr"`
	// Database is a SQLite path or a postgres:// URL.
	Database string `yaml:"database"`
	// Token protects the HTTP API (bearer).
	Token string `yaml:"token"`
	// SecretKey encrypts stored connections (else OPSTOWER_SECRET_KEY).
	SecretKey string `yaml:"secret_key"`
	// KnowledgeBytes caps an agent's custom knowledge (default 50 KB).
	KnowledgeBytes int `yaml:"knowledge_bytes"`
	// MCPConfig names a Claude Desktop style JSON file of MCP servers.
	MCPConfig string `yaml:"mcp_config"`
}

// UnmarshalYAML decodes Models strictly.
func (m *Models) UnmarshalYAML(n *yaml.Node) error {
	type plain Models
	return decodeStrict(n, (*plain)(m))
}

// UnmarshalYAML decodes ModelProvider strictly.
func (p *ModelProvider) UnmarshalYAML(n *yaml.Node) error {
	type plain ModelProvider
	return decodeStrict(n, (*plain)(p))
}

// UnmarshalYAML decodes Agent strictly and records its line.
func (a *Agent) UnmarshalYAML(n *yaml.Node) error {
	type plain Agent
	if err := decodeStrict(n, (*plain)(a)); err != nil {
		return err
	}
	a.Line = n.Line
	return nil
}

// UnmarshalYAML decodes MCPServer strictly.
func (s *MCPServer) UnmarshalYAML(n *yaml.Node) error {
	type plain MCPServer
	return decodeStrict(n, (*plain)(s))
}

// UnmarshalYAML decodes Host strictly.
func (h *Host) UnmarshalYAML(n *yaml.Node) error {
	type plain Host
	return decodeStrict(n, (*plain)(h))
}
