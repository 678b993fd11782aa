package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Queries the measurements use.
const (
	smallQuery   = "SELECT * FROM bench_orders WHERE id = 42"
	hundredQuery = "SELECT * FROM bench_orders ORDER BY id LIMIT 100"
	allQuery     = "SELECT * FROM bench_orders"
)

// measureColdStart times process start to a finished initialize response,
// alternating the servers so that both see the same background load.
func measureColdStart(ctx context.Context, cfg config, servers []*server, r *report) error {
	times := make([][]time.Duration, len(servers))
	for run := 0; run < cfg.coldRuns; run++ {
		for i, s := range servers {
			d, err := coldStart(ctx, s)
			if err != nil {
				return err
			}
			times[i] = append(times[i], d)
		}
	}
	vals := make([]float64, len(servers))
	for i := range servers {
		vals[i] = millis(percentile(times[i], 50))
	}
	r.add(metric{
		Key: "cold_start_ms", Name: fmt.Sprintf("cold start to initialize (median of %d)", cfg.coldRuns), Unit: "ms",
		Values: vals, Lower: true, Target: "≤ 20 ms", Pass: passIf(vals[0] <= 20),
	})
	return nil
}

// coldStart launches s, sends initialize at once (the pipe holds it until
// the server reads), and returns the time until the response arrived.
func coldStart(ctx context.Context, s *server) (time.Duration, error) {
	start := time.Now()
	p, err := s.start(ctx)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if _, _, err := p.call("initialize", initializeParams); err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	return time.Since(start), nil
}

// measurePeakRSS runs the fixed workload in a fresh process per server and
// reads the peak RSS the kernel recorded for it when it exited.
func measurePeakRSS(ctx context.Context, cfg config, servers []*server, r *report) error {
	vals := make([]float64, len(servers))
	for i, s := range servers {
		rss, err := rssWorkload(ctx, s, cfg.rssCalls)
		if err != nil {
			return err
		}
		vals[i] = float64(rss) / (1 << 20)
	}
	r.add(metric{
		Key: "peak_rss_mb", Unit: "MB", Values: vals, Lower: true, Target: "≤ 30 MB", Pass: passIf(vals[0] <= 30),
		Name: fmt.Sprintf("peak RSS (init, tools/list, %d queries, 100 rows)", cfg.rssCalls),
	})
	return nil
}

func rssWorkload(ctx context.Context, s *server, calls int) (int64, error) {
	p, err := s.start(ctx)
	if err != nil {
		return 0, err
	}
	workload := func() error {
		if err := p.initialize(); err != nil {
			return err
		}
		if _, _, err := p.call("tools/list", nil); err != nil {
			return err
		}
		for i := 0; i < calls; i++ {
			if _, err := mustQuery(p, smallQuery); err != nil {
				return err
			}
		}
		_, err := mustQuery(p, hundredQuery)
		return err
	}
	err = workload()
	ps := p.stop()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.name, err)
	}
	rss, ok := maxRSS(ps)
	if !ok {
		return 0, fmt.Errorf("%s: peak RSS is not available on this system", s.name)
	}
	return rss, nil
}

// mustQuery runs sql and fails on a tool error too.
func mustQuery(p *process, sql string) (*toolResult, error) {
	res, _, err := p.query(sql)
	if err != nil {
		return nil, err
	}
	if res.IsError {
		return nil, fmt.Errorf("query %q: tool error: %s", sql, res.text())
	}
	return res, nil
}

// measureSessions starts one long-lived process per server, and the SDK
// floor, and measures in order: per-call latency, result and tools/list
// sizes, and the read-only escape. The unbounded query runs last, so the
// peer's 20+ MB result cannot affect its latency.
func measureSessions(ctx context.Context, cfg config, data *benchData, servers []*server, r *report) error {
	floor, err := floorServer("stdio")
	if err != nil {
		return err
	}
	procs := make([]*process, 0, len(servers)+1)
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for _, s := range append(servers[:len(servers):len(servers)], floor) {
		p, err := s.start(ctx)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		if err := p.initialize(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	floorProc, procs := procs[len(procs)-1], procs[:len(procs)-1]
	defer floorProc.stop()
	if err := measureLatency(ctx, cfg, data, servers, procs, floorProc, r); err != nil {
		return err
	}
	if err := measureBytes(servers, procs, r); err != nil {
		return err
	}
	return measureEscape(ctx, data, servers, procs, r)
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func passIf(ok bool) *bool { return &ok }

// logf reports progress on stderr, away from the table on stdout.
func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench:   "+format+"\n", args...) }
