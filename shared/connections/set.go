package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/toolkit"
)

// Conn is one open connection: its label, its provider and the category's
// backend for it.
type Conn[P ProviderType, B any] struct {
	Name     string
	Provider P
	Backend  B
}

// Set is a category's open connections, in configuration order. Tools pick
// from it by the connection argument every tool takes.
type Set[P ProviderType, B any] struct {
	conns []*Conn[P, B]
	close func(B) error
	// kind is the provider a set from Of holds, named in its messages.
	kind string
}

// All returns the connections in configuration order. The slice is the
// set's own: callers range over it and do not change it.
func (s *Set[P, B]) All() []*Conn[P, B] { return s.conns }

// Len is the number of connections.
func (s *Set[P, B]) Len() int { return len(s.conns) }

// Names are the connections' labels, in configuration order.
func (s *Set[P, B]) Names() []string {
	out := make([]string, len(s.conns))
	for i, c := range s.conns {
		out[i] = c.Name
	}
	return out
}

// Pick returns the connection a tool call names: the only one when the
// call names none. The errors are tool errors that list the names, for
// the model to call again.
func (s *Set[P, B]) Pick(name string) (*Conn[P, B], error) {
	if name == "" {
		if len(s.conns) == 1 {
			return s.conns[0], nil
		}
		return nil, toolkit.Errorf("several %sconnections are loaded; pass connection, one of: %s", s.qualifier(), s.joined())
	}
	return s.Named(name)
}

// Named returns the connection with this label, or a tool error that
// lists the labels.
func (s *Set[P, B]) Named(name string) (*Conn[P, B], error) {
	for _, c := range s.conns {
		if c.Name == name {
			return c, nil
		}
	}
	q := s.qualifier()
	return nil, toolkit.Errorf("no %sconnection named %q; %sconnections are: %s", q, name, q, s.joined())
}

// Of returns the connections of one provider, by its config name, for
// tools that only that provider offers (a query language of its own). The
// sub-set's messages name the provider: "several axiom connections...".
// Closing stays with the whole set: Close on the sub-set does nothing.
func (s *Set[P, B]) Of(provider string) *Set[P, B] {
	sub := &Set[P, B]{kind: provider}
	for _, c := range s.conns {
		if c.Provider.base().Name == provider {
			sub.conns = append(sub.conns, c)
		}
	}
	return sub
}

// ConnectionSchema adapts a tool's input schema to the set: with one
// connection the connection property is dropped, since there is nothing to
// choose; with several it becomes a required enum of their labels, so a
// model cannot guess one.
func (s *Set[P, B]) ConnectionSchema(js *jsonschema.Schema) {
	if len(s.conns) == 1 {
		toolkit.Drop(js, "connection")
		return
	}
	toolkit.SetEnum(js, "connection", s.Names())
	js.Required = append(js.Required, "connection")
}

// Close closes every connection and returns what failed, naming each
// connection.
func (s *Set[P, B]) Close() error {
	if s.close == nil {
		return nil
	}
	var errs []error
	for _, c := range s.conns {
		if err := s.close(c.Backend); err != nil {
			errs = append(errs, fmt.Errorf("connection %q: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// CloseWhenDone closes every connection once ctx is done: a server's
// connections live as long as the context New was given. Failures are
// logged, since nobody is left to return them to.
func (s *Set[P, B]) CloseWhenDone(ctx context.Context, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	context.AfterFunc(ctx, func() {
		if s.close == nil {
			return
		}
		for _, c := range s.conns {
			if err := s.close(c.Backend); err != nil {
				logger.Warn("closing connection", "connection", c.Name, "err", err)
			}
		}
	})
}

func (s *Set[P, B]) qualifier() string {
	if s.kind == "" {
		return ""
	}
	return s.kind + " "
}

func (s *Set[P, B]) joined() string { return strings.Join(s.Names(), ", ") }
