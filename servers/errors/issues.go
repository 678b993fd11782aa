package errors

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// defaultIssueWindow is list_issues' lookback, Sentry's own default view.
const defaultIssueWindow = 14 * 24 * time.Hour

// issueList is list_issues' structured result, what a program such as a
// report generator reads instead of the text.
type issueList struct {
	Organization string      `json:"organization"`
	Query        string      `json:"query"`
	Sort         string      `json:"sort"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	Total        int         `json:"total"` // -1 when the tracker did not count
	More         bool        `json:"more"`
	Issues       []issueItem `json:"issues"`
}

type issueItem struct {
	ID        string `json:"id"`
	ShortID   string `json:"short_id"`
	Title     string `json:"title"`
	Culprit   string `json:"culprit"`
	Level     string `json:"level"`
	Status    string `json:"status"`
	Substatus string `json:"substatus"`
	Project   string `json:"project"`
	Events    int64  `json:"events"`
	Users     int64  `json:"users"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Link      string `json:"link"`
}

// sortWords says in a summary line what each sort key means.
var sortWords = map[string]string{
	"events": "most events first", "last_seen": "most recently seen first", "first_seen": "newest first",
	"users": "most users first", "trends": "trending first",
}

func (h *handlers) listIssues(ctx context.Context, in issuesArgs) (string, issueList, error) {
	var out issueList
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", out, err
	}
	limit, err := h.rows(in.Limit, h.limits.Rows)
	if err != nil {
		return "", out, err
	}
	sort := in.Sort
	if sort == "" {
		sort = "events"
	}
	if _, ok := sortWords[sort]; !ok {
		return "", out, toolkit.Errorf("sort %q is not one of %s", in.Sort, strings.Join(sortKeys, ", "))
	}
	win, err := h.window(in.Since, in.Until, defaultIssueWindow)
	if err != nil {
		return "", out, err
	}
	projects := splitList(in.Project)
	ctx, cancel := h.start(ctx)
	defer cancel()
	query := "is:unresolved"
	if in.Query != nil {
		query = strings.TrimSpace(*in.Query)
	}
	q := issueQuery{Query: query, Projects: projects, Environment: in.Environment, Sort: sort, Start: win.Start, End: win.End, Limit: limit}
	page, err := c.Backend.issues(ctx, q)
	if err != nil {
		return "", out, err
	}
	out = issueList{
		Organization: c.Backend.organization(), Query: q.Query, Sort: sort, Start: stamp(win.Start), End: stamp(win.End),
		Total: page.Total, More: page.More, Issues: make([]issueItem, 0, len(page.Issues)),
	}
	for _, is := range page.Issues {
		out.Issues = append(out.Issues, issueItem{
			ID: is.ID, ShortID: is.ShortID, Title: is.Title, Culprit: is.Culprit, Level: is.Level, Status: is.Status,
			Substatus: is.Substatus, Project: is.Project, Events: is.Events, Users: is.Users,
			FirstSeen: stamp(is.FirstSeen), LastSeen: stamp(is.LastSeen), Link: is.Link,
		})
	}
	scope := where(c.Backend, projects)
	span := fmt.Sprintf("%s to %s", stamp(win.Start), stamp(win.End))
	if env := in.Environment; env != "" {
		span += ", environment " + env
	}
	if len(page.Issues) == 0 {
		return fmt.Sprintf("No issues match %q in %s, %s. Widen since, drop terms from the query, or pass query \"\" to include resolved and ignored issues.", q.Query, scope, span), out, nil
	}
	template := linkTemplate(page.Issues)
	cols := []render.Column{{Name: "id"}, {Name: "short_id"}, {Name: "project"}, {Name: "level"}, {Name: "status"}, {Name: "events"}, {Name: "users"},
		{Name: "first_seen"}, {Name: "last_seen"}, {Name: "title"}, {Name: "culprit"}}
	if template == "" {
		cols = append(cols, render.Column{Name: "link"})
	}
	t := render.NewTable(cols, limit, h.limits.Bytes)
	for _, is := range page.Issues {
		row := cells(is.ID, is.ShortID, is.Project, is.Level, statusText(is), strconv.FormatInt(is.Events, 10),
			strconv.FormatInt(is.Users, 10), cellTime(is.FirstSeen), cellTime(is.LastSeen), oneLine(is.Title), oneLine(is.Culprit))
		if template == "" {
			row = append(row, cells(is.Link)...)
		}
		if !t.Add(row) {
			break
		}
	}
	count := fmt.Sprintf("%d", len(page.Issues))
	switch {
	case page.Total > len(page.Issues):
		count = fmt.Sprintf("%d of %s", len(page.Issues), render.Count(page.Total))
	case page.More:
		count = fmt.Sprintf("First %d", len(page.Issues))
	}
	summary := fmt.Sprintf("%s %s matching %q in %s, %s, %s (times UTC).", count, plural(max(page.Total, len(page.Issues)), "issue", "issues"), q.Query, scope, span, sortWords[sort])
	text := t.Render(summary, fmt.Sprintf("Narrow the query (level:error, release:..., a project) or raise limit (at most %d).", h.limits.MaxRows))
	if template != "" {
		text += "Open an issue at " + template + ". get_issue takes the id or short_id.\n"
	}
	if page.More && !t.Full() {
		text += fmt.Sprintf("More issues match; raise limit (at most %d) or narrow the query.\n", h.limits.MaxRows)
	}
	return text, out, nil
}

// statusText is the status, with the substatus that says why an
// unresolved issue matters (new, regressed, escalating).
func statusText(is issue) string {
	if is.Substatus != "" && is.Substatus != is.Status {
		return is.Status + "/" + is.Substatus
	}
	return is.Status
}

// linkTemplate returns the issues' common permalink with {id} for the ID
// ("https://acme.sentry.io/issues/{id}/"), so a list says it once instead
// of once per row; "" when the links do not share one form.
func linkTemplate(issues []issue) string {
	template := ""
	for _, is := range issues {
		if is.Link == "" || is.ID == "" {
			return ""
		}
		marker := "/" + is.ID + "/"
		i := strings.LastIndex(is.Link, marker)
		if i < 0 {
			return ""
		}
		t := is.Link[:i] + "/{id}/" + is.Link[i+len(marker):]
		if template != "" && t != template {
			return ""
		}
		template = t
	}
	return template
}

func (h *handlers) getIssue(ctx context.Context, in issueArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Issue) == "" {
		return "", toolkit.Errorf("issue is empty; pass an id or short_id from list_issues")
	}
	if _, err := eventRef(in.Event); err != nil {
		return "", err
	}
	ctx, cancel := h.start(ctx)
	defer cancel()
	is, err := c.Backend.issue(ctx, in.Issue)
	if err != nil {
		return "", err
	}
	ev, err := c.Backend.event(ctx, is, in.Event)
	if err != nil {
		return "", err
	}
	which := "the latest event"
	switch ref, _ := eventRef(in.Event); {
	case ev == nil:
		which = "no event: none is retained for this issue"
	case ref == "oldest":
		which = "the oldest event"
	case ref == "recommended":
		which = "the event Sentry recommends"
	case ref != "latest":
		which = "event " + ref
	}
	summary := fmt.Sprintf("Issue %s (id %s) in project %s: %s events, %s users; %s, %s; first seen %s, last seen %s. Showing %s.",
		is.ShortID, is.ID, is.Project, render.Count(int(is.Events)), render.Count(int(is.Users)), levelText(is), statusText(*is),
		stamp(is.FirstSeen), stamp(is.LastSeen), which)
	view := renderEvent(is, ev, in.Full, c.Backend.showsPII())
	footer := "Never shown: local variables, cookies, request bodies, credentials."
	if len(view.trimmed) > 0 {
		footer = "[trimmed] " + strings.Join(view.trimmed, "; ") + ". " + footer
	}
	if !in.Full {
		footer += " full=true shows every frame and breadcrumb;"
	}
	footer += " list_issue_events lists other occurrences."
	budget := h.limits.Bytes - len(summary) - len(footer) - 200
	body, cut := capLines(view.body, budget)
	if cut > 0 {
		footer = fmt.Sprintf("[cut] %s of breadcrumbs and details beyond the %s text cap not shown. ", render.Bytes(cut), render.Bytes(h.limits.Bytes)) + footer
	}
	return summary + "\n" + fence(body) + footer + "\n", nil
}

func levelText(is *issue) string {
	l := is.Level
	if l == "" {
		l = "level unknown"
	}
	if is.Unhandled {
		l += ", unhandled"
	}
	return l
}

// capLines cuts text at a line boundary to at most max bytes and reports
// how many bytes were left out.
func capLines(text string, max int) (string, int) {
	if max < 256 {
		max = 256
	}
	if len(text) <= max {
		return text, 0
	}
	cut := strings.LastIndexByte(text[:max], '\n')
	if cut < max/2 {
		cut = max
		for cut > 0 && text[cut]&0xC0 == 0x80 {
			cut--
		}
	}
	return text[:cut], len(text) - cut
}
