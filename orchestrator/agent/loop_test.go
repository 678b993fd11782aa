package agent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
)

var (
	errorCountRE = regexp.MustCompile(`gateway_timeout,(\d+),([0-9-]+ [0-9:]+)`)
	lossRE       = regexp.MustCompile(`(?m)^(\d+),(\d+)\s*$`)
)

// investigation is a scripted model that works like a real one: it reads
// the schema and the errors in one step (two parallel calls), follows up
// with a query built from what it found, and answers from the numbers the
// real database returned. It never knows the answer in advance.
func investigation(t testing.TB) llmtest.Script {
	return func(s llmtest.Seen) llmtest.Reply {
		switch s.N {
		case 0:
			if s.LastUser() == "" || s.Tool("query") == nil {
				t.Errorf("first request: question %q, tools %v", s.LastUser(), s.Tools)
			}
			return llmtest.Reply{Text: "Checking the payment errors.", Calls: []llmtest.Call{
				{Name: "databases__list_tables", Args: `{}`},
				{Name: "databases__query", Args: `{"sql":"SELECT code, count(*) AS n, min(created_at) AS first FROM payment_errors GROUP BY code"}`},
			}}
		case 1:
			r := s.LastResults()
			if len(r) != 2 {
				t.Errorf("second request carries %d results, want 2", len(r))
				return llmtest.Reply{Text: "broken"}
			}
			m := errorCountRE.FindStringSubmatch(r[1].Content)
			if m == nil {
				t.Errorf("error summary not found in %q", r[1].Content)
				return llmtest.Reply{Text: "broken"}
			}
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query",
				Args: fmt.Sprintf(`{"sql":"SELECT count(*) AS failed, sum(total_cents) AS cents FROM orders WHERE status = 'failed' AND created_at >= '%s'"}`, m[2])}}}
		default:
			var errs, first string
			for _, msg := range s.Messages {
				for _, r := range msg.Results {
					if m := errorCountRE.FindStringSubmatch(r.Content); m != nil {
						errs, first = m[1], m[2]
					}
				}
			}
			m := lossRE.FindStringSubmatch(s.LastResults()[0].Content)
			if m == nil {
				t.Errorf("loss not found in %q", s.LastResults()[0].Content)
				return llmtest.Reply{Text: "broken"}
			}
			cents, _ := strconv.Atoi(m[2])
			return llmtest.Reply{Text: fmt.Sprintf("## Root cause\n\n%s card payments failed with `gateway_timeout` since %s; %s orders failed, **$%.2f** not charged.", errs, first, m[1], float64(cents)/100),
				Usage: llm.Usage{InputTokens: 100, OutputTokens: 20}}
		}
	}
}

func TestMultiStepInvestigation(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, kind, investigation(t))
			w.agent.Knowledge = "Checkout runs on the card gateway of Acme Payments."
			s := w.open(t, w.agent)
			var events []agent.Event
			res, err := s.Ask(context.Background(), nil, "Why are checkouts failing since yesterday?", func(e agent.Event) { events = append(events, e) })
			if err != nil {
				t.Fatal(err)
			}
			want := "3 card payments failed with `gateway_timeout` since 2026-11-21 09:10; 3 orders failed, **$28.50** not charged."
			if !strings.Contains(res.Answer, want) {
				t.Fatalf("answer = %q\nwant it to contain %q", res.Answer, want)
			}
			if res.Steps != 3 || len(res.Turns) != 6 { // user, assistant, tools, assistant, tools, assistant
				t.Errorf("steps %d, turns %d", res.Steps, len(res.Turns))
			}
			if res.Usage.InputTokens != 100 {
				t.Errorf("usage = %+v", res.Usage)
			}
			starts := 0
			var text strings.Builder
			for _, e := range events {
				switch e.Kind {
				case agent.EventToolStart:
					starts++
				case agent.EventText:
					text.WriteString(e.Text)
				}
			}
			if starts != 3 || !strings.Contains(text.String(), "Root cause") {
				t.Errorf("%d tool starts, streamed text %q", starts, text.String())
			}
			sys := w.fake.Requests()[0].System
			for _, part := range []string{"Debugger", "Amounts are in cents", "Acme Payments", "Markdown", "not instructions", "shop"} {
				if !strings.Contains(sys, part) {
					t.Errorf("system prompt lacks %q:\n%s", part, sys)
				}
			}
		})
	}
}

// A tool error goes back to the model, which corrects its call.
func TestToolErrorRecovery(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, kind, func(s llmtest.Seen) llmtest.Reply {
				switch s.N {
				case 0:
					return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query", Args: `{"sql":"SELECT count(*) FROM ordrs"}`}}}
				case 1:
					r := s.LastResults()
					if len(r) != 1 || !r[0].IsError || !strings.Contains(r[0].Content, "ordrs") {
						t.Errorf("model got %+v; want a tool error about ordrs", r)
					}
					return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query", Args: `{"sql":"SELECT count(*) AS n FROM orders"}`}}}
				default:
					r := s.LastResults()
					if r[0].IsError {
						return llmtest.Reply{Text: "still failing: " + r[0].Content}
					}
					return llmtest.Reply{Text: "There are " + lastLine(r[0].Content) + " orders."}
				}
			})
			res, err := w.open(t, w.agent).Ask(context.Background(), nil, "How many orders?", nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Answer != "There are 5 orders." {
				t.Errorf("answer = %q", res.Answer)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if _, err := strconv.Atoi(l); err == nil {
			return l
		}
	}
	return "?"
}

// The calls of one step run at the same time: both start before either
// ends, although each sleeps 300 ms.
func TestParallelToolCalls(t *testing.T) {
	w := newWorld(t, llm.KindOpenAI, llmtest.Sequence(
		llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__sleep", Args: `{"ms":300}`}, {Name: "fixture__sleep", Args: `{"ms":300}`}}},
		llmtest.Reply{Text: "both done"},
	))
	w.agent.MCPServers = []string{"fixture"}
	var mu sync.Mutex
	var order []string
	res, err := w.open(t, w.agent).Ask(context.Background(), nil, "sleep twice", func(e agent.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case agent.EventToolStart:
			order = append(order, "start")
		case agent.EventToolEnd:
			order = append(order, "end:"+e.Result)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "start start end:done end:done" || res.Answer != "both done" {
		t.Errorf("events %q, answer %q", got, res.Answer)
	}
	if r := w.fake.Requests()[1].LastResults(); len(r) != 2 || r[0].CallID == r[1].CallID {
		t.Errorf("results = %+v", r)
	}
}

// A model that never stops calling tools is stopped at 15 steps; the last
// step forbids tool calls, and the answer says why it stopped.
func TestStepLimit(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, kind, llmtest.Sequence(llmtest.Reply{Text: "More data needed.", Calls: []llmtest.Call{{Name: "databases__list_tables", Args: `{}`}}}))
			res, err := w.open(t, w.agent).Ask(context.Background(), nil, "Loop forever", nil)
			if err != nil {
				t.Fatal(err)
			}
			reqs := w.fake.Requests()
			if len(reqs) != 15 || res.Steps != 15 || !res.StepLimit {
				t.Fatalf("%d requests, %d steps, limit %v", len(reqs), res.Steps, res.StepLimit)
			}
			for i, r := range reqs {
				if r.NoToolCalls != (i == 14) {
					t.Errorf("request %d: tool choice none = %v", i, r.NoToolCalls)
				}
			}
			if !strings.Contains(res.Answer, "15 steps") {
				t.Errorf("answer = %q", res.Answer)
			}
		})
	}
	// The limit is configurable per agent.
	w := newWorld(t, llm.KindAnthropic, llmtest.Sequence(llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__list_tables"}}}))
	w.agent.MaxSteps = 3
	if res, err := w.open(t, w.agent).Ask(context.Background(), nil, "Loop", nil); err != nil || res.Steps != 3 || len(w.fake.Requests()) != 3 {
		t.Errorf("max_steps 3: %v, %+v", err, res)
	}
}

// An external server killed in the middle of a call: the call is a tool
// error saying it was restarted, the model calls again, the chat goes on.
func TestCrashedExternalServer(t *testing.T) {
	var pid int
	w := newWorld(t, llm.KindAnthropic, func(s llmtest.Seen) llmtest.Reply {
		switch s.N {
		case 0:
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__pid"}}}
		case 1:
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__sleep", Args: `{"ms":30000}`}}}
		case 2:
			r := s.LastResults()
			if !r[0].IsError || !strings.Contains(r[0].Content, "restarted") {
				t.Errorf("after the crash the model got %+v", r)
			}
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__pid"}}}
		default:
			return llmtest.Reply{Text: "new pid " + s.LastResults()[0].Content}
		}
	})
	w.agent.MCPServers = []string{"fixture"}
	start := time.Now()
	res, err := w.open(t, w.agent).Ask(context.Background(), nil, "crash test", func(e agent.Event) {
		switch {
		case e.Kind == agent.EventToolEnd && e.Tool == "fixture__pid" && pid == 0:
			pid, _ = strconv.Atoi(e.Result)
		case e.Kind == agent.EventToolStart && e.Tool == "fixture__sleep":
			go func() {
				time.Sleep(100 * time.Millisecond)
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if pid == 0 || res.Answer == "new pid "+strconv.Itoa(pid) || !strings.HasPrefix(res.Answer, "new pid ") {
		t.Errorf("answer %q, first pid %d", res.Answer, pid)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the crashed call was not cut short")
	}
}

// Cancelling stops the model call and every running tool.
func TestCancelStopsEverything(t *testing.T) {
	w := newWorld(t, llm.KindGemini, llmtest.Sequence(
		llmtest.Reply{Calls: []llmtest.Call{{Name: "fixture__sleep", Args: `{"ms":30000}`}, {Name: "fixture__sleep", Args: `{"ms":30000}`}}},
		llmtest.Reply{Text: "never"},
	))
	w.agent.MCPServers = []string{"fixture"}
	s := w.open(t, w.agent)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		_, err := s.Ask(ctx, nil, "sleep", func(e agent.Event) {
			if e.Kind == agent.EventToolStart {
				started <- struct{}{}
			}
		})
		done <- err
	}()
	<-started
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ask did not return after cancel")
	}
	if n := len(w.fake.Requests()); n != 1 {
		t.Errorf("%d model requests after cancel", n)
	}
	// The session still works after a cancelled question.
	if res, err := s.Ask(context.Background(), nil, "again", nil); err != nil || res.Answer != "never" {
		t.Errorf("after cancel: %v %+v", err, res)
	}
}

// 429 with Retry-After, then the answer: the chat never sees the 429.
func TestRateLimitThenSuccess(t *testing.T) {
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, kind, llmtest.Sequence(
				llmtest.Reply{Status: 429, Header: map[string]string{"Retry-After": "0"}},
				llmtest.Reply{Status: 503},
				llmtest.Reply{Text: "fine"},
			))
			res, err := w.open(t, w.agent).Ask(context.Background(), nil, "hello there", nil)
			if err != nil || res.Answer != "fine" || len(w.fake.Requests()) != 3 {
				t.Errorf("err %v, answer %+v, %d requests", err, res, len(w.fake.Requests()))
			}
		})
	}
}

// History from earlier questions goes to the model with the new one.
func TestFollowUpCarriesHistory(t *testing.T) {
	w := newWorld(t, llm.KindOpenAI, func(s llmtest.Seen) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf("seen %d messages", len(s.Messages))}
	})
	s := w.open(t, w.agent)
	first, err := s.Ask(context.Background(), nil, "first question", nil)
	if err != nil {
		t.Fatal(err)
	}
	var history []llm.Message
	for _, turn := range first.Turns {
		history = append(history, turn.Message)
	}
	second, err := s.Ask(context.Background(), history, "second question", nil)
	if err != nil || second.Answer != "seen 3 messages" {
		t.Errorf("%v %q", err, second.Answer)
	}
}

// A long history is cut to its most recent exchanges, always starting at
// a user message, so the request stays within the model's context.
func TestLongHistoryIsTrimmed(t *testing.T) {
	w := newWorld(t, llm.KindAnthropic, func(s llmtest.Seen) llmtest.Reply {
		return llmtest.Reply{Text: fmt.Sprintf("%d messages, first by %s: %.12s", len(s.Messages), s.Messages[0].Role, s.Messages[0].Text)}
	})
	var history []llm.Message
	for i := range 100 {
		history = append(history,
			llm.Message{Role: llm.RoleUser, Text: fmt.Sprintf("question %03d", i)},
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: fmt.Sprint("c", i), Name: "databases__query", Args: []byte(`{}`)}}},
			llm.Message{Role: llm.RoleTool, ToolResults: []llm.ToolResult{{CallID: fmt.Sprint("c", i), Name: "databases__query", Content: strings.Repeat("r", 10<<10)}}},
			llm.Message{Role: llm.RoleAssistant, Text: "answer"})
	}
	res, err := w.open(t, w.agent).Ask(context.Background(), history, "latest question", nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var first string
	if _, err := fmt.Sscanf(res.Answer, "%d messages, first by user: %s", &n, &first); err != nil {
		t.Fatalf("answer %q: %v", res.Answer, err)
	}
	if n >= 400 || n < 40 || (n-1)%4 != 0 {
		t.Errorf("%d messages sent; want whole recent exchanges", n)
	}
}
