package cli

import (
	"context"
	"flag"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

func init() {
	Categories["databases"] = Category{
		Summary: "SQL databases: PostgreSQL, MySQL/MariaDB, SQLite, ClickHouse, Supabase, Cloudflare D1",
		Flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			var dsns ListFlag
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
		Build: func(ctx context.Context, o ServerOptions) (*mcp.Server, error) {
			return databases.New(ctx, databasesConfig(o))
		},
		Test: func(ctx context.Context, o ServerOptions) ([]connections.TestResult, error) {
			return databases.Test(ctx, databasesConfig(o))
		},
	}
}

func databasesConfig(o ServerOptions) databases.Config {
	return databases.Config{Connections: o.Connections, Limits: o.Limits, Logger: o.Logger, Version: o.Version}
}
