// Package llm talks to language models through one small interface, with an
// implementation per provider over its official Go SDK: Anthropic Messages,
// OpenAI Chat Completions (which also covers every OpenAI-compatible endpoint:
// Ollama, vLLM, LM Studio, OpenRouter) and Google Gemini.
//
// The agent loop only ever sees this package's types, so switching a model
// from one provider to another is a configuration change. What a provider
// needs to replay its own turns exactly (Gemini's thought signatures,
// Anthropic's server-side web search blocks) travels in Message.Native and
// is ignored by the other providers.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Provider is one configured model endpoint.
type Provider interface {
	// Name is the provider's name as written in a model spec ("anthropic").
	Name() string
	// Stream sends req and reports the answer as it arrives through on
	// (which may be nil). It returns the complete assistant message.
	// Retries on 429 and 5xx happen inside; the error returned is final.
	Stream(ctx context.Context, req Request, on func(Event)) (*Response, error)
}

// Role says who wrote a message.
type Role string

// Roles. Tool results travel in a RoleTool message that follows the
// assistant message whose calls they answer.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one turn of a conversation in provider-neutral form.
type Message struct {
	Role        Role         `json:"role"`
	Text        string       `json:"text,omitempty"`
	ToolCalls   []ToolCall   `json:"tool_calls,omitempty"`   // assistant
	ToolResults []ToolResult `json:"tool_results,omitempty"` // tool
	// Native is the provider's own encoding of an assistant turn, replayed
	// as is to the same provider (Provider names it) so that opaque parts
	// such as thought signatures survive. Other providers use the neutral
	// fields.
	Native   json.RawMessage `json:"native,omitempty"`
	Provider string          `json:"provider,omitempty"`
}

// ToolCall is the model asking for a tool.
type ToolCall struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// ToolResult answers one ToolCall.
type ToolResult struct {
	CallID  string `json:"call_id"`
	Name    string `json:"name"`
	Content string `json:"content"`
	IsError bool   `json:"is_error,omitempty"`
}

// Tool is a function the model may call. Schema is a JSON Schema object (as
// an MCP server publishes it); each provider adapts it to its dialect.
type Tool struct {
	Name        string
	Description string
	Schema      map[string]any
}

// Request is one call to a model.
type Request struct {
	Model    string
	System   string
	Messages []Message
	Tools    []Tool
	// NoToolCalls offers the tools but forbids calling them, for the last
	// step of a loop: providers reject a history with tool calls when no
	// tools are declared, so the tools stay and the choice is "none".
	NoToolCalls bool
	// WebSearch enables the provider's own web search tool, where it has one.
	WebSearch bool
	MaxTokens int // 0 means DefaultMaxTokens
}

// DefaultMaxTokens bounds one answer when the request does not say.
const DefaultMaxTokens = 8192

// Usage counts tokens of one model call.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Add returns the sum of u and o.
func (u Usage) Add(o Usage) Usage {
	return Usage{InputTokens: u.InputTokens + o.InputTokens, OutputTokens: u.OutputTokens + o.OutputTokens}
}

// Response is the complete assistant turn.
type Response struct {
	Message Message
	Usage   Usage
	// StopReason is the provider's own word for why it stopped
	// (end_turn, tool_use, stop, length...).
	StopReason string
}

// EventKind tells what an Event carries.
type EventKind int

// Event kinds.
const (
	EventText     EventKind = iota + 1 // Text is a fragment of the answer
	EventToolCall                      // Call is complete (its arguments have all arrived)
)

// Event is something that arrived while a response streams.
type Event struct {
	Kind EventKind
	Text string
	Call *ToolCall
}

// Error is a model call that failed after retries, with the provider's HTTP
// status when there was one. Its message is safe to show: it never carries
// an API key.
type Error struct {
	Provider string
	Status   int
	Msg      string
	Err      error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Provider, e.Status, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Provider, e.Msg)
}

// Unwrap returns the SDK's error, for errors.As.
func (e *Error) Unwrap() error { return e.Err }

// ErrNoModel is returned when a command needs a model and none is
// configured. Its text says how to add one.
var ErrNoModel = errors.New(`no AI model is configured. Add one of:
  - an API key in the environment: ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY
    (the default model then follows the key), or
  - --model PROVIDER:MODEL on the command line (anthropic:claude-sonnet-4-6,
    openai:gpt-5-mini, gemini:gemini-2.5-flash, ollama:llama3.2), or
  - a models section in opstower.yaml:
        models:
          default: anthropic:claude-sonnet-4-6`)
