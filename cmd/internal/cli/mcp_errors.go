package cli

import (
	"context"
	"flag"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	errorsrv "github.com/opstower/opstower/servers/errors"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

func init() {
	Categories["errors"] = Category{
		Summary: "error tracking: Sentry (sentry.io or self-hosted)",
		Flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			var f errorsrv.SentryFlags
			var projects ListFlag
			fs.StringVar(&f.Org, "sentry-org", "", "Sentry organization slug (default $SENTRY_ORG); the token comes from SENTRY_AUTH_TOKEN")
			fs.StringVar(&f.URL, "sentry-url", "", "Sentry address for self-hosted Sentry or a data region (default $SENTRY_URL, else https://sentry.io)")
			fs.Var(&projects, "sentry-project", "limit every query to this project slug (repeatable, or comma-separated)")
			return func() ([]config.Connection, error) {
				f.Projects = projects
				// Without flags, SENTRY_ORG or SENTRY_AUTH_TOKEN alone make the
				// standalone connection (what a Claude Desktop env block sets),
				// unless a config file is given: its connections may read the
				// same variables, and a second copy would clash.
				if !f.Set() {
					cfg := fs.Lookup("config")
					if cfg != nil && cfg.Value.String() != "" {
						return nil, nil
					}
					if os.Getenv("SENTRY_ORG") == "" && os.Getenv("SENTRY_AUTH_TOKEN") == "" {
						return nil, nil
					}
				}
				return []config.Connection{f.Connection()}, nil
			}
		},
		Build: func(ctx context.Context, o ServerOptions) (*mcp.Server, error) {
			return errorsrv.New(ctx, errorsConfig(o))
		},
		Test: func(ctx context.Context, o ServerOptions) ([]connections.TestResult, error) {
			return errorsrv.Test(ctx, errorsConfig(o))
		},
	}
}

func errorsConfig(o ServerOptions) errorsrv.Config {
	return errorsrv.Config{Connections: o.Connections, Limits: o.Limits, Logger: o.Logger, Version: o.Version}
}
