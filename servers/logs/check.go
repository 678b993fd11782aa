package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/opstower/opstower/shared/connections"
)

// Test reaches every connection of cfg (the "Test Connection" of the
// hosted product) by listing its sources, as list_log_sources would: files
// matched by the glob, or the service's datasets, log groups or workers
// with the connection's credentials. An error is returned only for a
// configuration that cannot be opened; each connection's own failure is in
// its result.
func Test(ctx context.Context, cfg Config) ([]connections.TestResult, error) {
	conns, err := open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	if conns.Len() == 0 {
		return nil, errors.New("no log connections to test: pass --files or a config file with connections")
	}
	timeout := time.Duration(cfg.Limits.WithDefaults().Timeout)
	return conns.Test(ctx, timeout, func(ctx context.Context, c *conn) (string, error) {
		t, err := c.Backend.sources(ctx, "")
		if err != nil {
			return "", err
		}
		switch len(t.Rows) {
		case 0:
			return "no sources found yet", nil
		case 1:
			return "1 source", nil
		}
		return fmt.Sprintf("%d sources", len(t.Rows)), nil
	}), nil
}
