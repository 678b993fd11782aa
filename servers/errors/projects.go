package errors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/opstower/opstower/shared/render"
)

func (h *handlers) listProjects(ctx context.Context, in projectsArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.start(ctx)
	defer cancel()
	projs, err := c.Backend.projects(ctx)
	if err != nil {
		return "", err
	}
	org := c.Backend.organization()
	if len(projs) == 0 {
		return fmt.Sprintf("No projects in %s that this token can see. Check that the token's integration has Read access to Project and belongs to %s.", org, org), nil
	}
	sort.Slice(projs, func(i, j int) bool { return projs[i].Slug < projs[j].Slug })
	t := render.NewTable([]render.Column{{Name: "slug"}, {Name: "name"}, {Name: "platform"}, {Name: "created"}, {Name: "first_event"}}, h.limits.MaxRows, h.limits.Bytes)
	for _, p := range projs {
		first := "never"
		if !p.FirstEvent.IsZero() {
			first = day(p.FirstEvent)
		}
		if !t.Add(cells(p.Slug, p.Name, p.Platform, day(p.Created), first)) {
			break
		}
	}
	summary := fmt.Sprintf("%d projects in %s.", len(projs), org)
	if len(c.Backend.scope()) > 0 {
		summary = fmt.Sprintf("%d projects in %s (the connection is limited to these).", len(projs), org)
	}
	return t.Render(summary, "Pass project slugs to list_issues or error_stats."), nil
}

// day formats a date, or "-" when unknown.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}
