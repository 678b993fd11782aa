// Package llmtest runs fake model servers that speak the real wire formats
// of the Anthropic Messages API, OpenAI Chat Completions and the Gemini API
// (streaming, as the providers use them), so tests drive the official SDKs
// end to end. A script decides each reply from what the fake received,
// decoded from the wire into a provider-neutral form.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/shared/secret"
)

// Call is a tool call the fake model makes.
type Call struct {
	ID   string // generated when empty
	Name string
	Args string // JSON object
}

// Result is a tool result the fake model received.
type Result struct {
	CallID  string
	Name    string
	Content string
	IsError bool
}

// SeenMessage is one message of a request, decoded from the wire.
type SeenMessage struct {
	Role    string // user, assistant or tool
	Text    string
	Calls   []Call
	Results []Result
}

// SeenTool is one declared function.
type SeenTool struct {
	Name   string
	Schema map[string]any
}

// Seen is what the fake received in one request.
type Seen struct {
	N           int // 0-based index of the request
	Model       string
	System      string
	Messages    []SeenMessage
	Tools       []SeenTool
	WebSearch   bool
	WebFetch    bool // Anthropic's URL fetch tool
	NoToolCalls bool
	Stream      bool
	// Responses is set for OpenAI requests to the Responses API rather
	// than Chat Completions.
	Responses bool
	Body      []byte
	Header    http.Header
}

// LastResults returns the tool results of the last message, if it carries any.
func (s Seen) LastResults() []Result {
	if n := len(s.Messages); n > 0 {
		return s.Messages[n-1].Results
	}
	return nil
}

// LastUser returns the text of the last user message.
func (s Seen) LastUser() string {
	for i := len(s.Messages) - 1; i >= 0; i-- {
		if s.Messages[i].Role == "user" {
			return s.Messages[i].Text
		}
	}
	return ""
}

// Tool returns the declared tool whose name ends with suffix (tools are
// namespaced by the host), or nil.
func (s Seen) Tool(suffix string) *SeenTool {
	for i, t := range s.Tools {
		if t.Name == suffix || strings.HasSuffix(t.Name, "__"+suffix) {
			return &s.Tools[i]
		}
	}
	return nil
}

// Reply is what the fake model answers.
type Reply struct {
	Text  string
	Calls []Call
	// Status, when not 0 or 200, answers with a provider error body;
	// Header adds headers such as Retry-After.
	Status int
	Header map[string]string
	Usage  llm.Usage
	// Delay waits before answering, to stand for model latency.
	Delay time.Duration
}

// Script decides the reply to each request.
type Script func(s Seen) Reply

// Sequence replies with each reply in turn and repeats the last one.
func Sequence(replies ...Reply) Script {
	return func(s Seen) Reply {
		if s.N < len(replies) {
			return replies[s.N]
		}
		return replies[len(replies)-1]
	}
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	Kind   llm.Kind
	script Script
	t      testing.TB
	mu     sync.Mutex
	seen   []Seen
}

// Start starts a fake of kind and closes it at cleanup.
func Start(t testing.TB, kind llm.Kind, script Script) *Server {
	s := &Server{Kind: kind, script: script, t: t}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Endpoint returns an endpoint pointing the provider's SDK at the fake.
func (s *Server) Endpoint() llm.Endpoint {
	e := llm.Endpoint{Name: string(s.Kind), Kind: s.Kind, APIKey: secret.New("test-key-" + string(s.Kind)), MaxRetries: 2}
	switch s.Kind {
	case llm.KindOpenAI:
		e.BaseURL = s.URL + "/v1"
	default:
		e.BaseURL = s.URL
	}
	return e
}

// Provider opens a provider on the fake.
func (s *Server) Provider() llm.Provider {
	p, err := llm.Open(s.Endpoint())
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// Requests returns what the fake has received so far.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var seen Seen
	var err error
	switch s.Kind {
	case llm.KindAnthropic:
		if r.URL.Path != "/v1/messages" {
			http.Error(w, `{"type":"error","error":{"type":"not_found_error","message":"no such path"}}`, 404)
			return
		}
		seen, err = decodeAnthropic(body)
	case llm.KindOpenAI:
		switch r.URL.Path {
		case "/v1/chat/completions":
			seen, err = decodeOpenAI(body)
		case "/v1/responses":
			seen, err = decodeResponses(body)
			seen.Responses = true
		default:
			http.Error(w, `{"error":{"message":"no such path"}}`, 404)
			return
		}
	case llm.KindGemini:
		model, ok := strings.CutPrefix(r.URL.Path, "/v1beta/models/")
		if !ok {
			http.Error(w, `{"error":{"code":404,"message":"no such path"}}`, 404)
			return
		}
		model, method, _ := strings.Cut(model, ":")
		seen, err = decodeGemini(body)
		seen.Model = model
		seen.Stream = method == "streamGenerateContent" && r.URL.Query().Get("alt") == "sse"
	}
	if err != nil {
		s.t.Errorf("llmtest: malformed %s request: %v\n%s", s.Kind, err, body)
		http.Error(w, err.Error(), 400)
		return
	}
	seen.Body = body
	seen.Header = r.Header.Clone()
	s.mu.Lock()
	seen.N = len(s.seen)
	s.seen = append(s.seen, seen)
	s.mu.Unlock()

	reply := s.script(seen)
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	if reply.Status != 0 && reply.Status != 200 {
		writeError(w, s.Kind, reply)
		return
	}
	if !seen.Stream {
		s.t.Errorf("llmtest: request %d was not a streaming request", seen.N)
	}
	for i := range reply.Calls {
		if reply.Calls[i].ID == "" {
			reply.Calls[i].ID = fmt.Sprintf("call_%d_%d", seen.N, i)
		}
		if reply.Calls[i].Args == "" {
			reply.Calls[i].Args = "{}"
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	switch s.Kind {
	case llm.KindAnthropic:
		streamAnthropic(w, seen, reply)
	case llm.KindOpenAI:
		if seen.Responses {
			streamResponses(w, seen, reply)
		} else {
			streamOpenAI(w, seen, reply)
		}
	case llm.KindGemini:
		streamGemini(w, reply)
	}
}

func writeError(w http.ResponseWriter, kind llm.Kind, r Reply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.Status)
	msg := r.Text
	if msg == "" {
		msg = http.StatusText(r.Status)
	}
	var body any
	switch kind {
	case llm.KindAnthropic:
		typ := "api_error"
		if r.Status == 429 {
			typ = "rate_limit_error"
		}
		body = map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}}
	case llm.KindOpenAI:
		body = map[string]any{"error": map[string]any{"message": msg, "type": "error", "code": nil}}
	case llm.KindGemini:
		status := "INTERNAL"
		if r.Status == 429 {
			status = "RESOURCE_EXHAUSTED"
		}
		body = map[string]any{"error": map[string]any{"code": r.Status, "message": msg, "status": status}}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// chunks splits text into a few pieces so that clients see several deltas.
func chunks(text string) []string {
	if text == "" {
		return nil
	}
	var out []string
	const n = 12
	for len(text) > n {
		out = append(out, text[:n])
		text = text[n:]
	}
	return append(out, text)
}

func sse(w io.Writer, event string, v any) {
	data, _ := json.Marshal(v)
	if event != "" {
		fmt.Fprintf(w, "event: %s\n", event)
	}
	fmt.Fprintf(w, "data: %s\n\n", data)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
