package errors

import (
	"strings"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

// provider is one error tracker: what every provider declares, and how to
// open it without connecting. Adding a tracker means one file with a
// tracker implementation and a provider value, plus an entry in the
// registry.
type provider struct {
	connections.Provider
	open func(v config.Values, o openOptions) (tracker, error)
}

// openOptions are what every provider is opened with besides its settings.
type openOptions struct {
	userAgent string
	showPII   bool
}

// conn is one open error-tracking connection.
type conn = connections.Conn[*provider, tracker]

// registry opens the error-tracking connections of a configuration, its
// trackers listed in the order help and errors list them.
var registry = &connections.Registry[*provider, tracker]{
	Category:  Category,
	Noun:      "error-tracking",
	Providers: []*provider{sentryProvider},
	LabelHint: "give each a name in the config file",
	Close:     func(t tracker) error { t.close(); return nil },
}

// SentryFlags are the command-line settings of a standalone Sentry
// connection, the form MCP clients such as Claude Desktop use. The token is
// deliberately not among them: command lines are visible to every user of
// the machine, so it comes from SENTRY_AUTH_TOKEN.
type SentryFlags struct {
	Org      string   // organization slug; SENTRY_ORG when empty
	URL      string   // self-hosted or regional address; SENTRY_URL when empty
	Projects []string // project slugs to limit queries to (comma-separated values allowed)
}

// Set reports whether any flag was given.
func (f SentryFlags) Set() bool { return f.Org != "" || f.URL != "" || len(f.Projects) > 0 }

// Connection returns the connection the flags describe. Settings left
// empty are read from the environment when the server opens it.
func (f SentryFlags) Connection() config.Connection {
	c := config.Connection{Category: Category, Provider: sentryProvider.Name, Settings: map[string]string{}}
	if f.Org != "" {
		c.Settings["organization"] = strings.TrimSpace(f.Org)
	}
	if f.URL != "" {
		c.Settings["url"] = strings.TrimSpace(f.URL)
	}
	var projects []string
	for _, p := range f.Projects {
		for _, s := range strings.Split(p, ",") {
			if s = strings.TrimSpace(s); s != "" {
				projects = append(projects, s)
			}
		}
	}
	if len(projects) > 0 {
		c.Settings["projects"] = strings.Join(projects, ",")
	}
	return c
}

// ProviderNames are the provider names (and aliases) a config file may use
// for this category, so the agent host can tell a connection's category.
func ProviderNames() []string { return registry.ProviderNames() }
