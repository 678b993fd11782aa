package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/logging"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/serve"
)

// ServerOptions is what every category server is built from.
type ServerOptions struct {
	Connections []config.Connection
	Limits      config.Limits
	Logger      *slog.Logger
	Version     string
	// File is the whole config file (empty without --config), for
	// servers that read more than connections (the agents server).
	File *config.File
}

// Category is one `opstower mcp <name>` server: its own connection flags
// and its constructor.
type Category struct {
	Summary string
	// Flags registers the category's connection flags and returns a func
	// that turns their values into connections.
	Flags func(fs *flag.FlagSet) func() ([]config.Connection, error)
	Build func(ctx context.Context, o ServerOptions) (*mcp.Server, error)
	// Test reaches every connection for --check (nil: the category has
	// nothing to test).
	Test func(ctx context.Context, o ServerOptions) ([]connections.TestResult, error)
	// Progress is set by servers that send progress notifications during
	// a call; over HTTP their answers are event streams (serve.Options).
	Progress bool
}

// Categories holds every `opstower mcp <name>` server. Each registers
// itself from an init function (mcp_databases.go, ...; the host package
// adds agents), so it is read-only once the command line runs.
var Categories = map[string]Category{}

// categoryNames lists the categories this program serves or hands over.
func categoryNames() string {
	var names []string
	for n := range Categories {
		names = append(names, n)
	}
	for _, n := range fullOnlyCategories {
		if _, ok := Categories[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func runMCP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("name a category: opstower mcp <category>; categories: %s", categoryNames())
	}
	cat, ok := Categories[args[0]]
	if !ok && isFullOnly(fullOnlyCategories, args[0]) {
		return handOff(append([]string{"mcp"}, args...), "opstower mcp "+args[0])
	}
	if !ok {
		return fmt.Errorf("unknown category %q; categories: %s", args[0], categoryNames())
	}
	fs := flag.NewFlagSet("opstower mcp "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	flagConns := cat.Flags(fs)
	var (
		configPath, httpAddr, logLevel, logFormat string
		origins, hosts                            ListFlag
		limits                                    config.Limits
		timeout                                   time.Duration
		check                                     bool
	)
	fs.StringVar(&configPath, "config", "", "YAML config file (connections, limits, http); values may use ${ENV}")
	fs.StringVar(&httpAddr, "http", "", "serve streamable HTTP on this address (e.g. 127.0.0.1:8080) instead of stdio; the token comes from OPSTOWER_HTTP_TOKEN")
	fs.Var(&origins, "allowed-origin", "browser origin allowed to call the HTTP endpoint (repeatable)")
	fs.Var(&hosts, "allowed-host", "Host header accepted by the HTTP endpoint (repeatable); by default any on a public address, localhost names only on a loopback one")
	fs.IntVar(&limits.Rows, "rows", 0, fmt.Sprintf("rows returned when the caller gives no limit (default %d)", config.DefaultRows))
	fs.IntVar(&limits.MaxRows, "max-rows", 0, fmt.Sprintf("largest limit a caller may ask for (default %d)", config.DefaultMaxRows))
	fs.IntVar(&limits.Bytes, "max-bytes", 0, fmt.Sprintf("bytes of text in one result (default %d)", config.DefaultBytes))
	fs.Var(durationValue{&timeout}, "timeout", fmt.Sprintf("deadline of one backend call (default %s)", config.DefaultTimeout))
	fs.StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default info); logs go to stderr")
	fs.StringVar(&logFormat, "log-format", "", "text or json (default text)")
	fs.BoolVar(&check, "check", false, "test every connection (reach it with its credentials, as a tool would) and exit, instead of serving")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: opstower mcp %s [flags]\n\n%s.\nEvery flag can also be set as OPSTOWER_<FLAG> (OPSTOWER_DSN, OPSTOWER_HTTP...).\n\n", args[0], cat.Summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; flags come as --name value", fs.Arg(0))
	}
	if err := EnvDefaults(fs); err != nil {
		return err
	}

	file := &config.File{}
	if configPath != "" {
		f, err := config.Load(configPath)
		if err != nil {
			return err
		}
		file = f
	}
	conns, err := flagConns()
	if err != nil {
		return err
	}
	conns = append(file.Connections, conns...)
	limits = mergeLimits(file.Limits, limits, timeout)
	if err := limits.Validate(); err != nil {
		return err
	}
	logger, err := logging.New(stderr, logging.Options{Level: First(logLevel, file.Log.Level), Format: First(logFormat, file.Log.Format)})
	if err != nil {
		return err
	}
	opts := ServerOptions{Connections: conns, Limits: limits, Logger: logger, Version: Version(), File: file}
	if check {
		err = runCheck(ctx, args[0], cat, opts, stdout)
	} else {
		var srv *mcp.Server
		if srv, err = cat.Build(ctx, opts); err == nil {
			return serveMCP(ctx, srv, cat, file, httpAddr, origins, hosts, logger)
		}
	}
	if errors.Is(err, connections.ErrNotLinked) && !build.Full {
		return handOff(append([]string{"mcp"}, args...), "this connection")
	}
	return err
}

// serveMCP serves srv over stdio, or over HTTP when an address is given.
func serveMCP(ctx context.Context, srv *mcp.Server, cat Category, file *config.File, httpAddr string, origins, hosts ListFlag, logger *slog.Logger) error {
	httpAddr = First(httpAddr, file.HTTP.Addr)
	if httpAddr == "" {
		return serve.Stdio(ctx, srv)
	}
	o := serve.Options{
		Addr:           httpAddr,
		Token:          secret.New(First(os.Getenv("OPSTOWER_HTTP_TOKEN"), file.HTTP.Token)),
		AllowedOrigins: append(file.HTTP.AllowedOrigins, origins...),
		AllowedHosts:   append(file.HTTP.AllowedHosts, hosts...),
		Logger:         logger,
		Stream:         cat.Progress,
	}
	if err := serve.ValidateOrigins(o.AllowedOrigins); err != nil {
		return err
	}
	if o.Token.IsZero() && !IsLoopback(httpAddr) {
		logger.Warn("serving HTTP beyond loopback without a token; set OPSTOWER_HTTP_TOKEN", "addr", httpAddr)
	}
	tuneGCForHTTP()
	return serve.HTTP(ctx, srv, o)
}

// mergeLimits lets flags override the config file.
func mergeLimits(file, flags config.Limits, timeout time.Duration) config.Limits {
	out := file
	if flags.Rows != 0 {
		out.Rows = flags.Rows
	}
	if flags.MaxRows != 0 {
		out.MaxRows = flags.MaxRows
	}
	if flags.Bytes != 0 {
		out.Bytes = flags.Bytes
	}
	if timeout != 0 {
		out.Timeout = config.Duration(timeout)
	}
	return out.WithDefaults()
}

// First returns the first non-empty value: a flag, then the config file,
// then a default.
func First(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// IsLoopback reports whether a listen address is on this machine only.
func IsLoopback(addr string) bool {
	return strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "localhost:") || strings.HasPrefix(addr, "[::1]:")
}
