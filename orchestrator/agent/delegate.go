package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/toolkit"
)

// agentsServerName namespaces delegation tools: agents__ask_<name>.
const agentsServerName = "agents"

type askIn struct {
	Question string `json:"question" jsonschema:"a self-contained question: the agent cannot see your conversation, so include every detail it needs (times, IDs, error messages, what you found so far)"`
}

// AgentsServer returns an in-process MCP server with one tool per agent:
// ask_<name>. Calling it runs that agent on the question, with its own
// connections and knowledge and without its own connected agents, and
// returns its answer. The host offers it to agents with connected agents,
// and `opstower mcp agents` serves it to outside MCP clients.
func AgentsServer(h *Host, user string, agents []*Agent) *mcp.Server {
	version := h.Version
	if version == "" {
		version = "dev"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "opstower-agents", Title: "OpsTower agents", Version: version},
		&mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{}, Instructions: "Each tool asks one OpsTower agent a question; the agent investigates with its own data sources and answers in Markdown. Questions must be self-contained."})
	used := map[string]bool{}
	var tools []toolkit.Tool
	for _, a := range agents {
		name := "ask_" + slug(a.Name)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("ask_%s_%d", slug(a.Name), i)
		}
		used[name] = true
		target := a
		tools = append(tools, toolkit.New(toolkit.Def{
			Name:  name,
			Title: "Ask " + a.Name,
			Description: fmt.Sprintf("Ask the %s agent %q a question. It investigates with its own data sources (%s) and answers in Markdown. It does not see this conversation: the question must be self-contained.",
				a.Type.Title(), a.Name, sourcesOf(a)),
			// An agent may use tools that change things (file a ticket)
			// and reaches third-party services.
			Hints: toolkit.Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
		}, func(ctx context.Context, in askIn) (string, error) {
			q := strings.TrimSpace(in.Question)
			if len(q) < 8 {
				return "", toolkit.Errorf("ask a complete, self-contained question (what, when, which service or IDs); %q is too short", q)
			}
			sess, err := h.Open(ctx, target, OpenOptions{User: user, Delegated: true})
			if err != nil {
				return "", toolkit.Errorf("%s cannot answer now: %v", target.Name, err)
			}
			defer sess.Close()
			res, err := sess.Ask(ctx, nil, q, nil)
			if err != nil {
				return "", toolkit.Errorf("%s could not finish: %v", target.Name, err)
			}
			return res.Answer, nil
		}))
	}
	toolkit.Add(s, toolkit.Options{MaxBytes: 64 << 10, Logger: h.Logger}, tools...)
	return s
}

func sourcesOf(a *Agent) string {
	if len(a.Connections) == 0 && len(a.MCPServers) == 0 {
		return "none configured"
	}
	return strings.Join(append(append([]string(nil), a.Connections...), a.MCPServers...), ", ")
}

// slug turns a name into a tool-name fragment: backend_debugger.
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" {
		out = "agent"
	}
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}
