package toolkit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/toolkit"
)

type countIn struct {
	Word string `json:"word"`
}

type countOut struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

func TestNewStructured(t *testing.T) {
	key := secret.New("structured-canary-4711")
	s := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "v0"}, nil)
	toolkit.Add(s, toolkit.Options{MaxBytes: 64}, toolkit.NewStructured(toolkit.Def{
		Name: "count", Title: "Count", Description: "count a word", Hints: toolkit.Read,
	}, func(ctx context.Context, in countIn) (string, countOut, error) {
		switch in.Word {
		case "fail":
			return "", countOut{Word: "ignored"}, toolkit.Errorf("cannot count %q", in.Word)
		case "leak":
			return "key " + key.Reveal(), countOut{Word: key.Reveal(), Count: 1}, nil
		}
		return strings.Repeat(in.Word+" ", 40), countOut{Word: in.Word, Count: 40}, nil
	}))
	cs := mcptest.Connect(t, s)

	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	schema, _ := json.Marshal(tools[0].OutputSchema)
	if !strings.Contains(string(schema), `"count":{"type":"integer"}`) {
		t.Errorf("output schema: %s", schema)
	}

	call := func(word string) *mcp.CallToolResult {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "count", Arguments: map[string]any{"word": word}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := call("go")
	raw, _ := json.Marshal(res.StructuredContent)
	if res.IsError || string(raw) != `{"count":40,"word":"go"}` {
		t.Errorf("structured content: %s", raw)
	}
	if text := mcptest.Text(res); len(text) > 64 || !strings.HasPrefix(text, "go go") || !strings.Contains(text, "[cut]") {
		t.Errorf("the text is the handler's, capped: %q", text)
	}

	res = call("fail")
	if !res.IsError || res.StructuredContent != nil || mcptest.Text(res) != `cannot count "fail"` {
		t.Errorf("a tool error carries its message and no value: %+v", res)
	}

	res = call("leak")
	raw, _ = json.Marshal(res.StructuredContent)
	if strings.Contains(string(raw)+mcptest.Text(res), "structured-canary-4711") || !strings.Contains(string(raw), secret.Redacted) {
		t.Errorf("secrets must be scrubbed from both forms: %s / %s", raw, mcptest.Text(res))
	}
}
