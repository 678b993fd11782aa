// Package agent defines agents — a type, a name, a model, connections,
// knowledge and connected agents — and runs them: the loop that alternates
// model calls and concurrent tool calls until an answer, and delegation to
// connected agents through an in-process MCP server of agents.
package agent

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/shared/render"
)

// Visibility says who may see and use an agent.
type Visibility string

// Visibilities.
const (
	Everyone Visibility = "everyone" // every member of the organization
	OnlyMe   Visibility = "only_me"  // its owner only
)

// ParseVisibility reads a visibility; the empty string means Everyone.
func ParseVisibility(s string) (Visibility, error) {
	switch strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(s))) {
	case "", "everyone", "all", "public":
		return Everyone, nil
	case "only_me", "private", "me":
		return OnlyMe, nil
	}
	return "", fmt.Errorf("unknown visibility %q; use everyone or only_me", s)
}

// Agent is one configured agent.
type Agent struct {
	ID         string     `json:"id"`
	Org        string     `json:"org"`
	Owner      string     `json:"owner"` // the user who created it
	Name       string     `json:"name"`
	Type       Type       `json:"type"`
	Model      string     `json:"model,omitempty"` // provider:model override
	Visibility Visibility `json:"visibility"`
	// Connections are names of connections (from the config file or the
	// store); their categories must be allowed by Type.
	Connections []string `json:"connections"`
	// MCPServers are names of external MCP servers the agent may use.
	MCPServers []string `json:"mcp_servers,omitempty"`
	// Knowledge is custom text added to the system prompt.
	Knowledge string `json:"knowledge,omitempty"`
	// ConnectedAgents are IDs of agents this one may delegate to.
	ConnectedAgents []string `json:"connected_agents,omitempty"`
	WebSearch       bool     `json:"web_search,omitempty"`
	// MaxSteps overrides the host's step limit for this agent (0: default).
	MaxSteps int `json:"max_steps,omitempty"`
	// Source is "config" for agents declared in opstower.yaml, which are
	// edited there, and "" for agents created through the CLI or the API.
	Source  string    `json:"source,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Limits bound what an agent may hold.
type Limits struct {
	// KnowledgeBytes caps custom knowledge (default 50 KB, the product's
	// Pro tier; negative means unlimited).
	KnowledgeBytes int
	// MaxSteps is the highest step limit an agent may ask for.
	MaxSteps int
}

// Defaults.
const (
	DefaultKnowledgeBytes = 50 << 10
	DefaultMaxSteps       = 15
	MaxConnectedAgents    = 10
	maxNameLen            = 80
	maxStepsCeiling       = 100
)

// WithDefaults fills zero limits.
func (l Limits) WithDefaults() Limits {
	if l.KnowledgeBytes == 0 {
		l.KnowledgeBytes = DefaultKnowledgeBytes
	}
	if l.MaxSteps == 0 {
		l.MaxSteps = maxStepsCeiling
	}
	return l
}

// Validate checks what can be checked on the agent alone: a name, a known
// type and visibility, a model spec, knowledge within the limit, and the
// connected-agent rules that need no other agent (no self-connection, at
// most ten, no duplicates).
func (a *Agent) Validate(l Limits) error {
	l = l.WithDefaults()
	a.Name = strings.TrimSpace(a.Name)
	switch {
	case a.Name == "":
		return fmt.Errorf("an agent needs a name")
	case utf8.RuneCountInString(a.Name) > maxNameLen:
		return fmt.Errorf("agent name is %d characters; keep it under %d", utf8.RuneCountInString(a.Name), maxNameLen)
	case strings.ContainsAny(a.Name, "\n\r\t"):
		return fmt.Errorf("agent name %q must be one line", a.Name)
	}
	t, err := ParseType(string(a.Type))
	if err != nil {
		return fmt.Errorf("agent %q: %w", a.Name, err)
	}
	a.Type = t
	v, err := ParseVisibility(string(a.Visibility))
	if err != nil {
		return fmt.Errorf("agent %q: %w", a.Name, err)
	}
	a.Visibility = v
	if a.Model != "" {
		if _, err := llm.ParseSpec(a.Model); err != nil {
			return fmt.Errorf("agent %q: %w", a.Name, err)
		}
	}
	if l.KnowledgeBytes > 0 && len(a.Knowledge) > l.KnowledgeBytes {
		return fmt.Errorf("agent %q: custom knowledge is %s; the limit is %s. Keep the essentials (context, naming conventions, known issues) and move long documents elsewhere",
			a.Name, render.Bytes(len(a.Knowledge)), render.Bytes(l.KnowledgeBytes))
	}
	if a.MaxSteps < 0 || a.MaxSteps > l.MaxSteps {
		return fmt.Errorf("agent %q: max_steps %d must be between 1 and %d (0 for the default)", a.Name, a.MaxSteps, l.MaxSteps)
	}
	if len(a.ConnectedAgents) > MaxConnectedAgents {
		return fmt.Errorf("agent %q has %d connected agents; at most %d are allowed", a.Name, len(a.ConnectedAgents), MaxConnectedAgents)
	}
	seen := map[string]bool{}
	for _, id := range a.ConnectedAgents {
		if a.ID != "" && id == a.ID {
			return fmt.Errorf("agent %q cannot be connected to itself", a.Name)
		}
		if seen[id] {
			return fmt.Errorf("agent %q lists the same connected agent twice", a.Name)
		}
		seen[id] = true
	}
	return nil
}

// CheckLinks enforces the rules between a and the agents it connects to:
// each exists, belongs to the same organization, is visible to a's owner
// (a private agent can be connected only by its owner), and does not
// connect back to a (no direct cycles). lookup finds an agent by ID.
func CheckLinks(a *Agent, lookup func(id string) (*Agent, bool)) error {
	for _, id := range a.ConnectedAgents {
		if a.ID != "" && id == a.ID {
			return fmt.Errorf("agent %q cannot be connected to itself", a.Name)
		}
		b, ok := lookup(id)
		if !ok {
			return fmt.Errorf("agent %q: connected agent %q does not exist", a.Name, id)
		}
		if b.Org != a.Org {
			return fmt.Errorf("agent %q: connected agent %q belongs to another organization", a.Name, b.Name)
		}
		if b.Visibility == OnlyMe && b.Owner != a.Owner {
			return fmt.Errorf("agent %q: %q is private to another user and cannot be connected", a.Name, b.Name)
		}
		for _, back := range b.ConnectedAgents {
			if back == a.ID {
				return fmt.Errorf("agent %q: %q is already connected to %q; two agents cannot be connected to each other (no cycles)", a.Name, b.Name, a.Name)
			}
		}
	}
	return nil
}

// VisibleTo reports whether user may see and use a.
func (a *Agent) VisibleTo(user string) bool {
	return a.Visibility != OnlyMe || a.Owner == user
}
