package serve

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// drainTimeout bounds how long a server whose client closed stdin keeps
// running to answer the calls already received; statement deadlines are
// below it.
const drainTimeout = time.Minute

// Stdio serves s on stdin/stdout until the client closes stdin or ctx ends.
// Calls received before stdin closes are answered first, so that a script
// piping requests in (printf ... | opstower mcp databases) gets every
// answer.
func Stdio(ctx context.Context, s *mcp.Server) error {
	return serveIO(ctx, s, os.Stdin, os.Stdout)
}

func serveIO(ctx context.Context, s *mcp.Server, r io.ReadCloser, w io.WriteCloser) error {
	err := s.Run(ctx, draining{&mcp.IOTransport{Reader: r, Writer: w}})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// draining is a transport whose connection reports the end of its input
// only once every call read before it has been answered.
type draining struct{ mcp.Transport }

func (d draining) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := d.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &drainingConn{Connection: c}, nil
}

type drainingConn struct {
	mcp.Connection
	mu      sync.Mutex
	pending int           // calls read and not yet answered
	idle    chan struct{} // closed when pending reaches 0, while Read waits
}

func (c *drainingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if req, ok := msg.(*jsonrpc.Request); ok && err == nil && req.IsCall() {
		c.mu.Lock()
		c.pending++
		c.mu.Unlock()
	}
	if errors.Is(err, io.EOF) {
		c.waitIdle(ctx)
	}
	return msg, err
}

func (c *drainingConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	err := c.Connection.Write(ctx, msg)
	if _, ok := msg.(*jsonrpc.Response); ok {
		c.mu.Lock()
		if c.pending--; c.pending <= 0 && c.idle != nil {
			close(c.idle)
			c.idle = nil
		}
		c.mu.Unlock()
	}
	return err
}

// waitIdle returns once no call is waiting for its answer, ctx ends, or
// drainTimeout passes.
func (c *drainingConn) waitIdle(ctx context.Context) {
	c.mu.Lock()
	if c.pending <= 0 {
		c.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	c.idle = idle
	c.mu.Unlock()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-ctx.Done():
	case <-t.C:
	}
}
