package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/shared/secret"
)

var kinds = []llm.Kind{llm.KindAnthropic, llm.KindOpenAI, llm.KindGemini}

// addTool has the schema shape go-sdk infers: a slice is ["null","array"]
// and structs forbid additional properties.
var addTool = llm.Tool{Name: "calc__add", Description: "add integers", Schema: map[string]any{
	"type": "object", "additionalProperties": false, "required": []any{"a"},
	"properties": map[string]any{
		"a":    map[string]any{"type": "integer"},
		"tags": map[string]any{"type": []any{"null", "array"}, "items": map[string]any{"type": "string"}},
	},
}}

func forEachKind(t *testing.T, f func(t *testing.T, kind llm.Kind)) {
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// A tool call streams in, its result goes back in the provider's own
// format, and the final answer streams as text.
func TestToolRoundTrip(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(
			llmtest.Reply{Text: "Let me add.", Calls: []llmtest.Call{{Name: "calc__add", Args: `{"a":40}`}}, Usage: llm.Usage{InputTokens: 11, OutputTokens: 7}},
			llmtest.Reply{Text: "The sum is **42**.", Usage: llm.Usage{InputTokens: 30, OutputTokens: 5}},
		))
		p := fake.Provider()
		ctx := context.Background()
		req := llm.Request{Model: "test-model", System: "You add.", Tools: []llm.Tool{addTool},
			Messages: []llm.Message{{Role: llm.RoleUser, Text: "40+2?"}}}
		var deltas []string
		var calls []llm.ToolCall
		res, err := p.Stream(ctx, req, func(e llm.Event) {
			switch e.Kind {
			case llm.EventText:
				deltas = append(deltas, e.Text)
			case llm.EventToolCall:
				calls = append(calls, *e.Call)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(deltas, "") != "Let me add." || len(deltas) < 1 {
			t.Errorf("text deltas = %q", deltas)
		}
		if len(calls) != 1 || calls[0].Name != "calc__add" {
			t.Fatalf("streamed calls = %+v", calls)
		}
		tc := res.Message.ToolCalls
		if len(tc) != 1 || tc[0].Name != "calc__add" || !jsonEqual(tc[0].Args, `{"a":40}`) || tc[0].ID == "" {
			t.Fatalf("tool calls = %+v", tc)
		}
		if res.Usage.InputTokens != 11 || res.Usage.OutputTokens != 7 {
			t.Errorf("usage = %+v", res.Usage)
		}
		req.Messages = append(req.Messages, res.Message, llm.Message{Role: llm.RoleTool, ToolResults: []llm.ToolResult{
			{CallID: tc[0].ID, Name: tc[0].Name, Content: "42"},
		}})
		res, err = p.Stream(ctx, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Message.Text != "The sum is **42**." || len(res.Message.ToolCalls) != 0 {
			t.Errorf("final = %+v", res.Message)
		}
		seen := fake.Requests()[1]
		if seen.System != "You add." || seen.LastUser() != "40+2?" {
			t.Errorf("system %q, user %q", seen.System, seen.LastUser())
		}
		results := seen.LastResults()
		if len(results) != 1 || results[0].Content != "42" || results[0].IsError {
			t.Fatalf("tool results on the wire = %+v", results)
		}
		if kind != llm.KindGemini && results[0].CallID != "call_0_0" {
			t.Errorf("tool result answers %q, want call_0_0", results[0].CallID)
		}
		asst := seen.Messages[len(seen.Messages)-2]
		if asst.Role != "assistant" || len(asst.Calls) != 1 {
			t.Errorf("assistant turn replayed as %+v", asst)
		}
		if kind == llm.KindGemini && !strings.Contains(string(seen.Body), `"thoughtSignature":"c2lnbmF0dXJl"`) {
			t.Errorf("Gemini's thought signature was not echoed back: %s", seen.Body)
		}
	})
}

func TestParallelCallsAndErrorResults(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(
			llmtest.Reply{Calls: []llmtest.Call{{Name: "calc__add", Args: `{"a":1}`}, {Name: "calc__add", Args: `{"a":2}`}}},
			llmtest.Reply{Text: "done"},
		))
		p := fake.Provider()
		req := llm.Request{Model: "m", Tools: []llm.Tool{addTool}, Messages: []llm.Message{{Role: llm.RoleUser, Text: "go"}}}
		res, err := p.Stream(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Message.ToolCalls) != 2 || !jsonEqual(res.Message.ToolCalls[1].Args, `{"a":2}`) {
			t.Fatalf("calls = %+v", res.Message.ToolCalls)
		}
		var results []llm.ToolResult
		for i, c := range res.Message.ToolCalls {
			results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: "bad input", IsError: i == 1})
		}
		req.Messages = append(req.Messages, res.Message, llm.Message{Role: llm.RoleTool, ToolResults: results})
		if _, err := p.Stream(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		got := fake.Requests()[1].LastResults()
		if len(got) != 2 || got[0].IsError || !got[1].IsError || got[1].Content != "bad input" {
			t.Errorf("results on the wire = %+v", got)
		}
	})
}

// 429 with Retry-After, then success: the provider waits as told and the
// caller sees only the answer.
func TestRetryAfter429(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(
			llmtest.Reply{Status: 429, Text: "slow down", Header: map[string]string{"Retry-After": "1"}},
			llmtest.Reply{Text: "ok"},
		))
		start := time.Now()
		res, err := fake.Provider().Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Message.Text != "ok" || len(fake.Requests()) != 2 {
			t.Fatalf("answer %q after %d requests", res.Message.Text, len(fake.Requests()))
		}
		if waited := time.Since(start); waited < 900*time.Millisecond {
			t.Errorf("retried after %s; Retry-After asked for 1s", waited)
		}
	})
}

// Errors that retrying cannot fix come back at once, with the status, a
// hint, and never the key.
func TestErrorsAreClearAndKeyless(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(llmtest.Reply{Status: 401, Text: "invalid x-api-key"}))
		e := fake.Endpoint()
		e.APIKey = secret.New("sk-canary-" + string(kind) + "-7f3a9c")
		p, err := llm.Open(e)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Stream(context.Background(), llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
		var le *llm.Error
		if !errors.As(err, &le) || le.Status != 401 {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "check the API key") || strings.Contains(err.Error(), "canary") {
			t.Errorf("message = %q", err)
		}
		if n := len(fake.Requests()); n != 1 {
			t.Errorf("401 was tried %d times", n)
		}
		if h := fake.Requests()[0].Header; !strings.Contains(h.Get("Authorization")+h.Get("X-Api-Key")+h.Get("X-Goog-Api-Key"), "sk-canary") {
			t.Errorf("key not sent in the provider's header: %v", h)
		}
	})
}

// Tool schemas arrive in each provider's dialect; the last step forbids
// tool calls; web search uses the provider's own tool.
func TestRequestShape(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(llmtest.Reply{Text: "ok"}))
		req := llm.Request{Model: "m", Tools: []llm.Tool{addTool}, NoToolCalls: true, WebSearch: true,
			Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}
		if _, err := fake.Provider().Stream(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		seen := fake.Requests()[0]
		if !seen.NoToolCalls {
			t.Error("tool choice none was not sent")
		}
		if !seen.WebSearch || seen.WebFetch != (kind == llm.KindAnthropic) {
			t.Errorf("web search %v, web fetch %v", seen.WebSearch, seen.WebFetch)
		}
		if seen.Responses != (kind == llm.KindOpenAI) {
			t.Errorf("Responses API used = %v", seen.Responses)
		}
		tool := seen.Tool("calc__add")
		if tool == nil {
			t.Fatalf("tool not declared: %+v", seen.Tools)
		}
		tags := tool.Schema["properties"].(map[string]any)["tags"].(map[string]any)
		if tags["type"] != "array" {
			t.Errorf("tags type = %v, want array", tags["type"])
		}
		_, hasAP := tool.Schema["additionalProperties"]
		if hasAP == (kind == llm.KindGemini) {
			t.Errorf("additionalProperties present = %v for %s", hasAP, kind)
		}
		if r, _ := tool.Schema["required"].([]any); len(r) != 1 || r[0] != "a" {
			t.Errorf("required = %v", tool.Schema["required"])
		}
	})
}

// A conversation can move between providers: turns recorded with one
// replay to another through the neutral fields.
func TestHistoryCrossesProviders(t *testing.T) {
	history := []llm.Message{
		{Role: llm.RoleUser, Text: "40+2?"},
		{Role: llm.RoleAssistant, Provider: "elsewhere", Native: json.RawMessage(`"opaque"`), ToolCalls: []llm.ToolCall{{ID: "c1", Name: "calc__add", Args: json.RawMessage(`{"a":40}`)}}},
		{Role: llm.RoleTool, ToolResults: []llm.ToolResult{{CallID: "c1", Name: "calc__add", Content: "42"}}},
		{Role: llm.RoleAssistant, Text: "42"},
		{Role: llm.RoleUser, Text: "and again?"},
	}
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(llmtest.Reply{Text: "42 again"}))
		if _, err := fake.Provider().Stream(context.Background(), llm.Request{Model: "m", Tools: []llm.Tool{addTool}, Messages: history}, nil); err != nil {
			t.Fatal(err)
		}
		seen := fake.Requests()[0]
		if len(seen.Messages) != 5 || seen.Messages[1].Calls[0].Name != "calc__add" || seen.Messages[2].Results[0].Content != "42" || seen.LastUser() != "and again?" {
			t.Errorf("replayed history = %+v", seen.Messages)
		}
	})
}

func TestCancelStopsTheStream(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind llm.Kind) {
		fake := llmtest.Start(t, kind, llmtest.Sequence(llmtest.Reply{Text: "late", Delay: 5 * time.Second}))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := fake.Provider().Stream(ctx, llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Text: "hi"}}}, nil)
		if err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("err = %v after %s", err, time.Since(start))
		}
	})
}

func jsonEqual(raw json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(raw, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// OpenAI with web search goes through the Responses API: tool calls and
// results round-trip there too, and a history begun on Chat Completions
// continues on it.
func TestOpenAIResponsesRoundTrip(t *testing.T) {
	fake := llmtest.Start(t, llm.KindOpenAI, llmtest.Sequence(
		llmtest.Reply{Text: "Searching and adding.", Calls: []llmtest.Call{{Name: "calc__add", Args: `{"a":40}`}, {Name: "calc__add", Args: `{"a":2}`}}, Usage: llm.Usage{InputTokens: 9, OutputTokens: 4}},
		llmtest.Reply{Text: "42, and the web agrees."},
	))
	p := fake.Provider()
	history := []llm.Message{{Role: llm.RoleUser, Text: "earlier"}, {Role: llm.RoleAssistant, Text: "earlier answer"}, {Role: llm.RoleUser, Text: "40+2?"}}
	req := llm.Request{Model: "gpt-test", System: "You add.", Tools: []llm.Tool{addTool}, WebSearch: true, Messages: history}
	var text strings.Builder
	res, err := p.Stream(context.Background(), req, func(e llm.Event) { text.WriteString(e.Text) })
	if err != nil {
		t.Fatal(err)
	}
	if text.String() != "Searching and adding." || len(res.Message.ToolCalls) != 2 || res.Usage.InputTokens != 9 {
		t.Fatalf("first response: %+v, streamed %q", res, text.String())
	}
	req.Messages = append(req.Messages, res.Message, llm.Message{Role: llm.RoleTool, ToolResults: []llm.ToolResult{
		{CallID: res.Message.ToolCalls[0].ID, Name: "calc__add", Content: "40"},
		{CallID: res.Message.ToolCalls[1].ID, Name: "calc__add", Content: "bad", IsError: true},
	}})
	res, err = p.Stream(context.Background(), req, nil)
	if err != nil || res.Message.Text != "42, and the web agrees." {
		t.Fatalf("second: %v %+v", err, res)
	}
	seen := fake.Requests()[1]
	if !seen.Responses || seen.System != "You add." || len(seen.Messages) != 5 || seen.Messages[3].Text != "Searching and adding." {
		t.Fatalf("second request: responses %v, %d messages: %+v", seen.Responses, len(seen.Messages), seen.Messages)
	}
	r := seen.LastResults()
	if len(r) != 2 || r[0].CallID != "call_0_0" || r[0].Content != "40" || !r[1].IsError {
		t.Errorf("results on the wire: %+v", r)
	}
	if c := seen.Messages[3].Calls; len(c) != 2 || c[1].Args != `{"a":2}` {
		t.Errorf("calls replayed: %+v", seen.Messages[3])
	}
}
