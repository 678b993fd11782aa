// Package databases is the MCP server for SQL databases: PostgreSQL, MySQL
// and MariaDB, SQLite, ClickHouse, Supabase and Cloudflare D1. It lets a
// model list tables, describe them, run read-only queries and read query
// plans, and nothing else: every statement is checked by sqlguard and then
// run in a read-only transaction or session at the engine.
//
// Embed it with New; run it with `opstower mcp databases`.
package databases

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// Category is the connection category this server serves.
const Category = "databases"

// Config configures a databases server.
type Config struct {
	// Connections to serve. Build them from a config file, or from URLs
	// with ParseDSN.
	Connections []config.Connection
	Limits      config.Limits
	Logger      *slog.Logger
	// Version is reported to clients in initialize.
	Version string
	// Lookup reads environment variables for settings that fall back to
	// one (CLOUDFLARE_API_TOKEN...). Nil means os.LookupEnv.
	Lookup func(string) (string, bool)
}

// New returns an MCP server exposing cfg's connections. It does not connect
// to anything: each backend is reached on first use. Connections are closed
// when ctx is done.
func New(ctx context.Context, cfg Config) (*mcp.Server, error) {
	conns, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if conns.Len() == 0 {
		return nil, fmt.Errorf("no database connections: pass --dsn URL (postgres://, mysql://, sqlite:///path, clickhouse://, d1://ACCOUNT/DATABASE, supabase://PROJECT) or a config file with connections")
	}
	limits := cfg.Limits.WithDefaults()
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{conns: conns, limits: limits, logger: logger}
	s := toolkit.NewServer(toolkit.Server{Name: "databases", Title: "OpsTower databases", Version: cfg.Version,
		Instructions: instructions(conns), MaxBytes: limits.Bytes + 1024, Logger: logger}, h.tools()...)
	conns.CloseWhenDone(ctx, logger)
	return s, nil
}

func instructions(conns *connections.Set[*provider, engine]) string {
	var names []string
	for _, c := range conns.All() {
		names = append(names, fmt.Sprintf("%s (%s)", c.Name, c.Provider.Title))
	}
	return "Read-only SQL access to: " + strings.Join(names, ", ") + ". " +
		"Start with list_tables, then describe_table for the tables you need, then query. " +
		"Every statement runs read-only; results are capped, and a footer says when rows were cut. " + render.UntrustedNote
}

// open opens cfg's database connections, without connecting.
func open(cfg Config) (*connections.Set[*provider, engine], error) {
	limits := cfg.Limits.WithDefaults()
	return registry.Open(cfg.Connections, cfg.Lookup, func(p *provider, _ string, v config.Values) (engine, error) {
		return p.open(v, limits)
	})
}
