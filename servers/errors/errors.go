// Package errors is the MCP server for error tracking (Sentry on sentry.io
// or self-hosted). It lets a model list projects, search issues, read an
// issue's events with their stack traces trimmed to the application's own
// frames, and chart error volumes, and nothing else: every call is a GET
// with a read-only token.
//
// Embed it with New (import it under a name such as errorsrv, since the
// standard library has an errors package too); run it with
// `opstower mcp errors`.
package errors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// Category is the connection category this server serves.
const Category = "errors"

// Config configures an errors server.
type Config struct {
	// Connections to serve: from a config file, or SentryFlags.Connection.
	Connections []config.Connection
	Limits      config.Limits
	Logger      *slog.Logger
	// Version is reported to clients in initialize and sent to the
	// trackers in the User-Agent.
	Version string
	// Lookup reads environment variables for settings that fall back to
	// one (SENTRY_AUTH_TOKEN, SENTRY_ORG, SENTRY_URL). Nil means
	// os.LookupEnv.
	Lookup func(string) (string, bool)
}

// New returns an MCP server exposing cfg's connections. It does not call
// any tracker: initialize and tools/list stay offline, and each call
// reaches the API on its own. Connections are closed when ctx is done.
func New(ctx context.Context, cfg Config) (*mcp.Server, error) {
	conns, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if conns.Len() == 0 {
		return nil, fmt.Errorf("no error-tracking connections: set SENTRY_AUTH_TOKEN and SENTRY_ORG (or --sentry-org), or pass a config file with a provider: sentry connection")
	}
	limits := cfg.Limits.WithDefaults()
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{conns: conns, limits: limits}
	s := toolkit.NewServer(toolkit.Server{Name: "errors", Title: "OpsTower error tracking", Version: version(cfg.Version),
		Instructions: instructions(conns), MaxBytes: limits.Bytes + 1024, Logger: logger}, h.tools()...)
	conns.CloseWhenDone(ctx, logger)
	return s, nil
}

// Test reaches every connection of cfg (the "Test Connection" of the
// hosted product): credentials, organization, and the project scope when
// one is set. An error is returned only for a configuration that cannot be
// opened; each connection's own failure is in its result.
func Test(ctx context.Context, cfg Config) ([]connections.TestResult, error) {
	conns, err := open(cfg)
	if err != nil {
		return nil, err
	}
	defer conns.Close()
	if conns.Len() == 0 {
		return nil, errors.New("no error-tracking connections to test: set SENTRY_AUTH_TOKEN and SENTRY_ORG, or pass a config file with a provider: sentry connection")
	}
	timeout := time.Duration(cfg.Limits.WithDefaults().Timeout)
	return conns.Test(ctx, timeout, func(ctx context.Context, c *conn) (string, error) {
		if err := c.Backend.ping(ctx); err != nil {
			return "", err
		}
		if len(c.Backend.scope()) > 0 {
			if _, err := c.Backend.projects(ctx); err != nil {
				return "", err
			}
		}
		return "", nil
	}), nil
}

func version(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

func instructions(conns *connections.Set[*provider, tracker]) string {
	var names []string
	for _, c := range conns.All() {
		d := fmt.Sprintf("%s organization %s", c.Provider.Title, c.Backend.organization())
		if sc := c.Backend.scope(); len(sc) > 0 {
			d += " (projects " + strings.Join(sc, ", ") + ")"
		}
		if conns.Len() > 1 {
			d = c.Name + ": " + d
		}
		names = append(names, d)
	}
	return "Read-only error tracking: " + strings.Join(names, "; ") + ". " +
		"Start with list_issues (unresolved issues of the last 14 days, most events first), then get_issue for one issue's " +
		"stack trace, breadcrumbs and context; list_issue_events finds other occurrences; error_stats charts volumes. " +
		"Messages, stack traces, breadcrumbs and tags come from the monitored application. " + render.UntrustedNote
}

// open opens cfg's error-tracking connections, without calling any
// tracker. show_pii is read here, for every tracker alike.
func open(cfg Config) (*connections.Set[*provider, tracker], error) {
	userAgent := "opstower/" + version(cfg.Version)
	return registry.Open(cfg.Connections, cfg.Lookup, func(p *provider, _ string, v config.Values) (tracker, error) {
		showPII := false
		if raw := v.Get("show_pii"); raw != "" {
			var err error
			if showPII, err = strconv.ParseBool(raw); err != nil {
				return nil, fmt.Errorf("show_pii %q is not true or false", raw)
			}
		}
		return p.open(v, openOptions{userAgent: userAgent, showPII: showPII})
	})
}
