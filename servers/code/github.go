package code

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v93/github"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/toolkit"
)

// githubProvider reads github.com or GitHub Enterprise Server through the
// REST API with google/go-github. A fine-grained token with Contents and
// Metadata read access is enough; Actions read access adds workflow runs,
// Pull requests read access adds pull requests.
var githubProvider = &provider{
	Provider: connections.Provider{
		Name:  "github",
		Title: "GitHub",
		Fields: []config.Field{
			{Name: "token", Secret: true, Required: true, Env: "GITHUB_TOKEN", Help: "a personal access token (fine-grained: Contents and Metadata read)"},
			{Name: "base_url", Env: "GITHUB_API_URL", Help: "GitHub Enterprise Server URL, e.g. https://github.example.com (its /api/v3 is added); empty for github.com"},
			{Name: "default_branch", Help: "branch read when a call names none; default: each repository's default branch"},
			{Name: "repository", Help: "owner/name: restrict the connection to this one repository"},
		},
		DefaultName: func(config.Values) string { return "github" },
	},
	open:     openGitHub,
	envKeys:  []string{"GITHUB_TOKEN"},
	repoForm: "owner/name",
}

type githubSource struct {
	client        *github.Client
	defaultBranch string
	restrict      string
}

func openGitHub(_ string, v config.Values, _ config.Limits) (source, error) {
	restrict, err := checkRepoSetting(v.Get("repository"), "repository", "owner/name")
	if err != nil {
		return nil, err
	}
	opts := []github.ClientOptionsFunc{
		github.WithHTTPClient(newHTTPClient()),
		github.WithAuthToken(v.Secret("token").Reveal()),
		github.WithUserAgent("opstower"),
	}
	if raw := v.Get("base_url"); raw != "" {
		base, err := hostBaseURL(raw, "base_url", "https://github.example.com")
		if err != nil {
			return nil, err
		}
		if base != "https://api.github.com" {
			opts = append(opts, github.WithEnterpriseURLs(base+"/", base+"/"))
		}
	}
	client, err := github.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("GitHub client: %v", err)
	}
	return &githubSource{client: client, defaultBranch: v.Get("default_branch"), restrict: restrict}, nil
}

// checkRepoSetting validates a restrict-to setting such as owner/name.
func checkRepoSetting(raw, setting, form string) (string, error) {
	raw = strings.Trim(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil
	}
	if !strings.Contains(raw, "/") || strings.ContainsAny(raw, " ?#") {
		return "", fmt.Errorf("%s %q must be written as %s", setting, raw, form)
	}
	return raw, nil
}

// hostBaseURL checks a self-hosted base URL with httpapi.BaseURL (https,
// or http on loopback only); a bare host name, as GITLAB_HOST is often
// written, means https.
func hostBaseURL(raw, setting, example string) (string, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	return httpapi.BaseURL(raw, example, setting)
}

func (g *githubSource) close() {}

func (g *githubSource) restrictedTo() string { return g.restrict }

func splitRepo(repo string) (string, string) {
	owner, name, _ := strings.Cut(repo, "/")
	return owner, name
}

// err turns a go-github error into one the model can act on.
func (g *githubSource) err(err error, what string) error {
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("GitHub's API rate limit is used up (%d requests an hour); it resets at %s UTC, in %s", rl.Rate.Limit, rl.Rate.Reset.UTC().Format("15:04"), time.Until(rl.Rate.Reset.Time).Round(time.Minute))
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		msg := "GitHub is rate limiting these requests (secondary rate limit)"
		if ab.RetryAfter != nil && *ab.RetryAfter > 0 {
			msg += fmt.Sprintf("; retry after %s", ab.RetryAfter.Round(time.Second))
		}
		return fmt.Errorf("%s. GitHub said: %s", msg, secret.Scrub(ab.Message))
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Message
		for _, e := range er.Errors {
			if e.Message != "" {
				msg += "; " + e.Message
			}
		}
		return hostError("GitHub", er.Response.StatusCode, msg, er.Response.Header, what)
	}
	return transportError("GitHub", err)
}

func (g *githubSource) ref(ref string) string {
	if ref == "" {
		return g.defaultBranch
	}
	return ref
}

func refLabel(ref string) string {
	if ref == "" {
		return "the default branch"
	}
	return ref
}

func (g *githubSource) listRepos(ctx context.Context, query string, limit int) ([]repoInfo, bool, error) {
	conv := func(r *github.Repository) repoInfo {
		vis := r.GetVisibility()
		if vis == "" && r.Private != nil {
			vis = map[bool]string{true: "private", false: "public"}[r.GetPrivate()]
		}
		return repoInfo{Name: r.GetFullName(), Description: r.GetDescription(), DefaultBranch: r.GetDefaultBranch(), Visibility: vis, Language: r.GetLanguage(), Updated: r.GetPushedAt().Time}
	}
	if g.restrict != "" {
		owner, name := splitRepo(g.restrict)
		r, _, err := g.client.Repositories.Get(ctx, owner, name)
		if err != nil {
			return nil, false, g.err(err, "repository "+g.restrict)
		}
		return []repoInfo{conv(r)}, false, nil
	}
	opts := &github.RepositoryListByAuthenticatedUserOptions{Sort: "pushed", ListOptions: github.ListOptions{PerPage: min(100, limit+1)}}
	if query != "" {
		opts.PerPage = 100
	}
	var out []repoInfo
	for page := 0; page < 10; page++ {
		list, resp, err := g.client.Repositories.ListByAuthenticatedUser(ctx, opts)
		if err != nil {
			return nil, false, g.err(err, "repositories")
		}
		for _, r := range list {
			if query == "" || strings.Contains(strings.ToLower(r.GetFullName()), strings.ToLower(query)) {
				out = append(out, conv(r))
			}
		}
		if len(out) > limit {
			return out[:limit], true, nil
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, false, nil
}

func (g *githubSource) listFiles(ctx context.Context, repo, ref, path string, recursive bool, limit int) (*listing, error) {
	owner, name := splitRepo(repo)
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	ref = g.ref(ref)
	l := &listing{Ref: refLabel(ref)}
	if recursive {
		tree, _, err := g.client.Git.GetTree(ctx, owner, name, firstNonEmpty(ref, "HEAD"), true)
		if err != nil {
			return nil, g.err(err, fmt.Sprintf("repository %s or ref %s", repo, refLabel(ref)))
		}
		found := path == ""
		for _, e := range tree.Entries {
			p := e.GetPath()
			if p == path {
				found = true
			}
			if path != "" && !strings.HasPrefix(p, path+"/") {
				continue
			}
			found = true
			if len(l.Entries) >= limit {
				l.More = true
				break
			}
			l.Entries = append(l.Entries, entry{Path: p, Type: githubType(e.GetType(), e.GetMode()), Size: sizeOr(e.Size)})
		}
		if tree.GetTruncated() {
			l.More = true
		}
		if !found {
			return nil, g.missingPath(ctx, repo, ref, path)
		}
		return l, nil
	}
	file, dir, _, err := g.client.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound && path != "" {
			return nil, g.missingPath(ctx, repo, ref, path)
		}
		return nil, g.err(err, fmt.Sprintf("repository %s or ref %s", repo, refLabel(ref)))
	}
	if file != nil {
		l.Entries = []entry{{Path: file.GetPath(), Type: githubType(file.GetType(), ""), Size: int64(file.GetSize())}}
		return l, nil
	}
	for _, e := range dir {
		if len(l.Entries) >= limit {
			l.More = true
			break
		}
		l.Entries = append(l.Entries, entry{Path: e.GetPath(), Type: githubType(e.GetType(), ""), Size: int64(e.GetSize())})
	}
	return l, nil
}

func sizeOr(p *int) int64 {
	if p == nil {
		return -1
	}
	return int64(*p)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func githubType(t, mode string) string {
	switch {
	case t == "tree" || t == "dir":
		return "dir"
	case t == "commit" || t == "submodule":
		return "submodule"
	case t == "symlink" || mode == "120000":
		return "link"
	}
	return "file"
}

// missingPath explains a 404 for a path: the closest paths in the tree,
// or that the repository or ref does not exist.
func (g *githubSource) missingPath(ctx context.Context, repo, ref, path string) error {
	owner, name := splitRepo(repo)
	tree, _, err := g.client.Git.GetTree(ctx, owner, name, firstNonEmpty(ref, "HEAD"), true)
	if err != nil {
		return g.err(err, fmt.Sprintf("repository %s or ref %s", repo, refLabel(ref)))
	}
	var all []string
	for _, e := range tree.Entries {
		all = append(all, e.GetPath())
	}
	return notFoundPath(path, refLabel(ref), repo, all)
}

func (g *githubSource) readFile(ctx context.Context, repo, ref, path string, _ lineRange) (*fileContent, error) {
	owner, name := splitRepo(repo)
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	ref = g.ref(ref)
	file, dir, _, err := g.client.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return nil, g.missingPath(ctx, repo, ref, path)
		}
		return nil, g.err(err, "file "+path)
	}
	if file == nil || dir != nil {
		return nil, toolkit.Errorf("%s is a folder; call list_files with path=%q", path, path)
	}
	fc := &fileContent{Path: path, Ref: refLabel(ref), Size: int64(file.GetSize())}
	switch file.GetType() {
	case "symlink":
		fc.Link = file.GetTarget()
		return fc, nil
	case "submodule":
		return nil, toolkit.Errorf("%s is a submodule pinned at commit %s; its files live in another repository", path, file.GetSHA())
	}
	if file.GetEncoding() == "none" || (file.Content == nil && file.GetSize() > 0) {
		// Files over 1 MB come without content: fetch the blob itself.
		raw, _, err := g.client.Git.GetBlobRaw(ctx, owner, name, file.GetSHA())
		if err != nil {
			return nil, g.err(err, "file "+path)
		}
		if len(raw) > maxFileRead {
			raw, fc.Partial = raw[:maxFileRead], true
		}
		fc.Data = raw
		return fc, nil
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("GitHub sent %s in an encoding that could not be read: %v", path, err)
	}
	fc.Data = []byte(text)
	return fc, nil
}

func (g *githubSource) search(ctx context.Context, repo string, q searchQuery) (*searchResult, error) {
	query := q.Query + " repo:" + repo
	if p := strings.Trim(strings.TrimSpace(q.Path), "/"); p != "" {
		switch {
		case strings.HasPrefix(p, "*.") && !strings.ContainsAny(p[2:], "*?[/"):
			query += " extension:" + p[2:]
		case strings.ContainsAny(p, globChars):
			return nil, toolkit.Errorf("GitHub code search filters by a folder or *.ext, not by a glob like %q", p)
		default:
			query += " path:" + p
		}
	}
	res, _, err := g.client.Search.Code(ctx, query, &github.SearchOptions{TextMatch: true, ListOptions: github.ListOptions{PerPage: min(100, q.Limit)}})
	if err != nil {
		return nil, g.err(err, "repository "+repo)
	}
	out := &searchResult{Ref: "the default branch", Total: res.GetTotal(), Note: "GitHub returns matching fragments without line numbers; read_file shows the lines."}
	if q.Ref != "" {
		out.Note += " ref was ignored: GitHub code search covers the default branch only."
	}
	for _, cr := range res.CodeResults {
		if len(cr.TextMatches) == 0 {
			out.Hits = append(out.Hits, searchHit{Path: cr.GetPath(), Text: "(match in this file)"})
		}
		for _, tm := range cr.TextMatches {
			if len(out.Hits) >= q.Limit {
				out.More = true
				break
			}
			out.Hits = append(out.Hits, searchHit{Path: cr.GetPath(), Text: tm.GetFragment()})
		}
	}
	out.More = out.More || res.GetTotal() > len(res.CodeResults)
	return out, nil
}

func (g *githubSource) commits(ctx context.Context, repo string, q commitQuery) ([]commitInfo, bool, error) {
	owner, name := splitRepo(repo)
	if strings.ContainsAny(q.Path, globChars) {
		return nil, false, toolkit.Errorf("GitHub filters commits by a file or folder path, not a glob like %q", q.Path)
	}
	opts := &github.CommitsListOptions{SHA: g.ref(q.Ref), Path: strings.Trim(q.Path, "/"), Author: q.Author, Since: q.Since, Until: q.Until,
		ListOptions: github.ListOptions{PerPage: min(100, q.Limit+1)}}
	var out []commitInfo
	for len(out) <= q.Limit {
		list, resp, err := g.client.Repositories.ListCommits(ctx, owner, name, opts)
		if err != nil {
			return nil, false, g.err(err, fmt.Sprintf("repository %s or ref %s", repo, refLabel(opts.SHA)))
		}
		for _, c := range list {
			out = append(out, githubCommit(c))
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

func githubCommit(c *github.RepositoryCommit) commitInfo {
	ci := commitInfo{SHA: c.GetSHA(), Message: c.GetCommit().GetMessage(), Files: -1, URL: c.GetHTMLURL()}
	a := c.GetCommit().GetAuthor()
	ci.Author, ci.Email, ci.Date = a.GetName(), a.GetEmail(), a.GetDate().Time
	if login := c.GetAuthor().GetLogin(); login != "" && !strings.EqualFold(login, ci.Author) {
		ci.Author += " (@" + login + ")"
	}
	if cm := c.GetCommit().GetCommitter(); cm.GetName() != a.GetName() {
		ci.Committer = cm.GetName()
	}
	for _, p := range c.Parents {
		ci.Parents = append(ci.Parents, p.GetSHA())
	}
	if c.Files != nil {
		ci.Files = len(c.Files)
		ci.Additions, ci.Deletions = c.GetStats().GetAdditions(), c.GetStats().GetDeletions()
	}
	return ci
}

func githubChanges(files []*github.CommitFile) []fileChange {
	var out []fileChange
	for _, f := range files {
		c := fileChange{Path: f.GetFilename(), OldPath: f.GetPreviousFilename(), Additions: f.GetAdditions(), Deletions: f.GetDeletions(), Patch: f.GetPatch()}
		switch f.GetStatus() {
		case "added":
			c.Status = "added"
		case "removed":
			c.Status = "deleted"
		case "renamed":
			c.Status = "renamed"
		case "copied":
			c.Status = "copied"
		default:
			c.Status = "modified"
		}
		if c.Patch == "" && (c.Additions > 0 || c.Deletions > 0) {
			c.PatchMissing = true // GitHub leaves out the patches of very large diffs
		}
		if c.Patch == "" && c.Additions == 0 && c.Deletions == 0 && c.Status != "renamed" {
			c.Binary = true
		}
		out = append(out, c)
	}
	return out
}

func (g *githubSource) commit(ctx context.Context, repo, sha, _ string) (*commitInfo, []fileChange, error) {
	owner, name := splitRepo(repo)
	c, _, err := g.client.Repositories.GetCommit(ctx, owner, name, sha, &github.ListOptions{PerPage: 300})
	if err != nil {
		return nil, nil, g.err(err, fmt.Sprintf("commit %s in %s", sha, repo))
	}
	ci := githubCommit(c)
	return &ci, githubChanges(c.Files), nil
}

func (g *githubSource) compare(ctx context.Context, repo, base, head, _ string) (*comparison, error) {
	owner, name := splitRepo(repo)
	if head == "" {
		head = g.defaultBranch
	}
	if head == "" {
		r, _, err := g.client.Repositories.Get(ctx, owner, name)
		if err != nil {
			return nil, g.err(err, "repository "+repo)
		}
		head = r.GetDefaultBranch()
	}
	c, _, err := g.client.Repositories.CompareCommits(ctx, owner, name, base, head, &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, g.err(err, fmt.Sprintf("ref %s or %s in %s", base, head, repo))
	}
	cmp := &comparison{Base: base, Head: head, MergeBase: c.GetMergeBaseCommit().GetSHA(), Ahead: c.GetAheadBy(), Behind: c.GetBehindBy(), URL: c.GetHTMLURL()}
	for _, rc := range c.Commits {
		cmp.Commits = append(cmp.Commits, githubCommit(rc))
	}
	cmp.Changes = githubChanges(c.Files)
	return cmp, nil
}

func (g *githubSource) pulls(ctx context.Context, repo, state string, limit int) ([]pullRequest, bool, error) {
	owner, name := splitRepo(repo)
	apiState := state
	if state == "merged" {
		apiState = "closed"
	}
	opts := &github.PullRequestListOptions{State: apiState, Sort: "updated", Direction: "desc", ListOptions: github.ListOptions{PerPage: min(100, limit+1)}}
	var out []pullRequest
	for page := 0; page < 5 && len(out) <= limit; page++ {
		list, resp, err := g.client.PullRequests.List(ctx, owner, name, opts)
		if err != nil {
			return nil, false, g.err(err, "repository "+repo)
		}
		for _, p := range list {
			merged := p.MergedAt != nil
			if (state == "merged" && !merged) || (state == "closed" && merged) {
				continue
			}
			pr := pullRequest{Number: p.GetNumber(), Title: p.GetTitle(), State: p.GetState(), Draft: p.GetDraft(), Author: p.GetUser().GetLogin(),
				Source: p.GetHead().GetRef(), Target: p.GetBase().GetRef(), Created: p.GetCreatedAt().Time, Updated: p.GetUpdatedAt().Time, Comments: -1, URL: p.GetHTMLURL()}
			if merged {
				pr.State = "merged"
			}
			for _, r := range p.RequestedReviewers {
				pr.Reviewers = append(pr.Reviewers, r.GetLogin())
			}
			out = append(out, pr)
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func (g *githubSource) pipelines(ctx context.Context, repo, ref, status string, limit int) ([]pipeline, bool, error) {
	owner, name := splitRepo(repo)
	switch status {
	case "failed":
		status = "failure"
	case "running":
		status = "in_progress"
	}
	runs, _, err := g.client.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, &github.ListWorkflowRunsOptions{Branch: ref, Status: status, ListOptions: github.ListOptions{PerPage: min(100, limit)}})
	if err != nil {
		return nil, false, g.err(err, "repository "+repo+" (or its Actions)")
	}
	var out []pipeline
	for _, r := range runs.WorkflowRuns {
		st := r.GetStatus()
		if st == "completed" && r.GetConclusion() != "" {
			st = r.GetConclusion()
		}
		p := pipeline{ID: r.GetID(), Name: r.GetName(), Status: st, Ref: r.GetHeadBranch(), SHA: r.GetHeadSHA(), Source: r.GetEvent(), Created: r.GetCreatedAt().Time, URL: r.GetHTMLURL()}
		if r.GetStatus() == "completed" && r.RunStartedAt != nil {
			p.Duration = r.GetUpdatedAt().Sub(r.GetRunStartedAt().Time)
		}
		out = append(out, p)
	}
	return out, runs.GetTotalCount() > len(out), nil
}
