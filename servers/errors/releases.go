package errors

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/opstower/opstower/shared/render"
)

func (h *handlers) listReleases(ctx context.Context, in releasesArgs) (string, error) {
	c, err := h.conns.Pick(in.Connection)
	if err != nil {
		return "", err
	}
	limit, err := h.rows(in.Limit, min(h.limits.Rows, 25))
	if err != nil {
		return "", err
	}
	projects := splitList(in.Project)
	ctx, cancel := h.start(ctx)
	defer cancel()
	page, err := c.Backend.releases(ctx, releaseQuery{Query: strings.TrimSpace(in.Query), Projects: projects, Limit: limit})
	if err != nil {
		return "", err
	}
	scope := where(c.Backend, projects)
	if len(page.Releases) == 0 {
		if in.Query != "" {
			return fmt.Sprintf("No release of %s has %q in its version. Try a shorter part of the version.", scope, in.Query), nil
		}
		return fmt.Sprintf("No releases in %s: the SDKs may not set release, or releases are not created on deploy.", scope), nil
	}
	t := render.NewTable([]render.Column{{Name: "version"}, {Name: "created"}, {Name: "released"}, {Name: "new_issues"}, {Name: "first_event"},
		{Name: "last_event"}, {Name: "deploys"}, {Name: "last_deploy_env"}, {Name: "commits"}, {Name: "projects"}}, limit, h.limits.Bytes)
	for _, r := range page.Releases {
		row := cells(r.Version, cellTime(r.Created), cellTime(r.Released), strconv.FormatInt(r.NewIssues, 10), cellTime(r.FirstEvent),
			cellTime(r.LastEvent), strconv.FormatInt(r.Deploys, 10), r.LastDeploy, strconv.FormatInt(r.Commits, 10), strings.Join(r.Projects, " "))
		if !t.Add(row) {
			break
		}
	}
	n := fmt.Sprintf("%d", len(page.Releases))
	if page.More {
		n = fmt.Sprintf("Latest %d", len(page.Releases))
	}
	summary := fmt.Sprintf("%s releases of %s, newest first; new_issues are issues first seen in that release.", n, scope)
	text := t.Render(summary, fmt.Sprintf("Pass query or project, or raise limit (at most %d).", h.limits.MaxRows))
	if page.More && !t.Full() {
		text += "Older releases exist; raise limit or pass query.\n"
	}
	text += "list_issues with query release:VERSION shows a release's issues.\n"
	return text, nil
}
