package code

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/toolkit"
)

// gitlabProvider reads gitlab.com or a self-hosted GitLab through the REST
// API (v4) with the official client-go. A personal, group or project
// access token with the read_api scope is enough.
var gitlabProvider = &provider{
	Provider: connections.Provider{
		Name:  "gitlab",
		Title: "GitLab",
		Fields: []config.Field{
			{Name: "token", Secret: true, Required: true, Env: "GITLAB_TOKEN", Help: "a personal, group or project access token with the read_api scope"},
			{Name: "base_url", Env: "GITLAB_HOST", Help: "self-hosted GitLab URL, e.g. https://gitlab.example.com; empty for gitlab.com"},
			{Name: "default_branch", Help: "branch read when a call names none; default: each project's default branch"},
			{Name: "project", Help: "group/project (or group/subgroup/project): restrict the connection to this one project"},
		},
		DefaultName: func(config.Values) string { return "gitlab" },
	},
	open:     openGitLab,
	envKeys:  []string{"GITLAB_TOKEN"},
	repoForm: "group/project",
}

type gitlabSource struct {
	client        *gitlab.Client
	defaultBranch string
	restrict      string
}

func openGitLab(_ string, v config.Values, _ config.Limits) (source, error) {
	restrict, err := checkRepoSetting(v.Get("project"), "project", "group/project")
	if err != nil {
		return nil, err
	}
	base := "https://gitlab.com"
	if raw := v.Get("base_url"); raw != "" {
		if base, err = hostBaseURL(raw, "base_url", "https://gitlab.example.com"); err != nil {
			return nil, err
		}
	}
	base = strings.TrimSuffix(base, "/api/v4")
	// client-go's own retries ignore Retry-After; ours honour it and the
	// call's deadline, the same way for every host.
	client, err := gitlab.NewClient(v.Secret("token").Reveal(),
		gitlab.WithBaseURL(base+"/api/v4"),
		gitlab.WithHTTPClient(newHTTPClient()),
		gitlab.WithoutRetries(),
		gitlab.WithUserAgent("opstower"))
	if err != nil {
		return nil, fmt.Errorf("GitLab client: %v", err)
	}
	return &gitlabSource{client: client, defaultBranch: v.Get("default_branch"), restrict: restrict}, nil
}

func (g *gitlabSource) close() {}

func (g *gitlabSource) restrictedTo() string { return g.restrict }

func (g *gitlabSource) err(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gitlab.ErrNotFound) {
		// client-go turns every 404 into this sentinel, dropping the body.
		return hostError("GitLab", http.StatusNotFound, "", nil, what)
	}
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return hostError("GitLab", er.Response.StatusCode, er.Message, er.Response.Header, what)
	}
	return transportError("GitLab", err)
}

func (g *gitlabSource) is404(err error) bool {
	var er *gitlab.ErrorResponse
	return errors.Is(err, gitlab.ErrNotFound) || (errors.As(err, &er) && er.HasStatusCode(http.StatusNotFound))
}

// ref is the ref to read: the call's, the connection's default branch, or
// HEAD (the project's default branch).
func (g *gitlabSource) ref(ref string) string {
	return firstNonEmpty(ref, g.defaultBranch, "HEAD")
}

func (g *gitlabSource) listRepos(ctx context.Context, query string, limit int) ([]repoInfo, bool, error) {
	conv := func(p *gitlab.Project) repoInfo {
		ri := repoInfo{Name: p.PathWithNamespace, Description: p.Description, DefaultBranch: p.DefaultBranch, Visibility: string(p.Visibility)}
		if p.LastActivityAt != nil {
			ri.Updated = *p.LastActivityAt
		}
		return ri
	}
	if g.restrict != "" {
		p, _, err := g.client.Projects.GetProject(g.restrict, nil, gitlab.WithContext(ctx))
		if err != nil {
			return nil, false, g.err(err, "project "+g.restrict)
		}
		return []repoInfo{conv(p)}, false, nil
	}
	opts := &gitlab.ListProjectsOptions{Membership: gitlab.Ptr(true), OrderBy: gitlab.Ptr("last_activity_at"), ListOptions: gitlab.ListOptions{PerPage: int64(min(100, limit+1))}}
	if query != "" {
		opts.Search = gitlab.Ptr(query)
	}
	list, resp, err := g.client.Projects.ListProjects(opts, gitlab.WithContext(ctx))
	if err != nil {
		return nil, false, g.err(err, "projects")
	}
	var out []repoInfo
	for _, p := range list {
		out = append(out, conv(p))
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, resp.NextPage != 0, nil
}

func (g *gitlabSource) listFiles(ctx context.Context, repo, ref, path string, recursive bool, limit int) (*listing, error) {
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	ref = g.ref(ref)
	opts := &gitlab.ListTreeOptions{Ref: gitlab.Ptr(ref), Recursive: gitlab.Ptr(recursive), ListOptions: gitlab.ListOptions{PerPage: 100}}
	if path != "" {
		opts.Path = gitlab.Ptr(path)
	}
	l := &listing{Ref: ref}
	for {
		nodes, resp, err := g.client.Repositories.ListTree(repo, opts, gitlab.WithContext(ctx))
		if err != nil {
			if g.is404(err) && path != "" {
				return nil, g.missingPath(ctx, repo, ref, path)
			}
			return nil, g.err(err, fmt.Sprintf("project %s, ref %s or path %q", repo, ref, path))
		}
		for _, n := range nodes {
			if len(l.Entries) >= limit {
				l.More = true
				return l, nil
			}
			l.Entries = append(l.Entries, entry{Path: n.Path, Type: githubType(n.Type, n.Mode), Size: -1})
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(l.Entries) == 0 && path != "" {
		// GitLab answers an unknown folder with an empty list.
		return nil, g.missingPath(ctx, repo, ref, path)
	}
	return l, nil
}

func (g *gitlabSource) missingPath(ctx context.Context, repo, ref, path string) error {
	opts := &gitlab.ListTreeOptions{Ref: gitlab.Ptr(ref), Recursive: gitlab.Ptr(true), ListOptions: gitlab.ListOptions{PerPage: 100}}
	var all []string
	for page := 0; page < 20; page++ {
		nodes, resp, err := g.client.Repositories.ListTree(repo, opts, gitlab.WithContext(ctx))
		if err != nil {
			return g.err(err, fmt.Sprintf("project %s or ref %s", repo, ref))
		}
		for _, n := range nodes {
			all = append(all, n.Path)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return notFoundPath(path, ref, repo, all)
}

func (g *gitlabSource) readFile(ctx context.Context, repo, ref, path string, _ lineRange) (*fileContent, error) {
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	ref = g.ref(ref)
	f, _, err := g.client.RepositoryFiles.GetFile(repo, path, &gitlab.GetFileOptions{Ref: gitlab.Ptr(ref)}, gitlab.WithContext(ctx))
	if err != nil {
		if g.is404(err) {
			return nil, g.missingPath(ctx, repo, ref, path)
		}
		return nil, g.err(err, "file "+path)
	}
	fc := &fileContent{Path: path, Ref: ref, Size: f.Size}
	data := []byte(f.Content)
	if f.Encoding == "base64" {
		if data, err = base64.StdEncoding.DecodeString(f.Content); err != nil {
			return nil, fmt.Errorf("GitLab sent %s in base64 that could not be read: %v", path, err)
		}
	}
	if len(data) > maxFileRead {
		data, fc.Partial = data[:maxFileRead], true
	}
	fc.Data = data
	return fc, nil
}

func (g *gitlabSource) search(ctx context.Context, repo string, q searchQuery) (*searchResult, error) {
	opts := &gitlab.SearchOptions{ListOptions: gitlab.ListOptions{PerPage: int64(min(100, q.Limit+1))}}
	if q.Ref != "" {
		opts.Ref = gitlab.Ptr(q.Ref)
	}
	query := q.Query
	if p := strings.Trim(strings.TrimSpace(q.Path), "/"); p != "" {
		switch {
		case strings.HasPrefix(p, "*.") && !strings.ContainsAny(p[2:], "*?[/"):
			query += " extension:" + p[2:]
		case strings.ContainsAny(p, globChars):
			return nil, toolkit.Errorf("GitLab code search filters by a folder or *.ext, not by a glob like %q", p)
		default:
			query += " path:" + p
		}
	}
	blobs, resp, err := g.client.Search.BlobsByProject(repo, query, opts, gitlab.WithContext(ctx))
	if err != nil {
		return nil, g.err(err, "project "+repo)
	}
	res := &searchResult{Ref: firstNonEmpty(q.Ref, "the default branch"), Total: -1, More: resp.NextPage != 0}
	if resp.TotalItems > 0 {
		res.Total = int(resp.TotalItems)
	}
	for _, b := range blobs {
		if len(res.Hits) >= q.Limit {
			res.More = true
			break
		}
		// A blob hit is a few lines starting at Startline; show each line
		// with its number.
		for i, line := range strings.Split(strings.TrimRight(b.Data, "\n"), "\n") {
			res.Hits = append(res.Hits, searchHit{Path: firstNonEmpty(b.Path, b.Filename), Line: int(b.Startline) + i, Text: line})
		}
	}
	return res, nil
}

func gitlabCommit(c *gitlab.Commit) commitInfo {
	ci := commitInfo{SHA: c.ID, Author: c.AuthorName, Email: c.AuthorEmail, Message: c.Message, Parents: c.ParentIDs, Files: -1, URL: c.WebURL}
	if ci.Message == "" {
		ci.Message = c.Title
	}
	if c.AuthoredDate != nil {
		ci.Date = *c.AuthoredDate
	}
	if c.CommitterName != c.AuthorName {
		ci.Committer = c.CommitterName
	}
	if c.Stats != nil {
		ci.Additions, ci.Deletions = int(c.Stats.Additions), int(c.Stats.Deletions)
	}
	return ci
}

func (g *gitlabSource) commits(ctx context.Context, repo string, q commitQuery) ([]commitInfo, bool, error) {
	if strings.ContainsAny(q.Path, globChars) {
		return nil, false, toolkit.Errorf("GitLab filters commits by a file or folder path, not a glob like %q", q.Path)
	}
	opts := &gitlab.ListCommitsOptions{ListOptions: gitlab.ListOptions{PerPage: int64(min(100, q.Limit+1))}}
	if ref := firstNonEmpty(q.Ref, g.defaultBranch); ref != "" {
		opts.RefName = gitlab.Ptr(ref)
	}
	if p := strings.Trim(q.Path, "/"); p != "" {
		opts.Path = gitlab.Ptr(p)
	}
	if q.Author != "" {
		opts.Author = gitlab.Ptr(q.Author)
	}
	if !q.Since.IsZero() {
		opts.Since = gitlab.Ptr(q.Since)
	}
	if !q.Until.IsZero() {
		opts.Until = gitlab.Ptr(q.Until)
	}
	var out []commitInfo
	for len(out) <= q.Limit {
		list, resp, err := g.client.Commits.ListCommits(repo, opts, gitlab.WithContext(ctx))
		if err != nil {
			return nil, false, g.err(err, fmt.Sprintf("project %s or ref %s", repo, firstNonEmpty(q.Ref, "(default)")))
		}
		for _, c := range list {
			out = append(out, gitlabCommit(c))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(out) > q.Limit {
		return out[:q.Limit], true, nil
	}
	return out, false, nil
}

// gitlabChanges converts GitLab diffs; GitLab gives no per-file counts, so
// they are counted from the hunks.
func gitlabChanges(diffs []*gitlab.Diff) []fileChange {
	var out []fileChange
	for _, d := range diffs {
		c := fileChange{Path: d.NewPath, Patch: d.Diff, Status: "modified"}
		switch {
		case d.NewFile:
			c.Status = "added"
		case d.DeletedFile:
			c.Status = "deleted"
		case d.RenamedFile:
			c.Status, c.OldPath = "renamed", d.OldPath
		}
		c.Additions, c.Deletions = countHunkLines(d.Diff)
		if d.Diff == "" && c.Status != "renamed" {
			c.Binary = true
		}
		if strings.HasPrefix(d.Diff, "Binary files") {
			c.Binary, c.Patch = true, ""
		}
		out = append(out, c)
	}
	return out
}

func countHunkLines(patch string) (add, del int) {
	for _, l := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			add++
		case strings.HasPrefix(l, "-"):
			del++
		}
	}
	return
}

func (g *gitlabSource) commit(ctx context.Context, repo, sha, _ string) (*commitInfo, []fileChange, error) {
	c, _, err := g.client.Commits.GetCommit(repo, sha, nil, gitlab.WithContext(ctx))
	if err != nil {
		return nil, nil, g.err(err, fmt.Sprintf("commit %s in %s", sha, repo))
	}
	ci := gitlabCommit(c)
	opts := &gitlab.GetCommitDiffOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}
	var diffs []*gitlab.Diff
	for page := 0; page < 10; page++ {
		d, resp, err := g.client.Commits.GetCommitDiff(repo, c.ID, opts, gitlab.WithContext(ctx))
		if err != nil {
			return nil, nil, g.err(err, fmt.Sprintf("commit %s in %s", sha, repo))
		}
		diffs = append(diffs, d...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	changes := gitlabChanges(diffs)
	ci.Files = len(changes)
	return &ci, changes, nil
}

func (g *gitlabSource) compare(ctx context.Context, repo, base, head, _ string) (*comparison, error) {
	head = g.ref(head)
	c, _, err := g.client.Repositories.Compare(repo, &gitlab.CompareOptions{From: gitlab.Ptr(base), To: gitlab.Ptr(head), Straight: gitlab.Ptr(false)}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, g.err(err, fmt.Sprintf("ref %s or %s in %s", base, head, repo))
	}
	cmp := &comparison{Base: base, Head: head, Ahead: len(c.Commits), Behind: -1, URL: c.WebURL}
	for _, gc := range c.Commits {
		cmp.Commits = append(cmp.Commits, gitlabCommit(gc))
	}
	cmp.Changes = gitlabChanges(c.Diffs)
	if c.CompareTimeout {
		cmp.URL += " (GitLab timed out computing the full comparison; the list may be incomplete)"
	}
	return cmp, nil
}

func (g *gitlabSource) pulls(ctx context.Context, repo, state string, limit int) ([]pullRequest, bool, error) {
	apiState := map[string]string{"open": "opened", "closed": "closed", "merged": "merged", "all": "all"}[state]
	opts := &gitlab.ListProjectMergeRequestsOptions{State: gitlab.Ptr(apiState), OrderBy: gitlab.Ptr("updated_at"), Sort: gitlab.Ptr("desc"), ListOptions: gitlab.ListOptions{PerPage: int64(min(100, limit+1))}}
	list, resp, err := g.client.MergeRequests.ListProjectMergeRequests(repo, opts, gitlab.WithContext(ctx))
	if err != nil {
		return nil, false, g.err(err, "project "+repo)
	}
	var out []pullRequest
	for _, m := range list {
		p := pullRequest{Number: int(m.IID), Title: m.Title, State: m.State, Draft: m.Draft, Source: m.SourceBranch, Target: m.TargetBranch, Comments: int(m.UserNotesCount), URL: m.WebURL}
		if p.State == "opened" {
			p.State = "open"
		}
		if m.Author != nil {
			p.Author = m.Author.Username
		}
		if m.CreatedAt != nil {
			p.Created = *m.CreatedAt
		}
		if m.UpdatedAt != nil {
			p.Updated = *m.UpdatedAt
		}
		for _, r := range m.Reviewers {
			p.Reviewers = append(p.Reviewers, r.Username)
		}
		out = append(out, p)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, resp.NextPage != 0, nil
}

func (g *gitlabSource) pipelines(ctx context.Context, repo, ref, status string, limit int) ([]pipeline, bool, error) {
	opts := &gitlab.ListProjectPipelinesOptions{OrderBy: gitlab.Ptr("id"), Sort: gitlab.Ptr("desc"), ListOptions: gitlab.ListOptions{PerPage: int64(min(100, limit+1))}}
	if ref != "" {
		opts.Ref = gitlab.Ptr(ref)
	}
	if status != "" {
		opts.Status = gitlab.Ptr(gitlab.BuildStateValue(status))
	}
	list, resp, err := g.client.Pipelines.ListProjectPipelines(repo, opts, gitlab.WithContext(ctx))
	if err != nil {
		return nil, false, g.err(err, "project "+repo+" (or its pipelines)")
	}
	var out []pipeline
	for _, p := range list {
		pl := pipeline{ID: p.ID, Name: p.Name, Status: p.Status, Ref: p.Ref, SHA: p.SHA, Source: p.Source, URL: p.WebURL}
		if p.CreatedAt != nil {
			pl.Created = *p.CreatedAt
			// The list has no duration; for a finished pipeline its last
			// update is when it finished.
			if p.UpdatedAt != nil && finished(p.Status) {
				pl.Duration = p.UpdatedAt.Sub(*p.CreatedAt)
			}
		}
		out = append(out, pl)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, resp.NextPage != 0, nil
}

func finished(status string) bool {
	switch status {
	case "success", "failed", "canceled", "skipped":
		return true
	}
	return false
}
