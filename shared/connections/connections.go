// Package connections is what every category server does with its
// connections before a tool runs: a registry of the category's providers,
// opening the configured connections that belong to the category, and the
// set of open connections a tool call picks from.
//
// A category declares its provider type as a struct that embeds Provider
// and adds what only that category has (URL schemes, an open function with
// the category's options), lists its providers in a Registry, and opens
// them with Registry.Open. The backend type B is the category's own
// interface (a database engine, a code host, a log store); this package
// never looks inside it.
package connections

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/opstower/opstower/shared/config"
)

// ErrNotLinked is wrapped by the error a category returns for a
// connection whose provider it knows by name but whose code is not linked
// into the program: a provider built on a large client library that lives
// in a package of its own, imported only by programs that want it (as
// database/sql drivers are). A program that leaves it out tests for this
// with errors.Is to hand the work to one that has it.
var ErrNotLinked = errors.New("not linked into this program")

// Provider is what every provider says about itself, in every category:
// the names a config file may give it, its title, its settings and the
// label of a connection that has none. A category's provider type embeds
// it.
type Provider struct {
	Name    string   // config name, as in provider: NAME
	Aliases []string // other accepted config names
	Title   string   // shown to people and models
	// Fields are the provider's settings; they say which are secret,
	// required, or read from the environment.
	Fields []config.Field
	// DefaultName labels a connection that has no name, from its
	// settings (a database's name, a repository's folder). Nil means the
	// provider's Name.
	DefaultName func(config.Values) string
}

// base lets a type that embeds Provider satisfy ProviderType.
func (p *Provider) base() *Provider { return p }

// ProviderType is satisfied by a category's provider type: a pointer to a
// struct that embeds Provider.
type ProviderType interface {
	comparable
	base() *Provider
}

// Registry is one category's providers and what opening its connections
// needs to know. P is the category's provider type; B is its backend.
type Registry[P ProviderType, B any] struct {
	// Category is the category's name in config files (databases,
	// code...). Connections that name another category are not opened.
	Category string
	// Noun names the category's connections in messages, as in "two
	// database connections are named ..." and "unknown database provider".
	Noun string
	// Providers in the order help and errors list them.
	Providers []P
	// Infer, when set, picks the provider of a connection before its
	// provider name is looked up, for connections recognised by their
	// settings (a URL's scheme, a path). It returns the zero P to have the
	// name looked up.
	Infer func(config.Connection) (P, error)
	// LabelHint ends the error about two connections with the same label,
	// saying how to label them, e.g. "give each a label (--dsn NAME=URL, or
	// name: in the config file)".
	LabelHint string
	// Close closes one backend when the server stops.
	Close func(B) error
}

// Open opens the connections of conns that belong to r's category: those
// that name the category, or name none and whose provider is one of r's. A
// connection without a category whose provider r does not know belongs to
// another category and is skipped, so one config file serves every
// category.
//
// For each connection Open resolves the settings against the provider's
// fields (lookup reads the environment; nil means os.LookupEnv), labels it
// when it has no name, refuses a label used twice, and calls open, which
// must not do I/O: servers start without reaching any backend. On an error
// the connections already opened are closed.
func (r *Registry[P, B]) Open(conns []config.Connection, lookup func(string) (string, bool), open func(p P, name string, v config.Values) (B, error)) (*Set[P, B], error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	set := &Set[P, B]{close: r.Close}
	fail := func(err error) (*Set[P, B], error) {
		_ = set.Close() // nothing was reached yet; the first error is the one to report
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range conns {
		if c.Category != "" && c.Category != r.Category {
			continue
		}
		p, err := r.providerFor(c)
		if err != nil {
			return fail(err)
		}
		var none P
		if p == none {
			continue // another category's provider
		}
		pb := p.base()
		if c.Provider == "" {
			// Chosen by Infer: messages about the settings name it.
			c.Provider = pb.Name
		}
		vals, err := c.Resolve(pb.Fields, lookup)
		if err != nil {
			return fail(err)
		}
		name := c.Name
		if name == "" {
			name = pb.Name
			if pb.DefaultName != nil {
				name = pb.DefaultName(vals)
			}
		}
		if seen[name] {
			return fail(fmt.Errorf("two %s connections are named %q; %s", r.Noun, name, r.LabelHint))
		}
		seen[name] = true
		b, err := open(p, name, vals)
		if err != nil {
			return fail(fmt.Errorf("connection %q: %w", name, err))
		}
		set.conns = append(set.conns, &Conn[P, B]{Name: name, Provider: p, Backend: b})
	}
	return set, nil
}

// providerFor returns the provider a connection names, or the one Infer
// recognises. It returns the zero P, and no error, for a provider of
// another category when the connection names no category.
func (r *Registry[P, B]) providerFor(c config.Connection) (P, error) {
	var none P
	if r.Infer != nil {
		p, err := r.Infer(c)
		if err != nil || p != none {
			return p, err
		}
	}
	name := strings.ToLower(strings.TrimSpace(c.Provider))
	for _, p := range r.Providers {
		if b := p.base(); b.Name == name || slices.Contains(b.Aliases, name) {
			return p, nil
		}
	}
	if c.Category == r.Category {
		return none, fmt.Errorf("connection %q: unknown %s provider %q; known: %s", c.Name, r.Noun, c.Provider, strings.Join(r.names(), ", "))
	}
	return none, nil
}

// ProviderNames are every name a config file may give this category's
// providers: names and aliases, in registry order.
func (r *Registry[P, B]) ProviderNames() []string {
	var out []string
	for _, p := range r.Providers {
		out = append(out, p.base().Name)
		out = append(out, p.base().Aliases...)
	}
	return out
}

// names are the providers' config names, in registry order.
func (r *Registry[P, B]) names() []string {
	out := make([]string, len(r.Providers))
	for i, p := range r.Providers {
		out[i] = p.base().Name
	}
	return out
}
