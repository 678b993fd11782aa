package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ---- Anthropic Messages ----

type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	IsError   bool            `json:"is_error"`
	Content   json.RawMessage `json:"content"`
}

func decodeAnthropic(body []byte) (Seen, error) {
	var req struct {
		Model     string          `json:"model"`
		MaxTokens int             `json:"max_tokens"`
		System    json.RawMessage `json:"system"`
		Stream    bool            `json:"stream"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Type        string         `json:"type"`
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
		ToolChoice *struct {
			Type string `json:"type"`
		} `json:"tool_choice"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Seen{}, err
	}
	if req.MaxTokens <= 0 {
		return Seen{}, fmt.Errorf("max_tokens is required")
	}
	s := Seen{Model: req.Model, Stream: req.Stream, NoToolCalls: req.ToolChoice != nil && req.ToolChoice.Type == "none"}
	s.System = textOf(req.System)
	for _, t := range req.Tools {
		if strings.HasPrefix(t.Type, "web_search") {
			s.WebSearch = true
			continue
		}
		if strings.HasPrefix(t.Type, "web_fetch") {
			s.WebFetch = true
			continue
		}
		s.Tools = append(s.Tools, SeenTool{Name: t.Name, Schema: t.InputSchema})
	}
	for _, m := range req.Messages {
		var blocks []anthropicBlock
		if err := json.Unmarshal(m.Content, &blocks); err != nil {
			var text string
			if json.Unmarshal(m.Content, &text) != nil {
				return Seen{}, fmt.Errorf("message content: %v", err)
			}
			blocks = []anthropicBlock{{Type: "text", Text: text}}
		}
		sm := SeenMessage{Role: m.Role}
		for _, b := range blocks {
			switch b.Type {
			case "text":
				sm.Text += b.Text
			case "tool_use":
				sm.Calls = append(sm.Calls, Call{ID: b.ID, Name: b.Name, Args: string(b.Input)})
			case "tool_result":
				sm.Role = "tool"
				sm.Results = append(sm.Results, Result{CallID: b.ToolUseID, Content: textOf(b.Content), IsError: b.IsError})
			}
		}
		s.Messages = append(s.Messages, sm)
	}
	return s, nil
}

// textOf reads a string or a list of text blocks.
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []anthropicBlock
	_ = json.Unmarshal(raw, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
	}
	return b.String()
}

func streamAnthropic(w io.Writer, seen Seen, r Reply) {
	sse(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": fmt.Sprintf("msg_%d", seen.N), "type": "message", "role": "assistant", "model": seen.Model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": r.Usage.InputTokens, "output_tokens": 1},
	}})
	idx := 0
	if r.Text != "" {
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
		for _, c := range chunks(r.Text) {
			sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "text_delta", "text": c}})
		}
		sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	for _, c := range r.Calls {
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": map[string]any{}}})
		for _, part := range chunks(c.Args) {
			sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
		}
		sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	stop := "end_turn"
	if len(r.Calls) > 0 {
		stop = "tool_use"
	}
	sse(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": r.Usage.OutputTokens}})
	sse(w, "message_stop", map[string]any{"type": "message_stop"})
}

// ---- OpenAI Chat Completions ----

func decodeOpenAI(body []byte) (Seen, error) {
	var req struct {
		Model    string `json:"model"`
		Stream   bool   `json:"stream"`
		Messages []struct {
			Role       string          `json:"role"`
			Content    json.RawMessage `json:"content"`
			ToolCallID string          `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"messages"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string         `json:"name"`
				Parameters map[string]any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice       json.RawMessage `json:"tool_choice"`
		WebSearchOptions json.RawMessage `json:"web_search_options"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Seen{}, err
	}
	s := Seen{Model: req.Model, Stream: req.Stream, NoToolCalls: string(req.ToolChoice) == `"none"`, WebSearch: len(req.WebSearchOptions) > 0}
	for _, t := range req.Tools {
		if t.Type != "function" {
			return Seen{}, fmt.Errorf("tool type %q", t.Type)
		}
		s.Tools = append(s.Tools, SeenTool{Name: t.Function.Name, Schema: t.Function.Parameters})
	}
	for _, m := range req.Messages {
		text := textOf(m.Content)
		switch m.Role {
		case "system", "developer":
			s.System += text
		case "tool":
			res := Result{CallID: m.ToolCallID, Content: text}
			if rest, ok := strings.CutPrefix(text, "Error: "); ok {
				res.Content, res.IsError = rest, true
			}
			if n := len(s.Messages); n > 0 && s.Messages[n-1].Role == "tool" {
				s.Messages[n-1].Results = append(s.Messages[n-1].Results, res)
			} else {
				s.Messages = append(s.Messages, SeenMessage{Role: "tool", Results: []Result{res}})
			}
		default:
			sm := SeenMessage{Role: m.Role, Text: text}
			for _, tc := range m.ToolCalls {
				sm.Calls = append(sm.Calls, Call{ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
			}
			s.Messages = append(s.Messages, sm)
		}
	}
	return s, nil
}

func streamOpenAI(w io.Writer, seen Seen, r Reply) {
	id := fmt.Sprintf("chatcmpl-%d", seen.N)
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": 1, "model": seen.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	sse(w, "", chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	for _, c := range chunks(r.Text) {
		sse(w, "", chunk(map[string]any{"content": c}, nil))
	}
	for i, c := range r.Calls {
		sse(w, "", chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": ""}}}}, nil))
		for _, part := range chunks(c.Args) {
			sse(w, "", chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": part}}}}, nil))
		}
	}
	finish := "stop"
	if len(r.Calls) > 0 {
		finish = "tool_calls"
	}
	sse(w, "", chunk(map[string]any{}, finish))
	sse(w, "", map[string]any{"id": id, "object": "chat.completion.chunk", "created": 1, "model": seen.Model, "choices": []any{},
		"usage": map[string]any{"prompt_tokens": r.Usage.InputTokens, "completion_tokens": r.Usage.OutputTokens, "total_tokens": r.Usage.InputTokens + r.Usage.OutputTokens}})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// ---- Gemini generateContent ----

func decodeGemini(body []byte) (Seen, error) {
	type part struct {
		Text         string `json:"text"`
		FunctionCall *struct {
			ID   string         `json:"id"`
			Name string         `json:"name"`
			Args map[string]any `json:"args"`
		} `json:"functionCall"`
		FunctionResponse *struct {
			ID       string         `json:"id"`
			Name     string         `json:"name"`
			Response map[string]any `json:"response"`
		} `json:"functionResponse"`
	}
	var req struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []part `json:"parts"`
		} `json:"contents"`
		SystemInstruction *struct {
			Parts []part `json:"parts"`
		} `json:"systemInstruction"`
		Tools []struct {
			FunctionDeclarations []struct {
				Name                 string         `json:"name"`
				ParametersJSONSchema map[string]any `json:"parametersJsonSchema"`
			} `json:"functionDeclarations"`
			GoogleSearch json.RawMessage `json:"googleSearch"`
		} `json:"tools"`
		ToolConfig *struct {
			FunctionCallingConfig *struct {
				Mode string `json:"mode"`
			} `json:"functionCallingConfig"`
		} `json:"toolConfig"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Seen{}, err
	}
	s := Seen{}
	if req.SystemInstruction != nil {
		for _, p := range req.SystemInstruction.Parts {
			s.System += p.Text
		}
	}
	for _, t := range req.Tools {
		if len(t.GoogleSearch) > 0 {
			s.WebSearch = true
		}
		for _, d := range t.FunctionDeclarations {
			s.Tools = append(s.Tools, SeenTool{Name: d.Name, Schema: d.ParametersJSONSchema})
		}
	}
	if req.ToolConfig != nil && req.ToolConfig.FunctionCallingConfig != nil {
		s.NoToolCalls = req.ToolConfig.FunctionCallingConfig.Mode == "NONE"
	}
	for _, c := range req.Contents {
		role := c.Role
		if role == "model" {
			role = "assistant"
		}
		sm := SeenMessage{Role: role}
		for _, p := range c.Parts {
			switch {
			case p.FunctionCall != nil:
				args, _ := json.Marshal(p.FunctionCall.Args)
				sm.Calls = append(sm.Calls, Call{ID: p.FunctionCall.ID, Name: p.FunctionCall.Name, Args: string(args)})
			case p.FunctionResponse != nil:
				sm.Role = "tool"
				res := Result{CallID: p.FunctionResponse.ID, Name: p.FunctionResponse.Name}
				if e, ok := p.FunctionResponse.Response["error"]; ok {
					res.Content, res.IsError = fmt.Sprint(e), true
				} else {
					res.Content = fmt.Sprint(p.FunctionResponse.Response["output"])
				}
				sm.Results = append(sm.Results, res)
			default:
				sm.Text += p.Text
			}
		}
		s.Messages = append(s.Messages, sm)
	}
	return s, nil
}

func streamGemini(w io.Writer, r Reply) {
	write := func(v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\r\n\r\n", data)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	cand := func(parts []any, finish string) map[string]any {
		c := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
		if finish != "" {
			c["finishReason"] = finish
		}
		return c
	}
	for _, c := range chunks(r.Text) {
		write(map[string]any{"candidates": []any{cand([]any{map[string]any{"text": c}}, "")}})
	}
	var parts []any
	for i, c := range r.Calls {
		var args map[string]any
		_ = json.Unmarshal([]byte(c.Args), &args)
		p := map[string]any{"functionCall": map[string]any{"id": c.ID, "name": c.Name, "args": args}}
		if i == 0 {
			// Gemini 3 signs the first call of a turn and requires the
			// signature back; the SDK carries it as bytes.
			p["thoughtSignature"] = "c2lnbmF0dXJl"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		parts = []any{map[string]any{"text": ""}}
	}
	write(map[string]any{
		"candidates":    []any{cand(parts, "STOP")},
		"usageMetadata": map[string]any{"promptTokenCount": r.Usage.InputTokens, "candidatesTokenCount": r.Usage.OutputTokens, "totalTokenCount": r.Usage.InputTokens + r.Usage.OutputTokens},
	})
}
