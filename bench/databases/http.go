package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// httpBody is the one request of the throughput runs. It carries no _meta,
// and the Mcp-Protocol-Version header says 2025-11-25, which the stateless
// server answers without initialize: one POST per call.
const httpBody = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1"}}}`

// measureHTTP runs ours over streamable HTTP and counts SELECT 1 calls per
// second from concurrent keep-alive clients: first a raw client whose cost
// is small next to the server's, then the go-sdk client. The peer speaks
// stdio only, so it has no figure here.
func measureHTTP(ctx context.Context, cfg config, s *server, r *report) error {
	raw, err := httpRun(ctx, s, func(url string) (loadResult, error) {
		return rawLoad(ctx, url, cfg.httpClients, cfg.httpDuration)
	})
	if err != nil {
		return err
	}
	r.add(metric{Key: "http_calls_per_s", Name: fmt.Sprintf("HTTP SELECT 1 calls/s, %d raw keep-alive clients", cfg.httpClients),
		Unit: "/s", Values: []float64{raw.perSecond()}, Target: "≥ 5,000/s", Pass: passIf(raw.perSecond() >= 5000)})
	r.addNote(raw.describe("raw client"))
	r.extra["http_server_cpu_us_per_call"] = raw.serverCPU / float64(raw.calls) * 1e6
	r.extra["http_client_cpu_us_per_call"] = raw.clientCPU / float64(raw.calls) * 1e6
	r.extra["http_server_peak_rss_mb"] = float64(raw.serverRSS) / (1 << 20)
	if err := measureHTTPFloor(ctx, cfg, r); err != nil {
		return err
	}
	if cfg.sdkDuration <= 0 {
		return nil
	}
	sdk, err := httpRun(ctx, s, func(url string) (loadResult, error) {
		return sdkLoad(ctx, url, cfg.httpClients, cfg.sdkDuration)
	})
	if err != nil {
		return err
	}
	r.add(metric{Key: "http_sdk_calls_per_s", Name: fmt.Sprintf("  the same with %d go-sdk clients", cfg.httpClients),
		Unit: "/s", Values: []float64{sdk.perSecond()}})
	r.addNote(sdk.describe("go-sdk client"))
	return nil
}

// measureHTTPFloor runs the raw load against the SDK floor served by the
// same serve package, to show what the SDK alone allows on this machine.
func measureHTTPFloor(ctx context.Context, cfg config, r *report) error {
	floor, err := floorServer("http")
	if err != nil {
		return err
	}
	res, err := httpRun(ctx, floor, func(url string) (loadResult, error) {
		return rawLoad(ctx, url, cfg.httpClients, cfg.httpDuration)
	})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	r.extra["floor_http_calls_per_s"] = res.perSecond()
	r.addNote(fmt.Sprintf("SDK floor over the same stateless HTTP handler and raw client: %s calls/s, server CPU %.0f µs per call.",
		thousands(int64(res.perSecond())), res.serverCPU/float64(res.calls)*1e6))
	return nil
}

// loadResult is what one throughput run did.
type loadResult struct {
	calls     int
	elapsed   time.Duration
	serverCPU float64 // seconds, the server process's whole life
	serverRSS int64   // bytes, the server process's peak resident set
	clientCPU float64 // seconds, this process during the run
}

func (l loadResult) perSecond() float64 { return float64(l.calls) / l.elapsed.Seconds() }

func (l loadResult) describe(client string) string {
	return fmt.Sprintf("HTTP, %s: %d calls in %s; CPU per call: server %.0f µs, client %.0f µs (2 cores: the client must stay well below the server); server peak RSS %.1f MB.",
		client, l.calls, l.elapsed.Round(time.Millisecond), l.serverCPU/float64(l.calls)*1e6, l.clientCPU/float64(l.calls)*1e6, float64(l.serverRSS)/(1<<20))
}

// httpRun starts ours on a free loopback port, runs load against its /mcp,
// stops it gracefully and adds the server's CPU time to the result.
func httpRun(ctx context.Context, s *server, load func(url string) (loadResult, error)) (loadResult, error) {
	hs, err := startHTTP(ctx, s)
	if err != nil {
		return loadResult{}, err
	}
	before := selfCPU()
	res, err := load(hs.url)
	res.clientCPU = selfCPU() - before
	res.serverCPU, res.serverRSS = hs.stop()
	if err != nil {
		err = fmt.Errorf("%w (server log: %s)", err, hs.log.String())
	}
	return res, err
}

// httpServer is ours serving streamable HTTP.
type httpServer struct {
	cmd    *exec.Cmd
	url    string
	log    *urlWatcher
	exited chan struct{}
}

// startHTTP starts s with --http on port 0 and waits for the URL it logs
// once listening.
func startHTTP(ctx context.Context, s *server) (*httpServer, error) {
	cmd := s.command(ctx, "--http", "127.0.0.1:0")
	hs := &httpServer{cmd: cmd, log: &urlWatcher{tailBuffer: tailBuffer{max: 8 << 10}, found: make(chan string, 1)}, exited: make(chan struct{})}
	cmd.Stderr = hs.log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(hs.exited)
	}()
	select {
	case hs.url = <-hs.log.found:
		return hs, nil
	case <-hs.exited:
	case <-time.After(10 * time.Second):
	}
	hs.stop()
	return nil, fmt.Errorf("%s did not report its HTTP address; its log: %s", s.name, hs.log.String())
}

// stop asks the server to shut down (SIGTERM, as a service manager would),
// kills it if it does not, and returns the CPU seconds it used and its
// peak RSS in bytes.
func (hs *httpServer) stop() (cpu float64, rss int64) {
	_ = hs.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-hs.exited:
	case <-time.After(exitTimeout):
		_ = hs.cmd.Process.Kill()
		<-hs.exited
	}
	rss, _ = maxRSS(hs.cmd.ProcessState)
	return cpuTime(hs.cmd.ProcessState), rss
}

// urlWatcher receives a server's stderr, keeps its tail, and sends the
// listening URL once it appears.
type urlWatcher struct {
	tailBuffer
	found chan string
	sent  bool
	line  []byte
}

func (w *urlWatcher) Write(p []byte) (int, error) {
	if w.sent {
		return w.tailBuffer.Write(p)
	}
	w.line = append(w.line, p...)
	if m := listening.FindSubmatch(w.line); m != nil {
		w.found <- string(m[1])
		w.sent, w.line = true, nil
	}
	return w.tailBuffer.Write(p)
}

// listening matches the line ours logs once its listener is bound.
var listening = regexp.MustCompile(`url=(http://\S+/mcp)`)

// rawLoad keeps clients connections busy for d, each sending the prebuilt
// request and reading the response with nothing but a buffered reader.
func rawLoad(ctx context.Context, url string, clients int, d time.Duration) (loadResult, error) {
	req, addr, err := rawRequest(url)
	if err != nil {
		return loadResult{}, err
	}
	// A short warm-up, so the timed part sees a running server.
	if _, err := loadWith(ctx, clients, 300*time.Millisecond, rawWorker(addr, req)); err != nil {
		return loadResult{}, err
	}
	return loadWith(ctx, clients, d, rawWorker(addr, req))
}

// rawRequest builds the whole HTTP/1.1 request once.
func rawRequest(url string) (req []byte, addr string, err error) {
	hreq, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		return nil, "", err
	}
	addr = hreq.URL.Host
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", hreq.URL.RequestURI(), addr)
	b.WriteString("Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n")
	b.WriteString("Mcp-Protocol-Version: 2025-11-25\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(httpBody)) + "\r\n\r\n" + httpBody)
	return b.Bytes(), addr, nil
}

// worker makes calls until deadline and returns how many succeeded.
type worker func(ctx context.Context, deadline time.Time) (int, error)

// loadWith runs clients workers for d and sums their calls.
func loadWith(ctx context.Context, clients int, d time.Duration, w worker) (loadResult, error) {
	start := time.Now()
	deadline := start.Add(d)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w(ctx, deadline)
			mu.Lock()
			total += n
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return loadResult{calls: total, elapsed: time.Since(start)}, errors.Join(errs...)
}

func rawWorker(addr string, req []byte) worker {
	return func(ctx context.Context, deadline time.Time) (int, error) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		_ = conn.SetDeadline(deadline.Add(10 * time.Second))
		br := bufio.NewReaderSize(conn, 8<<10)
		var body bytes.Buffer
		n := 0
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if _, err := conn.Write(req); err != nil {
				return n, err
			}
			if err := readResponse(br, &body); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
}

// readResponse reads one response and checks it is a successful result.
func readResponse(br *bufio.Reader, body *bytes.Buffer) error {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	b := body.Bytes()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"result"`)) || bytes.Contains(b, []byte(`"isError":true`)) {
		return fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	return nil
}

// sdkLoad is rawLoad with one go-sdk client session per worker. The HTTP
// client keeps one idle connection per worker, so calls reuse connections.
func sdkLoad(ctx context.Context, url string, clients int, d time.Duration) (loadResult, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients}}
	defer hc.CloseIdleConnections()
	sessions := make([]*mcp.ClientSession, 0, clients)
	defer func() {
		for _, cs := range sessions {
			_ = cs.Close()
		}
	}()
	for i := 0; i < clients; i++ {
		c := mcp.NewClient(&mcp.Implementation{Name: "opstower-bench", Version: "1"}, nil)
		cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1}, nil)
		if err != nil {
			return loadResult{}, fmt.Errorf("go-sdk client: %w", err)
		}
		sessions = append(sessions, cs)
	}
	next := make(chan *mcp.ClientSession, clients)
	for _, cs := range sessions {
		next <- cs
	}
	w := func(ctx context.Context, deadline time.Time) (int, error) {
		cs := <-next
		params := &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT 1"}}
		n := 0
		for time.Now().Before(deadline) && ctx.Err() == nil {
			res, err := cs.CallTool(ctx, params)
			if err != nil {
				return n, err
			}
			if res.IsError {
				return n, errors.New("go-sdk client: SELECT 1 returned a tool error")
			}
			n++
		}
		return n, nil
	}
	return loadWith(ctx, clients, d, w)
}
