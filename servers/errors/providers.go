package errors

import (
	"fmt"
	"strings"

	"github.com/opstower/opstower/shared/config"
)

// provider describes one error tracker: its settings (which are secret),
// its default connection label, and how to open it without connecting.
// Adding a tracker means one file with a tracker implementation and a
// provider value, plus an entry in providers.
type provider struct {
	name        string   // config name
	aliases     []string // other accepted config names
	title       string   // shown to people and models
	fields      []config.Field
	defaultName func(config.Values) string
	open        func(v config.Values, o openOptions) (tracker, error)
}

// openOptions are what every provider is opened with besides its settings.
type openOptions struct {
	userAgent string
	showPII   bool
}

// providers is the registry of error trackers, in the order they are listed
// in help and errors.
var providers = []*provider{sentryProvider}

// providerFor returns the provider a configured connection names. It
// returns nil, nil for other categories' providers when the connection does
// not name a category, so one config file can serve every category.
func providerFor(c config.Connection) (*provider, error) {
	name := strings.ToLower(strings.TrimSpace(c.Provider))
	for _, p := range providers {
		if p.name == name || contains(p.aliases, name) {
			return p, nil
		}
	}
	if c.Category == Category {
		return nil, fmt.Errorf("connection %q: unknown error-tracking provider %q; known: %s", c.Name, c.Provider, providerNames())
	}
	return nil, nil
}

func providerNames() string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
	c := config.Connection{Category: Category, Provider: sentryProvider.name, Settings: map[string]string{}}
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
