package errors

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/opstower/opstower/shared/httpapi"
)

func (s *sentryClient) stats(ctx context.Context, q statsQuery) (*stats, error) {
	ids, err := s.projectIDs(ctx, q.Projects)
	if err != nil {
		return nil, err
	}
	v := url.Values{
		"field":    {"sum(quantity)"},
		"category": {"error"},
		"groupBy":  {"outcome"},
		"interval": {sentryInterval(q.Interval)},
		"start":    {q.Start.UTC().Format(sentryTimeFormat)},
		"end":      {q.End.UTC().Format(sentryTimeFormat)},
		"project":  ids,
	}
	if q.GroupBy == "project" {
		v.Add("groupBy", "project")
	}
	var raw sentryStats
	if _, err := s.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: s.orgPath("stats_v2"), Query: v, What: "organization " + s.org}, &raw); err != nil {
		return nil, s.explain(err, "")
	}
	out := &stats{Start: raw.Start.Time, End: raw.End.Time}
	for _, t := range raw.Intervals {
		out.Intervals = append(out.Intervals, t.Time)
	}
	var slugs map[string]string
	if q.GroupBy == "project" {
		all, _, err := s.allProjects(ctx)
		if err != nil {
			return nil, err
		}
		slugs = make(map[string]string, len(all))
		for _, p := range all {
			slugs[p.ID] = p.Slug
		}
	}
	for _, g := range raw.Groups {
		sg := statsGroup{Outcome: string(g.By["outcome"])}
		if sg.Outcome == "" {
			sg.Outcome = "unknown"
		}
		if id := string(g.By["project"]); id != "" {
			sg.Project = slugs[id]
			if sg.Project == "" {
				sg.Project = "project " + id
			}
		}
		sg.Total = number(g.Totals["sum(quantity)"])
		if series, ok := g.Series["sum(quantity)"]; ok {
			sg.Series = make([]int64, len(series))
			for i, n := range series {
				sg.Series[i] = number(n)
			}
		}
		out.Groups = append(out.Groups, sg)
	}
	return out, nil
}

// sentryInterval writes a stats interval the way stats_v2 takes it.
func sentryInterval(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h"
}

func number(n json.Number) int64 {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return int64(f)
}

func (s *sentryClient) releases(ctx context.Context, q releaseQuery) (*releasePage, error) {
	v := url.Values{}
	if q.Query != "" {
		v.Set("query", q.Query)
	}
	if len(q.Projects) > 0 || len(s.scopeList) > 0 {
		ids, err := s.projectIDs(ctx, q.Projects)
		if err != nil {
			return nil, err
		}
		v["project"] = ids
	}
	raw, more, _, err := sentryList[sentryRelease](ctx, s, s.orgPath("releases"), v, "per_page", q.Limit, "organization "+s.org, "")
	if err != nil {
		return nil, err
	}
	page := &releasePage{More: more}
	for _, r := range raw {
		page.Releases = append(page.Releases, r.model())
	}
	return page, nil
}
