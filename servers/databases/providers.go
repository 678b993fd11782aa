package databases

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

// provider is one kind of database connection: what every provider
// declares, the URL schemes that select it, and how to open it (without
// connecting).
type provider struct {
	connections.Provider
	schemes []string // URL schemes that select it
	open    func(v config.Values, l config.Limits) (engine, error)
}

// conn is one open database connection.
type conn = connections.Conn[*provider, engine]

// providers are the SQL providers, in the order help and errors list them.
var providers = []*provider{postgresProvider, mysqlProvider, sqliteProvider, clickhouseProvider, supabaseProvider, d1Provider}

// registry opens the database connections of a configuration; a URL
// without a provider name is recognised by its scheme.
var registry = &connections.Registry[*provider, engine]{
	Category:  Category,
	Noun:      "database",
	Providers: providers,
	Infer:     providerForURL,
	LabelHint: "give each a label (--dsn NAME=URL, or name: in the config file)",
	Close:     engine.close,
}

// genericSQL is the seed's "Generic SQL" provider: a postgres:// or mysql://
// URL; the scheme picks the engine.
const genericSQL = "generic-sql"

// providerForURL returns the provider a connection's url selects when the
// connection names no provider, or the generic one; otherwise nil, for the
// registry to look the name up.
func providerForURL(c config.Connection) (*provider, error) {
	name := strings.ToLower(c.Provider)
	if name != "" && name != genericSQL && name != "generic" {
		return nil, nil
	}
	u := c.Settings["url"]
	p := providerForScheme(scheme(u))
	if p == nil {
		return nil, fmt.Errorf("connection %q: cannot tell the database from url %q; use a URL starting with %s", c.Name, redactedScheme(u), schemeList())
	}
	if name != "" && p != postgresProvider && p != mysqlProvider {
		return nil, fmt.Errorf("connection %q: generic-sql takes a postgres:// or mysql:// URL", c.Name)
	}
	return p, nil
}

func providerForScheme(s string) *provider {
	for _, p := range providers {
		if slices.Contains(p.schemes, s) {
			return p
		}
	}
	return nil
}

func scheme(raw string) string {
	s, _, ok := strings.Cut(raw, ":")
	if !ok {
		return ""
	}
	return strings.ToLower(s)
}

// redactedScheme shows only the start of a URL, which may hold a password.
func redactedScheme(raw string) string {
	if s := scheme(raw); s != "" {
		return s + ":..."
	}
	if len(raw) > 12 {
		return raw[:12] + "..."
	}
	return raw
}

func schemeList() string {
	return "postgres://, postgresql://, mysql://, sqlite:///path (or sqlite:relative/path), clickhouse://, d1://ACCOUNT_ID/DATABASE_ID or supabase://PROJECT_REF"
}

var labelRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+)=(.+)$`)

// ParseDSN turns a --dsn argument, URL or NAME=URL, into a connection.
func ParseDSN(arg string) (config.Connection, error) {
	name, raw := "", strings.TrimSpace(arg)
	if m := labelRE.FindStringSubmatch(raw); m != nil && !strings.Contains(m[1], ":") {
		name, raw = m[1], m[2]
	}
	p := providerForScheme(scheme(raw))
	if p == nil {
		return config.Connection{}, fmt.Errorf("--dsn %s: unknown kind of database; use %s", redactedScheme(raw), schemeList())
	}
	c := config.Connection{Name: name, Category: Category, Provider: p.Name, Settings: map[string]string{}}
	switch p {
	case d1Provider:
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return config.Connection{}, fmt.Errorf("--dsn %s: write d1://ACCOUNT_ID/DATABASE_ID and set CLOUDFLARE_API_TOKEN", redactedScheme(raw))
		}
		c.Settings["account_id"] = u.Host
		c.Settings["database_id"] = strings.Trim(u.Path, "/")
	case supabaseProvider:
		if scheme(raw) == "supabase" {
			ref := strings.TrimPrefix(strings.TrimPrefix(raw, "supabase://"), "supabase:")
			ref = strings.Trim(ref, "/")
			if ref == "" {
				return config.Connection{}, fmt.Errorf("--dsn supabase: write supabase://PROJECT_REF (or the project URL's host) and set SUPABASE_SERVICE_ROLE_KEY")
			}
			c.Settings["project_url"] = ref
		} else {
			c.Settings["url"] = raw
		}
	default:
		c.Settings["url"] = raw
	}
	// A Postgres URL pointing at Supabase is served as Supabase.
	if p == postgresProvider && isSupabaseHost(raw) {
		c.Provider = supabaseProvider.Name
	}
	return c, nil
}

func isSupabaseHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return strings.HasSuffix(h, ".supabase.co") || strings.HasSuffix(h, ".supabase.com")
}

// dbNameFromURL is the default label of a URL connection: its database
// name, else fallback.
func dbNameFromURL(raw, fallback string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fallback
	}
	if db := strings.Trim(u.Path, "/"); db != "" && !strings.Contains(db, "/") {
		return db
	}
	if db := u.Query().Get("database"); db != "" {
		return db
	}
	return fallback
}

// fileLabel is the default label of a file database: its base name.
func fileLabel(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// ProviderNames are the provider names (and aliases) a config file may use
// for this category, so the agent host can tell a connection's category.
func ProviderNames() []string { return append(registry.ProviderNames(), genericSQL, "generic") }
