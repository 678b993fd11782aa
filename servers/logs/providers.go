package logs

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/toolkit"
)

// provider is one kind of log connection: what every provider declares,
// and how to open it without connecting. Names and aliases avoid the
// other categories' ("local" is the code category's git provider), so a
// config file without categories stays unambiguous.
type provider struct {
	connections.Provider
	open func(ctx context.Context, v config.Values, o openOptions) (backend, error)
	// tools are a registered provider's own tools (see Provider.Tools).
	tools func(*Connections) []toolkit.Tool
	// standIn marks the entry of a provider that lives in package
	// cloudlogs, until that package replaces it (see Register).
	standIn bool
}

// openOptions are handed to every provider's open.
type openOptions struct {
	logger *slog.Logger
	// workers is how many cores a local-file pass uses; 0 means all.
	workers int
}

// conn is one open log connection.
type conn = connections.Conn[*provider, backend]

// registry opens the log connections of a configuration. The providers
// built on the cloud SDKs (CloudWatch, Cloud Logging) are stand-ins until
// package cloudlogs registers them; see Register.
var registry = &connections.Registry[*provider, backend]{
	Category:  Category,
	Noun:      "log",
	Providers: []*provider{localProvider, axiomProvider, cloudflareProvider, cloudwatchStandIn, gcloudStandIn},
	LabelHint: "give each a label (--files NAME=GLOB, or name: in the config file)",
	Close:     backend.close,
}

// refuseStandIn reads the registry, so it is set here rather than in the
// registry's declaration, which it would make refer to itself.
func init() { registry.Infer = refuseStandIn }

var labelRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+)=(.+)$`)

// ParseFiles turns a --files argument, GLOB or NAME=GLOB, into a local
// files connection. Several globs may be separated by commas.
func ParseFiles(arg string) (config.Connection, error) {
	name, raw := "", strings.TrimSpace(arg)
	if m := labelRE.FindStringSubmatch(raw); m != nil && !strings.ContainsAny(m[1], "/\\*?[") {
		name, raw = m[1], m[2]
	}
	if raw == "" {
		return config.Connection{}, fmt.Errorf("--files needs a file, directory or glob, like /var/log/app/*.log or app=/var/log/app.log")
	}
	return config.Connection{Name: name, Category: Category, Provider: localProvider.Name, Settings: map[string]string{"path": raw}}, nil
}

// ProviderNames are the provider names (and aliases) a config file may use
// for this category, so the agent host can tell a connection's category.
func ProviderNames() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry.ProviderNames()
}
