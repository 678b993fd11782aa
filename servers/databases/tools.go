package databases

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/sqlguard"
	"github.com/opstower/opstower/shared/suggest"
	"github.com/opstower/opstower/shared/toolkit"
)

type handlers struct {
	conns  *connections.Set[*provider, engine]
	limits config.Limits
	logger *slog.Logger
	// accessChecked holds the connections whose role's privileges were
	// checked (checkWriteAccess).
	accessChecked sync.Map
}

// Arguments of each tool. The connection argument is dropped from the
// schema when only one connection is loaded.
type (
	listTablesArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Schema     string `json:"schema,omitempty" jsonschema:"only this schema"`
	}
	describeArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Table      string `json:"table" jsonschema:"table or view, optionally schema-qualified"`
	}
	queryArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		SQL        string `json:"sql" jsonschema:"one read-only statement"`
		Limit      int    `json:"limit,omitempty" jsonschema:"rows to return"`
	}
	explainArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		SQL        string `json:"sql" jsonschema:"the SELECT to explain"`
		Analyze    bool   `json:"analyze,omitempty" jsonschema:"run it and show actual times and rows"`
	}
)

func (h *handlers) tools() []toolkit.Tool {
	return []toolkit.Tool{
		toolkit.New(toolkit.Def{
			Name:        "list_tables",
			Title:       "List tables",
			Description: "List tables and views with estimated row counts and sizes. Call this first.",
			Hints:       toolkit.Read,
			Schema:      h.conns.ConnectionSchema,
		}, h.listTables),
		toolkit.New(toolkit.Def{
			Name:        "describe_table",
			Title:       "Describe table",
			Description: "Columns (type, nullability, default), keys, foreign keys and indexes of one table.",
			Hints:       toolkit.Read,
			Schema:      h.conns.ConnectionSchema,
		}, h.describeTable),
		toolkit.New(toolkit.Def{
			Name:  "query",
			Title: "Run read-only SQL",
			Description: fmt.Sprintf("Run one read-only SQL statement (SELECT, WITH, SHOW, EXPLAIN) in the connection's dialect (%s). "+
				"Returns CSV with a name:type header; an empty field is NULL, \"\" an empty string. Returns %d rows unless limit is given; times out after %s. "+
				"Aggregate in SQL rather than fetching many rows.", h.dialects(), h.limits.Rows, time.Duration(h.limits.Timeout)),
			Hints: toolkit.Read,
			Schema: func(s *jsonschema.Schema) {
				h.conns.ConnectionSchema(s)
				s.Properties["limit"].Description = fmt.Sprintf("rows to return: default %d, at most %d", h.limits.Rows, h.limits.MaxRows)
			},
		}, h.query),
		toolkit.New(toolkit.Def{
			Name:        "explain",
			Title:       "Explain query plan",
			Description: "Show how the database would run a SELECT: scans, indexes, joins, estimated costs. analyze=true runs it (read-only) for actual timings.",
			Hints:       toolkit.Read,
			Schema:      h.conns.ConnectionSchema,
		}, h.explain),
	}
}

func (h *handlers) dialects() string {
	seen := map[string]bool{}
	var out []string
	for _, c := range h.conns.All() {
		d := c.Provider.Title
		if h.conns.Len() > 1 {
			d = c.Name + ": " + d
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, "; ")
}

// pick returns the named connection (or the only one) and checks, the
// first time, what its role may do.
func (h *handlers) pick(name string) (*conn, error) {
	c, err := h.conns.Pick(name)
	if err == nil {
		h.checkWriteAccess(c)
	}
	return c, err
}

func (h *handlers) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(h.limits.Timeout))
}

func (h *handlers) listTables(ctx context.Context, in listTablesArgs) (string, error) {
	c, err := h.pick(in.Connection)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	tabs, err := c.Backend.tables(ctx, in.Schema)
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	if len(tabs) == 0 {
		if in.Schema != "" {
			return fmt.Sprintf("No tables or views in schema %q of %s. Call list_tables without schema to see every schema.", in.Schema, c.Name), nil
		}
		return fmt.Sprintf("%s has no tables or views that this user can see. Check the database name in the connection URL and the user's privileges.", c.Name), nil
	}
	// Columns nobody filled (sizes on SQLite, comments) are left out.
	withSizes, withComments := false, false
	for _, ti := range tabs {
		withSizes = withSizes || ti.Bytes >= 0
		withComments = withComments || ti.Comment != ""
	}
	cols := []render.Column{{Name: "table"}, {Name: "kind"}, {Name: "rows"}}
	if withSizes {
		cols = append(cols, render.Column{Name: "size"})
	}
	if withComments {
		cols = append(cols, render.Column{Name: "comment"})
	}
	t := render.NewTable(cols, 1000, h.limits.Bytes)
	for _, ti := range tabs {
		rows, size := "?", "?"
		if ti.Rows >= 0 {
			rows = "~" + strconv.FormatInt(ti.Rows, 10)
		}
		if ti.Bytes >= 0 {
			size = render.Bytes(int(ti.Bytes))
		}
		row := [][]byte{[]byte(ti.qualified()), []byte(ti.Kind), []byte(rows)}
		if withSizes {
			row = append(row, []byte(size))
		}
		if withComments {
			var c []byte // no comment: an empty field
			if ti.Comment != "" {
				c = []byte(ti.Comment)
			}
			row = append(row, c)
		}
		if !t.Add(row) {
			break
		}
	}
	summary := fmt.Sprintf("%d tables and views in %s (%s); rows are estimates.", len(tabs), c.Name, c.Provider.Title)
	return t.Render(summary, "Pass schema to list one schema."), nil
}

func (h *handlers) describeTable(ctx context.Context, in describeArgs) (string, error) {
	c, err := h.pick(in.Connection)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(in.Table)
	if name == "" {
		return "", toolkit.Errorf("table is empty; pass a table name from list_tables")
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	d, err := c.Backend.describe(ctx, name)
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	return renderDesc(d, h.limits.Bytes), nil
}

// renderDesc writes a table description as compact DDL-like lines, fenced
// as untrusted data (names and comments come from the user's database).
func renderDesc(d *tableDesc, maxBytes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", d.Kind, d.Name)
	if d.Rows >= 0 {
		fmt.Fprintf(&b, ", ~%s rows", render.Count(int(d.Rows)))
	}
	fmt.Fprintf(&b, ", %d columns.\n", len(d.Columns))
	open, closing := render.Fence()
	b.WriteString(open + "\n")
	if d.Comment != "" {
		b.WriteString("comment: " + d.Comment + "\n")
	}
	b.WriteString("columns:\n")
	for _, c := range d.Columns {
		b.WriteString("  " + c.Name + " " + c.Type)
		if !c.Nullable {
			b.WriteString(" not null")
		}
		if c.Default != "" {
			b.WriteString(" default " + c.Default)
		}
		if c.Comment != "" {
			b.WriteString(" -- " + c.Comment)
		}
		b.WriteByte('\n')
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		b.WriteString(title + ":\n")
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	section("constraints", d.Constraints)
	section("indexes", d.Indexes)
	b.WriteString(closing + "\n")
	out, _ := render.Cap(b.String(), maxBytes, "")
	return out
}

func (h *handlers) query(ctx context.Context, in queryArgs) (string, error) {
	c, err := h.pick(in.Connection)
	if err != nil {
		return "", err
	}
	limit, err := toolkit.Bounded("limit", in.Limit, h.limits.Rows, h.limits.MaxRows)
	if err != nil {
		return "", err
	}
	st, err := sqlguard.Check(c.Backend.dialect(), in.SQL)
	if err != nil {
		return "", toolkit.Errorf("%v", err) // the model's to fix, not ours to log
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	start := time.Now()
	s := newSink(limit, h.limits.Bytes)
	if err := c.Backend.query(ctx, st, s); err != nil {
		return "", h.backendError(ctx, c, err)
	}
	return renderResult(s, time.Since(start), h.limits.MaxRows), nil
}

func renderResult(s *sink, elapsed time.Duration, maxRows int) string {
	if s.table == nil {
		return fmt.Sprintf("The statement returned no result set (%s).", ms(elapsed))
	}
	n := s.table.Rows()
	var summary string
	switch {
	case s.full():
		summary = fmt.Sprintf("%s rows shown, more exist; %s.", render.Count(n), ms(elapsed))
	case n == 0:
		summary = fmt.Sprintf("0 rows; %s. Nothing matched: check filter values and case, or use describe_table to check columns.", ms(elapsed))
	case n == 1:
		summary = fmt.Sprintf("1 row; %s.", ms(elapsed))
	default:
		summary = fmt.Sprintf("%s rows; %s.", render.Count(n), ms(elapsed))
	}
	if s.note != "" {
		summary += " " + s.note
	}
	hint := fmt.Sprintf("Filter (WHERE) or aggregate (COUNT, GROUP BY) in SQL, select fewer columns, or raise limit (max %d).", maxRows)
	return s.table.Render(summary, hint)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

func (h *handlers) explain(ctx context.Context, in explainArgs) (string, error) {
	c, err := h.pick(in.Connection)
	if err != nil {
		return "", err
	}
	st, err := sqlguard.Check(c.Backend.dialect(), in.SQL)
	if err != nil {
		return "", toolkit.Errorf("%v", err) // the model's to fix, not ours to log
	}
	if st.Kind != sqlguard.Select {
		return "", toolkit.Errorf("explain takes a SELECT (or WITH/VALUES) statement; pass the query itself, without EXPLAIN")
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	plan, err := c.Backend.explain(ctx, st, in.Analyze)
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	plan, _ = render.Cap(plan, h.limits.Bytes, "")
	return plan, nil
}

// backendError turns an engine error into a message the model can act on:
// timeouts say what the deadline was, unknown tables list close names.
func (h *handlers) backendError(ctx context.Context, c *conn, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return toolkit.Errorf("the statement was stopped at the %s deadline; add filters, aggregate, or query fewer rows (explain shows the plan)", time.Duration(h.limits.Timeout))
	}
	if errors.Is(err, errNoExplain) {
		return toolkit.Errorf("%s: %v", c.Name, err)
	}
	var nf *notFoundError
	if errors.As(err, &nf) {
		return toolkit.Errorf("%s%s", nf.Error(), h.tableHint(ctx, c, nf.name))
	}
	var qe *queryError
	if errors.As(err, &qe) {
		msg := qe.msg
		if qe.table != "" {
			msg += h.tableHint(ctx, c, qe.table)
		}
		return toolkit.Errorf("%s", msg)
	}
	return fmt.Errorf("%s (%s): %w", c.Name, c.Provider.Title, err)
}

// tableHint names the tables closest to a missing one.
func (h *handlers) tableHint(ctx context.Context, c *conn, missing string) string {
	tabs, err := c.Backend.tables(ctx, "")
	if err != nil || len(tabs) == 0 {
		return ""
	}
	var names []string
	for _, t := range tabs {
		names = append(names, t.qualified())
		if t.Schema != "" {
			names = append(names, t.Name)
		}
	}
	bare := missing
	if i := strings.LastIndexByte(bare, '.'); i >= 0 {
		bare = bare[i+1:]
	}
	if close := suggest.Closest(bare, names, 3); len(close) > 0 {
		return "; did you mean " + strings.Join(close, ", ") + "?"
	}
	if len(names) > 20 {
		return fmt.Sprintf("; list_tables shows the %d tables", len(tabs))
	}
	var all []string
	for _, t := range tabs {
		all = append(all, t.qualified())
	}
	return "; tables are: " + strings.Join(all, ", ")
}
