// Package toolkit declares MCP tools the same way in every category server:
// a tool is a value holding its definition (name, title, description, the
// four annotations set explicitly, its input schema) and a typed handler that
// returns text. The toolkit turns handler errors into tool errors the model
// can act on, scrubs secrets from everything that leaves, caps the size of
// every result, and recovers from panics.
package toolkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
)

// Hints are the four MCP tool annotations. Every tool states all four; a
// test in each server checks that.
type Hints struct {
	ReadOnly    bool // the tool does not modify its environment
	Destructive bool // it may delete or overwrite (meaningful when not read-only)
	Idempotent  bool // calling it twice has no further effect
	OpenWorld   bool // it reaches an open world (a public API) rather than a closed system
}

// Read is the hint set of a tool that only reads from the user's own system.
var Read = Hints{ReadOnly: true, Idempotent: true}

// ReadOpenWorld is Read for tools that call a third-party service.
var ReadOpenWorld = Hints{ReadOnly: true, Idempotent: true, OpenWorld: true}

// Def is what a tool says about itself in tools/list.
type Def struct {
	Name        string
	Title       string
	Description string
	Hints       Hints
	// Schema, when set, adjusts the input schema inferred from the
	// handler's argument type (limits, enums, defaults).
	Schema func(*jsonschema.Schema)
}

// Tool is a declared tool, ready to be added to a server.
type Tool struct {
	Def Def
	add func(s *mcp.Server, o Options)
}

// Options apply to every tool added to a server.
type Options struct {
	MaxBytes int          // hard cap on the text of one result
	Logger   *slog.Logger // receives a debug line per call and internal errors
}

// New declares a tool whose handler takes decoded arguments of type In and
// returns the text the model reads. A non-nil error becomes a tool result
// with isError set, carrying the error's message; see Errorf.
func New[In any](d Def, h func(ctx context.Context, in In) (string, error)) Tool {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("toolkit: tool %q: %v", d.Name, err))
	}
	if d.Schema != nil {
		d.Schema(schema)
	}
	t := Tool{Def: d}
	t.add = func(s *mcp.Server, o Options) {
		mt := &mcp.Tool{
			Name:        d.Name,
			Title:       d.Title,
			Description: d.Description,
			InputSchema: schema,
			Annotations: annotations(d.Title, d.Hints),
		}
		mcp.AddTool(s, mt, func(ctx context.Context, req *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, _ any, _ error) {
			return call(ctx, d.Name, o, func(ctx context.Context) (string, error) { return h(ctx, in) }), nil, nil
		})
	}
	return t
}

// Add adds tools to s.
func Add(s *mcp.Server, o Options, tools ...Tool) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, t := range tools {
		t.add(s, o)
	}
}

func annotations(title string, h Hints) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{
		Title:           title,
		ReadOnlyHint:    h.ReadOnly,
		DestructiveHint: &h.Destructive,
		IdempotentHint:  h.Idempotent,
		OpenWorldHint:   &h.OpenWorld,
	}
}

// call runs one handler and shapes its outcome into a result.
func call(ctx context.Context, name string, o Options, h func(context.Context) (string, error)) (res *mcp.CallToolResult) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			o.Logger.Error("tool panicked", "tool", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = errorResult(fmt.Sprintf("internal error in %s; this is a bug in OpsTower, and the details are in the server log", name))
		}
	}()
	text, err := h(ctx)
	if err != nil {
		var te *Error
		if !errors.As(err, &te) {
			o.Logger.Warn("tool failed", "tool", name, "err", err, "elapsed", time.Since(start))
		}
		return errorResult(message(ctx, err))
	}
	text = secret.Scrub(text)
	text, cut := render.Cap(text, o.MaxBytes, "")
	o.Logger.Debug("tool call", "tool", name, "elapsed", time.Since(start), "bytes", len(text), "capped", cut)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

func message(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return "the call was cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "the call timed out before the backend answered; narrow it (filters, a shorter time range, fewer rows) and try again"
	}
	return err.Error()
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: secret.Scrub(msg)}},
	}
}

// Error is a problem the model can fix (bad arguments, an unknown table, a
// rejected statement). Its message is shown as is; other errors are also
// shown, but logged as unexpected.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Errorf returns an *Error with a formatted message.
func Errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// SetEnum restricts a string property to the given values.
func SetEnum(s *jsonschema.Schema, prop string, values []string) {
	p := s.Properties[prop]
	if p == nil {
		return
	}
	p.Enum = make([]any, len(values))
	for i, v := range values {
		p.Enum[i] = v
	}
}

// Drop removes a property from the schema.
func Drop(s *jsonschema.Schema, prop string) {
	delete(s.Properties, prop)
	for i, r := range s.Required {
		if r == prop {
			s.Required = append(s.Required[:i], s.Required[i+1:]...)
			break
		}
	}
}

// Bounded reads a count argument such as limit or top: zero means def,
// and anything outside 1..max is a tool error naming the argument.
func Bounded(name string, n, def, max int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > max:
		return 0, Errorf("%s must be between 1 and %d", name, max)
	}
	return n, nil
}
