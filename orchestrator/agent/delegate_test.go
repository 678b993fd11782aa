package agent_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/shared/logging"
	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/secret"
)

// The Debugger delegates to the Analyst through agents__ask_growth_analyst.
// The Analyst gets only the question (not the Debugger's conversation),
// uses its own connection and knowledge, and has no delegation tools of
// its own; its answer comes back as the tool result.
func TestDelegation(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			var w *world
			w = newWorld(t, kind, func(s llmtest.Seen) llmtest.Reply {
				if strings.HasPrefix(s.System, `You are "Growth Analyst"`) {
					if len(s.Messages) == 1 {
						if s.Tool("ask_backend_debugger") != nil || s.Tool("ask_growth_analyst") != nil {
							t.Errorf("the delegate was offered delegation tools: %v", s.Tools)
						}
						if !strings.Contains(s.System, "Revenue is reported in cents") {
							t.Errorf("the delegate lacks its own knowledge")
						}
						return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query", Args: `{"sql":"SELECT count(*) AS n FROM orders WHERE status = 'failed'"}`}}}
					}
					return llmtest.Reply{Text: "Failed orders: " + lastLine(s.LastResults()[0].Content)}
				}
				// The Debugger.
				switch len(s.Messages) {
				case 1:
					if s.Tool("ask_growth_analyst") == nil {
						t.Errorf("the caller has no delegation tool: %v", s.Tools)
					}
					if !strings.Contains(s.System, "Connected agents") {
						t.Errorf("the caller's prompt does not mention its connected agents")
					}
					return llmtest.Reply{Calls: []llmtest.Call{{Name: "agents__ask_growth_analyst", Args: `{"question":"How many orders have status failed in the shop database?"}`}}}
				default:
					r := s.LastResults()
					return llmtest.Reply{Text: "The analyst says: " + r[0].Content}
				}
			})
			analyst := w.add(&agent.Agent{ID: "a2", Org: "acme", Owner: "ann", Name: "Growth Analyst", Type: agent.Analyst,
				Connections: []string{"shop"}, Knowledge: "Revenue is reported in cents.", ConnectedAgents: []string{"a3"}})
			w.add(&agent.Agent{ID: "a3", Org: "acme", Owner: "ann", Name: "Third", Type: agent.Custom})
			w.agent.ConnectedAgents = []string{analyst.ID}
			var progress []string
			res, err := w.open(t, w.agent).Ask(context.Background(), nil, "Is revenue affected by the checkout errors?", func(e agent.Event) {
				if e.Kind == agent.EventProgress {
					progress = append(progress, e.Tool+" > "+e.Text)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(progress, "|") != "agents__ask_growth_analyst > step 1: databases__query" {
				t.Errorf("the delegate's steps shown to the caller: %q", progress)
			}
			if res.Answer != "The analyst says: Failed orders: 3" {
				t.Errorf("answer = %q", res.Answer)
			}
			var delegated bool
			for _, r := range w.fake.Requests() {
				if strings.HasPrefix(r.System, `You are "Growth Analyst"`) && len(r.Messages) == 1 {
					delegated = true
					if r.LastUser() != "How many orders have status failed in the shop database?" {
						t.Errorf("delegate got %q", r.LastUser())
					}
				}
			}
			if !delegated {
				t.Error("the analyst was never asked")
			}
		})
	}
}

// A private agent of another user is not offered as a delegate.
func TestDelegationRespectsVisibility(t *testing.T) {
	w := newWorld(t, llm.KindOpenAI, llmtest.Sequence(llmtest.Reply{Text: "ok"}))
	w.add(&agent.Agent{ID: "p", Org: "acme", Owner: "bob", Name: "Bob Private", Type: agent.Analyst, Visibility: agent.OnlyMe})
	w.agent.ConnectedAgents = []string{"p"}
	s := w.open(t, w.agent)
	for _, tl := range s.Tools() {
		if strings.HasPrefix(tl.Name, "agents__") {
			t.Errorf("private agent offered to ann: %s", tl.Name)
		}
	}
}

// The agents server on its own (what `opstower mcp agents` serves): one
// tool per agent, annotated, and a short question is a tool error.
func TestAgentsServer(t *testing.T) {
	w := newWorld(t, llm.KindAnthropic, llmtest.Sequence(llmtest.Reply{Text: "All systems nominal."}))
	cs := mcptest.Connect(t, agent.AgentsServer(w.host, "ann", []*agent.Agent{w.agent}))
	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	if len(tools) != 1 || tools[0].Name != "ask_backend_debugger" {
		t.Fatalf("tools = %v", tools)
	}
	if got := mcptest.MustText(t, cs, "ask_backend_debugger", map[string]any{"question": "Is anything broken in checkout today?"}); got != "All systems nominal." {
		t.Errorf("answer = %q", got)
	}
	if got := mcptest.MustError(t, cs, "ask_backend_debugger", map[string]any{"question": "why"}); !strings.Contains(got, "self-contained") {
		t.Errorf("short question: %q", got)
	}
}

// A canary secret — a connection credential, held by an external server —
// never reaches a prompt, a log or an answer, even when a tool returns it
// and the model repeats it.
func TestCanarySecret(t *testing.T) {
	const canary = "canary-5f0c2b9e-agent-host"
	var logs bytes.Buffer
	logger, err := logging.New(&logs, logging.Options{Level: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, llm.KindGemini, func(s llmtest.Seen) llmtest.Reply {
		switch s.N {
		case 0:
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__env", Args: `{"name":"SERVICE_API_KEY"}`}}}
		default:
			// A model that repeats what it saw, and also makes the
			// secret up itself.
			return llmtest.Reply{Text: "The key is " + s.LastResults()[0].Content + " or maybe " + canary}
		}
	})
	fx := w.host.MCPServers["fixture"]
	fx.Env = map[string]string{"OPSTOWER_TEST_MCP_FIXTURE": "1", "SERVICE_API_KEY": canary}
	w.host.MCPServers["fixture"] = fx
	w.host.Logger = logger
	w.agent.MCPServers = []string{"fixture"}
	w.agent.Knowledge = "The service key is " + canary + " (pasted by mistake)."
	var streamed strings.Builder
	res, err := w.open(t, w.agent).Ask(context.Background(), nil, "What is the service key?", func(e agent.Event) {
		streamed.WriteString(e.Text + e.Result)
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Answer, canary) || !strings.Contains(res.Answer, secret.Redacted) {
		t.Errorf("answer = %q", res.Answer)
	}
	for _, turn := range res.Turns {
		if strings.Contains(turn.Message.Text, canary) {
			t.Errorf("persisted turn holds the canary: %q", turn.Message.Text)
		}
		for _, r := range turn.Message.ToolResults {
			if strings.Contains(r.Content, canary) {
				t.Errorf("persisted tool result holds the canary")
			}
		}
	}
	for _, r := range w.fake.Requests() {
		if bytes.Contains(r.Body, []byte(canary)) {
			t.Errorf("request %d to the model holds the canary", r.N)
		}
	}
	if strings.Contains(logs.String(), canary) {
		t.Errorf("logs hold the canary")
	}
	if strings.Contains(streamed.String(), canary) || !strings.Contains(streamed.String(), "or maybe "+secret.Redacted) {
		t.Errorf("streamed text and tool events: %q", streamed.String())
	}
}

// An outside client that asks for progress sees each tool the agent calls.
func TestAgentsServerReportsProgress(t *testing.T) {
	w := newWorld(t, llm.KindOpenAI, llmtest.Sequence(
		llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__list_tables"}}},
		llmtest.Reply{Text: "Two tables."},
	))
	var mu sync.Mutex
	var messages []string
	st, ct := mcp.NewInMemoryTransports()
	ss, err := agent.AgentsServer(w.host, "ann", []*agent.Agent{w.agent}).Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	c := mcp.NewClient(&mcp.Implementation{Name: "outside", Version: "v0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			messages = append(messages, r.Params.Message)
		},
	})
	cs, err := c.Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	p := &mcp.CallToolParams{Name: "ask_backend_debugger", Arguments: map[string]any{"question": "Which tables exist in the shop database?"}}
	p.SetProgressToken("tok-1")
	res, err := cs.CallTool(context.Background(), p)
	if err != nil || res.IsError || mcptest.Text(res) != "Two tables." {
		t.Fatalf("%v %+v", err, res)
	}
	// Notifications are handled apart from the result: give them a moment.
	for i := 0; i < 100; i++ {
		mu.Lock()
		n := len(messages)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(messages) != 1 || messages[0] != "step 1: databases__list_tables" {
		t.Errorf("progress = %q", messages)
	}
}
