package llm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"google.golang.org/genai"
)

// generatedIDPrefix marks call IDs made up here because Gemini sent none;
// they are not echoed back to Gemini.
const generatedIDPrefix = "opstower-call-"

// geminiProvider speaks the Gemini API's generateContent.
type geminiProvider struct {
	name   string
	client *genai.Client
}

func newGemini(e Endpoint) (*geminiProvider, error) {
	base := http.DefaultTransport
	if e.HTTPClient != nil && e.HTTPClient.Transport != nil {
		base = e.HTTPClient.Transport
	}
	hc := &http.Client{Transport: newRetryTransport(base, e.MaxRetries), Timeout: e.Timeout}
	key := e.APIKey.Reveal()
	if key == "" {
		key = "none" // a keyless proxy; the SDK insists on one
	}
	cc := &genai.ClientConfig{
		APIKey: key,
		// Explicit: GOOGLE_GENAI_USE_VERTEXAI in the environment would
		// otherwise switch the backend.
		Backend:    genai.BackendGeminiAPI,
		HTTPClient: hc,
		HTTPOptions: genai.HTTPOptions{
			BaseURL: e.BaseURL,
		},
	}
	c, err := genai.NewClient(context.Background(), cc)
	if err != nil {
		return nil, &Error{Provider: e.Name, Msg: err.Error(), Err: err}
	}
	return &geminiProvider{name: e.Name, client: c}, nil
}

func (p *geminiProvider) Name() string { return p.name }

func (p *geminiProvider) Stream(ctx context.Context, req Request, on func(Event)) (*Response, error) {
	cfg := &genai.GenerateContentConfig{MaxOutputTokens: int32(maxTokens(req))}
	if req.System != "" {
		cfg.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	var decls []*genai.FunctionDeclaration
	for _, t := range req.Tools {
		decls = append(decls, &genai.FunctionDeclaration{
			Name:                 t.Name,
			Description:          t.Description,
			ParametersJsonSchema: adaptSchema(t.Schema, geminiDialect),
		})
	}
	if len(decls) > 0 {
		cfg.Tools = append(cfg.Tools, &genai.Tool{FunctionDeclarations: decls})
		if req.NoToolCalls {
			cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeNone}}
		}
	}
	if req.WebSearch {
		cfg.Tools = append(cfg.Tools, &genai.Tool{GoogleSearch: &genai.GoogleSearch{}}, &genai.Tool{URLContext: &genai.URLContext{}})
	}

	content := &genai.Content{Role: genai.RoleModel}
	var usage Usage
	stop := ""
	for chunk, err := range p.client.Models.GenerateContentStream(ctx, req.Model, p.contents(req.Messages), cfg) {
		if err != nil {
			return nil, p.wrap(err)
		}
		if chunk.UsageMetadata != nil {
			usage = Usage{
				InputTokens:  int(chunk.UsageMetadata.PromptTokenCount),
				OutputTokens: int(chunk.UsageMetadata.CandidatesTokenCount + chunk.UsageMetadata.ThoughtsTokenCount),
			}
		}
		if len(chunk.Candidates) == 0 || chunk.Candidates[0].Content == nil {
			continue
		}
		cand := chunk.Candidates[0]
		if cand.FinishReason != "" {
			stop = string(cand.FinishReason)
		}
		for _, part := range cand.Content.Parts {
			if part == nil {
				continue
			}
			if part.FunctionCall != nil && part.FunctionCall.ID == "" {
				part.FunctionCall.ID = generatedIDPrefix + randomID()
			}
			content.Parts = appendPart(content.Parts, part)
			if on == nil {
				continue
			}
			switch {
			case part.Text != "" && !part.Thought:
				on(Event{Kind: EventText, Text: part.Text})
			case part.FunctionCall != nil:
				on(Event{Kind: EventToolCall, Call: geminiCall(part.FunctionCall)})
			}
		}
	}
	msg := Message{Role: RoleAssistant, Provider: p.name}
	var text strings.Builder
	for _, part := range content.Parts {
		switch {
		case part.FunctionCall != nil:
			msg.ToolCalls = append(msg.ToolCalls, *geminiCall(part.FunctionCall))
		case part.Text != "" && !part.Thought:
			text.WriteString(part.Text)
		}
	}
	msg.Text = text.String()
	if raw, err := json.Marshal(content); err == nil {
		msg.Native = raw
	}
	return &Response{Message: msg, Usage: usage, StopReason: stop}, nil
}

// appendPart merges streamed text into the previous text part (keeping the
// first thought signature), and appends everything else as it came.
func appendPart(parts []*genai.Part, p *genai.Part) []*genai.Part {
	if n := len(parts); n > 0 && p.Text != "" && p.FunctionCall == nil {
		last := parts[n-1]
		if last.Text != "" && last.FunctionCall == nil && last.Thought == p.Thought && len(p.ThoughtSignature) == 0 {
			last.Text += p.Text
			return parts
		}
	}
	return append(parts, p)
}

func geminiCall(fc *genai.FunctionCall) *ToolCall {
	args, err := json.Marshal(fc.Args)
	if err != nil || fc.Args == nil {
		args = []byte("{}")
	}
	return &ToolCall{ID: fc.ID, Name: fc.Name, Args: args}
}

func (p *geminiProvider) contents(in []Message) []*genai.Content {
	var out []*genai.Content
	for _, m := range in {
		switch m.Role {
		case RoleUser:
			out = append(out, genai.NewContentFromText(m.Text, genai.RoleUser))
		case RoleAssistant:
			if m.Provider == p.name && len(m.Native) > 0 {
				var c genai.Content
				if json.Unmarshal(m.Native, &c) == nil && len(c.Parts) > 0 {
					for _, part := range c.Parts {
						if part.FunctionCall != nil && strings.HasPrefix(part.FunctionCall.ID, generatedIDPrefix) {
							part.FunctionCall.ID = ""
						}
					}
					c.Role = genai.RoleModel
					out = append(out, &c)
					continue
				}
			}
			c := &genai.Content{Role: genai.RoleModel}
			if m.Text != "" {
				c.Parts = append(c.Parts, genai.NewPartFromText(m.Text))
			}
			for _, call := range m.ToolCalls {
				var args map[string]any
				_ = json.Unmarshal(call.Args, &args)
				part := genai.NewPartFromFunctionCall(call.Name, args)
				if !strings.HasPrefix(call.ID, generatedIDPrefix) {
					part.FunctionCall.ID = call.ID
				}
				c.Parts = append(c.Parts, part)
			}
			if len(c.Parts) == 0 {
				c.Parts = append(c.Parts, genai.NewPartFromText("(no answer)"))
			}
			out = append(out, c)
		case RoleTool:
			var parts []*genai.Part
			for _, r := range m.ToolResults {
				key := "output"
				if r.IsError {
					key = "error"
				}
				part := genai.NewPartFromFunctionResponse(r.Name, map[string]any{key: r.Content})
				if !strings.HasPrefix(r.CallID, generatedIDPrefix) {
					part.FunctionResponse.ID = r.CallID
				}
				parts = append(parts, part)
			}
			out = append(out, genai.NewContentFromParts(parts, genai.RoleUser))
		}
	}
	return out
}

func (p *geminiProvider) wrap(err error) error {
	var ae genai.APIError
	if errors.As(err, &ae) {
		return &Error{Provider: p.name, Status: ae.Code, Msg: apiMessage(`{"message":`+quote(ae.Message)+`}`, ae.Code), Err: err}
	}
	var aep *genai.APIError
	if errors.As(err, &aep) {
		return &Error{Provider: p.name, Status: aep.Code, Msg: apiMessage(`{"message":`+quote(aep.Message)+`}`, aep.Code), Err: err}
	}
	return &Error{Provider: p.name, Msg: transportMessage(err), Err: err}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
