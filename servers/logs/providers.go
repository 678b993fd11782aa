package logs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/opstower/opstower/shared/config"
)

// provider describes one kind of log connection: its settings (which are
// secret), its default label, and how to open it without connecting.
type provider struct {
	name        string   // config name
	aliases     []string // other accepted names
	title       string   // shown to people and models
	fields      []config.Field
	defaultName func(config.Values) string
	open        func(ctx context.Context, v config.Values, o openOptions) (backend, error)
}

// openOptions are handed to every provider's open.
type openOptions struct {
	logger *slog.Logger
	// http is the client for REST providers; nil means their default.
	http *http.Client
}

// providers is the registry. The providers built on the heavy cloud SDKs
// (CloudWatch, Cloud Logging) register themselves from their files, which
// the build tag nocloudsdk leaves out for a smaller, faster-starting
// binary; see cloudsdk_off.go.
var providers = []*provider{localProvider, axiomProvider, cloudflareProvider}

func registerProvider(p *provider) { providers = append(providers, p) }

// providerFor returns the provider a connection names, nil for another
// category's provider when the connection names no category. Names and
// aliases avoid the other categories' ("local" is the code category's git
// provider), so a config file without categories stays unambiguous.
func providerFor(c config.Connection) (*provider, error) {
	name := strings.ToLower(strings.TrimSpace(c.Provider))
	for _, p := range providers {
		if p.name == name || contains(p.aliases, name) {
			return p, nil
		}
	}
	if c.Category == Category {
		var names []string
		for _, p := range providers {
			names = append(names, p.name)
		}
		return nil, fmt.Errorf("connection %q: unknown logs provider %q; known: %s", c.Name, c.Provider, strings.Join(names, ", "))
	}
	return nil, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

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
	return config.Connection{Name: name, Category: Category, Provider: localProvider.name, Settings: map[string]string{"path": raw}}, nil
}
