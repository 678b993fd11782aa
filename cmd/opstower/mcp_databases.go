package main

import (
	"context"
	"flag"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
)

func init() {
	categories["databases"] = category{
		summary: "SQL databases: PostgreSQL, MySQL/MariaDB, SQLite, ClickHouse, Supabase, Cloudflare D1",
		flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			var dsns listFlag
			fs.Var(&dsns, "dsn", "database URL, or NAME=URL to label it (repeatable): postgres://, mysql://, sqlite:///path, clickhouse://, d1://ACCOUNT/DB, supabase://REF")
			return func() ([]config.Connection, error) {
				var out []config.Connection
				for _, d := range dsns {
					c, err := databases.ParseDSN(d)
					if err != nil {
						return nil, err
					}
					out = append(out, c)
				}
				return out, nil
			}
		},
		build: func(ctx context.Context, o serverOptions) (*mcp.Server, error) {
			return databases.New(ctx, databases.Config{Connections: o.Connections, Limits: o.Limits, Logger: o.Logger, Version: o.Version})
		},
	}
}
