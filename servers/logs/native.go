package logs

import (
	"errors"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/toolkit"
)

// nativeTools are the tools of providers with a query language of their
// own (Axiom's APL, and those registered providers bring, like CloudWatch
// Logs Insights), added only when such a connection is loaded; their
// connection argument lists only those connections.
func (h *handlers) nativeTools() []toolkit.Tool {
	var tools []toolkit.Tool
	if h.conns.Of("axiom").Len() > 0 {
		tools = append(tools, toolkit.New(toolkit.Def{
			Name:        "axiom_query",
			Title:       "Axiom APL query",
			Description: "Run an APL query on Axiom (filters, summarize, top). Time window from since/until, default 24h; 100 rows unless limit.",
			Hints:       toolkit.ReadOpenWorld,
			Schema:      h.nativeSchema("axiom"),
		}, h.runAPL))
	}
	// Registered providers may bring tools of their own.
	seen := map[*provider]bool{}
	for _, c := range h.conns.All() {
		if p := c.Provider; p.tools != nil && !seen[p] {
			seen[p] = true
			tools = append(tools, p.tools(&Connections{h: h, set: h.conns.Of(p.Name)})...)
		}
	}
	return tools
}

// nativeSchema adapts a native tool's schema to the connections of its
// provider.
func (h *handlers) nativeSchema(provider string) func(*jsonschema.Schema) {
	return h.conns.Of(provider).ConnectionSchema
}

func (h *handlers) rowLimit(n int) (int, error) {
	return toolkit.Bounded("limit", n, h.limits.Rows, h.limits.MaxRows)
}

func asStatus(err error, se **httpapi.StatusError) bool { return errors.As(err, se) }
