package databases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opstower/opstower/shared/connections"
)

// Test reaches every connection of cfg (the "Test Connection" of the
// hosted product): it pings the database and, where the engine can tell,
// notes a role that could write. An error is returned only for a
// configuration that cannot be opened at all; each connection's own
// failure is in its result.
func Test(ctx context.Context, cfg Config) ([]connections.TestResult, error) {
	conns, err := open(cfg)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	if conns.Len() == 0 {
		return nil, errors.New("no database connections to test: pass --dsn URL or a config file with connections")
	}
	timeout := time.Duration(cfg.Limits.WithDefaults().Timeout)
	return conns.Test(ctx, timeout, func(ctx context.Context, c *conn) (string, error) {
		if err := c.Backend.ping(ctx); err != nil {
			if ctx.Err() != nil {
				return "", fmt.Errorf("no answer within %s", timeout)
			}
			return "", err
		}
		checker, ok := c.Backend.(writeAccessChecker)
		if !ok {
			return "", nil
		}
		what, err := checker.writeAccess(ctx)
		switch {
		case err != nil:
			return "could not check the role's privileges: " + err.Error(), nil
		case what != "":
			return "the role can write (" + what + "); OpsTower keeps it read-only, but a SELECT-only role is safer", nil
		}
		return "the role can only read", nil
	}), nil
}
