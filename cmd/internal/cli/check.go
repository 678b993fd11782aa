package cli

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runCheck is `opstower mcp <category> --check`: it tests every
// connection and prints one line each, so that a setup can be verified
// before an MCP client launches the server (whose errors it rarely shows).
// It fails when any connection does.
func runCheck(ctx context.Context, name string, cat Category, o ServerOptions, stdout io.Writer) error {
	if cat.Test == nil {
		return fmt.Errorf("opstower mcp %s has no connections of its own to check", name)
	}
	results, err := cat.Test(ctx, o)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		line := fmt.Sprintf("%s (%s): ", r.Name, r.Provider)
		if r.Err != nil {
			failed++
			line += "FAILED: " + r.Err.Error()
		} else {
			line += "ok in " + r.Elapsed.Round(100*time.Microsecond).String()
			if r.Note != "" {
				line += "; " + r.Note
			}
		}
		fmt.Fprintln(stdout, line)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d connections failed", failed, len(results))
	}
	return nil
}
