package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/shared/config"
)

// The product's compatibility table, row by row.
func TestTypeCompatibility(t *testing.T) {
	want := map[agent.Type]string{
		agent.Debugger:       "errors logs databases ticketing code support externalapi",
		agent.Analyst:        "analytics payments databases social advertising appstores support externalapi",
		agent.ProductManager: "analytics errors payments databases ticketing code social advertising appstores support externalapi",
		agent.Custom:         strings.Join(agent.AllCategories, " "),
	}
	for typ, cats := range want {
		var got []string
		for _, c := range agent.AllCategories {
			if typ.Allows(c) {
				got = append(got, c)
			}
		}
		if strings.Join(got, " ") != cats {
			t.Errorf("%s allows %v, want %s", typ, got, cats)
		}
	}
	if agent.Debugger.Allows(agent.Analytics) || agent.Analyst.Allows(agent.Logs) || agent.ProductManager.Allows(agent.Logs) {
		t.Error("a type allows a category the table forbids")
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]agent.Type{"Debugger": agent.Debugger, "product manager": agent.ProductManager, "product-manager": agent.ProductManager, "PM": agent.ProductManager, "custom": agent.Custom} {
		if got, err := agent.ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := agent.ParseType("debuger"); err == nil || !strings.Contains(err.Error(), `did you mean "debugger"`) {
		t.Errorf("err = %v", err)
	}
}

func TestAgentValidation(t *testing.T) {
	ok := func() *agent.Agent {
		return &agent.Agent{ID: "a", Org: "acme", Owner: "ann", Name: "Backend Debugger", Type: "debugger"}
	}
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprint("b", i)
	}
	cases := []struct {
		name string
		edit func(a *agent.Agent)
		want string
	}{
		{"no name", func(a *agent.Agent) { a.Name = "  " }, "needs a name"},
		{"bad type", func(a *agent.Agent) { a.Type = "hacker" }, "unknown agent type"},
		{"bad visibility", func(a *agent.Agent) { a.Visibility = "friends" }, "unknown visibility"},
		{"bad model", func(a *agent.Agent) { a.Model = "gpt-5" }, "PROVIDER:MODEL"},
		{"knowledge too big", func(a *agent.Agent) { a.Knowledge = strings.Repeat("k", 51<<10) }, "the limit is 50 KB"},
		{"self", func(a *agent.Agent) { a.ConnectedAgents = []string{"a"} }, "itself"},
		{"eleven", func(a *agent.Agent) { a.ConnectedAgents = many }, "at most 10"},
		{"twice", func(a *agent.Agent) { a.ConnectedAgents = []string{"b", "b"} }, "twice"},
		{"steps", func(a *agent.Agent) { a.MaxSteps = 1000 }, "max_steps"},
	}
	for _, c := range cases {
		a := ok()
		c.edit(a)
		if err := a.Validate(agent.Limits{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want %q", c.name, err, c.want)
		}
	}
	a := ok()
	a.Knowledge = strings.Repeat("k", 10<<10)
	a.ConnectedAgents = many[:10]
	if err := a.Validate(agent.Limits{}); err != nil {
		t.Errorf("valid agent rejected: %v", err)
	}
	if a.Visibility != agent.Everyone {
		t.Errorf("default visibility = %q", a.Visibility)
	}
	if err := a.Validate(agent.Limits{KnowledgeBytes: 1024}); err == nil {
		t.Error("a lower knowledge limit is not applied")
	}
}

func TestLinkRules(t *testing.T) {
	agents := map[string]*agent.Agent{
		"a":       {ID: "a", Org: "acme", Owner: "ann", Name: "A"},
		"b":       {ID: "b", Org: "acme", Owner: "bob", Name: "B", ConnectedAgents: []string{"a"}},
		"c":       {ID: "c", Org: "acme", Owner: "bob", Name: "C"},
		"private": {ID: "private", Org: "acme", Owner: "bob", Name: "Bob's", Visibility: agent.OnlyMe},
		"mine":    {ID: "mine", Org: "acme", Owner: "ann", Name: "Ann's", Visibility: agent.OnlyMe},
		"other":   {ID: "other", Org: "globex", Owner: "ann", Name: "Other"},
	}
	lookup := func(id string) (*agent.Agent, bool) { a, ok := agents[id]; return a, ok }
	cases := map[string]string{
		"a":       "itself",
		"b":       "no cycles",
		"private": "private to another user",
		"other":   "another organization",
		"ghost":   "does not exist",
	}
	for target, want := range cases {
		a := *agents["a"]
		a.ConnectedAgents = []string{target}
		if err := agent.CheckLinks(&a, lookup); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("connect a to %s: err = %v; want %q", target, err, want)
		}
	}
	a := *agents["a"]
	a.ConnectedAgents = []string{"c", "mine"}
	if err := agent.CheckLinks(&a, lookup); err != nil {
		t.Errorf("valid links rejected: %v", err)
	}
}

func TestModelResolution(t *testing.T) {
	reg, err := llm.NewRegistry(nil, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	m := agent.Models{Registry: reg, Default: "anthropic:claude-sonnet-4-6", Scopes: map[agent.Type]string{agent.Analyst: "gemini:gemini-2.5-pro"}}
	cases := []struct {
		a    agent.Agent
		want string
	}{
		{agent.Agent{Type: agent.Analyst, Model: "openai:gpt-5.4"}, "openai:gpt-5.4"},
		{agent.Agent{Type: agent.Analyst}, "gemini:gemini-2.5-pro"},
		{agent.Agent{Type: agent.Debugger}, "anthropic:claude-sonnet-4-6"},
	}
	for _, c := range cases {
		got, err := m.Resolve(&c.a)
		if err != nil || got.String() != c.want {
			t.Errorf("%+v: %v %v; want %s", c.a, got, err, c.want)
		}
	}
	// Nothing configured: the first provider with a key in the
	// environment, else a clear error.
	env, _ := llm.NewRegistry(nil, func(k string) (string, bool) { return "k-123456", k == "GEMINI_API_KEY" })
	if got, err := (agent.Models{Registry: env}).Resolve(&agent.Agent{}); err != nil || got.Provider != "gemini" {
		t.Errorf("from env: %v %v", got, err)
	}
	_, err = (agent.Models{Registry: reg}).Resolve(&agent.Agent{})
	if !errors.Is(err, llm.ErrNoModel) || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") || !strings.Contains(err.Error(), "models:") {
		t.Errorf("no model: %v", err)
	}
}

// A connection whose category the agent's type does not allow is refused
// with the reason and the way out.
func TestOpenRefusesIncompatibleConnection(t *testing.T) {
	w := newWorld(t, llm.KindOpenAI, llmtest.Sequence(llmtest.Reply{Text: "x"}))
	w.dir.Connections["events"] = agent.Connection{Connection: config.Connection{Name: "events", Provider: "posthog"}}
	a := &agent.Agent{ID: "d", Org: "acme", Name: "Dbg", Type: agent.Debugger, Connections: []string{"events"}}
	_, err := w.host.Open(context.Background(), a, agent.OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), "cannot use analytics connections") || !strings.Contains(err.Error(), "custom allows all") {
		t.Errorf("err = %v", err)
	}
	a.Connections = []string{"nope"}
	if _, err := w.host.Open(context.Background(), a, agent.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "connections are: events, shop") {
		t.Errorf("unknown connection: %v", err)
	}
	a.Type, a.Connections = agent.Custom, []string{"events"}
	if _, err := w.host.Open(context.Background(), a, agent.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "not served by this build") {
		t.Errorf("category without a server: %v", err)
	}
}
