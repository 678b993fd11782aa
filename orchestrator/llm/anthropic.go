package llm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"
)

// anthropicProvider speaks the Messages API.
type anthropicProvider struct {
	name   string
	client anthropic.Client
}

func newAnthropic(e Endpoint) *anthropicProvider {
	opts := []option.RequestOption{
		// Explicit settings only: the registry already read the standard
		// environment variables, and a developer's profile must not leak
		// into a server.
		option.WithoutEnvironmentDefaults(),
		option.WithMaxRetries(e.MaxRetries),
		option.WithRequestTimeout(e.Timeout),
	}
	if e.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(e.BaseURL))
	}
	if !e.APIKey.IsZero() {
		// The SDK sends WithAPIKey as a bearer token; Anthropic's API and
		// most proxies read x-api-key, so send that explicitly.
		opts = append(opts, option.WithHeader("x-api-key", e.APIKey.Reveal()))
	} else {
		opts = append(opts, option.WithAPIKey("none"))
	}
	if e.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(e.HTTPClient))
	}
	return &anthropicProvider{name: e.Name, client: anthropic.NewClient(opts...)}
}

func (p *anthropicProvider) Name() string { return p.name }

func (p *anthropicProvider) Stream(ctx context.Context, req Request, on func(Event)) (*Response, error) {
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(req.Model),
		MaxTokens: int64(maxTokens(req)),
		Messages:  p.messages(req.Messages),
	}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	for _, t := range req.Tools {
		s := adaptSchema(t.Schema, anthropicDialect)
		extra := map[string]any{}
		var required []string
		for k, v := range s {
			switch k {
			case "type", "properties":
			case "required":
				if list, ok := v.([]any); ok {
					for _, r := range list {
						if rs, ok := r.(string); ok {
							required = append(required, rs)
						}
					}
				} else if list, ok := v.([]string); ok {
					required = append(required, list...)
				}
			default:
				extra[k] = v
			}
		}
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        t.Name,
			Description: anthropic.String(t.Description),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: s["properties"], Required: required, ExtraFields: extra},
		}})
	}
	if req.WebSearch {
		// Anthropic's own web search and URL fetch run on its side; their
		// blocks come back in the answer and are replayed through Native.
		params.Tools = append(params.Tools,
			anthropic.ToolUnionParam{OfWebSearchTool20250305: &anthropic.WebSearchTool20250305Param{MaxUses: anthropic.Int(5)}},
			anthropic.ToolUnionParam{OfWebFetchTool20250910: &anthropic.WebFetchTool20250910Param{MaxUses: anthropic.Int(5)}})
	}
	if req.NoToolCalls && len(params.Tools) > 0 {
		params.ToolChoice = anthropic.ToolChoiceUnionParam{OfNone: &anthropic.ToolChoiceNoneParam{}}
	}

	stream := p.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()
	var acc anthropic.Message
	for stream.Next() {
		ev := stream.Current()
		if err := acc.Accumulate(ev); err != nil {
			return nil, &Error{Provider: p.name, Msg: "malformed stream: " + err.Error(), Err: err}
		}
		if on == nil {
			continue
		}
		switch e := ev.AsAny().(type) {
		case anthropic.ContentBlockDeltaEvent:
			if td, ok := e.Delta.AsAny().(anthropic.TextDelta); ok && td.Text != "" {
				on(Event{Kind: EventText, Text: td.Text})
			}
		case anthropic.ContentBlockStopEvent:
			if i := int(e.Index); i < len(acc.Content) {
				if tu, ok := acc.Content[i].AsAny().(anthropic.ToolUseBlock); ok {
					on(Event{Kind: EventToolCall, Call: &ToolCall{ID: tu.ID, Name: tu.Name, Args: normArgs(tu.Input)}})
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, p.wrap(err)
	}
	msg := Message{Role: RoleAssistant, Provider: p.name}
	var text strings.Builder
	var natives []anthropic.ContentBlockParamUnion
	for _, blk := range acc.Content {
		natives = append(natives, blk.ToParam())
		switch b := blk.AsAny().(type) {
		case anthropic.TextBlock:
			text.WriteString(b.Text)
		case anthropic.ToolUseBlock:
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Args: normArgs(b.Input)})
		}
	}
	msg.Text = text.String()
	if raw, err := json.Marshal(natives); err == nil {
		msg.Native = raw
	}
	return &Response{
		Message:    msg,
		Usage:      Usage{InputTokens: int(acc.Usage.InputTokens + acc.Usage.CacheReadInputTokens + acc.Usage.CacheCreationInputTokens), OutputTokens: int(acc.Usage.OutputTokens)},
		StopReason: string(acc.StopReason),
	}, nil
}

func (p *anthropicProvider) messages(in []Message) []anthropic.MessageParam {
	var out []anthropic.MessageParam
	for _, m := range in {
		switch m.Role {
		case RoleUser:
			out = append(out, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Text)))
		case RoleAssistant:
			if m.Provider == p.name && len(m.Native) > 0 {
				var blocks []json.RawMessage
				if json.Unmarshal(m.Native, &blocks) == nil && len(blocks) > 0 {
					content := make([]anthropic.ContentBlockParamUnion, len(blocks))
					for i, b := range blocks {
						content[i] = param.Override[anthropic.ContentBlockParamUnion](b)
					}
					out = append(out, anthropic.NewAssistantMessage(content...))
					continue
				}
			}
			var content []anthropic.ContentBlockParamUnion
			if m.Text != "" {
				content = append(content, anthropic.NewTextBlock(m.Text))
			}
			for _, c := range m.ToolCalls {
				content = append(content, anthropic.NewToolUseBlock(c.ID, json.RawMessage(normArgs(c.Args)), c.Name))
			}
			if len(content) == 0 {
				content = append(content, anthropic.NewTextBlock("(no answer)"))
			}
			out = append(out, anthropic.NewAssistantMessage(content...))
		case RoleTool:
			var content []anthropic.ContentBlockParamUnion
			for _, r := range m.ToolResults {
				content = append(content, anthropic.NewToolResultBlock(r.CallID, r.Content, r.IsError))
			}
			out = append(out, anthropic.NewUserMessage(content...))
		}
	}
	return out
}

func (p *anthropicProvider) wrap(err error) error {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		return &Error{Provider: p.name, Status: ae.StatusCode, Msg: apiMessage(ae.RawJSON(), ae.StatusCode), Err: err}
	}
	return &Error{Provider: p.name, Msg: transportMessage(err), Err: err}
}

func maxTokens(req Request) int {
	if req.MaxTokens > 0 {
		return req.MaxTokens
	}
	return DefaultMaxTokens
}

// normArgs returns the arguments as a JSON object, {} when empty.
func normArgs(raw json.RawMessage) json.RawMessage {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return json.RawMessage("{}")
	}
	return raw
}
