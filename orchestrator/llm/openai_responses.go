package llm

import (
	"context"
	"encoding/json"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
)

// streamResponses answers through OpenAI's Responses API, which offers the
// web_search tool to every model (Chat Completions searches only with the
// search models). It is used for OpenAI itself when web search is on; the
// conversation stays stateless (store: false, history resent each time),
// like the Chat Completions path, so both can serve one conversation.
func (p *openAIProvider) streamResponses(ctx context.Context, req Request, on func(Event)) (*Response, error) {
	params := responses.ResponseNewParams{
		Model: req.Model,
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responsesInput(req.Messages)},
		Store: openai.Bool(false),
		Tools: []responses.ToolUnionParam{{OfWebSearch: &responses.WebSearchToolParam{Type: responses.WebSearchToolTypeWebSearch}}},
	}
	if req.System != "" {
		params.Instructions = openai.String(req.System)
	}
	if req.MaxTokens > 0 {
		params.MaxOutputTokens = openai.Int(int64(req.MaxTokens))
	}
	for _, t := range req.Tools {
		params.Tools = append(params.Tools, responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  adaptSchema(t.Schema, openAIDialect),
			Strict:      openai.Bool(false),
		}})
	}
	if req.NoToolCalls {
		params.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: openai.Opt(responses.ToolChoiceOptionsNone)}
	}
	stream := p.client.Responses.NewStreaming(ctx, params)
	defer stream.Close()
	var final *responses.Response
	for stream.Next() {
		switch e := stream.Current().AsAny().(type) {
		case responses.ResponseTextDeltaEvent:
			if on != nil && e.Delta != "" {
				on(Event{Kind: EventText, Text: e.Delta})
			}
		case responses.ResponseOutputItemDoneEvent:
			if on != nil && e.Item.Type == "function_call" {
				fc := e.Item.AsFunctionCall()
				on(Event{Kind: EventToolCall, Call: &ToolCall{ID: fc.CallID, Name: fc.Name, Args: normArgs(json.RawMessage(fc.Arguments))}})
			}
		case responses.ResponseCompletedEvent:
			r := e.Response
			final = &r
		}
	}
	if err := stream.Err(); err != nil {
		return nil, p.wrap(err)
	}
	if final == nil {
		return nil, &Error{Provider: p.name, Msg: "the response stream ended without a completed response"}
	}
	msg := Message{Role: RoleAssistant, Provider: p.name, Text: final.OutputText()}
	for _, item := range final.Output {
		if item.Type == "function_call" {
			fc := item.AsFunctionCall()
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: fc.CallID, Name: fc.Name, Args: normArgs(json.RawMessage(fc.Arguments))})
		}
	}
	return &Response{
		Message:    msg,
		Usage:      Usage{InputTokens: int(final.Usage.InputTokens), OutputTokens: int(final.Usage.OutputTokens)},
		StopReason: string(final.Status),
	}, nil
}

// responsesInput turns the neutral history into Responses input items.
func responsesInput(in []Message) responses.ResponseInputParam {
	var out responses.ResponseInputParam
	for _, m := range in {
		switch m.Role {
		case RoleUser:
			out = append(out, responses.ResponseInputItemParamOfMessage(m.Text, responses.EasyInputMessageRoleUser))
		case RoleAssistant:
			if m.Text != "" {
				out = append(out, responses.ResponseInputItemParamOfMessage(m.Text, responses.EasyInputMessageRoleAssistant))
			}
			for _, c := range m.ToolCalls {
				out = append(out, responses.ResponseInputItemParamOfFunctionCall(string(normArgs(c.Args)), c.ID, c.Name))
			}
		case RoleTool:
			for _, r := range m.ToolResults {
				content := r.Content
				if r.IsError {
					content = "Error: " + content
				}
				out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: &responses.ResponseInputItemFunctionCallOutputParam{
					CallID: openai.String(r.CallID),
					Output: responses.ResponseInputItemFunctionCallOutputOutputUnionParam{OfString: openai.String(content)},
				}})
			}
		}
	}
	return out
}
