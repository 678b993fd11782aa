package host

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/shared/mcptest"
)

// hostFixture is a config file naming a fake OpenAI-compatible model, a
// SQLite database, and a state database, all in a temp dir.
type hostFixture struct {
	dir, config, state, shop string
	fake                     *llmtest.Server
}

func newHostFixture(t *testing.T, script llmtest.Script, extraYAML string) *hostFixture {
	t.Helper()
	dir := t.TempDir()
	f := &hostFixture{dir: dir, state: filepath.Join(dir, "state.db"), shop: filepath.Join(dir, "shop.db")}
	db, err := sql.Open("sqlite", f.shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)`, `INSERT INTO orders (status) VALUES ('paid'), ('failed'), ('failed')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	f.fake = llmtest.Start(t, llm.KindOpenAI, script)
	f.config = filepath.Join(dir, "opstower.yaml")
	yaml := fmt.Sprintf("models:\n  default: local:test-model\n  providers:\n    local: {kind: openai, base_url: %q}\n%s", f.fake.URL+"/v1", extraYAML)
	if err := os.WriteFile(f.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *hostFixture) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cli.Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// The quick start: a Custom agent over --dsn, one question with -p, the
// tool call shown on stderr, the answer on stdout; then --continue sends
// the first exchange back as history.
func TestChatQuickStartAndResume(t *testing.T) {
	f := newHostFixture(t, func(s llmtest.Seen) llmtest.Reply {
		if s.LastResults() == nil && s.LastUser() == "How many orders failed?" {
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query", Args: `{"sql":"SELECT count(*) AS n FROM orders WHERE status = 'failed'"}`}}}
		}
		if r := s.LastResults(); r != nil {
			return llmtest.Reply{Text: "**" + lastNumber(r[0].Content) + "** orders failed."}
		}
		return llmtest.Reply{Text: fmt.Sprintf("I remember %d earlier messages.", len(s.Messages)-1)}
	}, "")
	out, errOut, err := f.run(t, "chat", "--config", f.config, "--database", f.state, "--dsn", "shop=sqlite://"+f.shop, "-p", "How many orders failed?")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "**2** orders failed." {
		t.Errorf("stdout = %q", out)
	}
	if !strings.Contains(errOut, "-> databases__query") || !strings.Contains(errOut, "<- databases__query ok") {
		t.Errorf("stderr does not show the tool call:\n%s", errOut)
	}
	sys := f.fake.Requests()[0].System
	if !strings.Contains(sys, "Custom agent") || !strings.Contains(sys, "shop") {
		t.Errorf("system prompt:\n%s", sys)
	}
	out, errOut, err = f.run(t, "chat", "--config", f.config, "--database", f.state, "--dsn", "shop=sqlite://"+f.shop, "--continue", "-p", "What did I ask?")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "I remember 4 earlier messages." || !strings.Contains(errOut, "Resuming") {
		t.Errorf("resume: stdout %q, stderr %q", out, errOut)
	}
}

func lastNumber(s string) string {
	fields := strings.Fields(s)
	for i := len(fields) - 1; i >= 0; i-- {
		if _, err := fmt.Sscan(fields[i], new(int)); err == nil {
			return fields[i]
		}
	}
	return "?"
}

// Agents from the config file: listed, refused for editing, chatted with
// by name; bad input gets a clear error and changes nothing.
func TestAgentsFromConfig(t *testing.T) {
	f := newHostFixture(t, llmtest.Sequence(llmtest.Reply{Text: "Hello from the debugger."}), "")
	yaml, _ := os.ReadFile(f.config)
	yaml = append(yaml, []byte(fmt.Sprintf(`connections:
  - {name: shop, url: "sqlite://%s", instructions: "Orders table: one row per checkout."}
agents:
  - {name: Backend Debugger, type: debugger, connections: [shop], connected_agents: [Growth Analyst]}
  - {name: Growth Analyst, type: analyst, connections: [shop], model: "local:bigger-model"}
`, f.shop))...)
	if err := os.WriteFile(f.config, yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--config", f.config, "--database", f.state}
	out, errOut, err := f.run(t, append([]string{"agents", "list"}, base...)...)
	if err != nil || !strings.Contains(out, "Backend Debugger") || !strings.Contains(out, "local:bigger-model") || !strings.Contains(out, "config") {
		t.Fatalf("list: %v\n%s%s", err, out, errOut)
	}
	if _, _, err := f.run(t, append([]string{"agents", "edit", "Backend Debugger", "--model", "x:y"}, base...)...); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("editing a config agent: %v", err)
	}
	out, _, err = f.run(t, append([]string{"chat", "--agent", "backend debugger", "-p", "hi there"}, base...)...)
	if err != nil || strings.TrimSpace(out) != "Hello from the debugger." {
		t.Fatalf("chat: %v %q", err, out)
	}
	req := f.fake.Requests()[0]
	if req.Model != "test-model" || req.Tool("ask_growth_analyst") == nil || !strings.Contains(req.System, "one row per checkout") {
		t.Errorf("request: model %q, tools %v", req.Model, req.Tools)
	}
	// Bad input: a clear error, nothing changed.
	cases := map[string][]string{
		"unknown type":      {"agents", "create", "--name", "X", "--type", "debuger"},
		"incompatible conn": {"agents", "create", "--name", "X", "--type", "analyst", "--connections", "nope"},
		"cycle":             {"agents", "create", "--name", "X", "--type", "custom", "--connected-agents", "X"},
		"unknown agent":     {"chat", "--agent", "Nobody", "-p", "hi"},
		"agent and dsn":     {"chat", "--agent", "Backend Debugger", "--dsn", "sqlite:///x.db", "-p", "hi"},
	}
	for name, args := range cases {
		if _, _, err := f.run(t, append(args, base...)...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	out, _, _ = f.run(t, append([]string{"agents"}, base...)...)
	if strings.Count(out, "\n") != 3 {
		t.Errorf("a failed command changed the agents:\n%s", out)
	}
}

// `opstower mcp agents` serves the agents as tools.
func TestMCPAgentsCategory(t *testing.T) {
	f := newHostFixture(t, llmtest.Sequence(llmtest.Reply{Text: "Checkout is healthy."}), "agents:\n  - {name: Backend Debugger, type: debugger}\n")
	cat := cli.Categories[agentsCategory]
	fs := newFlagSet()
	conns := cat.Flags(fs)
	if err := fs.Parse([]string{"--database", f.state}); err != nil {
		t.Fatal(err)
	}
	if _, err := conns(); err != nil {
		t.Fatal(err)
	}
	file := loadConfig(t, f.config)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := cat.Build(ctx, cli.ServerOptions{File: file})
	if err != nil {
		t.Fatal(err)
	}
	cs := mcptest.Connect(t, srv)
	mcptest.CheckAnnotations(t, mcptest.Tools(t, cs))
	if got := mcptest.MustText(t, cs, "ask_backend_debugger", map[string]any{"question": "Is checkout healthy right now?"}); got != "Checkout is healthy." {
		t.Errorf("answer = %q", got)
	}
}

// The interactive chat: questions from stdin, /new starts over, /exit
// leaves; each answer streams to stdout.
func TestInteractiveChat(t *testing.T) {
	f := newHostFixture(t, func(s llmtest.Seen) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf("answer to %q after %d messages", s.LastUser(), len(s.Messages))}
	}, "")
	var out, errb bytes.Buffer
	in := strings.NewReader("first question\nsecond question\n/new\nthird question\n/exit\nnever asked\n")
	err := runChat(context.Background(), []string{"--config", f.config, "--database", f.state}, in, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	want := "answer to \"first question\" after 1 messages\nanswer to \"second question\" after 3 messages\nanswer to \"third question\" after 1 messages\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(errb.String(), "Chatting with OpsTower") || !strings.Contains(errb.String(), "New conversation.") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}
