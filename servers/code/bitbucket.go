package code

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/toolkit"
)

// bitbucketProvider reads Bitbucket Cloud through its REST API 2.0 with
// shared/httpapi (Atlassian publishes no Go SDK). It authenticates with an
// access token (repository, project or workspace token, or OAuth) as a
// bearer token, or with a username and app password.
var bitbucketProvider = &provider{
	Provider: connections.Provider{
		Name:  "bitbucket",
		Title: "Bitbucket",
		Fields: []config.Field{
			{Name: "token", Secret: true, Env: "BITBUCKET_TOKEN", Help: "an access token with repository (and pipeline, pull request) read scopes"},
			{Name: "username", Env: "BITBUCKET_USERNAME", Help: "with app_password: the Bitbucket username"},
			{Name: "app_password", Secret: true, Env: "BITBUCKET_APP_PASSWORD", Help: "with username: an app password with Repositories: Read"},
			{Name: "workspace", Env: "BITBUCKET_WORKSPACE", Help: "the workspace whose repositories list_repos and search_code cover"},
			{Name: "default_branch", Help: "branch read when a call names none; default: each repository's main branch"},
			{Name: "repository", Help: "workspace/repo-slug: restrict the connection to this one repository"},
			{Name: "base_url", Help: "API base URL; default " + bitbucketAPI},
		},
		DefaultName: func(config.Values) string { return "bitbucket" },
	},
	open:     openBitbucket,
	envKeys:  []string{"BITBUCKET_TOKEN", "BITBUCKET_APP_PASSWORD"},
	repoForm: "workspace/repo",
}

const bitbucketAPI = "https://api.bitbucket.org/2.0"

type bitbucketSource struct {
	api           *httpapi.Client
	workspace     string
	defaultBranch string
	restrict      string

	mu    sync.Mutex
	mains map[string]string // repository → main branch
}

func openBitbucket(_ string, v config.Values, _ config.Limits) (source, error) {
	restrict, err := checkRepoSetting(v.Get("repository"), "repository", "workspace/repo-slug")
	if err != nil {
		return nil, err
	}
	base := bitbucketAPI
	if raw := v.Get("base_url"); raw != "" {
		if base, err = hostBaseURL(raw, "base_url", bitbucketAPI); err != nil {
			return nil, err
		}
	}
	token, user, pass := v.Secret("token"), v.Get("username"), v.Secret("app_password")
	var auth func(*http.Request)
	switch {
	case !token.IsZero():
		auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) }
	case user != "" && !pass.IsZero():
		auth = func(r *http.Request) { r.SetBasicAuth(user, pass.Reveal()) }
	default:
		return nil, fmt.Errorf("Bitbucket needs token (or BITBUCKET_TOKEN), or username and app_password (BITBUCKET_USERNAME and BITBUCKET_APP_PASSWORD)")
	}
	ws := v.Get("workspace")
	if ws == "" && restrict != "" {
		ws, _, _ = strings.Cut(restrict, "/")
	}
	api := &httpapi.Client{Service: "Bitbucket", BaseURL: base, Auth: auth, UserAgent: "opstower",
		Hints: map[int]string{http.StatusForbidden: "Code search needs a Standard or Premium plan; pipelines need the pipeline read scope."}}
	return &bitbucketSource{api: api, workspace: ws, defaultBranch: v.Get("default_branch"), restrict: restrict, mains: map[string]string{}}, nil
}

func (b *bitbucketSource) close() {}

func (b *bitbucketSource) restrictedTo() string { return b.restrict }

// Wire types of Bitbucket's API 2.0.
type (
	bbPage[T any] struct {
		Values []T    `json:"values"`
		Next   string `json:"next"`
		Size   int    `json:"size"`
	}
	bbLink  struct{ Href string }
	bbLinks struct {
		HTML bbLink `json:"html"`
	}
	bbRepo struct {
		FullName    string `json:"full_name"`
		Description string `json:"description"`
		IsPrivate   bool   `json:"is_private"`
		Language    string `json:"language"`
		UpdatedOn   string `json:"updated_on"`
		MainBranch  *struct {
			Name string `json:"name"`
		} `json:"mainbranch"`
	}
	bbEntry struct {
		Path string `json:"path"`
		Type string `json:"type"` // commit_file, commit_directory, commit_link
		Size int64  `json:"size"`
	}
	bbCommit struct {
		Hash    string `json:"hash"`
		Date    string `json:"date"`
		Message string `json:"message"`
		Author  struct {
			Raw  string `json:"raw"`
			User *struct {
				DisplayName string `json:"display_name"`
			} `json:"user"`
		} `json:"author"`
		Parents []struct {
			Hash string `json:"hash"`
		} `json:"parents"`
		Links bbLinks `json:"links"`
	}
	bbDiffstat struct {
		Status       string `json:"status"`
		LinesAdded   int    `json:"lines_added"`
		LinesRemoved int    `json:"lines_removed"`
		Old          *struct {
			Path string `json:"path"`
		} `json:"old"`
		New *struct {
			Path string `json:"path"`
		} `json:"new"`
	}
)

func bbTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// repoPath is the API path of a repository, each part escaped.
func repoPath(repo string) string {
	ws, slug := splitRepo(repo)
	return "/repositories/" + url.PathEscape(ws) + "/" + url.PathEscape(slug)
}

// escapePath escapes each segment of a file path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (b *bitbucketSource) get(ctx context.Context, path string, q url.Values, what string, out any) error {
	_, err := b.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: path, Query: q, What: what}, out)
	return b.err(err)
}

// err marks 404s as problems the model can fix (a wrong name).
func (b *bitbucketSource) err(err error) error {
	if err == nil {
		return nil
	}
	if httpapi.IsNotFound(err) {
		return toolkit.Errorf("%s", err.Error())
	}
	return err
}

// ref is the ref to read: the call's, the connection's default branch, or
// the repository's main branch.
func (b *bitbucketSource) ref(ctx context.Context, repo, ref string) (string, error) {
	if ref = firstNonEmpty(ref, b.defaultBranch); ref != "" {
		return ref, nil
	}
	b.mu.Lock()
	main := b.mains[repo]
	b.mu.Unlock()
	if main != "" {
		return main, nil
	}
	var r bbRepo
	if err := b.get(ctx, repoPath(repo), nil, "repository "+repo, &r); err != nil {
		return "", err
	}
	if r.MainBranch == nil || r.MainBranch.Name == "" {
		return "", toolkit.Errorf("%s has no main branch yet (an empty repository?)", repo)
	}
	b.mu.Lock()
	b.mains[repo] = r.MainBranch.Name
	b.mu.Unlock()
	return r.MainBranch.Name, nil
}

func (b *bitbucketSource) listRepos(ctx context.Context, query string, limit int) ([]repoInfo, bool, error) {
	conv := func(r bbRepo) repoInfo {
		ri := repoInfo{Name: r.FullName, Description: r.Description, Language: r.Language, Visibility: "public", Updated: bbTime(r.UpdatedOn)}
		if r.IsPrivate {
			ri.Visibility = "private"
		}
		if r.MainBranch != nil {
			ri.DefaultBranch = r.MainBranch.Name
		}
		return ri
	}
	if b.restrict != "" {
		var r bbRepo
		if err := b.get(ctx, repoPath(b.restrict), nil, "repository "+b.restrict, &r); err != nil {
			return nil, false, err
		}
		return []repoInfo{conv(r)}, false, nil
	}
	path := "/repositories"
	if b.workspace != "" {
		path += "/" + url.PathEscape(b.workspace)
	}
	q := url.Values{"role": {"member"}, "sort": {"-updated_on"}, "pagelen": {strconv.Itoa(min(100, limit+1))}}
	if query != "" {
		q.Set("q", fmt.Sprintf(`name ~ "%s"`, strings.ReplaceAll(query, `"`, `\"`)))
	}
	var page bbPage[bbRepo]
	if err := b.get(ctx, path, q, "workspace "+b.workspace, &page); err != nil {
		return nil, false, err
	}
	var out []repoInfo
	for _, r := range page.Values {
		out = append(out, conv(r))
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, page.Next != "", nil
}

// pages fetches a listing and follows its next links while more is
// wanted, up to max pages.
func bbPages[T any](ctx context.Context, b *bitbucketSource, path string, q url.Values, what string, max int, more func([]T) bool) error {
	next := path
	for i := 0; i < max && next != ""; i++ {
		var page bbPage[T]
		if err := b.get(ctx, next, q, what, &page); err != nil {
			return err
		}
		if !more(page.Values) {
			return nil
		}
		next, q = page.Next, nil // the next link carries the query
	}
	return nil
}

func (b *bitbucketSource) listFiles(ctx context.Context, repo, ref, path string, recursive bool, limit int) (*listing, error) {
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	if ref, err = b.ref(ctx, repo, ref); err != nil {
		return nil, err
	}
	l := &listing{Ref: ref}
	q := url.Values{"pagelen": {"100"}}
	if recursive {
		q.Set("max_depth", "30")
	}
	src := repoPath(repo) + "/src/" + url.PathEscape(ref) + "/" + escapePath(path)
	if path != "" {
		src += "/"
	}
	err = bbPages(ctx, b, src, q, fmt.Sprintf("ref %s or path %q in %s", ref, path, repo), 50, func(vals []bbEntry) bool {
		for _, e := range vals {
			if len(l.Entries) >= limit {
				l.More = true
				return false
			}
			t := "file"
			switch e.Type {
			case "commit_directory":
				t = "dir"
			case "commit_link":
				t = "submodule"
			}
			l.Entries = append(l.Entries, entry{Path: e.Path, Type: t, Size: e.Size})
		}
		return true
	})
	if err != nil {
		if httpapi.IsNotFound(err) && path != "" {
			return nil, b.missingPath(ctx, repo, ref, path)
		}
		return nil, err
	}
	return l, nil
}

func (b *bitbucketSource) missingPath(ctx context.Context, repo, ref, path string) error {
	var all []string
	err := bbPages(ctx, b, repoPath(repo)+"/src/"+url.PathEscape(ref)+"/", url.Values{"pagelen": {"100"}, "max_depth": {"30"}}, "ref "+ref+" in "+repo, 20, func(vals []bbEntry) bool {
		for _, e := range vals {
			all = append(all, e.Path)
		}
		return true
	})
	if err != nil {
		return err
	}
	return notFoundPath(path, ref, repo, all)
}

func (b *bitbucketSource) readFile(ctx context.Context, repo, ref, path string, _ lineRange) (*fileContent, error) {
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, toolkit.Errorf("path is empty; pass a file path (list_files shows them)")
	}
	if ref, err = b.ref(ctx, repo, ref); err != nil {
		return nil, err
	}
	src := repoPath(repo) + "/src/" + url.PathEscape(ref) + "/" + escapePath(path)
	var meta bbEntry
	if _, err := b.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: src, Query: url.Values{"format": {"meta"}}, What: "file " + path}, &meta); err != nil {
		if httpapi.IsNotFound(err) {
			return nil, b.missingPath(ctx, repo, ref, path)
		}
		return nil, err
	}
	switch meta.Type {
	case "commit_directory":
		return nil, toolkit.Errorf("%s is a folder; call list_files with path=%q", path, path)
	case "commit_link":
		return nil, toolkit.Errorf("%s is a submodule; its files live in another repository", path)
	}
	resp, err := b.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: src, What: "file " + path})
	if err != nil {
		return nil, b.err(err)
	}
	fc := &fileContent{Path: path, Ref: ref, Size: meta.Size, Data: resp.Body}
	if fc.Size == 0 {
		fc.Size = int64(len(resp.Body))
	}
	if len(fc.Data) > maxFileRead {
		fc.Data, fc.Partial = fc.Data[:maxFileRead], true
	}
	return fc, nil
}

func (b *bitbucketSource) search(ctx context.Context, repo string, q searchQuery) (*searchResult, error) {
	ws, slug := splitRepo(repo)
	query := q.Query + " repo:" + slug
	if p := strings.Trim(strings.TrimSpace(q.Path), "/"); p != "" {
		switch {
		case strings.HasPrefix(p, "*.") && !strings.ContainsAny(p[2:], "*?[/"):
			query += " ext:" + p[2:]
		case strings.ContainsAny(p, globChars):
			return nil, toolkit.Errorf("Bitbucket code search filters by a folder or *.ext, not by a glob like %q", p)
		default:
			query += " path:" + p
		}
	}
	type segment struct {
		Text  string `json:"text"`
		Match bool   `json:"match"`
	}
	type hit struct {
		File struct {
			Path string `json:"path"`
		} `json:"file"`
		ContentMatches []struct {
			Lines []struct {
				Line     int       `json:"line"`
				Segments []segment `json:"segments"`
			} `json:"lines"`
		} `json:"content_matches"`
	}
	var page bbPage[hit]
	err := b.get(ctx, "/workspaces/"+url.PathEscape(ws)+"/search/code", url.Values{"search_query": {query}, "pagelen": {strconv.Itoa(min(100, q.Limit))}}, "workspace "+ws, &page)
	if err != nil {
		return nil, err
	}
	res := &searchResult{Ref: "the main branch", Total: page.Size, More: page.Next != ""}
	if q.Ref != "" {
		res.Note = "ref was ignored: Bitbucket code search covers the main branch only."
	}
	for _, h := range page.Values {
		for _, cm := range h.ContentMatches {
			for _, l := range cm.Lines {
				if len(res.Hits) >= q.Limit {
					res.More = true
					return res, nil
				}
				var text strings.Builder
				for _, s := range l.Segments {
					text.WriteString(s.Text)
				}
				res.Hits = append(res.Hits, searchHit{Path: h.File.Path, Line: l.Line, Text: text.String()})
			}
		}
	}
	return res, nil
}

func bbCommitInfo(c bbCommit) commitInfo {
	ci := commitInfo{SHA: c.Hash, Date: bbTime(c.Date), Message: c.Message, Files: -1, URL: c.Links.HTML.Href}
	name, email, _ := strings.Cut(c.Author.Raw, "<")
	ci.Author, ci.Email = strings.TrimSpace(name), strings.TrimSuffix(strings.TrimSpace(email), ">")
	if c.Author.User != nil && c.Author.User.DisplayName != "" && ci.Author == "" {
		ci.Author = c.Author.User.DisplayName
	}
	for _, p := range c.Parents {
		ci.Parents = append(ci.Parents, p.Hash)
	}
	return ci
}

// commits filters by author and time on our side: the API filters only
// by ref and path. Commits come newest first, so the walk stops at the
// first commit older than since.
func (b *bitbucketSource) commits(ctx context.Context, repo string, q commitQuery) ([]commitInfo, bool, error) {
	if strings.ContainsAny(q.Path, globChars) {
		return nil, false, toolkit.Errorf("Bitbucket filters commits by a file or folder path, not a glob like %q", q.Path)
	}
	ref, err := b.ref(ctx, repo, q.Ref)
	if err != nil {
		return nil, false, err
	}
	query := url.Values{"pagelen": {"100"}}
	if p := strings.Trim(q.Path, "/"); p != "" {
		query.Set("path", p)
	}
	author := strings.ToLower(q.Author)
	var out []commitInfo
	err = bbPages(ctx, b, repoPath(repo)+"/commits/"+url.PathEscape(ref), query, "ref "+ref+" in "+repo, 20, func(vals []bbCommit) bool {
		for _, c := range vals {
			ci := bbCommitInfo(c)
			if !q.Since.IsZero() && ci.Date.Before(q.Since) {
				return false
			}
			if !q.Until.IsZero() && !ci.Date.Before(q.Until) {
				continue
			}
			if author != "" && !strings.Contains(strings.ToLower(c.Author.Raw), author) {
				continue
			}
			out = append(out, ci)
			if len(out) > q.Limit {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if len(out) > q.Limit {
		return out[:q.Limit], true, nil
	}
	return out, false, nil
}

// changes fetches the diffstat and the raw diff of a spec (a commit, or
// head..base) and joins them.
func (b *bitbucketSource) changes(ctx context.Context, repo, spec, what string) ([]fileChange, error) {
	var out []fileChange
	err := bbPages(ctx, b, repoPath(repo)+"/diffstat/"+url.PathEscape(spec), url.Values{"pagelen": {"500"}}, what, 10, func(vals []bbDiffstat) bool {
		for _, d := range vals {
			c := fileChange{Additions: d.LinesAdded, Deletions: d.LinesRemoved, Status: "modified"}
			if d.New != nil {
				c.Path = d.New.Path
			}
			switch d.Status {
			case "added":
				c.Status = "added"
			case "removed":
				c.Status, c.Path = "deleted", d.Old.Path
			case "renamed":
				c.Status, c.OldPath = "renamed", d.Old.Path
			}
			out = append(out, c)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	resp, err := b.api.Do(ctx, httpapi.Request{Method: http.MethodGet, Path: repoPath(repo) + "/diff/" + url.PathEscape(spec), What: what})
	if err != nil {
		return nil, b.err(err)
	}
	patches := splitPatch(string(resp.Body))
	for i := range out {
		for _, p := range patches {
			header, _, _ := strings.Cut(p, "\n")
			if strings.HasSuffix(header, " b/"+out[i].Path) || (out[i].Status == "deleted" && strings.Contains(header, "a/"+out[i].Path+" ")) {
				out[i].Patch = p
				out[i].Binary = strings.Contains(p, "\nBinary files ")
				if out[i].Binary {
					out[i].Patch = ""
				}
				break
			}
		}
		if out[i].Patch == "" && !out[i].Binary && (out[i].Additions > 0 || out[i].Deletions > 0) {
			out[i].PatchMissing = true
		}
	}
	return out, nil
}

func (b *bitbucketSource) commit(ctx context.Context, repo, sha, _ string) (*commitInfo, []fileChange, error) {
	var c bbCommit
	if err := b.get(ctx, repoPath(repo)+"/commit/"+url.PathEscape(sha), nil, fmt.Sprintf("commit %s in %s", sha, repo), &c); err != nil {
		return nil, nil, err
	}
	ci := bbCommitInfo(c)
	changes, err := b.changes(ctx, repo, c.Hash, fmt.Sprintf("commit %s in %s", sha, repo))
	if err != nil {
		return nil, nil, err
	}
	ci.Files = len(changes)
	return &ci, changes, nil
}

func (b *bitbucketSource) compare(ctx context.Context, repo, base, head, _ string) (*comparison, error) {
	head, err := b.ref(ctx, repo, head)
	if err != nil {
		return nil, err
	}
	cmp := &comparison{Base: base, Head: head, Behind: -1}
	// Bitbucket's spec is source..destination: what head adds over base,
	// from their merge base.
	what := fmt.Sprintf("ref %s or %s in %s", base, head, repo)
	err = bbPages(ctx, b, repoPath(repo)+"/commits/"+url.PathEscape(head), url.Values{"exclude": {base}, "pagelen": {"50"}}, what, 1, func(vals []bbCommit) bool {
		for _, c := range vals {
			cmp.Commits = append(cmp.Commits, bbCommitInfo(c))
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	cmp.Ahead = len(cmp.Commits)
	// Oldest first, as the other providers list them.
	for i, j := 0, len(cmp.Commits)-1; i < j; i, j = i+1, j-1 {
		cmp.Commits[i], cmp.Commits[j] = cmp.Commits[j], cmp.Commits[i]
	}
	cmp.Changes, err = b.changes(ctx, repo, head+".."+base, what)
	return cmp, err
}

func (b *bitbucketSource) pulls(ctx context.Context, repo, state string, limit int) ([]pullRequest, bool, error) {
	states := map[string][]string{"open": {"OPEN"}, "merged": {"MERGED"}, "closed": {"DECLINED", "SUPERSEDED"}, "all": {"OPEN", "MERGED", "DECLINED", "SUPERSEDED"}}[state]
	type pr struct {
		ID           int    `json:"id"`
		Title        string `json:"title"`
		State        string `json:"state"`
		Draft        bool   `json:"draft"`
		CommentCount int    `json:"comment_count"`
		CreatedOn    string `json:"created_on"`
		UpdatedOn    string `json:"updated_on"`
		Author       struct {
			DisplayName string `json:"display_name"`
		} `json:"author"`
		Source struct {
			Branch struct{ Name string } `json:"branch"`
		} `json:"source"`
		Destination struct {
			Branch struct{ Name string } `json:"branch"`
		} `json:"destination"`
		Reviewers []struct {
			DisplayName string `json:"display_name"`
		} `json:"reviewers"`
		Links bbLinks `json:"links"`
	}
	var page bbPage[pr]
	q := url.Values{"state": states, "pagelen": {strconv.Itoa(min(50, limit+1))}, "sort": {"-updated_on"}, "fields": {"+values.reviewers,next,values.*"}}
	if err := b.get(ctx, repoPath(repo)+"/pullrequests", q, "repository "+repo, &page); err != nil {
		return nil, false, err
	}
	var out []pullRequest
	for _, p := range page.Values {
		r := pullRequest{Number: p.ID, Title: p.Title, State: strings.ToLower(p.State), Draft: p.Draft, Author: p.Author.DisplayName, Source: p.Source.Branch.Name,
			Target: p.Destination.Branch.Name, Created: bbTime(p.CreatedOn), Updated: bbTime(p.UpdatedOn), Comments: p.CommentCount, URL: p.Links.HTML.Href}
		for _, rv := range p.Reviewers {
			r.Reviewers = append(r.Reviewers, rv.DisplayName)
		}
		out = append(out, r)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, page.Next != "", nil
}

func (b *bitbucketSource) pipelines(ctx context.Context, repo, ref, status string, limit int) ([]pipeline, bool, error) {
	type run struct {
		BuildNumber int64 `json:"build_number"`
		State       struct {
			Name   string `json:"name"`
			Result *struct {
				Name string `json:"name"`
			} `json:"result"`
		} `json:"state"`
		Target struct {
			RefName string `json:"ref_name"`
			Commit  struct {
				Hash string `json:"hash"`
			} `json:"commit"`
		} `json:"target"`
		Trigger struct {
			Name string `json:"name"`
		} `json:"trigger"`
		CreatedOn string `json:"created_on"`
		Duration  int64  `json:"duration_in_seconds"`
	}
	q := url.Values{"sort": {"-created_on"}, "pagelen": {"100"}}
	if ref != "" {
		q.Set("target.ref_name", ref)
	}
	var out []pipeline
	more := false
	err := bbPages(ctx, b, repoPath(repo)+"/pipelines/", q, "repository "+repo+" (or its pipelines)", 5, func(vals []run) bool {
		for _, r := range vals {
			st := strings.ToLower(r.State.Name)
			if r.State.Result != nil && r.State.Result.Name != "" {
				st = strings.ToLower(r.State.Result.Name)
			}
			if status != "" && !(st == status || (status == "failed" && st == "error") || (status == "success" && st == "successful") || (status == "running" && st == "in_progress")) {
				continue
			}
			if len(out) >= limit {
				more = true
				return false
			}
			ws, slug := splitRepo(repo)
			out = append(out, pipeline{ID: r.BuildNumber, Status: st, Ref: r.Target.RefName, SHA: r.Target.Commit.Hash, Source: strings.ToLower(r.Trigger.Name),
				Created: bbTime(r.CreatedOn), Duration: time.Duration(r.Duration) * time.Second,
				URL: fmt.Sprintf("https://bitbucket.org/%s/%s/pipelines/results/%d", ws, slug, r.BuildNumber)})
		}
		return true
	})
	return out, more, err
}

// Compile-time checks that every provider offers what the tools call.
var (
	_ source       = (*localRepo)(nil)
	_ blameSource  = (*localRepo)(nil)
	_ source       = (*githubSource)(nil)
	_ reviewSource = (*githubSource)(nil)
	_ source       = (*gitlabSource)(nil)
	_ reviewSource = (*gitlabSource)(nil)
	_ source       = (*bitbucketSource)(nil)
	_ reviewSource = (*bitbucketSource)(nil)
)
