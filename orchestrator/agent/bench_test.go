package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/shared/toolkit"
)

// scriptedProvider is a model in Go: each question takes `calls` steps
// that call tool `tool` (all calls of a step at once), then an answer. It
// records the time spent inside it, which is model time, not host time.
type scriptedProvider struct {
	tool    string
	calls   int // tool calls per step
	steps   int // steps with tool calls before the answer
	latency time.Duration
	spent   atomic.Int64
}

func (p *scriptedProvider) Name() string { return "bench" }

func (p *scriptedProvider) Stream(ctx context.Context, req llm.Request, on func(llm.Event)) (*llm.Response, error) {
	start := time.Now()
	defer func() { p.spent.Add(int64(time.Since(start))) }()
	if p.latency > 0 {
		time.Sleep(p.latency)
	}
	done := 0
	for _, m := range req.Messages[1:] {
		if m.Role == llm.RoleTool {
			done++
		}
	}
	msg := llm.Message{Role: llm.RoleAssistant, Provider: "bench"}
	if done < p.steps {
		for i := range p.calls {
			c := llm.ToolCall{ID: fmt.Sprintf("c%d_%d", done, i), Name: p.tool, Args: json.RawMessage(`{"ms":0}`)}
			msg.ToolCalls = append(msg.ToolCalls, c)
			if on != nil {
				on(llm.Event{Kind: llm.EventToolCall, Call: &c})
			}
		}
	} else {
		msg.Text = "The answer, in **Markdown**."
		if on != nil {
			on(llm.Event{Kind: llm.EventText, Text: msg.Text})
		}
	}
	return &llm.Response{Message: msg, Usage: llm.Usage{InputTokens: 1000, OutputTokens: 50}}, nil
}

type benchIn struct {
	Ms int `json:"ms" jsonschema:"milliseconds to sleep"`
}

// benchServer has a tool that returns a 2 KB table-like result after
// sleeping, and records the time spent inside it (tool time).
func benchServer(spent *atomic.Int64, sleep time.Duration) mcpclient.Server {
	return mcpclient.Server{Build: func(context.Context) (*mcp.Server, error) {
		s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "v0"}, &mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{}})
		result := "id,status,total_cents\n"
		for i := 0; len(result) < 2048; i++ {
			result += fmt.Sprintf("%d,failed,%d\n", i, i*37)
		}
		toolkit.Add(s, toolkit.Options{MaxBytes: 16 << 10}, toolkit.New(toolkit.Def{Name: "lookup", Title: "Lookup", Description: "Bench tool.", Hints: toolkit.Read},
			func(ctx context.Context, in benchIn) (string, error) {
				start := time.Now()
				defer func() { spent.Add(int64(time.Since(start))) }()
				if sleep > 0 {
					time.Sleep(sleep)
				}
				return result, nil
			}))
		return s, nil
	}}
}

func benchHost(p *scriptedProvider, toolSpent *atomic.Int64, sleep time.Duration) (*agent.Host, *agent.Agent) {
	h := &agent.Host{
		Models:     agent.Models{Default: "bench:model", Open: func(llm.Spec) (llm.Provider, error) { return p, nil }},
		MCPServers: map[string]mcpclient.Server{"bench": benchServer(toolSpent, sleep)},
		Directory:  agent.StaticDirectory{},
	}
	return h, &agent.Agent{ID: "b", Org: "o", Name: "Bench", Type: agent.Custom, MCPServers: []string{"bench"}}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// BenchmarkStepOverhead measures what the host adds to each step outside
// the model and the tools: building the request, the MCP round trip to an
// in-process server, scrubbing and capping the result, the events and the
// bookkeeping. A question here is 2 steps with one tool call and a final
// answer (3 model calls).
func BenchmarkStepOverhead(b *testing.B) {
	var toolSpent atomic.Int64
	p := &scriptedProvider{tool: "bench__lookup", calls: 1, steps: 2}
	h, a := benchHost(p, &toolSpent, 0)
	s, err := h.Open(context.Background(), a, agent.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var samples []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p.spent.Store(0)
		toolSpent.Store(0)
		start := time.Now()
		res, err := s.Ask(context.Background(), nil, "What failed?", func(agent.Event) {})
		if err != nil {
			b.Fatal(err)
		}
		host := time.Since(start) - time.Duration(p.spent.Load()) - time.Duration(toolSpent.Load())
		samples = append(samples, host/time.Duration(res.Steps))
	}
	b.ReportMetric(float64(percentile(samples, 0.5).Microseconds()), "µs-p50/step")
	b.ReportMetric(float64(percentile(samples, 0.99).Microseconds()), "µs-p99/step")
}

// BenchmarkTwoSlowToolsOneStep: two tools of 200 ms each, called in the
// same step, take about 200 ms, not 400.
func BenchmarkTwoSlowToolsOneStep(b *testing.B) {
	var toolSpent atomic.Int64
	p := &scriptedProvider{tool: "bench__lookup", calls: 2, steps: 1}
	h, a := benchHost(p, &toolSpent, 200*time.Millisecond)
	s, err := h.Open(context.Background(), a, agent.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var total time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		if _, err := s.Ask(context.Background(), nil, "Look up twice", nil); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		n++
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/question")
	b.ReportMetric(float64(toolSpent.Load())/float64(time.Millisecond)/float64(n), "ms-tool-time/question")
}

// BenchmarkConcurrentChats runs 100 chats at once, each with its own
// session (its own MCP connections), and reports the p50 and p99 of the
// host's overhead per question (its wall time less the model's and the
// tools' time) and the memory a chat allocates and holds.
//
// lockstep: every model call takes 50 ms, so all 100 chats wake at the same
// instant at every step: the worst case for 2 cores. jittered: model calls
// take 50 to 250 ms, spread as real model latencies are.
func BenchmarkConcurrentChats(b *testing.B) {
	// As `opstower host` runs (tuneGCForHost): the MCP SDK allocates tens
	// of kilobytes per message, and GOGC=200 halves the collections.
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	b.Run("lockstep", func(b *testing.B) { concurrentChats(b, 0) })
	b.Run("jittered", func(b *testing.B) { concurrentChats(b, 200*time.Millisecond) })
}

// jitterProvider delays each model call by base plus a per-call spread.
type jitterProvider struct {
	*scriptedProvider
	base, spread time.Duration
	seed         atomic.Uint64
}

func (p *jitterProvider) Stream(ctx context.Context, req llm.Request, on func(llm.Event)) (*llm.Response, error) {
	d := p.base
	if p.spread > 0 {
		x := p.seed.Add(0x9E3779B97F4A7C15)
		x ^= x >> 31
		d += time.Duration(x % uint64(p.spread))
	}
	time.Sleep(d)
	return p.scriptedProvider.Stream(ctx, req, on)
}

func concurrentChats(b *testing.B, spread time.Duration) {
	const (
		chats    = 100
		toolTime = 10 * time.Millisecond
	)
	for b.Loop() {
		var toolSpent atomic.Int64
		inner := &scriptedProvider{tool: "bench__lookup", calls: 2, steps: 2}
		p := &jitterProvider{scriptedProvider: inner, base: 50 * time.Millisecond, spread: spread}
		h, a := benchHost(inner, &toolSpent, toolTime)
		// Each session gets its own timer around the model, so a chat's
		// model time is its own.
		var timers []*timedProvider
		h.Models.Open = func(llm.Spec) (llm.Provider, error) {
			t := &timedProvider{Provider: p}
			timers = append(timers, t)
			return t, nil
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		sessions := make([]*agent.Session, chats)
		for i := range sessions {
			s, err := h.Open(context.Background(), a, agent.OpenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			sessions[i] = s
		}
		overhead := make([]time.Duration, chats)
		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				if _, err := s.Ask(context.Background(), nil, "Why did checkout fail?", nil); err != nil {
					b.Error(err)
					return
				}
				// The tools of a step run together: 2 steps of toolTime.
				overhead[i] = time.Since(start) - timers[i].spent - 2*toolTime
			}()
		}
		wg.Wait()
		runtime.GC()
		var live runtime.MemStats
		runtime.ReadMemStats(&live)
		for _, s := range sessions {
			s.Close()
		}
		b.ReportMetric(float64(percentile(overhead, 0.5).Microseconds())/1000, "ms-p50-overhead/chat")
		b.ReportMetric(float64(percentile(overhead, 0.99).Microseconds())/1000, "ms-p99-overhead/chat")
		b.ReportMetric(float64(int64(live.HeapInuse)-int64(before.HeapInuse))/chats/1024, "KB-live/chat")
		b.ReportMetric(float64(live.TotalAlloc-before.TotalAlloc)/chats/1024, "KB-alloc/chat")
	}
}

// timedProvider adds up the time one session spends in the model.
type timedProvider struct {
	llm.Provider
	spent time.Duration // one chat asks one question at a time
}

func (t *timedProvider) Stream(ctx context.Context, req llm.Request, on func(llm.Event)) (*llm.Response, error) {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.Provider.Stream(ctx, req, on)
}
