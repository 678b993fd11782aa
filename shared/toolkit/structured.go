package toolkit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/secret"
)

// NewStructured declares a tool whose result is read by both a model and a
// program: the handler returns the compact text the model reads and a typed
// value that goes out as structuredContent, whose JSON schema (inferred from
// Out, which must be a struct) is declared as the tool's outputSchema. A
// report generator can then consume the value without parsing the text,
// while the model still gets the short form instead of the JSON.
//
// Errors behave as in New: a tool error carries no structured value. The
// text is scrubbed and capped as in New; the value is scrubbed of secrets
// but not cut, so handlers bound it themselves (with their row limit).
func NewStructured[In, Out any](d Def, h func(ctx context.Context, in In) (string, Out, error)) Tool {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("toolkit: tool %q: %v", d.Name, err))
	}
	if d.Schema != nil {
		d.Schema(schema)
	}
	outSchema, err := jsonschema.For[Out](nil)
	if err != nil {
		panic(fmt.Sprintf("toolkit: tool %q: output: %v", d.Name, err))
	}
	t := Tool{Def: d}
	t.add = func(s *mcp.Server, o Options) {
		mt := &mcp.Tool{
			Name:         d.Name,
			Title:        d.Title,
			Description:  d.Description,
			InputSchema:  schema,
			OutputSchema: outSchema,
			Annotations:  annotations(d.Title, d.Hints),
		}
		// Out is any here so that the value can be handed over as scrubbed
		// JSON; the SDK still validates it against mt.OutputSchema.
		mcp.AddTool(s, mt, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
			var out Out
			res := call(ctx, d.Name, o, func(ctx context.Context) (string, error) {
				text, v, err := h(ctx, in)
				out = v
				return text, err
			})
			if res.IsError {
				return res, nil, nil
			}
			raw, err := json.Marshal(out)
			if err != nil {
				o.Logger.Error("encoding structured result", "tool", d.Name, "err", err)
				return errorResult(fmt.Sprintf("internal error in %s; this is a bug in OpsTower, and the details are in the server log", d.Name)), nil, nil
			}
			return res, json.RawMessage(secret.Scrub(string(raw))), nil
		})
	}
	return t
}
