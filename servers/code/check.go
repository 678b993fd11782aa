package code

import (
	"context"
	"errors"
	"time"

	"github.com/opstower/opstower/shared/connections"
)

// Test reaches every connection of cfg (the "Test Connection" of the
// hosted product) by listing one repository, as list_repos would: a local
// repository is read with git, a host is asked with the connection's
// token. An error is returned only for a configuration that cannot be
// opened; each connection's own failure is in its result.
func Test(ctx context.Context, cfg Config) ([]connections.TestResult, error) {
	limits := cfg.Limits.WithDefaults()
	conns, err := open(cfg, limits)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	if conns.Len() == 0 {
		return nil, errors.New("no code connections to test: pass --repo PATH, set GITHUB_TOKEN (or GITLAB_TOKEN, BITBUCKET_TOKEN), or a config file with connections")
	}
	return conns.Test(ctx, time.Duration(limits.Timeout), func(ctx context.Context, c *conn) (string, error) {
		repos, _, err := c.Backend.listRepos(ctx, "", 1)
		switch {
		case err != nil:
			return "", err
		case c.Backend.restrictedTo() != "":
			return "serves " + c.Backend.restrictedTo(), nil
		case len(repos) == 0:
			return "the token sees no repositories", nil
		}
		return "", nil
	}), nil
}
