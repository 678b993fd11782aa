package logs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// This package's tests never import package cloudlogs, so CloudWatch and
// Cloud Logging are stand-ins here, as in a program that leaves them out.

func TestCloudProvidersNotLinked(t *testing.T) {
	for _, c := range []struct{ provider, title string }{
		{"cloudwatch", "AWS CloudWatch Logs"},
		{"aws-cloudwatch", "AWS CloudWatch Logs"},
		{"cloudwatch-logs", "AWS CloudWatch Logs"},
		{"gcloud", "Google Cloud Logging"},
		{"gcloud-logging", "Google Cloud Logging"},
		{"google-cloud-logging", "Google Cloud Logging"},
	} {
		// Settings the stand-ins do not declare must not hide the
		// missing import behind an "unknown setting" error.
		conn := config.Connection{Name: "prod", Provider: c.provider, Settings: map[string]string{"region": "us-east-1", "project_id": "p"}}
		_, err := New(t.Context(), Config{Connections: []config.Connection{conn}, Lookup: func(string) (string, bool) { return "", false }})
		if !errors.Is(err, ErrNotLinked) {
			t.Errorf("%s: got %v, want an error wrapping ErrNotLinked", c.provider, err)
			continue
		}
		want := `connection "prod": ` + c.title + ` is not linked into this program: import _ "github.com/opstower/opstower/servers/logs/cloudlogs" (the opstower command runs opstower-full for it)`
		if err.Error() != want {
			t.Errorf("%s:\n got %s\nwant %s", c.provider, err, want)
		}
	}
	names := ProviderNames()
	for _, n := range []string{"cloudwatch", "aws-cloudwatch", "gcloud", "google-cloud-logging"} {
		if !slices.Contains(names, n) {
			t.Errorf("ProviderNames() = %v, lacks %s", names, n)
		}
	}
	// Another category's connection with the same provider name is not
	// this server's business.
	files, err := ParseFiles(t.TempDir())
	logstest.Must(t, err)
	other := config.Connection{Name: "x", Category: "databases", Provider: "cloudwatch", Settings: map[string]string{}}
	if _, err := New(t.Context(), Config{Connections: []config.Connection{files, other}}); err != nil {
		t.Errorf("a databases connection named cloudwatch: %v", err)
	}
}

func TestRegisterRefusesTakenNames(t *testing.T) {
	open := func(config.Values) (Backend, error) { return nil, errors.New("unused") }
	for _, p := range []Provider{
		{Provider: connections.Provider{Name: "axiom"}, Open: open},
		{Provider: connections.Provider{Name: "mylogs", Aliases: []string{"cloudwatch-logs"}}, Open: open},
		{Provider: connections.Provider{Name: "memlogs"}, Open: open}, // registered by this file's init
		{Provider: connections.Provider{Name: "nameless-open"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%s, aliases %v) did not panic", p.Name, p.Aliases)
				}
			}()
			Register(p)
		}()
	}
}

// memlogs is a registered provider over events in memory: it checks what
// the tools build on a Backend from outside this package.
func init() {
	Register(Provider{
		Provider: connections.Provider{
			Name: "memlogs", Title: "Memory logs",
			Fields: []config.Field{{Name: "source", Required: true}},
		},
		Open: func(v config.Values) (Backend, error) {
			m := newMemLogs(v.Get("source"))
			memOpened.Store(m)
			return m, nil
		},
		NativeFilter: "memlogs: a word the message must contain",
		Tools: func(conns *Connections) []toolkit.Tool {
			type args struct {
				Connection string `json:"connection,omitempty" jsonschema:"which connection"`
				Fail       bool   `json:"fail,omitempty" jsonschema:"fail"`
			}
			return []toolkit.Tool{toolkit.New(toolkit.Def{
				Name: "memlogs_size", Title: "Memory logs size", Description: "How many events a memlogs connection holds.",
				Hints: toolkit.Read, Schema: conns.Schema,
			}, func(ctx context.Context, in args) (string, error) {
				return conns.Run(ctx, in.Connection, func(ctx context.Context, b Backend) (string, error) {
					if _, ok := ctx.Deadline(); !ok {
						return "", errors.New("no deadline")
					}
					if in.Fail {
						return "", errors.New("the store is gone")
					}
					m := b.(*memLogs)
					return fmt.Sprintf("%d events in %s (%s)", len(m.events), m.source, time.Duration(conns.Limits().Timeout)), nil
				})
			})}
		},
	})
}

// memOpened is the memlogs connection opened last.
var memOpened atomic.Pointer[memLogs]

type memLogs struct {
	source  string
	events  []Event // newest first
	mu      sync.Mutex
	last    Query // what Fetch was given last
	lastMax int
}

// lastFetch returns what Fetch was given last.
func (m *memLogs) lastFetch() (Query, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.lastMax
}

func newMemLogs(source string) *memLogs {
	m := &memLogs{source: source}
	for ts := logstest.Start; ts.Before(logstest.Start.Add(2 * time.Hour)); ts = ts.Add(time.Minute) {
		lv, msg := "info", "checkout ok"
		if !ts.Before(logstest.IncidentFrom) && ts.Before(logstest.IncidentTo) {
			lv, msg = "error", "checkout failed: timeout after 30s"
		}
		m.events = slices.Insert(m.events, 0, ParseLine(fmt.Sprintf(`{"time":%q,"level":%q,"msg":%q,"region":"eu"}`, ts.Format(time.RFC3339), lv, msg), source))
	}
	return m
}

func (m *memLogs) Sources(context.Context, string) (*SourceTable, error) {
	return &SourceTable{Columns: []render.Column{{Name: "name"}}, Rows: [][]string{{m.source}}, Note: "In memory."}, nil
}

func (m *memLogs) Fetch(_ context.Context, q *Query, max int, fn func(*Event) bool) (Scan, error) {
	m.mu.Lock()
	m.last, m.lastMax = *q, max
	m.mu.Unlock()
	n := 0
	for i := range m.events {
		e := m.events[i]
		if !q.Range.Contains(e.Time) || q.Native != "" && !strings.Contains(e.Message, q.Native) {
			continue
		}
		n++
		if !fn(&e) || n >= max {
			break
		}
	}
	return Scan{Sources: []string{m.source}}, nil
}

func (m *memLogs) AppliesAll(q *Query) bool { return q.Text == "" && q.MinLevel == 0 }
func (m *memLogs) Close() error             { return nil }

func (m *memLogs) FieldNames(context.Context, *Query) ([]FieldName, Scan, error) {
	return []FieldName{{Name: "region", Note: "always there"}}, Scan{Scanned: "the index"}, nil
}

func TestRegisteredProvider(t *testing.T) {
	t.Parallel()
	conn := config.Connection{Name: "mem", Provider: "memlogs", Settings: map[string]string{"source": "shop"}}
	cs := serveConns(t, []config.Connection{conn}, nil)
	m := memOpened.Load()
	window := map[string]any{"since": "2026-03-01T10:00:00Z", "until": "2026-03-01T12:00:00Z"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{"since": window["since"], "until": window["until"]}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}

	out := mcptest.MustText(t, cs, "list_log_sources", nil)
	logstest.ContainsAll(t, "sources", out, "1 sources in mem (Memory logs). In memory.", "shop")

	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"level": "error", "limit": 2}))
	logstest.ContainsAll(t, "search, level checked by the tools", out, "more than 2 lines matched", "Showing the newest 2", "11:09:00.000 ERROR checkout failed")
	q, max := m.lastFetch()
	if want := (Query{Range: q.Range, MinLevel: LevelError}); q != want || max != hostedMaxScan {
		t.Errorf("Fetch got %+v, max %d; want %+v, max %d", q, max, want, hostedMaxScan)
	}
	if got := q.Range.String(); !strings.Contains(got, "2026-03-01T10:00") {
		t.Errorf("Query.Range = %s", got)
	}

	mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "Checkout", "source": "shop", "limit": 2}))
	if q, _ := m.lastFetch(); q.Text != "Checkout" || q.AnyCase || q.Source != "shop" {
		t.Errorf("text with upper case: Fetch got %+v", q)
	}
	mcptest.MustText(t, cs, "search_logs", with(map[string]any{"text": "checkout", "limit": 2}))
	if q, _ := m.lastFetch(); q.Text != "checkout" || !q.AnyCase {
		t.Errorf("lower-case text: Fetch got %+v", q)
	}
	// A search the backend applies whole asks for just the lines it
	// shows; a regex is never the backend's, so it reads up to the cap.
	out = mcptest.MustText(t, cs, "search_logs", with(map[string]any{"limit": 2}))
	logstest.ContainsAll(t, "applied whole", out, "more than 2 lines matched", "11:59:00.000 INFO checkout ok")
	if _, max := m.lastFetch(); max != 3 {
		t.Errorf("a search the backend applies whole read at most %d events, want 3", max)
	}
	mcptest.MustText(t, cs, "search_logs", with(map[string]any{"regex": "ok$", "limit": 2}))
	if _, max := m.lastFetch(); max != hostedMaxScan {
		t.Errorf("a search with a regex read at most %d events, want the cap %d", max, hostedMaxScan)
	}

	out = mcptest.MustText(t, cs, "count_logs", with(map[string]any{"bucket": "1h", "filter": "failed"}))
	logstest.ContainsAll(t, "native filter", out, "10 lines matched", `filter "failed"`)

	out = mcptest.MustText(t, cs, "log_fields", window)
	logstest.ContainsAll(t, "field names from the FieldLister", out, "region,-,always there")
	out = mcptest.MustText(t, cs, "log_fields", with(map[string]any{"field": "region", "regex": "fail"}))
	logstest.ContainsAll(t, "values from events", out, "1 distinct values of region", "eu,10")

	out = mcptest.MustText(t, cs, "memlogs_size", nil)
	logstest.ContainsAll(t, "provider's own tool", out, "120 events in shop (30s)")
	msg := mcptest.MustError(t, cs, "memlogs_size", map[string]any{"fail": true})
	logstest.ContainsAll(t, "provider's tool error names the connection", msg, "mem (Memory logs): the store is gone")
}
