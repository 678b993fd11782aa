package logs

import (
	"context"
	"errors"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"log/slog"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timebucket"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

type handlers struct {
	conns  *connections.Set[*provider, backend]
	limits config.Limits
	logger *slog.Logger
}

// filterArgs are the selection arguments the search, count, signature and
// field tools share.
type filterArgs struct {
	Connection string   `json:"connection,omitempty" jsonschema:"which connection"`
	Source     string   `json:"source,omitempty" jsonschema:"only this source from list_log_sources (file glob, dataset, log group, log name, worker)"`
	Since      string   `json:"since,omitempty" jsonschema:"start: 15m, 2h, 7d, a date or RFC 3339"`
	Until      string   `json:"until,omitempty" jsonschema:"end, same forms; default now"`
	Level      string   `json:"level,omitempty" jsonschema:"minimum level: debug, info, warn, error, fatal"`
	Text       string   `json:"text,omitempty" jsonschema:"substring; lower case matches any case"`
	Regex      string   `json:"regex,omitempty" jsonschema:"RE2 regular expression (slower than text)"`
	Fields     []string `json:"fields,omitempty" jsonschema:"conditions: service=api, status>=500, path~checkout, user!=bot"`
	Filter     string   `json:"filter,omitempty" jsonschema:"native filter, ANDed"`
}

type (
	sourcesArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Pattern    string `json:"pattern,omitempty" jsonschema:"only names containing this"`
	}
	searchArgs struct {
		filterArgs
		Limit int `json:"limit,omitempty" jsonschema:"lines to return (newest)"`
	}
	countArgs struct {
		filterArgs
		Bucket  string `json:"bucket,omitempty" jsonschema:"bucket width: 1m, 5m, 1h, 1d; default about 40 buckets"`
		GroupBy string `json:"group_by,omitempty" jsonschema:"split counts by level or a field name"`
	}
	signaturesArgs struct {
		filterArgs
		Top int `json:"top,omitempty" jsonschema:"signatures to return, default 20"`
	}
	fieldsArgs struct {
		filterArgs
		Field string `json:"field,omitempty" jsonschema:"show this field's top values instead of the field list"`
	}
)

// nativeFilterer is a backend with a filter language of its own; an empty
// description means it has none after all (a registered provider's).
type nativeFilterer interface{ nativeFilter() string }

// nativeFilter describes a backend's filter language, or is "".
func nativeFilter(b backend) string {
	if nf, ok := b.(nativeFilterer); ok {
		return nf.nativeFilter()
	}
	return ""
}

func (h *handlers) tools() []toolkit.Tool {
	var natives []string
	for _, c := range h.conns.All() {
		if nf := nativeFilter(c.Backend); nf != "" {
			natives = append(natives, nf)
		}
	}
	filterSchema := func(s *jsonschema.Schema) {
		h.conns.ConnectionSchema(s)
		if len(natives) == 0 {
			toolkit.Drop(s, "filter")
		} else {
			s.Properties["filter"].Description = "native filter, ANDed: " + strings.Join(dedupe(natives), "; ")
		}
		if p := s.Properties["fields"]; p != nil {
			p.Types, p.Type = nil, "array"
		}
	}
	window := "Default window: whole files for local logs, last 24h for hosted ones."
	// The filter arguments are described once, on search_logs; the other
	// tools say "filters as in search_logs", which keeps tools/list small.
	bareFilterSchema := func(s *jsonschema.Schema) {
		filterSchema(s)
		for _, k := range []string{"source", "since", "until", "level", "text", "regex", "fields", "filter"} {
			if p := s.Properties[k]; p != nil {
				p.Description = ""
			}
		}
	}
	tools := []toolkit.Tool{
		toolkit.New(toolkit.Def{
			Name:        "list_log_sources",
			Title:       "List log sources",
			Description: "What can be searched: files (format, first/last time), datasets, log groups, log names, workers. Call first.",
			Hints:       h.hints(),
			Schema:      h.conns.ConnectionSchema,
		}, h.listSources),
		toolkit.New(toolkit.Def{
			Name:  "search_logs",
			Title: "Search logs",
			Description: fmt.Sprintf("Log lines matching all filters, newest %d unless limit is set, shown oldest first as time LEVEL message and the fields that differ. %s",
				h.limits.Rows/2, window),
			Hints: h.hints(),
			Schema: func(s *jsonschema.Schema) {
				filterSchema(s)
				s.Properties["limit"].Description = fmt.Sprintf("lines to return (the newest), at most %d", h.limits.MaxRows)
			},
		}, h.search),
		toolkit.New(toolkit.Def{
			Name:        "count_logs",
			Title:       "Count logs over time",
			Description: "Matching lines per time bucket, optionally split by level or a field: when errors started, when traffic dropped. Filters as in search_logs.",
			Hints:       h.hints(),
			Schema:      bareFilterSchema,
		}, h.count),
		toolkit.New(toolkit.Def{
			Name:        "error_signatures",
			Title:       "Top error signatures",
			Description: "Most frequent error messages with numbers, ids, IPs, paths and quoted text masked: count, first/last seen, an example. Level defaults to error; filters as in search_logs.",
			Hints:       h.hints(),
			Schema:      bareFilterSchema,
		}, h.signatures),
		toolkit.New(toolkit.Def{
			Name:        "log_fields",
			Title:       "Log fields and values",
			Description: "Field names in recent matching lines, with counts; with field, its most common values. Filters as in search_logs.",
			Hints:       h.hints(),
			Schema:      bareFilterSchema,
		}, h.fields),
	}
	tools = append(tools, h.nativeTools()...)
	return tools
}

// hints are Read for local files only, ReadOpenWorld when a hosted
// service is involved.
func (h *handlers) hints() toolkit.Hints {
	for _, c := range h.conns.All() {
		if _, local := c.Backend.(*localFiles); !local {
			return toolkit.ReadOpenWorld
		}
	}
	return toolkit.Read
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (h *handlers) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(h.limits.Timeout))
}

// buildFilter checks the shared arguments and turns them into a filter.
func (h *handlers) buildFilter(c *conn, a filterArgs, defaultLevel Level) (*filter, error) {
	f := &filter{Source: strings.TrimSpace(a.Source), Native: strings.TrimSpace(a.Filter)}
	lb := c.Backend.lookback()
	since, until := strings.TrimSpace(a.Since), strings.TrimSpace(a.Until)
	switch {
	case since == "" && until == "" && lb == 0:
	default:
		def := lb
		if def == 0 {
			def = 100 * 365 * 24 * time.Hour
		}
		r, err := timerange.Parse(since, until, time.Now(), def)
		if err != nil {
			return nil, toolkit.Errorf("%v", err)
		}
		f.Range, f.HasRange = r, true
	}
	lv, err := parseLevelArg(a.Level)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(a.Level) == "" {
		lv = defaultLevel
	}
	f.MinLevel = lv
	if a.Text != "" {
		f.setText(a.Text)
	}
	if a.Regex != "" {
		re, err := regexp.Compile(a.Regex)
		if err != nil {
			return nil, toolkit.Errorf("regex %q is not valid RE2: %v; escape special characters with \\ or use text for a plain substring", a.Regex, regexErr(err))
		}
		f.Regex = re
	}
	f.Fields, err = parseFieldConds(a.Fields)
	if err != nil {
		return nil, err
	}
	if f.Native != "" {
		if nativeFilter(c.Backend) == "" {
			return nil, toolkit.Errorf("%s (%s) has no native filter language; use text, regex, level and fields", c.Name, c.Provider.Title)
		}
	}
	return f, nil
}

func regexErr(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code) + " in " + se.Expr
	}
	return err.Error()
}

// backendError shapes an error for the model: deadlines say what to
// narrow; tool errors pass; others name the connection.
func (h *handlers) backendError(ctx context.Context, c *conn, err error) error {
	var te *toolkit.Error
	switch {
	case errors.As(err, &te):
		return err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return toolkit.Errorf("%s: stopped at the %s deadline; narrow the time range (since/until), add a level, text or source", c.Name, time.Duration(h.limits.Timeout))
	}
	return fmt.Errorf("%s (%s): %w", c.Name, c.Provider.Title, err)
}

func (h *handlers) listSources(ctx context.Context, in sourcesArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	st, err := c.Backend.sources(ctx, strings.TrimSpace(in.Pattern))
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	if len(st.Rows) == 0 {
		msg := fmt.Sprintf("%s (%s) has no sources", c.Name, c.Provider.Title)
		if in.Pattern != "" {
			msg += fmt.Sprintf(" matching %q; call without pattern to list all", in.Pattern)
		} else {
			msg += " that these credentials can see; check the account, project or region of the connection"
		}
		if st.Note != "" {
			msg += ". " + st.Note
		}
		return msg + ".", nil
	}
	t := render.NewTable(st.Columns, 1000, h.limits.Bytes)
	for _, r := range st.Rows {
		cells := make([][]byte, len(r))
		for i, v := range r {
			cells[i] = []byte(v)
		}
		if !t.Add(cells) {
			break
		}
	}
	summary := fmt.Sprintf("%d sources in %s (%s).", len(st.Rows), c.Name, c.Provider.Title)
	if st.Note != "" {
		summary += " " + st.Note
	}
	return t.Render(summary, "Pass pattern to narrow the list."), nil
}

func (h *handlers) search(ctx context.Context, in searchArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	f, err := h.buildFilter(c, in.filterArgs, levelUnknown)
	if err != nil {
		return "", err
	}
	limit, err := toolkit.Bounded("limit", in.Limit, max(1, h.limits.Rows/2), h.limits.MaxRows)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	start := time.Now()
	res, err := c.Backend.search(ctx, f, limit)
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	elapsed := time.Since(start)
	if len(res.Events) == 0 {
		return h.emptyHint(ctx, c, f, res.scanInfo, "lines"), nil
	}
	body, shown := renderEvents(res.Events[max(0, len(res.Events)-limit):], h.limits.Bytes-300)
	var b strings.Builder
	total := render.Count(res.Total)
	if res.More {
		total = "more than " + total
	}
	fmt.Fprintf(&b, "%s lines matched %s in %s (scanned %s, %s).", total, f.describe(), c.Name, res.Scanned, logtext.Millis(elapsed))
	if shown < res.Total || res.More {
		fmt.Fprintf(&b, " Showing the newest %d, oldest first.", shown)
	}
	b.WriteByte('\n')
	b.WriteString(fence(body))
	if shown < len(res.Events) || res.Total > shown || res.More {
		cut := "[cut] "
		if shown < len(res.Events) {
			cut += fmt.Sprintf("The %s text cap held %d of the %d lines fetched. ", render.Bytes(h.limits.Bytes), shown, len(res.Events))
		}
		cut += "Narrow with a shorter since/until, a level, text or fields; count_logs shows when matches happen."
		b.WriteString(cut + "\n")
	}
	h.notes(&b, res.scanInfo)
	return b.String(), nil
}

func (h *handlers) notes(b *strings.Builder, info scanInfo) {
	if info.Sampled {
		b.WriteString("Note: the window holds more events than one call reads from this provider, so these results cover part of it. Narrow since/until (or add text) for complete results.\n")
	}
	for _, n := range info.Notes {
		b.WriteString("Note: " + n + "\n")
	}
}

// emptyHint explains an empty result: what was searched and what to try.
func (h *handlers) emptyHint(ctx context.Context, c *conn, f *filter, info scanInfo, what string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "No %s matched %s in %s", what, f.describe(), c.Name)
	if info.Scanned != "" {
		fmt.Fprintf(&b, " (scanned %s)", info.Scanned)
	}
	b.WriteString(".")
	if len(info.Sources) > 0 {
		names := info.Sources
		if len(names) > 8 {
			names = append(names[:8:8], fmt.Sprintf("and %d more", len(info.Sources)-8))
		}
		b.WriteString(" Searched: " + strings.Join(names, ", ") + ".")
	}
	if r, ok := c.Backend.extent(ctx, f.Source); ok {
		b.WriteString(" The data spans " + r.String() + ".")
	}
	var tries []string
	if f.HasRange {
		tries = append(tries, "a wider since/until")
	}
	if f.MinLevel != levelUnknown {
		tries = append(tries, "a lower level or none (lines without a level never match one)")
	}
	if f.Text != "" {
		if f.fold {
			tries = append(tries, "a shorter or different text")
		} else {
			tries = append(tries, "text in lower case (matches any case)")
		}
	}
	if f.Regex != nil || len(f.Fields) > 0 {
		tries = append(tries, "fewer regex/fields conditions (log_fields shows field names and values)")
	}
	if len(tries) == 0 {
		tries = append(tries, "list_log_sources to check what this connection reads")
	}
	b.WriteString(" Try " + strings.Join(tries, "; ") + ".")
	for _, n := range info.Notes {
		b.WriteString("\nNote: " + n)
	}
	return b.String()
}

func (h *handlers) count(ctx context.Context, in countArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	f, err := h.buildFilter(c, in.filterArgs, levelUnknown)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	r := f.Range
	if !f.HasRange {
		ext, ok := c.Backend.extent(ctx, f.Source)
		if !ok {
			return "", toolkit.Errorf("%s: cannot tell the time span of the logs (no timestamps found); pass since and until", c.Name)
		}
		r = ext
	}
	width := timebucket.Width(r.Duration(), 40)
	if in.Bucket != "" {
		width, err = timebucket.ParseWidth(in.Bucket)
		if err != nil {
			return "", toolkit.Errorf("%v", err)
		}
		if r.Duration()/width > 1000 {
			return "", toolkit.Errorf("bucket %s over %s makes %d buckets; use a wider bucket or a shorter range (at most 1000 buckets)", in.Bucket, r.Duration().Round(time.Second), r.Duration()/width)
		}
	}
	counts := timebucket.New(r.Start, r.End, width)
	start := time.Now()
	info, err := c.Backend.count(ctx, f, counts, strings.TrimSpace(in.GroupBy))
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	if counts.Total() == 0 {
		return h.emptyHint(ctx, c, f, info, "lines"), nil
	}
	var b strings.Builder
	pi, peak := counts.Peak()
	pt, _ := counts.Bucket(pi)
	fmt.Fprintf(&b, "%s lines matched %s in %s, in %s buckets from %s (scanned %s, %s). Peak: %s at %s.",
		render.Count(counts.Total()), f.describe(), c.Name, width, logtext.When(counts.Start), info.Scanned, logtext.Millis(time.Since(start)),
		render.Count(peak), pt.Format(timebucket.Layout(width)))
	if counts.Outside > 0 {
		fmt.Fprintf(&b, " %s matching lines had no timestamp or fell outside the buckets.", render.Count(counts.Outside))
	}
	b.WriteByte('\n')
	table, _ := render.Cap(counts.Table(timebucket.TableOptions{SkipEmpty: 3}), h.limits.Bytes-600, "Use a wider bucket or a shorter range.")
	b.WriteString(fence(table))
	h.notes(&b, info)
	return b.String(), nil
}

func (h *handlers) signatures(ctx context.Context, in signaturesArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	f, err := h.buildFilter(c, in.filterArgs, LevelError)
	if err != nil {
		return "", err
	}
	top, err := toolkit.Bounded("top", in.Top, 20, 200)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	start := time.Now()
	t, info, err := c.Backend.signatures(ctx, f)
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	if t.total == 0 {
		return h.emptyHint(ctx, c, f, info, "lines"), nil
	}
	sigs := t.top(top)
	tab := render.NewTable([]render.Column{{Name: "count"}, {Name: "level"}, {Name: "first_seen"}, {Name: "last_seen"}, {Name: "source"}, {Name: "signature"}, {Name: "example"}}, top, h.limits.Bytes)
	tab.MaxCell = 400
	for _, s := range sigs {
		if !tab.Add([][]byte{[]byte(itoa(s.Count)), []byte(s.Level.String()), []byte(logtext.When(s.First)), []byte(logtext.When(s.Last)), []byte(s.Source), []byte(s.Signature), []byte(s.Example)}) {
			break
		}
	}
	summary := fmt.Sprintf("%s lines matched %s in %s, in %s distinct signatures; top %d by count (scanned %s, %s). <n> <hex> <uuid> <ip> <path> <url> <email> and \"*\" mark masked parts.",
		render.Count(t.total), f.describe(), c.Name, render.Count(len(t.m)+t.dropped), len(sigs), info.Scanned, logtext.Millis(time.Since(start)))
	var b strings.Builder
	b.WriteString(tab.Render(summary, "Raise top, or narrow with since/until, source or text."))
	if len(t.m) > len(sigs) {
		fmt.Fprintf(&b, "%d less frequent signatures not shown; raise top or narrow the filter.\n", len(t.m)-len(sigs))
	}
	b.WriteString("Next: search_logs with text from a signature and a window around its last_seen.\n")
	h.notes(&b, info)
	return b.String(), nil
}

func (h *handlers) fields(ctx context.Context, in fieldsArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	f, err := h.buildFilter(c, in.filterArgs, levelUnknown)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	fs, info, err := c.Backend.fields(ctx, f, strings.TrimSpace(in.Field))
	if err != nil {
		return "", h.backendError(ctx, c, err)
	}
	if len(fs.Counts) == 0 {
		if in.Field != "" && fs.Events > 0 {
			return fmt.Sprintf("No line among the %d looked at has the field %q. Call log_fields without field to see the field names.", fs.Events, in.Field), nil
		}
		return h.emptyHint(ctx, c, f, info, "lines"), nil
	}
	var t *render.Table
	var summary string
	from := render.Count(fs.Events) + " lines"
	if fs.Events == 0 {
		from = info.Scanned
	}
	if fs.Key == "" {
		t = render.NewTable([]render.Column{{Name: "field"}, {Name: "lines"}, {Name: "example"}}, 300, h.limits.Bytes)
		summary = fmt.Sprintf("%d fields in %s of %s matching %s.", len(fs.Counts), from, c.Name, f.describe())
	} else {
		t = render.NewTable([]render.Column{{Name: "value"}, {Name: "lines"}}, 100, h.limits.Bytes)
		summary = fmt.Sprintf("%d distinct values of %s in %s of %s matching %s.", len(fs.Counts), fs.Key, from, c.Name, f.describe())
	}
	for _, nc := range fs.Counts {
		n := "-" // the provider gives no count
		if nc.N > 0 {
			n = itoa(nc.N)
		}
		row := [][]byte{[]byte(nc.Name), []byte(n)}
		if fs.Key == "" {
			row = append(row, []byte(nc.Note))
		}
		if !t.Add(row) {
			break
		}
	}
	var b strings.Builder
	b.WriteString(t.Render(summary, "Narrow with since/until, source or text."))
	h.notes(&b, info)
	return b.String(), nil
}
