package connections

import (
	"context"
	"sync"
	"time"
)

// TestResult is what testing one connection found: the "Test Connection"
// of the hosted product, for `opstower mcp <category> --check` and the
// agent host.
type TestResult struct {
	Name     string // the connection's label
	Provider string // the provider's title
	Elapsed  time.Duration
	// Note is what the test noticed beside success, such as a database
	// role that could write.
	Note string
	Err  error
}

// Test runs probe on every connection at once, each under timeout, and
// returns the results in configuration order. probe reaches the backend
// the way a tool would (a ping, listing the sources), so a success means
// the credentials, address and permissions work.
func (s *Set[P, B]) Test(ctx context.Context, timeout time.Duration, probe func(ctx context.Context, c *Conn[P, B]) (note string, err error)) []TestResult {
	out := make([]TestResult, len(s.conns))
	var wg sync.WaitGroup
	for i, c := range s.conns {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			note, err := probe(ctx, c)
			out[i] = TestResult{Name: c.Name, Provider: c.Provider.base().Title, Elapsed: time.Since(start), Note: note, Err: err}
		})
	}
	wg.Wait()
	return out
}
