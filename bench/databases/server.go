package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// server is how to launch one MCP server under test over stdio.
type server struct {
	name string   // "ours" or "peer"
	argv []string // command line
	env  []string // added to the bench's environment
}

// ours runs `opstower mcp databases` as a user would.
func ours(bin, dsn string, env []string) *server {
	return &server{name: "ours", argv: []string{bin, "mcp", "databases", "--dsn", dsn}, env: env}
}

// command returns the exec.Cmd that runs s with extra arguments.
func (s *server) command(ctx context.Context, extra ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.argv[0], append(s.argv[1:len(s.argv):len(s.argv)], extra...)...)
	if len(s.env) > 0 {
		cmd.Env = append(os.Environ(), s.env...)
	}
	cmd.SysProcAttr = childAttr()
	cmd.WaitDelay = exitTimeout
	return cmd
}

// peerEntry is the peer's entry point inside its npm folder. Running it with
// node directly (not npx) makes the measured process the server itself.
const peerEntry = "node_modules/@modelcontextprotocol/server-postgres/dist/index.js"

// peer runs the reference server with node.
func peer(node, dir, dsn string) (*server, error) {
	entry := filepath.Join(dir, filepath.FromSlash(peerEntry))
	if _, err := os.Stat(entry); err != nil {
		return nil, fmt.Errorf("the peer is not installed (%v): run npm ci --prefix %s, or pass -no-peer", err, dir)
	}
	if _, err := exec.LookPath(node); err != nil {
		return nil, fmt.Errorf("node: %w (pass -node, or -no-peer)", err)
	}
	return &server{name: "peer", argv: []string{node, entry, dsn}}, nil
}

// process is a running stdio server and a minimal JSON-RPC client for it:
// requests go out one at a time, and each waits for its response.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *tailBuffer
	nextID int
	buf    []byte // reused request buffer
}

// exitTimeout is how long a server may take to exit once its stdin closes.
const exitTimeout = 5 * time.Second

// start launches s. The caller must call stop.
func (s *server) start(ctx context.Context) (*process, error) {
	cmd := s.command(ctx)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 64<<10), stderr: &tailBuffer{max: 8 << 10}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.name, err)
	}
	return p, nil
}

// stdinGrace is how long a server may take to exit once its stdin closes.
// Ours exits at once; the peer lingers for its connection pool's idle
// timeout (10 s), so it gets SIGTERM after this.
const stdinGrace = time.Second

// stop closes stdin, which tells a stdio server to exit, and waits for it;
// a server still running after stdinGrace gets SIGTERM, and SIGKILL after
// exitTimeout. It returns the process state, which carries its resource
// usage (a signalled process's too).
func (p *process) stop() *os.ProcessState {
	_ = p.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
		return p.cmd.ProcessState
	case <-time.After(stdinGrace):
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(exitTimeout):
		_ = p.cmd.Process.Kill()
		<-done
	}
	return p.cmd.ProcessState
}

// rpcError is a JSON-RPC error response.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// response is one JSON-RPC message from the server.
type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

// send writes one request without waiting for its answer, and returns its
// id. Params given as json.RawMessage are sent as they are, so a timed loop
// does not pay for encoding.
func (p *process) send(method string, params any) (int, error) {
	p.nextID++
	id := p.nextID
	p.buf = append(p.buf[:0], `{"jsonrpc":"2.0","id":`...)
	p.buf = strconv.AppendInt(p.buf, int64(id), 10)
	p.buf = append(p.buf, `,"method":"`...)
	p.buf = append(p.buf, method...)
	p.buf = append(p.buf, '"')
	if params != nil {
		raw, ok := params.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(params); err != nil {
				return 0, err
			}
		}
		p.buf = append(p.buf, `,"params":`...)
		p.buf = append(p.buf, raw...)
	}
	p.buf = append(p.buf, "}\n"...)
	_, err := p.stdin.Write(p.buf)
	return id, err
}

// notify sends a notification.
func (p *process) notify(method string) error {
	_, err := io.WriteString(p.stdin, `{"jsonrpc":"2.0","method":"`+method+`"}`+"\n")
	return err
}

// readLine returns the next message line whose id is id, skipping
// notifications and server requests. The slice is valid until the next read.
func (p *process) readLine(id int) ([]byte, error) {
	want := []byte(`"id":` + strconv.Itoa(id))
	for {
		line, err := p.readRawLine()
		if err != nil {
			return nil, fmt.Errorf("reading response %d: %w (stderr: %s)", id, err, p.stderr.String())
		}
		if hasID(line, want) {
			return line, nil
		}
	}
}

// hasID reports whether a message line carries the id written as want
// ("id":7, followed by , or }). Quotes inside JSON strings are escaped, so
// a result's text cannot match.
func hasID(line, want []byte) bool {
	for {
		i := bytes.Index(line, want)
		if i < 0 {
			return false
		}
		line = line[i+len(want):]
		if len(line) > 0 && (line[0] == ',' || line[0] == '}') {
			return true
		}
	}
}

// readRawLine reads one newline-terminated message of any size.
func (p *process) readRawLine() ([]byte, error) {
	line, err := p.stdout.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	long := append([]byte(nil), line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = p.stdout.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// call sends a request and returns its result and the size of the response
// line on the wire.
func (p *process) call(method string, params any) (json.RawMessage, int, error) {
	id, err := p.send(method, params)
	if err != nil {
		return nil, 0, fmt.Errorf("sending %s: %w (stderr: %s)", method, err, p.stderr.String())
	}
	line, err := p.readLine(id)
	if err != nil {
		return nil, 0, err
	}
	var r response
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, 0, fmt.Errorf("%s: decoding the response: %w", method, err)
	}
	if r.Error != nil {
		return nil, len(line), fmt.Errorf("%s: %w", method, r.Error)
	}
	return r.Result, len(line), nil
}

// initializeParams is the initialize request both servers get.
var initializeParams = map[string]any{
	"protocolVersion": "2025-11-25",
	"capabilities":    map[string]any{},
	"clientInfo":      map[string]any{"name": "opstower-bench", "version": "1"},
}

// initialize performs the MCP handshake.
func (p *process) initialize() error {
	if _, _, err := p.call("initialize", initializeParams); err != nil {
		return err
	}
	return p.notify("notifications/initialized")
}

// toolResult is the part of a tools/call result the bench reads.
type toolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	IsError bool `json:"isError"`
}

// text joins the result's text contents.
func (r *toolResult) text() string {
	var b bytes.Buffer
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

// query calls the query tool with sql. A tool error is returned as a result
// with IsError set, not as an error.
func (p *process) query(sql string) (*toolResult, int, error) {
	raw, wire, err := p.call("tools/call", map[string]any{"name": "query", "arguments": map[string]any{"sql": sql}})
	if err != nil {
		return nil, wire, err
	}
	var r toolResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, wire, fmt.Errorf("decoding the query result: %w", err)
	}
	return &r, wire, nil
}

// tailBuffer keeps the last max bytes written to it: enough of a server's
// stderr to explain a failure, never a whole log.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) == 0 {
		return "empty"
	}
	return string(bytes.TrimSpace(t.b))
}
