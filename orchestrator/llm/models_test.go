package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
)

func TestParseSpec(t *testing.T) {
	for in, want := range map[string]string{
		"anthropic:claude-sonnet-4-6": "anthropic:claude-sonnet-4-6",
		"Google:gemini-2.5-flash":     "gemini:gemini-2.5-flash",
		"ollama:llama3.2:3b":          "ollama:llama3.2:3b",
	} {
		if s, err := llm.ParseSpec(in); err != nil || s.String() != want {
			t.Errorf("ParseSpec(%q) = %v, %v", in, s, err)
		}
	}
	for _, bad := range []string{"gpt-5", ":x", "openai:"} {
		if _, err := llm.ParseSpec(bad); err == nil || !strings.Contains(err.Error(), "PROVIDER:MODEL") {
			t.Errorf("ParseSpec(%q): %v", bad, err)
		}
	}
}

// Each SDK's standard variables configure the builtin providers: the key
// and the base URL.
func TestStandardEnvironment(t *testing.T) {
	for _, c := range []struct {
		kind          llm.Kind
		keyVar, urlVr string
		suffix        string
	}{
		{llm.KindAnthropic, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", ""},
		{llm.KindOpenAI, "OPENAI_API_KEY", "OPENAI_BASE_URL", "/v1"},
		{llm.KindGemini, "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", ""},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			fake := llmtest.Start(t, c.kind, llmtest.Sequence(llmtest.Reply{Text: "from env"}))
			env := map[string]string{c.keyVar: "env-key-123456", c.urlVr: fake.URL + c.suffix}
			reg, err := llm.NewRegistry(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			spec, ok := reg.DefaultFromEnv()
			if !ok || spec.Provider != string(c.kind) {
				t.Fatalf("default from env = %v %v", spec, ok)
			}
			p, err := reg.Open(llm.Spec{Provider: string(c.kind), Model: "m"})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
			if err != nil || res.Message.Text != "from env" {
				t.Fatalf("%v %+v", err, res)
			}
			h := fake.Requests()[0].Header
			if !strings.Contains(h.Get("Authorization")+h.Get("X-Api-Key")+h.Get("X-Goog-Api-Key"), "env-key-123456") {
				t.Errorf("key not sent: %v", h)
			}
		})
	}
}

// OpenAI's key, read by the OpenAI SDK from the process environment, never
// reaches another OpenAI-compatible endpoint.
func TestOpenAIKeyStaysWithOpenAI(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-openai-canary-0b7e")
	t.Setenv("OPENAI_ORG_ID", "org-canary")
	fake := llmtest.Start(t, llm.KindOpenAI, llmtest.Sequence(llmtest.Reply{Text: "local"}))
	reg, err := llm.NewRegistry(map[string]llm.ProviderSettings{"ollama": {BaseURL: fake.URL + "/v1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Open(llm.Spec{Provider: "ollama", Model: "llama3.2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(context.Background(), llm.Request{Model: "llama3.2", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil); err != nil {
		t.Fatal(err)
	}
	for k, v := range fake.Requests()[0].Header {
		if strings.Contains(strings.Join(v, " "), "canary") {
			t.Errorf("header %s carries OpenAI's credentials to another endpoint", k)
		}
	}
}

func TestRegistryErrors(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	reg, err := llm.NewRegistry(nil, none)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Open(llm.Spec{Provider: "anthropic", Model: "m"}); err == nil || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := reg.Open(llm.Spec{Provider: "antropic", Model: "m"}); err == nil || !strings.Contains(err.Error(), `did you mean "anthropic"`) {
		t.Errorf("typo: %v", err)
	}
	if _, err := reg.Open(llm.Spec{Provider: "ollama", Model: "m"}); err != nil {
		t.Errorf("a local endpoint needs no key: %v", err)
	}
	for settings, want := range map[string]llm.ProviderSettings{
		"kind":     {Kind: "mistral", BaseURL: "http://x"},
		"base_url": {Kind: "openai"},
		"add kind": {BaseURL: "http://x"},
	} {
		if _, err := llm.NewRegistry(map[string]llm.ProviderSettings{"together": want}, none); err == nil || !strings.Contains(err.Error(), strings.Split(settings, " ")[0]) {
			t.Errorf("%s: %v", settings, err)
		}
	}
}
