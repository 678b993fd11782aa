package errors

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// defaultEventWindow is the lookback used when only until is given; with
// neither, the tracker's whole retention is searched.
const defaultEventWindow = 90 * 24 * time.Hour

func (h *handlers) listIssueEvents(ctx context.Context, in eventsArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Issue) == "" {
		return "", toolkit.Errorf("issue is empty; pass an id or short_id from list_issues")
	}
	limit, err := h.rows(in.Limit, min(h.limits.Rows, 25))
	if err != nil {
		return "", err
	}
	q := eventQuery{Query: strings.TrimSpace(in.Query), Environment: in.Environment, Limit: limit}
	span := "all retained events"
	if in.Since != "" || in.Until != "" {
		win, err := h.window(in.Since, in.Until, defaultEventWindow)
		if err != nil {
			return "", err
		}
		q.Start, q.End = win.Start, win.End
		span = fmt.Sprintf("%s to %s", stamp(win.Start), stamp(win.End))
	}
	ctx, cancel := h.start(ctx)
	defer cancel()
	is, err := c.Backend.issue(ctx, in.Issue)
	if err != nil {
		return "", err
	}
	page, err := c.Backend.events(ctx, is, q)
	if err != nil {
		return "", err
	}
	filter := ""
	if q.Query != "" {
		filter = fmt.Sprintf(" matching %q", q.Query)
	}
	if in.Environment != "" {
		filter += " in environment " + in.Environment
	}
	if len(page.Events) == 0 {
		return fmt.Sprintf("No events of issue %s%s (%s). Drop the query or widen since; the issue has %s events in total.",
			is.ShortID, filter, span, render.Count(int(is.Events))), nil
	}
	t := render.NewTable([]render.Column{{Name: "event_id"}, {Name: "time"}, {Name: "environment"}, {Name: "release"}, {Name: "user"}, {Name: "location"}, {Name: "message"}}, limit, h.limits.Bytes)
	for _, e := range page.Events {
		if !t.Add(cells(e.ID, cellTime(e.Time), e.Environment, e.Release, userCell(e.User, c.Backend.showsPII()),
			oneLine(e.Location), clip(oneLine(scrubText(e.Message)), 300))) {
			break
		}
	}
	n := fmt.Sprintf("%d", len(page.Events))
	if page.More {
		n = fmt.Sprintf("Latest %d", len(page.Events))
	}
	summary := fmt.Sprintf("%s events of issue %s (%s events in total)%s, %s, newest first.", n, is.ShortID, render.Count(int(is.Events)), filter, span)
	text := t.Render(summary, fmt.Sprintf("Narrow with query or since, or raise limit (at most %d).", h.limits.MaxRows))
	text += "get_issue with issue and event=EVENT_ID shows one event's stack trace.\n"
	if page.More && !t.Full() {
		text += "Older events exist; raise limit or narrow the window.\n"
	}
	return text, nil
}
