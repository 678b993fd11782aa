package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/opstower/opstower/orchestrator/hostapi"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/secret"
)

const hostUsage = `Usage:
  opstower host [flags]     serve the agent host's HTTP API
  opstower host keygen      print a new key for OPSTOWER_SECRET_KEY
  opstower host reseal      re-encrypt stored connections with the first key

State lives in a SQLite file by default; --database postgres://... uses
PostgreSQL. Beyond loopback the API requires a token (OPSTOWER_HOST_TOKEN).

Flags:
`

func runHost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "keygen" {
		fmt.Fprintln(stdout, store.GenerateKey())
		return nil
	}
	reseal := len(args) > 0 && args[0] == "reseal"
	if reseal {
		args = args[1:]
	}
	fs := flag.NewFlagSet("opstower host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var wf workspaceFlags
	var addr string
	wf.register(fs)
	wf.registerModel(fs)
	fs.StringVar(&addr, "addr", "", "listen address (default 127.0.0.1:8686)")
	fs.Usage = func() {
		fmt.Fprint(stderr, hostUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := cli.EnvDefaults(fs); err != nil {
		return err
	}
	tuneGCForHost()
	ws, err := openWorkspace(ctx, wf, nil, nil, stderr)
	if err != nil {
		return err
	}
	defer ws.Close()
	if reseal {
		n, err := ws.store.Reseal(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Re-encrypted %d connection(s).\n", n)
		return nil
	}

	addr = cli.First(addr, ws.file.Host.Addr, "127.0.0.1:8686")
	token := secret.New(cli.First(os.Getenv("OPSTOWER_HOST_TOKEN"), ws.file.Host.Token))
	if token.IsZero() && !cli.IsLoopback(addr) {
		return fmt.Errorf("refusing to serve the host API on %s without a token: its agents can read your systems. Set OPSTOWER_HOST_TOKEN (or host.token), or listen on 127.0.0.1", addr)
	}
	api := &hostapi.Server{Host: ws.host, Store: ws.store, Org: ws.org, User: ws.user, Token: token, Limits: ws.limits, Logger: ws.logger}
	defer api.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "OpsTower host on http://%s (state: %s, token required: %v)\n", ln.Addr(), ws.store.Where(), !token.IsZero())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}

// tuneGCForHost doubles the collector's target for the host, which runs
// many chats at once, each with in-process MCP servers whose SDK allocates
// tens of kilobytes per message: GOGC=200 halves the collections for a
// heap of tens of megabytes (BenchmarkConcurrentChats measures the host
// so). An explicit GOGC in the environment wins.
func tuneGCForHost() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}
