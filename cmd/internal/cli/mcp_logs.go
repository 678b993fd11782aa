package cli

import (
	"context"
	"flag"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

func init() {
	Categories["logs"] = Category{
		Summary: "Logs: local files (JSON lines, logfmt, plain; rotated and gzip), Axiom, AWS CloudWatch Logs, Google Cloud Logging, Cloudflare Workers",
		Flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			var files ListFlag
			fs.Var(&files, "files", "log file, directory or glob, or NAME=GLOB to label it (repeatable); rotated and .gz siblings are read too; hosted providers come from --config")
			return func() ([]config.Connection, error) {
				var out []config.Connection
				for _, f := range files {
					c, err := logs.ParseFiles(f)
					if err != nil {
						return nil, err
					}
					out = append(out, c)
				}
				return out, nil
			}
		},
		Build: func(ctx context.Context, o ServerOptions) (*mcp.Server, error) {
			return logs.New(ctx, logsConfig(o))
		},
		Test: func(ctx context.Context, o ServerOptions) ([]connections.TestResult, error) {
			return logs.Test(ctx, logsConfig(o))
		},
	}
}

func logsConfig(o ServerOptions) logs.Config {
	return logs.Config{Connections: o.Connections, Limits: o.Limits, Logger: o.Logger, Version: o.Version}
}
