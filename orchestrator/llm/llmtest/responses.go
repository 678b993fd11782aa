package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// OpenAI Responses API: POST /v1/responses, streamed as typed events.

func decodeResponses(body []byte) (Seen, error) {
	var req struct {
		Model        string            `json:"model"`
		Stream       bool              `json:"stream"`
		Instructions string            `json:"instructions"`
		Input        []json.RawMessage `json:"input"`
		Tools        []struct {
			Type       string         `json:"type"`
			Name       string         `json:"name"`
			Parameters map[string]any `json:"parameters"`
		} `json:"tools"`
		ToolChoice json.RawMessage `json:"tool_choice"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Seen{}, err
	}
	s := Seen{Model: req.Model, Stream: req.Stream, System: req.Instructions, NoToolCalls: string(req.ToolChoice) == `"none"`}
	for _, t := range req.Tools {
		switch {
		case strings.HasPrefix(t.Type, "web_search"):
			s.WebSearch = true
		case t.Type == "function":
			s.Tools = append(s.Tools, SeenTool{Name: t.Name, Schema: t.Parameters})
		default:
			return Seen{}, fmt.Errorf("tool type %q", t.Type)
		}
	}
	for _, raw := range req.Input {
		var item struct {
			Type      string          `json:"type"`
			Role      string          `json:"role"`
			Content   json.RawMessage `json:"content"`
			CallID    string          `json:"call_id"`
			Name      string          `json:"name"`
			Arguments string          `json:"arguments"`
			Output    string          `json:"output"`
		}
		if err := json.Unmarshal(raw, &item); err != nil {
			return Seen{}, err
		}
		last := func(role string) *SeenMessage {
			if n := len(s.Messages); n > 0 && s.Messages[n-1].Role == role {
				return &s.Messages[n-1]
			}
			s.Messages = append(s.Messages, SeenMessage{Role: role})
			return &s.Messages[len(s.Messages)-1]
		}
		switch item.Type {
		case "function_call":
			m := last("assistant")
			m.Calls = append(m.Calls, Call{ID: item.CallID, Name: item.Name, Args: item.Arguments})
		case "function_call_output":
			res := Result{CallID: item.CallID, Content: item.Output}
			if rest, ok := strings.CutPrefix(item.Output, "Error: "); ok {
				res.Content, res.IsError = rest, true
			}
			m := last("tool")
			m.Results = append(m.Results, res)
		case "", "message":
			s.Messages = append(s.Messages, SeenMessage{Role: item.Role, Text: responsesText(item.Content)})
		default:
			return Seen{}, fmt.Errorf("input item type %q", item.Type)
		}
	}
	return s, nil
}

func responsesText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func streamResponses(w io.Writer, seen Seen, r Reply) {
	seq := 0
	event := func(typ string, v map[string]any) {
		v["type"] = typ
		v["sequence_number"] = seq
		seq++
		sse(w, typ, v)
	}
	var output []any
	if r.Text != "" {
		for _, c := range chunks(r.Text) {
			event("response.output_text.delta", map[string]any{"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": c, "logprobs": []any{}})
		}
		msg := map[string]any{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": r.Text, "annotations": []any{}}}}
		event("response.output_item.done", map[string]any{"output_index": 0, "item": msg})
		output = append(output, msg)
	}
	for _, c := range r.Calls {
		item := map[string]any{"type": "function_call", "id": "fc_" + c.ID, "call_id": c.ID, "name": c.Name, "arguments": c.Args, "status": "completed"}
		event("response.output_item.done", map[string]any{"output_index": len(output), "item": item})
		output = append(output, item)
	}
	event("response.completed", map[string]any{"response": map[string]any{
		"id": fmt.Sprintf("resp_%d", seen.N), "object": "response", "created_at": 1, "status": "completed", "model": seen.Model,
		"output": output,
		"usage": map[string]any{"input_tokens": r.Usage.InputTokens, "output_tokens": r.Usage.OutputTokens, "total_tokens": r.Usage.InputTokens + r.Usage.OutputTokens,
			"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0}},
	}})
}
