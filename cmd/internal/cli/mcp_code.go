package cli

import (
	"context"
	"flag"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/code"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

func init() {
	Categories["code"] = Category{
		Summary: "source code: local git repositories (--repo), GitHub (GITHUB_TOKEN), GitLab (GITLAB_TOKEN) and Bitbucket Cloud (BITBUCKET_TOKEN)",
		Flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			var repos ListFlag
			fs.Var(&repos, "repo", "local git repository, PATH or NAME=PATH to label it (repeatable); needs the git command")
			return func() ([]config.Connection, error) {
				var out []config.Connection
				for _, r := range repos {
					c, err := code.ParseRepo(r)
					if err != nil {
						return nil, err
					}
					out = append(out, c)
				}
				return out, nil
			}
		},
		Build: func(ctx context.Context, o ServerOptions) (*mcp.Server, error) {
			return code.New(ctx, codeConfig(o))
		},
		Test: func(ctx context.Context, o ServerOptions) ([]connections.TestResult, error) {
			return code.Test(ctx, codeConfig(o))
		},
	}
}

// codeConfig takes hosted providers from the config file, or from their
// conventional environment variables when the file has none.
func codeConfig(o ServerOptions) code.Config {
	conns := append(o.Connections, code.FromEnv(nil, o.Connections)...)
	return code.Config{Connections: conns, Limits: o.Limits, Logger: o.Logger, Version: o.Version}
}
