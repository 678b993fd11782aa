// Command databases benchmarks `opstower mcp databases` against the
// reference MCP server for PostgreSQL (npm @modelcontextprotocol/server-postgres,
// run with node), side by side in one run on the same data.
//
// Absolute times drift on a shared machine; ratios taken in one run do not,
// so every figure is measured for both servers in the same run, and the
// per-call latencies are interleaved in rounds so that both see the same
// background load. It prints a table (metric, ours, peer, ratio, target,
// pass/fail) and can write the same figures as JSON for later comparison.
//
// Run it with `make bench`, or:
//
//	go run ./bench/databases -bin bin/opstower -json bench.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	adminDSN     string        // a database the bench can create its own database from
	database     string        // the bench's own database, created once and reused
	bin          string        // the opstower binary; built into a temporary folder when empty
	node         string        // node executable for the peer
	peerDir      string        // npm folder holding the peer (bench/peer)
	noPeer       bool          // measure ours only
	coldRuns     int           // cold starts per server
	calls        int           // timed query calls per server for latency
	warmup       int           // untimed calls before the timed ones
	rounds       int           // latency calls are interleaved in this many rounds
	rssCalls     int           // query calls in the peak-RSS workload
	httpClients  int           // concurrent HTTP clients
	httpDuration time.Duration // how long the raw HTTP load runs
	sdkDuration  time.Duration // how long the go-sdk client load runs; 0 skips it
	jsonPath     string        // where to write the results as JSON
	only         string        // comma-separated steps to run; empty runs all
	oursEnv      listFlag      // extra environment for ours, for experiments (GOGC=200)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if mode := os.Getenv(floorEnv); mode != "" {
		err = serveFloor(ctx, mode)
	} else {
		err = run(ctx, parseFlags())
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() config {
	var c config
	// TLS is off so that both servers and the driver baseline do the same
	// work: node-postgres does not negotiate TLS unless asked, while pgx's
	// default (sslmode=prefer) would make ours alone pay for it.
	flag.StringVar(&c.adminDSN, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL of a user that may create a database; both servers get the same URL with -db as database")
	flag.StringVar(&c.database, "db", "opstower_bench", "database holding the bench table (created once, reused)")
	flag.StringVar(&c.bin, "bin", "", "opstower binary to measure (default: build ./cmd/opstower into a temporary folder)")
	flag.StringVar(&c.node, "node", "node", "node executable that runs the peer")
	flag.StringVar(&c.peerDir, "peer-dir", filepath.Join("bench", "peer"), "npm folder with @modelcontextprotocol/server-postgres installed (npm ci --prefix bench/peer)")
	flag.BoolVar(&c.noPeer, "no-peer", false, "measure ours only")
	flag.IntVar(&c.coldRuns, "cold-runs", 30, "cold starts per server (median reported)")
	flag.IntVar(&c.calls, "calls", 2000, "timed query calls per server for added latency")
	flag.IntVar(&c.warmup, "warmup", 200, "untimed query calls before timing")
	flag.IntVar(&c.rounds, "rounds", 4, "latency calls are interleaved between the servers in this many rounds")
	flag.IntVar(&c.rssCalls, "rss-calls", 200, "query calls in the peak-RSS workload")
	flag.IntVar(&c.httpClients, "http-clients", 4, "concurrent keep-alive HTTP clients")
	flag.DurationVar(&c.httpDuration, "http-duration", 5*time.Second, "duration of the raw HTTP throughput run")
	flag.DurationVar(&c.sdkDuration, "sdk-duration", 3*time.Second, "duration of the go-sdk client throughput run (0 skips it)")
	flag.StringVar(&c.jsonPath, "json", "", "write the results as JSON to this file")
	flag.Var(&c.oursEnv, "ours-env", "NAME=VALUE added to ours's environment (repeatable), to compare settings such as GOGC")
	flag.StringVar(&c.only, "only", "", "run only these steps, comma-separated: cold, rss, session (latency, bytes, escape), http")
	flag.Parse()
	return c
}

// run prepares the data and the binaries, measures, and reports.
func run(ctx context.Context, cfg config) error {
	if cfg.coldRuns < 1 || cfg.calls < cfg.rounds || cfg.rounds < 1 || cfg.httpClients < 1 {
		return errors.New("-cold-runs, -rounds and -http-clients must be at least 1, and -calls at least -rounds")
	}
	data, err := ensureData(ctx, cfg.adminDSN, cfg.database)
	if err != nil {
		return err
	}
	defer data.close()

	bin, cleanup, err := opstowerBinary(ctx, cfg.bin)
	if err != nil {
		return err
	}
	defer cleanup()
	servers := []*server{ours(bin, data.dsn, cfg.oursEnv)}
	if !cfg.noPeer {
		p, err := peer(cfg.node, cfg.peerDir, data.dsn)
		if err != nil {
			return err
		}
		servers = append(servers, p)
	}

	r := newReport(cfg, servers)
	if err := measureAll(ctx, cfg, data, servers, r); err != nil {
		return err
	}
	r.print(os.Stdout)
	if cfg.jsonPath != "" {
		if err := r.writeJSON(cfg.jsonPath); err != nil {
			return err
		}
		fmt.Printf("\nResults written to %s\n", cfg.jsonPath)
	}
	return nil
}

// measureAll runs every measurement in turn. Each one starts and stops its
// own server processes, so a failure leaves nothing running.
func measureAll(ctx context.Context, cfg config, data *benchData, servers []*server, r *report) error {
	steps := []struct {
		key, name string
		fn        func() error
	}{
		{"cold", "cold start", func() error { return measureColdStart(ctx, cfg, servers, r) }},
		{"rss", "peak RSS", func() error { return measurePeakRSS(ctx, cfg, servers, r) }},
		{"session", "latency, bytes and escape", func() error { return measureSessions(ctx, cfg, data, servers, r) }},
		{"http", "HTTP throughput", func() error { return measureHTTP(ctx, cfg, servers[0], r) }},
	}
	only := map[string]bool{}
	for _, k := range strings.Split(cfg.only, ",") {
		if k = strings.TrimSpace(k); k != "" {
			only[k] = true
		}
	}
	for _, s := range steps {
		if len(only) > 0 && !only[s.key] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s...\n", s.name)
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// opstowerBinary returns the binary to measure: the one given, or a fresh
// build of ./cmd/opstower with the release flags of `make build`.
func opstowerBinary(ctx context.Context, given string) (path string, cleanup func(), err error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", nil, fmt.Errorf("opstower binary: %w (run make build, or omit -bin)", err)
		}
		return given, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "opstower-bench-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	path = filepath.Join(dir, "opstower")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, "./cmd/opstower")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building opstower: %w", err)
	}
	return path, cleanup, nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	*l = append(*l, v)
	return nil
}
