// Package mcpclient is the host's side of MCP: it connects to the servers an
// agent may use — bundled category servers in-process over in-memory
// transports, any other server over stdio or streamable HTTP — and offers
// their tools to a model under one flat, namespaced list.
//
// Every tool result is scrubbed of known secrets and capped in size before
// it can enter a model's context, and a server that dies is restarted: the
// call that was running comes back as a tool error the model can act on,
// never as a failed chat.
package mcpclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/logging"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
)

// Server describes one MCP server. Exactly one of Build, Command and URL is
// set.
type Server struct {
	// Name namespaces the server's tools: tool "query" of server
	// "databases" is offered to the model as "databases__query".
	Name string

	// Build returns an in-process server (a bundled category, the
	// agents server). It is called once; reconnecting reuses the server.
	Build func(ctx context.Context) (*mcp.Server, error)

	// Command, Args, Env and Dir start a server over stdio. The child gets
	// a minimal environment (PATH, HOME, locale...) plus Env, never the
	// host's own keys.
	Command string
	Args    []string
	Env     map[string]string
	Dir     string

	// URL reaches a server over streamable HTTP, with Headers on every
	// request (an Authorization header, typically).
	URL     string
	Headers map[string]string

	// CallTimeout, when set, replaces Options.CallTimeout for this
	// server (the agents server's calls run a whole agent).
	CallTimeout time.Duration
}

// Options tune a Hub.
type Options struct {
	// MaxResultBytes caps the text of one tool result (default
	// config.DefaultBytes).
	MaxResultBytes int
	// CallTimeout bounds one tool call (default 2 minutes; the bundled
	// servers apply their own shorter deadlines).
	CallTimeout time.Duration
	Logger      *slog.Logger
	Version     string
}

// Hub holds a session with each server and routes tool calls.
type Hub struct {
	opts   Options
	conns  []*conn
	tools  []llm.Tool
	routes map[string]route

	progressMu sync.Mutex
	progress   map[string]func(string) // by progress token
	nextToken  int
}

type progressKey struct{}

// WithProgress returns a context under which Call asks the server for
// progress and passes each notification's message to f: how a delegated
// agent's steps reach the chat that asked it.
func WithProgress(ctx context.Context, f func(message string)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

func (h *Hub) onProgress(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
	tok, ok := r.Params.ProgressToken.(string)
	if !ok || r.Params.Message == "" {
		return
	}
	h.progressMu.Lock()
	f := h.progress[tok]
	h.progressMu.Unlock()
	if f != nil {
		f(secret.Scrub(r.Params.Message))
	}
}

// progressToken registers f for one call and returns its token and the
// function that forgets it.
func (h *Hub) progressToken(f func(string)) (string, func()) {
	h.progressMu.Lock()
	defer h.progressMu.Unlock()
	if h.progress == nil {
		h.progress = map[string]func(string){}
	}
	h.nextToken++
	tok := fmt.Sprintf("opstower-%d", h.nextToken)
	h.progress[tok] = f
	return tok, func() {
		h.progressMu.Lock()
		delete(h.progress, tok)
		h.progressMu.Unlock()
	}
}

type route struct {
	c    *conn
	tool string // name on the server
}

// Connect starts or connects every server, concurrently, and lists their
// tools. A server that cannot be reached is an error naming it; nothing is
// left running.
func Connect(ctx context.Context, servers []Server, o Options) (*Hub, error) {
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = config.DefaultBytes
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	seen := map[string]bool{}
	h := &Hub{opts: o, routes: map[string]route{}}
	for _, s := range servers {
		n := toolName(s.Name)
		if n == "" {
			return nil, fmt.Errorf("an MCP server needs a name (letters, digits, - or _)")
		}
		if seen[n] {
			return nil, fmt.Errorf("two MCP servers are named %q; names must be unique", s.Name)
		}
		seen[n] = true
		s.registerSecrets()
		count := 0
		for _, set := range []bool{s.Build != nil, s.Command != "", s.URL != ""} {
			if set {
				count++
			}
		}
		if count != 1 {
			return nil, fmt.Errorf("MCP server %q: give exactly one of command (stdio) or url (streamable HTTP)", s.Name)
		}
		h.conns = append(h.conns, &conn{spec: s, hub: h})
	}
	errs := make([]error, len(h.conns))
	var wg sync.WaitGroup
	for i, c := range h.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.connect(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		h.Close()
		return nil, err
	}
	for _, c := range h.conns {
		for _, t := range c.tools {
			name := toolName(c.spec.Name + "__" + t.Name)
			if _, dup := h.routes[name]; dup {
				continue
			}
			h.routes[name] = route{c: c, tool: t.Name}
			schema, _ := toMap(t.InputSchema)
			h.tools = append(h.tools, llm.Tool{Name: name, Description: t.Description, Schema: schema})
		}
	}
	sort.Slice(h.tools, func(i, j int) bool { return h.tools[i].Name < h.tools[j].Name })
	return h, nil
}

// Tools returns every tool, namespaced, sorted by name.
func (h *Hub) Tools() []llm.Tool { return h.tools }

// Instructions returns each server's instructions from initialize, by
// server name, for the system prompt.
func (h *Hub) Instructions() map[string]string {
	out := map[string]string{}
	for _, c := range h.conns {
		if c.instructions != "" {
			out[c.spec.Name] = c.instructions
		}
	}
	return out
}

// Result is a tool's answer as the model will read it.
type Result struct {
	Text    string
	IsError bool
}

// Call runs a namespaced tool. Every failure — unknown tool, invalid
// arguments, a server that died — is a tool error the model can read; only
// the caller's cancellation is reported as such.
func (h *Hub) Call(ctx context.Context, name string, args json.RawMessage) Result {
	r, ok := h.routes[name]
	if !ok {
		return Result{IsError: true, Text: fmt.Sprintf("there is no tool named %q; use one of the tools you were given", name)}
	}
	// The arguments go to the server as the model wrote them (no decode
	// and re-encode), once they are known to be a JSON object.
	arguments := bytes.TrimSpace(args)
	if len(arguments) == 0 || string(arguments) == "null" {
		arguments = []byte("{}")
	}
	if arguments[0] != '{' || !json.Valid(arguments) {
		return Result{IsError: true, Text: fmt.Sprintf("the arguments of %s must be a JSON object, not %.80s", name, arguments)}
	}
	res := r.c.call(ctx, r.tool, arguments)
	res.Text = secret.Scrub(res.Text)
	res.Text, _ = render.Cap(res.Text, h.opts.MaxResultBytes, "ask for less (filters, a LIMIT, a shorter time range)")
	return res
}

// Close ends every session and stops every child process.
func (h *Hub) Close() error {
	var errs []error
	for _, c := range h.conns {
		if err := c.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// conn is the live session with one server.
type conn struct {
	spec Server
	hub  *Hub

	restartMu    sync.Mutex // one restart at a time
	mu           sync.Mutex // guards the fields below
	cs           *mcp.ClientSession
	gen          int // bumped on every (re)connect
	inproc       *mcp.Server
	stderr       *tail
	tools        []*mcp.Tool
	instructions string
	restarts     []time.Time
	closed       bool
}

// connect opens a session (the first time, or after a crash).
func (c *conn) connect(ctx context.Context) error {
	client := mcp.NewClient(&mcp.Implementation{Name: "opstower-host", Version: c.hub.opts.Version},
		&mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}, Logger: logging.Quiet(c.hub.opts.Logger), ProgressNotificationHandler: c.hub.onProgress})
	var t mcp.Transport
	switch {
	case c.spec.Build != nil:
		if c.inproc == nil {
			s, err := c.spec.Build(ctx)
			if err != nil {
				return fmt.Errorf("MCP server %s: %w", c.spec.Name, err)
			}
			c.inproc = s
		}
		st, ct := mcp.NewInMemoryTransports()
		if _, err := c.inproc.Connect(ctx, st, nil); err != nil {
			return fmt.Errorf("MCP server %s: %w", c.spec.Name, err)
		}
		t = ct
	case c.spec.Command != "":
		cmd := exec.Command(c.spec.Command, c.spec.Args...)
		cmd.Env = childEnv(c.spec.Env)
		cmd.Dir = c.spec.Dir
		c.stderr = &tail{max: 8 << 10}
		cmd.Stderr = c.stderr
		t = &mcp.CommandTransport{Command: cmd, TerminateDuration: 500 * time.Millisecond}
	default:
		t = &mcp.StreamableClientTransport{
			Endpoint:   c.spec.URL,
			HTTPClient: &http.Client{Transport: headerTransport{headers: c.spec.Headers}},
			MaxRetries: 2,
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cs, err := client.Connect(cctx, t, nil)
	if err != nil {
		return c.describe(fmt.Errorf("MCP server %s (%s): cannot connect: %w", c.spec.Name, c.where(), err))
	}
	var tools []*mcp.Tool
	for tl, err := range cs.Tools(cctx, nil) {
		if err != nil {
			_ = cs.Close()
			return c.describe(fmt.Errorf("MCP server %s: listing tools: %w", c.spec.Name, err))
		}
		tools = append(tools, tl)
	}
	c.mu.Lock()
	c.cs = cs
	c.gen++
	c.tools = tools
	if ir := cs.InitializeResult(); ir != nil {
		c.instructions = ir.Instructions
	}
	c.mu.Unlock()
	return nil
}

func (c *conn) where() string {
	switch {
	case c.spec.Build != nil:
		return "in-process"
	case c.spec.Command != "":
		return "command " + secret.Scrub(c.spec.Command)
	}
	return secret.RedactURL(c.spec.URL)
}

// describe adds the last lines a child wrote to stderr, which usually say
// why it would not start.
func (c *conn) describe(err error) error {
	if c.stderr == nil {
		return errors.New(secret.Scrub(err.Error()))
	}
	if s := strings.TrimSpace(c.stderr.String()); s != "" {
		lines := strings.Split(s, "\n")
		if len(lines) > 5 {
			lines = lines[len(lines)-5:]
		}
		return errors.New(secret.Scrub(err.Error() + "; its stderr ends with:\n  " + strings.Join(lines, "\n  ")))
	}
	return errors.New(secret.Scrub(err.Error()))
}

func (c *conn) session() (*mcp.ClientSession, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cs, c.gen
}

func (c *conn) call(ctx context.Context, tool string, args json.RawMessage) Result {
	cs, gen := c.session()
	if cs == nil {
		if err := c.restart(ctx, gen); err != nil {
			return Result{IsError: true, Text: fmt.Sprintf("the %s server is not running and could not be restarted: %v", c.spec.Name, err)}
		}
		cs, _ = c.session()
	}
	timeout := c.hub.opts.CallTimeout
	if c.spec.CallTimeout > 0 {
		timeout = c.spec.CallTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	params := &mcp.CallToolParams{Name: tool, Arguments: args}
	if f, ok := ctx.Value(progressKey{}).(func(string)); ok && f != nil {
		tok, forget := c.hub.progressToken(f)
		defer forget()
		params.SetProgressToken(tok)
	}
	res, err := cs.CallTool(cctx, params)
	log := c.hub.opts.Logger.With("server", c.spec.Name, "tool", tool, "elapsed", time.Since(start))
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return Result{IsError: true, Text: "the call was cancelled"}
		case cctx.Err() != nil:
			return Result{IsError: true, Text: fmt.Sprintf("%s did not answer within %s; ask for less, or try again", tool, timeout)}
		case dead(err):
			log.Warn("MCP server stopped during a call; restarting it", "err", err)
			msg := fmt.Sprintf("the %s server stopped while running %s", c.spec.Name, tool)
			if rerr := c.restart(context.WithoutCancel(ctx), gen); rerr != nil {
				log.Error("restarting MCP server", "err", rerr)
				return Result{IsError: true, Text: msg + " and could not be restarted; continue without it and say so in your answer"}
			}
			return Result{IsError: true, Text: msg + "; it has been restarted, so you may call the tool again (consider asking for less if the call was heavy)"}
		}
		var je *jsonrpc.Error
		if errors.As(err, &je) {
			return Result{IsError: true, Text: je.Message}
		}
		log.Warn("tool call failed", "err", err)
		return Result{IsError: true, Text: fmt.Sprintf("calling %s failed: %v", tool, err)}
	}
	log.Debug("tool call", "is_error", res.IsError)
	return Result{Text: resultText(res), IsError: res.IsError}
}

// maxRestarts within restartWindow stops a server that crashes on start
// from being restarted forever.
const (
	maxRestarts   = 5
	restartWindow = time.Minute
)

// restart reconnects unless another caller already did since gen.
func (c *conn) restart(ctx context.Context, gen int) error {
	c.restartMu.Lock()
	defer c.restartMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("the host is shutting down")
	}
	if c.gen != gen && c.cs != nil {
		c.mu.Unlock()
		return nil // someone else restarted it
	}
	now := time.Now()
	recent := c.restarts[:0]
	for _, t := range c.restarts {
		if now.Sub(t) < restartWindow {
			recent = append(recent, t)
		}
	}
	c.restarts = recent
	if len(recent) >= maxRestarts {
		c.mu.Unlock()
		return fmt.Errorf("it stopped %d times in the last minute", len(recent))
	}
	c.restarts = append(c.restarts, now)
	old := c.cs
	c.cs = nil
	c.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return c.connect(ctx)
}

func (c *conn) close() error {
	c.mu.Lock()
	c.closed = true
	cs := c.cs
	c.cs = nil
	c.mu.Unlock()
	if cs == nil {
		return nil
	}
	err := cs.Close()
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrConnectionClosed) || strings.Contains(err.Error(), "signal: ")) {
		return nil
	}
	return err
}

// dead reports errors that mean the session is gone (the go-sdk's crash
// table: EOF during a call, a closed connection, a lost HTTP session).
func dead(err error) bool {
	return errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, io.EOF) || errors.Is(err, mcp.ErrSessionMissing) ||
		errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), "broken pipe")
}

// resultText flattens a result's content into text. Images and audio are
// replaced by a note: the host does not forward binary content to models.
func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		switch x := c.(type) {
		case *mcp.TextContent:
			b.WriteString(x.Text)
		case *mcp.ImageContent:
			fmt.Fprintf(&b, "[an image (%s) was returned and is not shown]", x.MIMEType)
		case *mcp.AudioContent:
			fmt.Fprintf(&b, "[audio (%s) was returned and is not shown]", x.MIMEType)
		case *mcp.EmbeddedResource:
			if x.Resource != nil {
				if x.Resource.Text != "" {
					b.WriteString(x.Resource.Text)
				} else {
					fmt.Fprintf(&b, "[binary resource %s is not shown]", x.Resource.URI)
				}
			}
		case *mcp.ResourceLink:
			fmt.Fprintf(&b, "[resource %s]", x.URI)
		}
	}
	if b.Len() == 0 && res.StructuredContent != nil {
		if raw, err := json.Marshal(res.StructuredContent); err == nil {
			b.Write(raw)
		}
	}
	return b.String()
}

// toolName keeps what every provider accepts in a function name: letters,
// digits, _ and -, at most 64 bytes. Longer names keep a hash suffix so two
// long names cannot collide.
func toolName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 64 {
		sum := sha256.Sum256([]byte(s))
		out = out[:55] + "_" + hex.EncodeToString(sum[:4])
	}
	return out
}

func toMap(schema any) (map[string]any, error) {
	if m, ok := schema.(map[string]any); ok {
		return m, nil
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(raw, &m)
	return m, err
}

// baseEnv are the variables a child MCP server inherits from the host:
// enough to find programs and write temp files, nothing that holds a key.
var baseEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "TERM", "SYSTEMROOT", "APPDATA", "LOCALAPPDATA", "USERPROFILE", "PROGRAMFILES", "XDG_RUNTIME_DIR"}

func childEnv(extra map[string]string) []string {
	var env []string
	for _, k := range baseEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// headerTransport adds configured headers to every request.
type headerTransport struct {
	headers map[string]string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(t.headers) > 0 {
		r = r.Clone(r.Context())
		for k, v := range t.headers {
			r.Header.Set(k, v)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// tail keeps the last max bytes written, for a child's stderr.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
