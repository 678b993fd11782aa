package errors

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timebucket"
	"github.com/opstower/opstower/shared/toolkit"
)

// defaultStatsWindow is error_stats' lookback.
const defaultStatsWindow = 24 * time.Hour

// statsIntervals are the bucket sizes error_stats offers; Sentry accepts
// intervals from one hour to one day that divide a day.
var statsIntervals = map[string]time.Duration{"1h": time.Hour, "6h": 6 * time.Hour, "1d": 24 * time.Hour}

// errorStats is error_stats' structured result: counts per interval for
// each outcome (or per project and outcome), for charts and reports.
type errorStats struct {
	Organization string        `json:"organization"`
	GroupBy      string        `json:"group_by"`
	Start        string        `json:"start"`
	End          string        `json:"end"`
	Interval     string        `json:"interval"`
	Intervals    []string      `json:"intervals"`
	Total        int64         `json:"total"`
	Groups       []statsSeries `json:"groups"`
}

type statsSeries struct {
	Outcome string  `json:"outcome"`
	Project string  `json:"project"`
	Total   int64   `json:"total"`
	Series  []int64 `json:"series"`
}

// outcomeOrder lists Sentry's outcomes in the order people read them.
var outcomeOrder = []string{"accepted", "filtered", "rate_limited", "invalid", "abuse", "client_discard", "cardinality_limited"}

func (h *handlers) errorStats(ctx context.Context, in statsArgs) (string, errorStats, error) {
	var out errorStats
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", out, err
	}
	groupBy := in.GroupBy
	if groupBy == "" {
		groupBy = "outcome"
	}
	if groupBy != "outcome" && groupBy != "project" {
		return "", out, toolkit.Errorf("group_by must be outcome or project")
	}
	win, err := h.window(in.Since, in.Until, defaultStatsWindow)
	if err != nil {
		return "", out, err
	}
	interval, label := autoInterval(win.Duration()), ""
	if in.Interval != "" {
		d, ok := statsIntervals[in.Interval]
		if !ok {
			return "", out, toolkit.Errorf("interval must be 1h, 6h or 1d")
		}
		interval = d
	}
	for k, v := range statsIntervals {
		if v == interval {
			label = k
		}
	}
	if n := int(win.Duration() / interval); n > h.limits.MaxRows {
		return "", out, toolkit.Errorf("%s by %s is %d intervals, more than %d; use a larger interval or a shorter range", win.Duration(), label, n, h.limits.MaxRows)
	}
	projects := splitList(in.Project)
	ctx, cancel := h.start(ctx)
	defer cancel()
	st, err := c.Backend.stats(ctx, statsQuery{GroupBy: groupBy, Projects: projects, Start: win.Start, End: win.End, Interval: interval})
	if err != nil {
		return "", out, err
	}
	out = errorStats{Organization: c.Backend.organization(), GroupBy: groupBy, Start: stamp(st.Start), End: stamp(st.End), Interval: label,
		Intervals: make([]string, len(st.Intervals)), Groups: make([]statsSeries, 0, len(st.Groups))}
	if st.Start.IsZero() {
		out.Start, out.End = stamp(win.Start), stamp(win.End)
	}
	for i, t := range st.Intervals {
		out.Intervals[i] = stamp(t)
	}
	for _, g := range st.Groups {
		out.Total += g.Total
		out.Groups = append(out.Groups, statsSeries{Outcome: g.Outcome, Project: g.Project, Total: g.Total, Series: g.Series})
	}
	sort.SliceStable(out.Groups, func(i, j int) bool { return out.Groups[i].Total > out.Groups[j].Total })
	scope := where(c.Backend, projects)
	head := fmt.Sprintf("Error events in %s, %s to %s", scope, out.Start, out.End)
	if out.Total == 0 {
		return head + ": none received. Widen since, or check list_projects: projects that send no errors report zero.", out, nil
	}
	if groupBy == "project" {
		return h.statsByProject(head, st), out, nil
	}
	return h.statsByOutcome(head, interval, label, st), out, nil
}

// autoInterval picks hourly buckets for up to three days, six-hourly up to
// two weeks, daily beyond.
func autoInterval(d time.Duration) time.Duration {
	switch {
	case d <= 72*time.Hour:
		return time.Hour
	case d <= 14*24*time.Hour:
		return 6 * time.Hour
	}
	return 24 * time.Hour
}

// statsByOutcome writes one row per interval with the count per outcome
// and a bar, in the shape every server uses for counts over time.
func (h *handlers) statsByOutcome(head string, width time.Duration, label string, st *stats) string {
	if len(st.Intervals) == 0 {
		return head + ": the tracker returned no intervals."
	}
	c := timebucket.New(st.Intervals[0], st.Intervals[len(st.Intervals)-1].Add(width), width)
	totals := map[string]int64{}
	for _, g := range st.Groups {
		totals[g.Outcome] += g.Total
		for i, n := range g.Series {
			if i < len(st.Intervals) {
				c.AddN(st.Intervals[i], g.Outcome, int(n))
			}
		}
	}
	var parts []string
	for _, o := range presentOutcomes(totals) {
		parts = append(parts, render.Count(int(totals[o]))+" "+o)
	}
	text := fmt.Sprintf("%s by %s: %s.\n", head, label, strings.Join(parts, ", ")) +
		c.Table(timebucket.TableOptions{MaxGroups: len(outcomeOrder), SkipEmpty: 3})
	text, _ = render.Cap(text, h.limits.Bytes, "Use a larger interval or a shorter range.")
	return text
}

// statsByProject writes one row per project with its total per outcome.
func (h *handlers) statsByProject(head string, st *stats) string {
	perProject := map[string]map[string]int64{}
	outcomeTotals := map[string]int64{}
	for _, g := range st.Groups {
		if perProject[g.Project] == nil {
			perProject[g.Project] = map[string]int64{}
		}
		perProject[g.Project][g.Outcome] += g.Total
		outcomeTotals[g.Outcome] += g.Total
	}
	outcomes := presentOutcomes(outcomeTotals)
	sum := func(m map[string]int64) int64 {
		var n int64
		for _, v := range m {
			n += v
		}
		return n
	}
	projects := make([]string, 0, len(perProject))
	for p := range perProject {
		projects = append(projects, p)
	}
	sort.Slice(projects, func(i, j int) bool {
		a, b := sum(perProject[projects[i]]), sum(perProject[projects[j]])
		if a != b {
			return a > b
		}
		return projects[i] < projects[j]
	})
	cols := []render.Column{{Name: "project"}, {Name: "total"}}
	for _, o := range outcomes {
		cols = append(cols, render.Column{Name: o})
	}
	t := render.NewTable(cols, h.limits.MaxRows, h.limits.Bytes)
	for _, p := range projects {
		row := [][]byte{[]byte(p), strconv.AppendInt(nil, sum(perProject[p]), 10)}
		for _, o := range outcomes {
			row = append(row, strconv.AppendInt(nil, perProject[p][o], 10))
		}
		if !t.Add(row) {
			break
		}
	}
	summary := fmt.Sprintf("%s, per project (most events first): %s events in %d projects.", head, render.Count(int(sum(outcomeTotals))), len(projects))
	return t.Render(summary, "Pass project to see fewer projects.")
}

// presentOutcomes lists the outcomes with events, known ones in reading
// order, then any others by name.
func presentOutcomes(totals map[string]int64) []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range outcomeOrder {
		if _, ok := totals[o]; ok {
			out = append(out, o)
			seen[o] = true
		}
	}
	var rest []string
	for o := range totals {
		if !seen[o] {
			rest = append(rest, o)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
