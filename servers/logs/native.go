package logs

import (
	"errors"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/toolkit"
)

// nativeTools are the tools of providers with a query language of their
// own (APL, Logs Insights), added only when such a connection is loaded;
// their connection argument lists only those connections.
func (h *handlers) nativeTools() []toolkit.Tool {
	var tools []toolkit.Tool
	if names := h.namesOf("axiom"); len(names) > 0 {
		tools = append(tools, toolkit.New(toolkit.Def{
			Name:        "axiom_query",
			Title:       "Axiom APL query",
			Description: "Run an APL query on Axiom (filters, summarize, top). Time window from since/until, default 24h; 100 rows unless limit.",
			Hints:       toolkit.ReadOpenWorld,
			Schema:      h.kindSchema(names),
		}, h.runAPL))
	}
	tools = append(tools, h.cloudwatchTools()...)
	return tools
}

// namesOf lists the connections of one provider.
func (h *handlers) namesOf(kind string) []string {
	var out []string
	for _, c := range h.conns {
		if c.provider.name == kind {
			out = append(out, c.name)
		}
	}
	return out
}

func (h *handlers) kindSchema(names []string) func(*jsonschema.Schema) {
	return func(s *jsonschema.Schema) {
		if len(names) == 1 {
			toolkit.Drop(s, "connection")
		} else {
			toolkit.SetEnum(s, "connection", names)
			s.Required = append(s.Required, "connection")
		}
		if p := s.Properties["log_groups"]; p != nil {
			p.Types, p.Type = nil, "array"
		}
	}
}

// pickKind returns the connection of one provider a call names.
func (h *handlers) pickKind(name, kind string) (*conn, error) {
	names := h.namesOf(kind)
	if name == "" {
		if len(names) == 1 {
			name = names[0]
		} else {
			return nil, toolkit.Errorf("several %s connections are loaded; pass connection, one of: %s", kind, strings.Join(names, ", "))
		}
	}
	for _, c := range h.conns {
		if c.name == name && c.provider.name == kind {
			return c, nil
		}
	}
	return nil, toolkit.Errorf("no %s connection named %q; %s connections are: %s", kind, name, kind, strings.Join(names, ", "))
}

func (h *handlers) rowLimit(n int) (int, error) {
	switch {
	case n == 0:
		return h.limits.Rows, nil
	case n < 0 || n > h.limits.MaxRows:
		return 0, toolkit.Errorf("limit must be between 1 and %d", h.limits.MaxRows)
	}
	return n, nil
}

func asStatus(err error, se **httpapi.StatusError) bool { return errors.As(err, se) }
