package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/secret"
)

// Connection is a configured connection as the host sees it: what the
// category server needs, plus the instructions the connection carries for
// the agent (a PostHog connection's analytics prompt, a Linear connection's
// ticketing instructions, an External API's description).
type Connection struct {
	config.Connection
	Instructions string
}

// InstructionKeys are connection settings the host keeps for the system
// prompt instead of passing them to the category server.
var InstructionKeys = []string{"instructions", "custom_prompt", "ticketing_instructions", "description"}

// SplitInstructions moves the instruction settings out of c's settings.
func SplitInstructions(c config.Connection) Connection {
	out := Connection{Connection: c}
	settings := make(map[string]string, len(c.Settings))
	var parts []string
	for k, v := range c.Settings {
		if contains(InstructionKeys, k) {
			if strings.TrimSpace(v) != "" {
				parts = append(parts, strings.TrimSpace(v))
			}
			continue
		}
		settings[k] = v
	}
	sort.Strings(parts)
	out.Settings = settings
	out.Instructions = strings.Join(parts, "\n")
	return out
}

// Directory finds what agents refer to: other agents (by ID) and
// connections (by name), within an organization.
type Directory interface {
	Agent(ctx context.Context, org, id string) (*Agent, error)
	Connection(ctx context.Context, org, name string) (Connection, error)
}

// CategoryServer builds the MCP server of one category over connections.
type CategoryServer func(ctx context.Context, conns []config.Connection) (*mcp.Server, error)

// Models resolves which model an agent uses: its own override, else the
// default for its type (its scope), else the system default, else the
// default model of the first provider whose API key is in the environment.
type Models struct {
	Registry *llm.Registry
	Default  string
	Scopes   map[Type]string
	// Open, when set, opens providers instead of the registry (tests and
	// benchmarks use fakes).
	Open func(spec llm.Spec) (llm.Provider, error)
}

// Resolve returns the model spec for a.
func (m Models) Resolve(a *Agent) (llm.Spec, error) {
	for _, s := range []string{a.Model, m.Scopes[a.Type], m.Default} {
		if s != "" {
			return llm.ParseSpec(s)
		}
	}
	if m.Registry != nil {
		if spec, ok := m.Registry.DefaultFromEnv(); ok {
			return spec, nil
		}
	}
	return llm.Spec{}, llm.ErrNoModel
}

func (m Models) provider(spec llm.Spec) (llm.Provider, error) {
	if m.Open != nil {
		return m.Open(spec)
	}
	if m.Registry == nil {
		return nil, llm.ErrNoModel
	}
	return m.Registry.Open(spec)
}

// ConnectionTester reaches each of conns the way the category's tools
// would and reports each (servers/<category>.Test).
type ConnectionTester func(ctx context.Context, conns []config.Connection) ([]connections.TestResult, error)

// Host runs agents.
type Host struct {
	Models     Models
	Categories map[string]CategoryServer
	// Testers test connections of a category (the "Test Connection"
	// button); a category without one cannot be tested.
	Testers map[string]ConnectionTester
	// MCPServers are the external servers agents may name.
	MCPServers map[string]mcpclient.Server
	Directory  Directory
	Limits     Limits
	// MaxSteps per answer (default 15).
	MaxSteps int
	// ResultBytes caps each tool result (default 16 KB).
	ResultBytes int
	Logger      *slog.Logger
	Version     string
}

// DelegationTimeout bounds one question to a connected agent, which may
// take several model calls and tool calls of its own.
const DelegationTimeout = 10 * time.Minute

// OpenOptions say who opens a session and how.
type OpenOptions struct {
	User string
	// Delegated sessions answer a connected agent's caller: they run
	// without their own connected agents, so delegation never recurses.
	Delegated bool
}

// Session is an agent ready to answer: its model, its tools and its system
// prompt. A chat keeps one session for all its questions.
type Session struct {
	host     *Host
	Agent    *Agent
	Spec     llm.Spec
	provider llm.Provider
	hub      *mcpclient.Hub
	System   string
	maxSteps int
	cancel   context.CancelFunc
}

// Open prepares a to answer: it resolves the model, checks and builds the
// agent's connections, connects their servers and writes the system prompt.
func (h *Host) Open(ctx context.Context, a *Agent, o OpenOptions) (*Session, error) {
	logger := h.logger()
	spec, err := h.Models.Resolve(a)
	if err != nil {
		return nil, err
	}
	provider, err := h.Models.provider(spec)
	if err != nil {
		return nil, err
	}
	servers, notes, err := h.servers(ctx, a, o)
	if err != nil {
		return nil, err
	}
	// The servers live as long as the session, not the request that
	// opened it.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	hub, err := mcpclient.Connect(sctx, servers, mcpclient.Options{MaxResultBytes: h.ResultBytes, Logger: logger, Version: h.Version})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("agent %q: %w", a.Name, err)
	}
	steps := h.MaxSteps
	if steps <= 0 {
		steps = DefaultMaxSteps
	}
	if a.MaxSteps > 0 {
		steps = a.MaxSteps
	}
	s := &Session{host: h, Agent: a, Spec: spec, provider: provider, hub: hub, maxSteps: steps, cancel: cancel}
	// Knowledge and connection instructions are written by people and may
	// quote a credential by mistake: the prompt never carries one.
	s.System = secret.Scrub(systemPrompt(a, notes, hub.Instructions(), s.delegates(hub)))
	return s, nil
}

// Close stops the session's servers.
func (s *Session) Close() error {
	err := s.hub.Close()
	s.cancel()
	return err
}

// Tools returns the tools the session offers the model.
func (s *Session) Tools() []llm.Tool { return s.hub.Tools() }

func (s *Session) delegates(hub *mcpclient.Hub) []llm.Tool {
	var out []llm.Tool
	for _, t := range hub.Tools() {
		if strings.HasPrefix(t.Name, agentsServerName+"__") {
			out = append(out, t)
		}
	}
	return out
}

func (h *Host) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// connectionNote is one connection's line in the system prompt.
type connectionNote struct {
	Name, Category, Provider, Instructions string
}

// servers builds the MCP servers of a's connections, grouped by category.
func (h *Host) servers(ctx context.Context, a *Agent, o OpenOptions) ([]mcpclient.Server, []connectionNote, error) {
	if h.Directory == nil && len(a.Connections)+len(a.ConnectedAgents) > 0 {
		return nil, nil, errors.New("the host has no directory of connections and agents")
	}
	byCategory := map[string][]config.Connection{}
	var notes []connectionNote
	for _, name := range a.Connections {
		c, err := h.Directory.Connection(ctx, a.Org, name)
		if err != nil {
			return nil, nil, fmt.Errorf("agent %q: %w", a.Name, err)
		}
		cat, err := CategoryOf(c.Category, c.Provider, c.Settings["url"])
		if err != nil {
			return nil, nil, fmt.Errorf("agent %q: connection %q: %w", a.Name, name, err)
		}
		if !a.Type.Allows(cat) {
			return nil, nil, fmt.Errorf("agent %q is a %s agent, which cannot use %s connections such as %q; %s agents use %s. Pick another type (custom allows all) or another connection",
				a.Name, a.Type.Title(), CategoryTitle[cat], name, a.Type.Title(), titles(a.Type.Categories()))
		}
		cc := c.Connection
		cc.Category = cat
		byCategory[cat] = append(byCategory[cat], cc)
		notes = append(notes, connectionNote{Name: name, Category: cat, Provider: c.Provider, Instructions: c.Instructions})
	}
	cats := make([]string, 0, len(byCategory))
	for c := range byCategory {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	var servers []mcpclient.Server
	for _, cat := range cats {
		build, ok := h.Categories[cat]
		if !ok {
			return nil, nil, fmt.Errorf("agent %q: %s connections are not served by this build of OpsTower yet", a.Name, CategoryTitle[cat])
		}
		conns := byCategory[cat]
		servers = append(servers, mcpclient.Server{Name: cat, Build: func(ctx context.Context) (*mcp.Server, error) { return build(ctx, conns) }})
	}
	for _, name := range a.MCPServers {
		s, ok := h.MCPServers[name]
		if !ok {
			return nil, nil, fmt.Errorf("agent %q: no MCP server named %q is configured (mcp_servers in the config file, or --mcp-config)", a.Name, name)
		}
		s.Name = name
		servers = append(servers, s)
	}
	if !o.Delegated && len(a.ConnectedAgents) > 0 {
		var delegates []*Agent
		for _, id := range a.ConnectedAgents {
			d, err := h.Directory.Agent(ctx, a.Org, id)
			if err != nil {
				return nil, nil, fmt.Errorf("agent %q: connected agent %q: %w", a.Name, id, err)
			}
			if !d.VisibleTo(o.User) {
				continue
			}
			delegates = append(delegates, d)
		}
		if len(delegates) > 0 {
			user := o.User
			servers = append(servers, mcpclient.Server{Name: agentsServerName, CallTimeout: DelegationTimeout, Build: func(context.Context) (*mcp.Server, error) {
				return AgentsServer(h, user, delegates), nil
			}})
		}
	}
	return servers, notes, nil
}

func titles(cats []string) string {
	out := make([]string, len(cats))
	for i, c := range cats {
		out[i] = CategoryTitle[c]
	}
	return strings.Join(out, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// StaticDirectory is a Directory over fixed maps: agents and connections
// declared in a config file, or built by a test.
type StaticDirectory struct {
	Agents      map[string]*Agent     // by ID
	Connections map[string]Connection // by name
}

// Agent returns the agent with the given ID.
func (d StaticDirectory) Agent(_ context.Context, org, id string) (*Agent, error) {
	if a, ok := d.Agents[id]; ok && a.Org == org {
		return a, nil
	}
	return nil, fmt.Errorf("no agent with id %q", id)
}

// Connection returns the connection with the given name.
func (d StaticDirectory) Connection(_ context.Context, _ string, name string) (Connection, error) {
	if c, ok := d.Connections[name]; ok {
		return c, nil
	}
	names := make([]string, 0, len(d.Connections))
	for n := range d.Connections {
		names = append(names, n)
	}
	sort.Strings(names)
	return Connection{}, fmt.Errorf("no connection named %q; connections are: %s", name, strings.Join(names, ", "))
}

// CheckConnections checks, before an agent is saved, that its connections
// exist and suit its type and that its MCP servers are configured.
func (h *Host) CheckConnections(ctx context.Context, a *Agent) error {
	for _, name := range a.Connections {
		if h.Directory == nil {
			return fmt.Errorf("agent %q: no connections are configured", a.Name)
		}
		c, err := h.Directory.Connection(ctx, a.Org, name)
		if err != nil {
			return fmt.Errorf("agent %q: %w", a.Name, err)
		}
		cat, err := CategoryOf(c.Category, c.Provider, c.Settings["url"])
		if err != nil {
			return fmt.Errorf("agent %q: connection %q: %w", a.Name, name, err)
		}
		if !a.Type.Allows(cat) {
			return fmt.Errorf("agent %q is a %s agent, which cannot use %s connections such as %q; %s agents use %s",
				a.Name, a.Type.Title(), CategoryTitle[cat], name, a.Type.Title(), titles(a.Type.Categories()))
		}
	}
	for _, name := range a.MCPServers {
		if _, ok := h.MCPServers[name]; !ok {
			var names []string
			for n := range h.MCPServers {
				names = append(names, n)
			}
			sort.Strings(names)
			if len(names) == 0 {
				return fmt.Errorf("agent %q: no MCP server named %q; none are configured (mcp_servers in the config file, or --mcp-config)", a.Name, name)
			}
			return fmt.Errorf("agent %q: no MCP server named %q; configured: %s", a.Name, name, strings.Join(names, ", "))
		}
	}
	return nil
}
