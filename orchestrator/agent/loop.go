package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/shared/secret"
)

// EventKind tells what an Event reports.
type EventKind int

// Event kinds, in the order a step produces them.
const (
	EventText      EventKind = iota + 1 // a fragment of the answer
	EventToolStart                      // a tool call began
	EventToolEnd                        // a tool call finished
	// EventProgress is news from a running tool: a connected agent
	// reports each tool it calls (Text says which).
	EventProgress
)

// Event is something a chat shows as it happens.
type Event struct {
	Kind    EventKind
	Step    int
	Text    string          // EventText, EventProgress
	CallID  string          // tool events
	Tool    string          // tool events: the namespaced name
	Args    json.RawMessage // EventToolStart
	Result  string          // EventToolEnd
	IsError bool            // EventToolEnd
	Elapsed time.Duration   // EventToolEnd
}

// Turn is one message of the conversation with what it cost.
type Turn struct {
	Message llm.Message
	Usage   llm.Usage
	Model   string
}

// Result is the outcome of one question.
type Result struct {
	// Answer is the final Markdown answer.
	Answer string
	// Turns are the messages this question added, the user's first; a
	// caller persists them to resume the conversation later.
	Turns []Turn
	Usage llm.Usage
	Steps int
	// StepLimit is set when the step limit stopped the loop.
	StepLimit bool
}

// Ask answers question in the context of history. The model may call
// tools; the calls of one step run concurrently, and the loop stops at the
// answer or at the step limit, whose last step forbids tool calls so that
// the model answers with what it has. Cancelling ctx stops the model call
// and every running tool. On error, the Result holds the turns completed
// so far.
func (s *Session) Ask(ctx context.Context, history []llm.Message, question string, on func(Event)) (*Result, error) {
	if on == nil {
		on = func(Event) {}
	}
	question = strings.TrimSpace(question)
	res := &Result{}
	if question == "" {
		return res, fmt.Errorf("the question is empty")
	}
	history = trimHistory(history, historyBytes)
	msgs := make([]llm.Message, 0, len(history)+2*s.maxSteps+1)
	msgs = append(msgs, history...)
	user := llm.Message{Role: llm.RoleUser, Text: question}
	msgs = append(msgs, user)
	res.Turns = append(res.Turns, Turn{Message: user})
	tools := s.hub.Tools()
	model := s.Spec.String()
	for step := 1; step <= s.maxSteps; step++ {
		res.Steps = step
		last := step == s.maxSteps
		req := llm.Request{Model: s.Spec.Model, System: s.System, Messages: msgs, Tools: tools, NoToolCalls: last && len(tools) > 0, WebSearch: s.Agent.WebSearch}
		stepNo := step
		text := streamScrubber{emit: func(t string) { on(Event{Kind: EventText, Step: stepNo, Text: t}) }}
		resp, err := s.provider.Stream(ctx, req, func(e llm.Event) {
			if e.Kind == llm.EventText {
				text.write(e.Text)
			}
		})
		text.flush()
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, err
		}
		resp.Message.Text = secret.Scrub(resp.Message.Text)
		msgs = append(msgs, resp.Message)
		res.Turns = append(res.Turns, Turn{Message: resp.Message, Usage: resp.Usage, Model: model})
		res.Usage = res.Usage.Add(resp.Usage)
		if len(resp.Message.ToolCalls) == 0 {
			res.Answer = resp.Message.Text
			if strings.TrimSpace(res.Answer) == "" {
				res.Answer = "_The model returned an empty answer._"
			}
			return res, nil
		}
		if last {
			// The model asked for tools although the last step forbids
			// them: answer with what it said, and say why it stopped.
			res.StepLimit = true
			res.Answer = strings.TrimSpace(resp.Message.Text + "\n\n" + fmt.Sprintf("_Stopped after %d steps, the limit for one answer; ask a narrower question or continue in a follow-up._", s.maxSteps))
			return res, nil
		}
		results := s.runTools(ctx, step, resp.Message.ToolCalls, on)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		toolMsg := llm.Message{Role: llm.RoleTool, ToolResults: results}
		msgs = append(msgs, toolMsg)
		res.Turns = append(res.Turns, Turn{Message: toolMsg})
	}
	return res, nil // not reached: the last step always returns
}

// runTools runs one step's calls concurrently; results keep the calls'
// order.
func (s *Session) runTools(ctx context.Context, step int, calls []llm.ToolCall, on func(Event)) []llm.ToolResult {
	results := make([]llm.ToolResult, len(calls))
	var mu sync.Mutex // on is not required to be safe for concurrent use
	emit := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		on(e)
	}
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			emit(Event{Kind: EventToolStart, Step: step, CallID: c.ID, Tool: c.Name, Args: json.RawMessage(secret.Scrub(string(c.Args)))})
			start := time.Now()
			pctx := mcpclient.WithProgress(ctx, func(msg string) {
				emit(Event{Kind: EventProgress, Step: step, CallID: c.ID, Tool: c.Name, Text: msg})
			})
			r := s.hub.Call(pctx, c.Name, c.Args)
			results[i] = llm.ToolResult{CallID: c.ID, Name: c.Name, Content: r.Text, IsError: r.IsError}
			emit(Event{Kind: EventToolEnd, Step: step, CallID: c.ID, Tool: c.Name, Result: r.Text, IsError: r.IsError, Elapsed: time.Since(start)})
		}()
	}
	wg.Wait()
	return results
}

// streamScrubber removes registered secrets from streamed text before it
// is shown. A secret may arrive split across deltas, so the text after the
// last whitespace is held back until more arrives (secrets are single
// tokens); flush releases the rest at the end of a step.
type streamScrubber struct {
	emit    func(string)
	pending string
}

func (s *streamScrubber) write(delta string) {
	s.pending += delta
	i := strings.LastIndexAny(s.pending, " \t\n\r")
	if i < 0 {
		if len(s.pending) < 4096 {
			return
		}
		i = len(s.pending) - 1
	}
	ready := s.pending[:i+1]
	s.pending = s.pending[i+1:]
	s.emit(secret.Scrub(ready))
}

func (s *streamScrubber) flush() {
	if s.pending != "" {
		s.emit(secret.Scrub(s.pending))
		s.pending = ""
	}
}

// historyBytes bounds the earlier conversation sent with a question (about
// 50k tokens), so a long resumed chat does not outgrow the model's context.
const historyBytes = 200 << 10

// trimHistory keeps the most recent messages within max bytes of text,
// starting at a user message so that no tool result loses its call.
func trimHistory(history []llm.Message, max int) []llm.Message {
	size := 0
	start := len(history)
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		size += len(m.Text) + len(m.Native)
		for _, c := range m.ToolCalls {
			size += len(c.Args)
		}
		for _, r := range m.ToolResults {
			size += len(r.Content)
		}
		if size > max {
			break
		}
		if m.Role == llm.RoleUser {
			start = i
		}
	}
	return history[start:]
}
