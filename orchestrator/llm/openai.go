package llm

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openAIProvider speaks Chat Completions: OpenAI itself and every
// OpenAI-compatible server (Ollama, vLLM, LM Studio, OpenRouter), which all
// implement this API and not the newer Responses API. For OpenAI itself
// with web search on, it uses the Responses API (openai_responses.go).
type openAIProvider struct {
	name     string
	official bool // OpenAI itself: the Responses API and its web search exist
	client   openai.Client
}

func newOpenAI(e Endpoint) *openAIProvider {
	opts := []option.RequestOption{
		option.WithMaxRetries(e.MaxRetries),
		option.WithRequestTimeout(e.Timeout),
	}
	base := e.BaseURL
	if base == "" {
		base = "https://api.openai.com/v1"
	}
	opts = append(opts, option.WithBaseURL(base))
	// openai.NewClient reads OPENAI_* from the environment itself and
	// offers no public way to stop it. The explicit options below come
	// after and win: the key is always set (an empty one sends no
	// Authorization header), so OpenAI's key never reaches another
	// endpoint such as OpenRouter or a local server.
	opts = append(opts, option.WithAPIKey(e.APIKey.Reveal()), option.WithAdminAPIKey(""))
	if e.Name != "openai" {
		opts = append(opts, option.WithHeaderDel("OpenAI-Organization"), option.WithHeaderDel("OpenAI-Project"))
	}
	if e.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(e.HTTPClient))
	}
	return &openAIProvider{name: e.Name, official: e.Name == "openai", client: openai.NewClient(opts...)}
}

func (p *openAIProvider) Name() string { return p.name }

func (p *openAIProvider) Stream(ctx context.Context, req Request, on func(Event)) (*Response, error) {
	if req.WebSearch && p.official {
		return p.streamResponses(ctx, req, on)
	}
	params := openai.ChatCompletionNewParams{
		Model:         shared.ChatModel(req.Model),
		Messages:      p.messages(req),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if req.MaxTokens > 0 {
		params.MaxCompletionTokens = openai.Int(int64(req.MaxTokens))
	}
	for _, t := range req.Tools {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  shared.FunctionParameters(adaptSchema(t.Schema, openAIDialect)),
			// strict would require every property to be required.
			Strict: openai.Bool(false),
		}))
	}
	if len(params.Tools) > 0 && req.NoToolCalls {
		params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}
	}

	stream := p.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if on != nil && len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			on(Event{Kind: EventText, Text: chunk.Choices[0].Delta.Content})
		}
	}
	if err := stream.Err(); err != nil {
		return nil, p.wrap(err)
	}
	msg := Message{Role: RoleAssistant, Provider: p.name}
	stop := ""
	if len(acc.Choices) > 0 {
		c := acc.Choices[0]
		stop = c.FinishReason
		msg.Text = c.Message.Content
		for _, tc := range c.Message.ToolCalls {
			call := ToolCall{ID: tc.ID, Name: tc.Function.Name, Args: normArgs(json.RawMessage(tc.Function.Arguments))}
			msg.ToolCalls = append(msg.ToolCalls, call)
			if on != nil {
				on(Event{Kind: EventToolCall, Call: &call})
			}
		}
	}
	return &Response{
		Message:    msg,
		Usage:      Usage{InputTokens: int(acc.Usage.PromptTokens), OutputTokens: int(acc.Usage.CompletionTokens)},
		StopReason: stop,
	}, nil
}

func (p *openAIProvider) messages(req Request) []openai.ChatCompletionMessageParamUnion {
	var out []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		out = append(out, openai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			out = append(out, openai.UserMessage(m.Text))
		case RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Text != "" {
				a.Content.OfString = openai.String(m.Text)
			}
			for _, c := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       c.ID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: string(normArgs(c.Args))},
				}})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case RoleTool:
			for _, r := range m.ToolResults {
				// Chat Completions has no is_error: say it in the content.
				content := r.Content
				if r.IsError {
					content = "Error: " + content
				}
				out = append(out, openai.ToolMessage(content, r.CallID))
			}
		}
	}
	return out
}

func (p *openAIProvider) wrap(err error) error {
	var oe *openai.Error
	if errors.As(err, &oe) {
		return &Error{Provider: p.name, Status: oe.StatusCode, Msg: apiMessage(oe.RawJSON(), oe.StatusCode), Err: err}
	}
	return &Error{Provider: p.name, Msg: transportMessage(err), Err: err}
}
