package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
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
	for _, a := range agents {
		name := "ask_" + slug(a.Name)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("ask_%s_%d", slug(a.Name), i)
		}
		used[name] = true
		target := a
		mcp.AddTool(s, &mcp.Tool{
			Name:  name,
			Title: "Ask " + a.Name,
			Description: fmt.Sprintf("Ask the %s agent %q a question. It investigates with its own data sources (%s) and answers in Markdown. It does not see this conversation: the question must be self-contained.",
				a.Type.Title(), a.Name, sourcesOf(a)),
			// An agent may use tools that change things (file a ticket)
			// and reaches third-party services.
			Annotations: &mcp.ToolAnnotations{Title: "Ask " + a.Name, ReadOnlyHint: false, DestructiveHint: &no, IdempotentHint: false, OpenWorldHint: &yes},
		}, func(ctx context.Context, req *mcp.CallToolRequest, in askIn) (res *mcp.CallToolResult, _ any, _ error) {
			defer func() {
				if p := recover(); p != nil {
					h.logger().Error("agent panicked", "agent", target.Name, "panic", fmt.Sprint(p))
					res = toolError(fmt.Sprintf("internal error while %s answered; this is a bug in OpsTower, and the details are in the host's log", target.Name))
				}
			}()
			answer, err := ask(ctx, h, user, target, in.Question, progress(ctx, req))
			if err != nil {
				return toolError(err.Error()), nil, nil
			}
			answer, _ = render.Cap(secret.Scrub(answer), 64<<10, "")
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: answer}}}, nil, nil
		})
	}
	return s
}

var (
	yes = true
	no  = false
)

// ask runs target on one question, as a delegate.
func ask(ctx context.Context, h *Host, user string, target *Agent, question string, on func(Event)) (string, error) {
	q := strings.TrimSpace(question)
	if len(q) < 8 {
		return "", fmt.Errorf("ask a complete, self-contained question (what, when, which service or IDs); %q is too short", q)
	}
	sess, err := h.Open(ctx, target, OpenOptions{User: user, Delegated: true})
	if err != nil {
		return "", fmt.Errorf("%s cannot answer now: %v", target.Name, err)
	}
	defer sess.Close()
	res, err := sess.Ask(ctx, nil, q, on)
	if err != nil {
		return "", fmt.Errorf("%s could not finish: %v", target.Name, err)
	}
	return res.Answer, nil
}

// progress reports the delegate's tool calls as MCP progress
// notifications when the caller asked for them: they tell an outside
// client what the agent is doing, and keep clients that reset their
// timeout on progress from giving up on a long investigation.
func progress(ctx context.Context, req *mcp.CallToolRequest) func(Event) {
	tok := req.Params.GetProgressToken()
	if tok == nil || req.Session == nil {
		return nil
	}
	var mu sync.Mutex
	n := 0
	return func(e Event) {
		if e.Kind != EventToolStart {
			return
		}
		mu.Lock()
		n++
		p := n
		mu.Unlock()
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: tok, Progress: float64(p),
			Message: fmt.Sprintf("step %d: %s", e.Step, e.Tool),
		})
	}
}

func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: secret.Scrub(msg)}}}
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
