package errors

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

type handlers struct {
	conns  *connections.Set[*provider, tracker]
	limits config.Limits
}

// Arguments of each tool. The connection argument is dropped from the
// schema when only one connection is loaded. Lists of projects are
// comma-separated strings rather than arrays, whose inferred schema
// ("type": ["null", "array"]) some model providers reject.
type (
	projectsArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
	}
	issuesArgs struct {
		Connection  string  `json:"connection,omitempty" jsonschema:"which connection"`
		Query       *string `json:"query,omitempty" jsonschema:"Sentry search, default is:unresolved; e.g. level:error release:1.2 TypeError; \"\" for all"`
		Project     string  `json:"project,omitempty" jsonschema:"project slugs, comma-separated"`
		Environment string  `json:"environment,omitempty" jsonschema:"only this environment"`
		Sort        string  `json:"sort,omitempty" jsonschema:"order"`
		Since       string  `json:"since,omitempty" jsonschema:"start: 14d (default), 2h, 2026-03-01"`
		Until       string  `json:"until,omitempty" jsonschema:"end, default now"`
		Limit       int     `json:"limit,omitempty" jsonschema:"issues to return"`
	}
	issueArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Issue      string `json:"issue" jsonschema:"issue ID, short ID (WEB-3F) or URL"`
		Event      string `json:"event,omitempty" jsonschema:"latest (default), oldest, recommended or an event ID"`
		Full       bool   `json:"full,omitempty" jsonschema:"show every frame and breadcrumb"`
	}
	eventsArgs struct {
		Connection  string `json:"connection,omitempty" jsonschema:"which connection"`
		Issue       string `json:"issue" jsonschema:"issue ID, short ID or URL"`
		Query       string `json:"query,omitempty" jsonschema:"event search, e.g. release:1.2.3 user.id:42"`
		Environment string `json:"environment,omitempty" jsonschema:"only this environment"`
		Since       string `json:"since,omitempty" jsonschema:"start, default all retained events"`
		Until       string `json:"until,omitempty" jsonschema:"end, default now"`
		Limit       int    `json:"limit,omitempty" jsonschema:"events to return"`
	}
	statsArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		GroupBy    string `json:"group_by,omitempty" jsonschema:"outcome (default): series per outcome; project: totals"`
		Project    string `json:"project,omitempty" jsonschema:"project slugs, comma-separated"`
		Since      string `json:"since,omitempty" jsonschema:"start: 24h (default), 7d, 2026-03-01"`
		Until      string `json:"until,omitempty" jsonschema:"end, default now"`
		Interval   string `json:"interval,omitempty" jsonschema:"default by range"`
	}
	releasesArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Project    string `json:"project,omitempty" jsonschema:"project slugs, comma-separated"`
		Query      string `json:"query,omitempty" jsonschema:"part of the version"`
		Limit      int    `json:"limit,omitempty" jsonschema:"releases to return"`
	}
)

func (h *handlers) tools() []toolkit.Tool {
	limit := func(s *jsonschema.Schema, def int) {
		s.Properties["limit"].Description = fmt.Sprintf("default %d, at most %d", def, h.limits.MaxRows)
	}
	return []toolkit.Tool{
		toolkit.New(toolkit.Def{
			Name:        "list_projects",
			Title:       "List error-tracking projects",
			Description: "Projects (slug, platform, created, first event): the slugs other tools take.",
			Hints:       toolkit.ReadOpenWorld,
			Schema:      h.conns.ConnectionSchema,
		}, h.listProjects),
		toolkit.NewStructured(toolkit.Def{
			Name:  "list_issues",
			Title: "Search issues",
			Description: "Issues (errors grouped by cause), one line each: events, users, level, status, first/last seen, title. " +
				"Defaults: is:unresolved, last 14 days, most events first. Start here; get_issue shows one.",
			Hints: toolkit.ReadOpenWorld,
			Schema: func(s *jsonschema.Schema) {
				h.conns.ConnectionSchema(s)
				// A pointer tells an omitted query (the default) from "" (every
				// status); the schema still says plain string. Not a schema
				// default: go-sdk v1.8.0 panics applying defaults to a call
				// whose arguments are null.
				s.Properties["query"].Types, s.Properties["query"].Type = nil, "string"
				toolkit.SetEnum(s, "sort", sortKeys)
				s.Properties["sort"].Description = "order, default events"
				limit(s, h.limits.Rows)
			},
		}, h.listIssues),
		toolkit.New(toolkit.Def{
			Name:  "get_issue",
			Title: "Get issue with stack trace",
			Description: "One issue and one of its events (the latest by default): exception, stack trace with the application's frames " +
				"and source lines (library frames collapsed), breadcrumbs, request, user, tags.",
			Hints:  toolkit.ReadOpenWorld,
			Schema: h.conns.ConnectionSchema,
		}, h.getIssue),
		toolkit.New(toolkit.Def{
			Name:        "list_issue_events",
			Title:       "List an issue's events",
			Description: "An issue's events, newest first: time, environment, release, user, message. get_issue with event=ID shows one.",
			Hints:       toolkit.ReadOpenWorld,
			Schema: func(s *jsonschema.Schema) {
				h.conns.ConnectionSchema(s)
				limit(s, min(h.limits.Rows, 25))
			},
		}, h.listIssueEvents),
		toolkit.NewStructured(toolkit.Def{
			Name:        "error_stats",
			Title:       "Error volume over time",
			Description: "Error events received over time by outcome (accepted, filtered, rate_limited...) or per project. Default: last 24h, hourly.",
			Hints:       toolkit.ReadOpenWorld,
			Schema: func(s *jsonschema.Schema) {
				h.conns.ConnectionSchema(s)
				toolkit.SetEnum(s, "group_by", []string{"outcome", "project"})
				toolkit.SetEnum(s, "interval", []string{"1h", "6h", "1d"})
			},
		}, h.errorStats),
		toolkit.New(toolkit.Def{
			Name:        "list_releases",
			Title:       "List releases",
			Description: "Releases, newest first: version, created, new issues, last event, deploys, projects.",
			Hints:       toolkit.ReadOpenWorld,
			Schema: func(s *jsonschema.Schema) {
				h.conns.ConnectionSchema(s)
				limit(s, min(h.limits.Rows, 25))
			},
		}, h.listReleases),
	}
}

// start bounds a call by the configured deadline.
func (h *handlers) start(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(h.limits.Timeout))
}

// rows checks a limit argument; zero means def.
func (h *handlers) rows(limit, def int) (int, error) {
	return toolkit.Bounded("limit", limit, def, h.limits.MaxRows)
}

// window reads since/until with a default lookback.
func (h *handlers) window(since, until string, lookback time.Duration) (timerange.Range, error) {
	r, err := timerange.Parse(since, until, time.Now(), lookback)
	if err != nil {
		return timerange.Range{}, toolkit.Errorf("%v", err)
	}
	return r, nil
}

// cells turns values into table cells; an empty value is an empty field.
func cells(vals ...string) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if v != "" {
			out[i] = []byte(v)
		}
	}
	return out
}

// cellTime is a time for a table cell: RFC 3339 in UTC, empty when unknown.
func cellTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// splitList reads a comma-separated argument.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// where describes the projects a call covers, for summary lines.
func where(t tracker, projects []string) string {
	switch {
	case len(projects) > 0:
		return t.organization() + "/" + strings.Join(projects, ",")
	case len(t.scope()) > 0:
		return t.organization() + "/" + strings.Join(t.scope(), ",")
	}
	return t.organization() + " (all projects)"
}
