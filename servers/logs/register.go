package logs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Providers from outside this package. The CloudWatch Logs and Cloud
// Logging clients bring the AWS and Google Cloud SDKs, whose package
// initialisation alone adds more than 10 MB of resident memory to every
// process that links them, used or not. So they live in package cloudlogs,
// which registers them from its init: as with database/sql drivers, a
// program has them only if it imports that package. Until then stand-ins
// keep their names known, so New can say what is missing.

// ErrNotLinked is wrapped by the error New returns for a connection to
// CloudWatch Logs or Cloud Logging without package cloudlogs. It is
// connections.ErrNotLinked, which the opstower command handles the same
// way for every category.
var ErrNotLinked = connections.ErrNotLinked

// cloudlogsImport is the package that registers the cloud providers.
const cloudlogsImport = "github.com/opstower/opstower/servers/logs/cloudlogs"

// Provider describes a log provider that Register adds: what every
// provider declares (names, title, settings), how to open a connection,
// and what the tools need to know about the service.
type Provider struct {
	connections.Provider
	// Open opens a connection from its resolved settings. It must not
	// reach the service (servers start without contacting any backend),
	// so a Backend connects on first use.
	Open func(settings config.Values) (Backend, error)
	// NativeFilter describes the service's own filter language for the
	// tools' filter argument, as in "CloudWatch: a filter pattern"; such a
	// filter reaches Fetch in Query.Native. Empty means the service has
	// none, and the argument is refused for its connections.
	NativeFilter string
	// Ascending says Fetch returns the oldest events first, as
	// CloudWatch's FilterLogEvents does: a search then reads up to the
	// scan cap and keeps the newest, instead of stopping at its limit.
	Ascending bool
	// Tools, when set, returns tools only this provider offers (a query
	// language of its own), added when one of its connections is loaded.
	Tools func(conns *Connections) []toolkit.Tool
}

// Backend is an open connection of a registered provider: a hosted
// service that lists its sources and hands back matching events. The
// tools do the rest over Fetch (search, counts over time, error
// signatures, field statistics), the same way for every hosted provider.
// Errors the model can act on (a refused query, an unknown log group)
// should be toolkit errors; the tools name the connection in others.
type Backend interface {
	// Sources lists what can be searched: log groups, log names...
	// pattern, when not empty, narrows the list.
	Sources(ctx context.Context, pattern string) (*SourceTable, error)
	// Fetch reads the events q selects, newest first (oldest first for
	// an Ascending provider), and calls fn with each until fn returns
	// false or max events have been read. It pushes to the service what
	// it can of q: the tools check the whole selection again on every
	// event, so a part of q left out costs reading more, not wrong
	// results.
	Fetch(ctx context.Context, q *Query, max int, fn func(*Event) bool) (Scan, error)
	// AppliesAll reports whether Fetch applies every part of q, so that a
	// search can ask for just the lines it shows rather than read up to
	// the scan cap.
	AppliesAll(q *Query) bool
	// Close releases the connection when the server stops.
	Close() error
}

// A FieldLister is a Backend that knows the fields of a source without
// reading its events (CloudWatch keeps an index of them): log_fields
// called without a field lists these instead of tallying recent events.
type FieldLister interface {
	FieldNames(ctx context.Context, q *Query) ([]FieldName, Scan, error)
}

// FieldName is a field a FieldLister knows, with a note such as how often
// it occurs.
type FieldName struct{ Name, Note string }

// Query is the part of a tool call's selection that a Backend may push to
// its service. The tools also select by regular expression and field
// conditions, which they always check themselves.
type Query struct {
	Range    timerange.Range // the window to read; always set
	MinLevel Level           // the lowest level wanted; zero means any
	// Text is a substring the events contain: in any case when AnyCase
	// is set (Text has no upper-case letter), exactly otherwise.
	Text    string
	AnyCase bool
	// Source is one source from Sources to read; empty means the
	// connection's default.
	Source string
	// Native is a filter in the service's own language, ANDed with the
	// rest; see Provider.NativeFilter.
	Native string
}

// Scan says what a Fetch read, for the tools' summaries.
type Scan struct {
	// Scanned is how much was read, as in "900 events in 3 pages of
	// /ecs/api"; empty means the count of events.
	Scanned string
	Sources []string // what was read: log groups, log names
}

// registryMu guards registry.Providers, which Register changes.
var registryMu sync.RWMutex

// Register adds a log provider from outside this package, or replaces the
// stand-in of the same name (that is how package cloudlogs links
// CloudWatch Logs and Cloud Logging). Call it from an init function. It
// panics when p lacks a Name or an Open, or when one of its names or
// aliases is already another provider's, as when a package registers
// twice.
func Register(p Provider) {
	if p.Name == "" || p.Open == nil {
		panic("logs: Register needs a provider with a Name and an Open")
	}
	rp := &provider{Provider: p.Provider, tools: p.Tools}
	rp.open = func(_ context.Context, v config.Values, _ openOptions) (backend, error) {
		b, err := p.Open(v)
		if err != nil {
			return nil, err
		}
		return newExternal(b, p), nil
	}
	names := append([]string{p.Name}, p.Aliases...)
	registryMu.Lock()
	defer registryMu.Unlock()
	at := -1
	for i, q := range registry.Providers {
		if q.standIn && q.Name == p.Name {
			at = i
			continue
		}
		for _, n := range names {
			if q.Name == n || slices.Contains(q.Aliases, n) {
				panic(fmt.Sprintf("logs: Register: provider name %q is already %s's", n, q.Title))
			}
		}
	}
	if at < 0 {
		registry.Providers = append(registry.Providers, rp)
		return
	}
	registry.Providers[at] = rp
}

// Stand-ins for the providers package cloudlogs registers.
var (
	cloudwatchStandIn = &provider{standIn: true, Provider: connections.Provider{
		Name: "cloudwatch", Aliases: []string{"aws-cloudwatch", "cloudwatch-logs"}, Title: "AWS CloudWatch Logs"}}
	gcloudStandIn = &provider{standIn: true, Provider: connections.Provider{
		Name: "gcloud", Aliases: []string{"gcloud-logging", "google-cloud-logging"}, Title: "Google Cloud Logging"}}
)

// refuseStandIn stops a connection to a stand-in before its settings are
// checked: a stand-in declares none, and what the user must hear about is
// the missing import.
func refuseStandIn(c config.Connection) (*provider, error) {
	name := strings.ToLower(strings.TrimSpace(c.Provider))
	for _, p := range registry.Providers {
		if p.standIn && (p.Name == name || slices.Contains(p.Aliases, name)) {
			return nil, fmt.Errorf("connection %q: %s is %w: import _ %q (the opstower command runs opstower-full for it)",
				cmp.Or(c.Name, p.Name), p.Title, ErrNotLinked, cloudlogsImport)
		}
	}
	return nil, nil
}

// Connections are the open connections of one registered provider, for
// the tools of its own (Provider.Tools).
type Connections struct {
	h   *handlers
	set *connections.Set[*provider, backend]
}

// Schema adapts a tool's input schema to these connections: the
// connection argument is dropped when there is one, and lists them when
// there are several.
func (c *Connections) Schema(s *jsonschema.Schema) { c.set.ConnectionSchema(s) }

// Limits are the server's limits, defaults applied: the rows and bytes a
// result may hold, and how long a call may take.
func (c *Connections) Limits() config.Limits { return c.h.limits }

// Run runs a tool call on the connection it names (the only one when name
// is empty) within the server's time limit: fn gets the connection's
// Backend and a context that ends at the deadline. Errors come back as
// the other tools give them: tool errors unchanged, a deadline as advice
// to narrow the call, others prefixed with the connection's name.
func (c *Connections) Run(ctx context.Context, name string, fn func(ctx context.Context, b Backend) (string, error)) (string, error) {
	conn, err := c.set.Pick(name)
	if err != nil {
		return "", err
	}
	ctx, cancel := c.h.withTimeout(ctx)
	defer cancel()
	out, err := fn(ctx, conn.Backend.(*external).b)
	if err != nil {
		return "", c.h.backendError(ctx, conn, err)
	}
	return out, nil
}

// ParseLine reads a log line the way local files are read (JSON, logfmt
// or plain text, with its time, level, message and fields picked out),
// for services whose entries are lines of text. A time written without a
// year is taken in the current one.
func ParseLine(line, source string) Event {
	b := []byte(line)
	lay := detectLayout(b, time.Now().Year())
	return lay.parseLine(b, source)
}

// external is the backend of a registered provider: fetchOps analyses what
// its Fetch returns, as for the hosted providers of this package.
type external struct {
	fetchOps
	b      Backend
	native string
	ascend bool
}

func newExternal(b Backend, p Provider) *external {
	x := &external{b: b, native: p.NativeFilter, ascend: p.Ascending}
	x.fetchOps = fetchOps{f: x, maxScan: hostedMaxScan}
	return x
}

// query is the part of f that a registered provider's Backend sees.
func (f *filter) query() *Query {
	q := &Query{Range: f.Range, MinLevel: f.MinLevel, Text: f.Text, AnyCase: f.fold, Source: f.Source, Native: f.Native}
	if !f.HasRange {
		now := time.Now()
		q.Range = timerange.Range{Start: now.Add(-hostedLookback), End: now}
	}
	return q
}

func (x *external) sources(ctx context.Context, pattern string) (*SourceTable, error) {
	return x.b.Sources(ctx, pattern)
}

func (x *external) fetch(ctx context.Context, f *filter, max int, fn func(*Event) bool) (scanInfo, error) {
	s, err := x.b.Fetch(ctx, f.query(), max, fn)
	return scanInfo{Scanned: s.Scanned, Sources: s.Sources}, err
}

// pushesAll: regular expressions and field conditions never reach a
// registered Backend.
func (x *external) pushesAll(f *filter) bool {
	return f.Regex == nil && len(f.Fields) == 0 && x.b.AppliesAll(f.query())
}

func (x *external) ascending() bool      { return x.ascend }
func (x *external) nativeFilter() string { return x.native }

func (x *external) fields(ctx context.Context, f *filter, key string) (*fieldStats, scanInfo, error) {
	fl, ok := x.b.(FieldLister)
	if key != "" || !ok {
		return x.fetchOps.fields(ctx, f, key)
	}
	names, s, err := fl.FieldNames(ctx, f.query())
	if err != nil {
		return nil, scanInfo{}, err
	}
	fs := &fieldStats{}
	for _, n := range names {
		fs.Counts = append(fs.Counts, nameCount{Name: n.Name, Note: n.Note})
	}
	return fs, scanInfo{Scanned: s.Scanned, Sources: s.Sources}, nil
}

func (x *external) lookback() time.Duration { return hostedLookback }
func (x *external) extent(context.Context, string) (timerange.Range, bool) {
	return noExtent()
}
func (x *external) close() error { return x.b.Close() }
