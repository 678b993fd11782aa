package logs

import (
	"context"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"sort"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timebucket"
	"github.com/opstower/opstower/shared/timerange"
)

// backend is what every provider offers the tools. Local files implement
// each operation with a fast scanner; hosted providers implement fetch and
// get search, counts, signatures and field statistics from fetchOps, so
// the analysis is the same code whatever the logs come from.
type backend interface {
	// sources lists what can be searched: files, datasets, log groups,
	// log names, workers. pattern narrows the list.
	sources(ctx context.Context, pattern string) (*SourceTable, error)
	search(ctx context.Context, f *filter, limit int) (*searchResult, error)
	count(ctx context.Context, f *filter, c *timebucket.Counts, groupBy string) (scanInfo, error)
	signatures(ctx context.Context, f *filter) (*sigTable, scanInfo, error)
	fields(ctx context.Context, f *filter, key string) (*fieldStats, scanInfo, error)
	// lookback is the window searched when the caller gives no since;
	// zero means no window (whole local files).
	lookback() time.Duration
	// extent is the time span of the data, for buckets when no window
	// was given; ok is false when unknown.
	extent(ctx context.Context, source string) (timerange.Range, bool)
	close() error
}

// scanInfo says what an operation looked at, for summaries and for hints
// when nothing matched.
type scanInfo struct {
	Scanned string   // "1.2 GB in 3 files", "5,000 events"
	Sources []string // what was searched
	// Sampled is set when a hosted provider stopped at the event cap:
	// results then cover the newest events only.
	Sampled bool
	Notes   []string // unreadable files and other warnings
}

// searchResult is the newest matches, in time order.
type searchResult struct {
	Events []Event
	Total  int  // matches counted
	More   bool // Total is a lower bound: the backend had more
	scanInfo
}

// SourceTable is a provider's list of sources, as list_log_sources shows
// it: a row of Columns for each source, and a note after the table.
type SourceTable struct {
	Columns []render.Column
	Rows    [][]string
	Note    string
}

// fieldStats are the keys seen in matching events, or one key's values.
type fieldStats struct {
	Key    string // "" when listing keys
	Counts []nameCount
	Events int // events looked at
}

type nameCount struct {
	Name string
	N    int
	Note string // type or example
}

// fetcher is what a hosted provider implements: matching events, newest
// first, at most max of them. It pushes what it can of f to the backend;
// fetchOps applies the whole filter again on what comes back.
type fetcher interface {
	fetch(ctx context.Context, f *filter, max int, fn func(*Event) bool) (scanInfo, error)
}

// fetchOps implements the analysing operations over a fetcher.
type fetchOps struct {
	f fetcher
	// maxScan caps the events one count or signature call reads.
	maxScan int
}

func (o fetchOps) each(ctx context.Context, f *filter, max int, fn func(*Event) bool) (scanInfo, int, error) {
	n := 0
	info, err := o.f.fetch(ctx, f, max, func(e *Event) bool {
		n++
		if !f.match(e) {
			return true
		}
		return fn(e)
	})
	if err != nil {
		return info, n, err
	}
	if info.Scanned == "" {
		info.Scanned = render.Count(n) + " events"
	}
	if n >= max {
		info.Sampled = true
	}
	return info, n, nil
}

// pusher is a fetcher that reports whether the backend applies the whole
// of a filter, so a search can ask for just the lines it shows.
type pusher interface{ pushesAll(f *filter) bool }

// pushedByDefault is what most backends apply: time, text and their
// native filter.
func pushedByDefault(f *filter) bool {
	return f.Regex == nil && len(f.Fields) == 0 && f.MinLevel == levelUnknown
}

// ascender is a fetcher that returns the oldest events first.
type ascender interface{ ascending() bool }

func (o fetchOps) search(ctx context.Context, f *filter, limit int) (*searchResult, error) {
	res := &searchResult{}
	if a, ok := o.f.(ascender); ok && a.ascending() {
		// The newest matches are the last ones: read up to the cap and
		// keep the tail.
		info, _, err := o.each(ctx, f, o.maxScan, func(e *Event) bool {
			res.Total++
			res.Events = append(res.Events, *e)
			if len(res.Events) > 2*limit {
				res.Events = append(res.Events[:0], res.Events[len(res.Events)-limit:]...)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if len(res.Events) > limit {
			res.Events = res.Events[len(res.Events)-limit:]
		}
		res.scanInfo, res.More = info, info.Sampled
		sortEvents(res.Events)
		return res, nil
	}
	max := o.maxScan
	if p, ok := o.f.(pusher); ok && p.pushesAll(f) || !ok && pushedByDefault(f) {
		max = limit + 1
	}
	info, _, err := o.each(ctx, f, max, func(e *Event) bool {
		res.Total++
		if len(res.Events) < limit {
			res.Events = append(res.Events, *e)
			return true
		}
		res.More = true
		return false
	})
	if err != nil {
		return nil, err
	}
	res.scanInfo = info
	if res.More {
		res.Total = limit
	}
	if max == limit+1 {
		// The backend applied the whole filter: "more than limit" says
		// all there is to say.
		res.Sampled = false
	}
	sortEvents(res.Events)
	return res, nil
}

func (o fetchOps) count(ctx context.Context, f *filter, c *timebucket.Counts, groupBy string) (scanInfo, error) {
	info, _, err := o.each(ctx, f, o.maxScan, func(e *Event) bool {
		c.Add(e.Time, groupOf(e, groupBy))
		return true
	})
	return info, err
}

func (o fetchOps) signatures(ctx context.Context, f *filter) (*sigTable, scanInfo, error) {
	t := newSigTable()
	info, _, err := o.each(ctx, f, o.maxScan, func(e *Event) bool {
		t.add(e)
		return true
	})
	return t, info, err
}

func (o fetchOps) fields(ctx context.Context, f *filter, key string) (*fieldStats, scanInfo, error) {
	fs := newFieldCounter(key)
	info, _, err := o.each(ctx, f, min(o.maxScan, 2000), func(e *Event) bool {
		fs.add(e)
		return true
	})
	return fs.result(), info, err
}

// groupOf is the group of an event for counts: its level, a field's
// value, or "" for none.
func groupOf(e *Event, groupBy string) string {
	switch strings.ToLower(groupBy) {
	case "":
		return ""
	case "level", "severity":
		if e.Level == levelUnknown {
			return "none"
		}
		return e.Level.String()
	case "source":
		return e.Source
	}
	if v, ok := e.get(groupBy); ok {
		return logtext.Shorten(logtext.OneLine(v), 60)
	}
	return "(none)"
}

// sortEvents orders events oldest first, keeping the order of equal times.
func sortEvents(es []Event) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
}

// fieldCounter tallies keys (key == "") or one key's values.
type fieldCounter struct {
	key    string
	counts map[string]*nameCount
	events int
}

func newFieldCounter(key string) *fieldCounter {
	return &fieldCounter{key: key, counts: map[string]*nameCount{}}
}

func (c *fieldCounter) add(e *Event) {
	c.events++
	if c.key != "" {
		v, ok := e.get(c.key)
		if !ok {
			return
		}
		v = logtext.Shorten(logtext.OneLine(v), 120)
		nc := c.counts[v]
		if nc == nil {
			if len(c.counts) > 5000 {
				return
			}
			nc = &nameCount{Name: v}
			c.counts[v] = nc
		}
		nc.N++
		return
	}
	bump := func(k, example string) {
		nc := c.counts[k]
		if nc == nil {
			nc = &nameCount{Name: k, Note: logtext.Shorten(logtext.OneLine(example), 60)}
			c.counts[k] = nc
		}
		nc.N++
	}
	if !e.Time.IsZero() {
		bump("time", logtext.When(e.Time))
	}
	if e.Level != levelUnknown {
		bump("level", e.Level.String())
	}
	if e.Message != "" {
		bump("message", e.Message)
	}
	for _, f := range e.Fields {
		bump(f.Key, f.Value)
	}
}

func (c *fieldCounter) result() *fieldStats {
	fs := &fieldStats{Key: c.key, Events: c.events}
	for _, nc := range c.counts {
		fs.Counts = append(fs.Counts, *nc)
	}
	sort.Slice(fs.Counts, func(i, j int) bool {
		if fs.Counts[i].N != fs.Counts[j].N {
			return fs.Counts[i].N > fs.Counts[j].N
		}
		return fs.Counts[i].Name < fs.Counts[j].Name
	})
	return fs
}
