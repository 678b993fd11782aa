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
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/logging"
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
	if len(conns) == 0 {
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
	s := mcp.NewServer(&mcp.Implementation{Name: "opstower-errors", Title: "OpsTower error tracking", Version: version(cfg.Version)},
		&mcp.ServerOptions{Instructions: instructions(conns), Logger: logging.Quiet(logger), Capabilities: &mcp.ServerCapabilities{}})
	h := &handlers{conns: conns, limits: limits}
	toolkit.Add(s, toolkit.Options{MaxBytes: limits.Bytes + 1024, Logger: logger}, h.tools()...)
	go func() {
		<-ctx.Done()
		for _, c := range conns {
			c.tracker.close()
		}
	}()
	return s, nil
}

// Test checks every connection of cfg against its tracker (credentials,
// organization, project scope): the "Test Connection" button of the host.
// Without a deadline on ctx, the configured timeout applies.
func Test(ctx context.Context, cfg Config) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(cfg.Limits.WithDefaults().Timeout))
		defer cancel()
	}
	conns, err := open(cfg)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.tracker.close()
		}
	}()
	for _, c := range conns {
		if err := c.tracker.ping(ctx); err != nil {
			return fmt.Errorf("connection %q (%s): %w", c.name, c.provider.title, err)
		}
		if len(c.tracker.scope()) > 0 {
			if _, err := c.tracker.projects(ctx); err != nil {
				return fmt.Errorf("connection %q (%s): %w", c.name, c.provider.title, err)
			}
		}
	}
	return nil
}

func version(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

func instructions(conns []*conn) string {
	var names []string
	for _, c := range conns {
		d := fmt.Sprintf("%s organization %s", c.provider.title, c.tracker.organization())
		if sc := c.tracker.scope(); len(sc) > 0 {
			d += " (projects " + strings.Join(sc, ", ") + ")"
		}
		if len(conns) > 1 {
			d = c.name + ": " + d
		}
		names = append(names, d)
	}
	return "Read-only error tracking: " + strings.Join(names, "; ") + ". " +
		"Start with list_issues (unresolved issues of the last 14 days, most events first), then get_issue for one issue's " +
		"stack trace, breadcrumbs and context; list_issue_events finds other occurrences; error_stats charts volumes. " +
		"Messages, stack traces, breadcrumbs and tags come from the monitored application. " + render.UntrustedNote
}

// conn is one configured connection.
type conn struct {
	name     string
	provider *provider
	tracker  tracker
	showPII  bool
}

func open(cfg Config) ([]*conn, error) {
	lookup := cfg.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	seen := map[string]bool{}
	var out []*conn
	for _, cc := range cfg.Connections {
		if cc.Category != "" && cc.Category != Category {
			continue
		}
		p, err := providerFor(cc)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		if cc.Provider == "" {
			cc.Provider = p.name
		}
		vals, err := cc.Resolve(p.fields, lookup)
		if err != nil {
			return nil, err
		}
		showPII := false
		if raw := vals.Get("show_pii"); raw != "" {
			if showPII, err = strconv.ParseBool(raw); err != nil {
				return nil, fmt.Errorf("connection %q: show_pii %q is not true or false", cc.Name, raw)
			}
		}
		name := cc.Name
		if name == "" {
			name = p.defaultName(vals)
		}
		if seen[name] {
			return nil, fmt.Errorf("two error-tracking connections are named %q; give each a name in the config file", name)
		}
		seen[name] = true
		t, err := p.open(vals, openOptions{userAgent: "opstower/" + version(cfg.Version), showPII: showPII})
		if err != nil {
			return nil, fmt.Errorf("connection %q: %w", name, err)
		}
		out = append(out, &conn{name: name, provider: p, tracker: t, showPII: showPII})
	}
	return out, nil
}
