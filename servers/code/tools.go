package code

import (
	"context"
	"fmt"
	"log/slog"

	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/suggest"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

type handlers struct {
	conns  *connections.Set[*provider, source]
	limits config.Limits
	logger *slog.Logger
}

// Arguments of each tool. connection and repo are dropped from the schema
// when they cannot matter (one connection; one repository).
type (
	// repoArgs name the repository a tool reads; every tool but list_repos
	// takes them.
	repoArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Repo       string `json:"repo,omitempty"`
	}
	listReposArgs struct {
		Connection string `json:"connection,omitempty" jsonschema:"which connection"`
		Query      string `json:"query,omitempty" jsonschema:"only repositories whose name contains this"`
		Limit      int    `json:"limit,omitempty" jsonschema:"repositories to return"`
	}
	listFilesArgs struct {
		repoArgs
		Ref       string `json:"ref,omitempty" jsonschema:"branch, tag or commit; default: the default branch"`
		Path      string `json:"path,omitempty" jsonschema:"folder to list (default the root), or a glob such as src/**/*.go or *.sql"`
		Recursive bool   `json:"recursive,omitempty" jsonschema:"list every file below path, not only its direct entries"`
		Limit     int    `json:"limit,omitempty" jsonschema:"entries to return"`
	}
	readFileArgs struct {
		repoArgs
		Path      string `json:"path" jsonschema:"file path from the repository root"`
		Ref       string `json:"ref,omitempty" jsonschema:"branch, tag or commit; default: the default branch"`
		StartLine int    `json:"start_line,omitempty" jsonschema:"first line to show (1-based)"`
		EndLine   int    `json:"end_line,omitempty" jsonschema:"last line to show"`
	}
	searchArgs struct {
		repoArgs
		Query      string `json:"query"`
		Path       string `json:"path,omitempty" jsonschema:"only files under this folder or matching this glob (*.go)"`
		Ref        string `json:"ref,omitempty"`
		IgnoreCase bool   `json:"ignore_case,omitempty" jsonschema:"match regardless of case"`
		Limit      int    `json:"limit,omitempty" jsonschema:"matching lines to return"`
	}
	listCommitsArgs struct {
		repoArgs
		Ref     string `json:"ref,omitempty" jsonschema:"branch, tag or commit to start from; default: the default branch"`
		Path    string `json:"path,omitempty" jsonschema:"only commits touching this file or folder (a file is followed across renames)"`
		Author  string `json:"author,omitempty"`
		Since   string `json:"since,omitempty"`
		Until   string `json:"until,omitempty"`
		Pickaxe string `json:"pickaxe,omitempty" jsonschema:"only commits that add or remove this exact text (local repositories)"`
		Limit   int    `json:"limit,omitempty" jsonschema:"commits to return"`
	}
	getCommitArgs struct {
		repoArgs
		SHA  string `json:"sha" jsonschema:"commit ID (full or abbreviated), or a branch or tag for its latest commit"`
		Path string `json:"path,omitempty" jsonschema:"only this file, folder or glob: use it to see one file's whole diff"`
	}
	compareArgs struct {
		repoArgs
		Base string `json:"base" jsonschema:"the older ref: branch, tag or commit"`
		Head string `json:"head,omitempty" jsonschema:"the newer ref; default: the default branch"`
		Path string `json:"path,omitempty" jsonschema:"only this file, folder or glob"`
	}
	blameArgs struct {
		repoArgs
		Path      string `json:"path" jsonschema:"file path from the repository root"`
		Ref       string `json:"ref,omitempty" jsonschema:"branch, tag or commit; default: the default branch"`
		StartLine int    `json:"start_line,omitempty" jsonschema:"first line (1-based)"`
		EndLine   int    `json:"end_line,omitempty" jsonschema:"last line; default start_line+99"`
	}
	pullsArgs struct {
		repoArgs
		State string `json:"state,omitempty" jsonschema:"open (default), closed, merged or all"`
		Limit int    `json:"limit,omitempty" jsonschema:"requests to return"`
	}
	pipelinesArgs struct {
		repoArgs
		Ref    string `json:"ref,omitempty" jsonschema:"only runs for this branch or tag"`
		Status string `json:"status,omitempty" jsonschema:"only runs in this state, e.g. failed, success, running"`
		Limit  int    `json:"limit,omitempty" jsonschema:"runs to return"`
	}
)

func (h *handlers) locals() []*conn {
	var out []*conn
	for _, c := range h.conns.All() {
		if c.Provider == localProvider {
			out = append(out, c)
		}
	}
	return out
}

func (h *handlers) hosted() []*conn {
	var out []*conn
	for _, c := range h.conns.All() {
		if c.Provider != localProvider {
			out = append(out, c)
		}
	}
	return out
}

// repoHelp describes the repo argument for the loaded connections.
func (h *handlers) repoHelp() string {
	var parts []string
	if l := h.locals(); len(l) > 0 {
		var names []string
		for _, c := range l {
			names = append(names, c.Name)
		}
		parts = append(parts, "a local repository ("+strings.Join(names, ", ")+")")
	}
	seen := map[*provider]bool{}
	for _, c := range h.hosted() {
		if !seen[c.Provider] {
			seen[c.Provider] = true
			parts = append(parts, c.Provider.repoForm+" on "+c.Provider.Title)
		}
	}
	return "repository: " + strings.Join(parts, ", or ")
}

// shape adapts a tool's schema to the loaded connections.
func (h *handlers) shape(s *jsonschema.Schema) {
	if len(h.hosted()) >= 2 {
		toolkit.SetEnum(s, "connection", h.conns.Names())
	} else {
		toolkit.Drop(s, "connection")
	}
	if p := s.Properties["repo"]; p != nil {
		if h.conns.Len() == 1 && h.conns.All()[0].Backend.restrictedTo() != "" {
			toolkit.Drop(s, "repo")
		} else {
			p.Description = h.repoHelp()
		}
	}
	if p := s.Properties["limit"]; p != nil {
		p.Description += fmt.Sprintf(" (default %d, at most %d)", h.limits.Rows, h.limits.MaxRows)
	}
}

func (h *handlers) tools() []toolkit.Tool {
	locals, hosted := len(h.locals()) > 0, len(h.hosted()) > 0
	hostHints := toolkit.Read
	if hosted {
		hostHints = toolkit.ReadOpenWorld
	}
	searchHelp := "Search file contents; returns matching lines grouped by file with line numbers."
	switch {
	case locals && hosted:
		searchHelp += " Local repositories: query is a regular expression, at any ref. GitHub, GitLab and Bitbucket: the host's code search (words, not regular expressions) on the default branch (GitLab: any ref)."
	case locals:
		searchHelp += " query is a regular expression (e.g. func \\w+Handler); any ref."
	default:
		searchHelp += " Uses the host's code search: words, not regular expressions; the default branch (GitLab: any ref)."
	}
	sinceUntil := func(s *jsonschema.Schema) {
		s.Properties["since"].Description = "only commits after this: " + timerange.Formats
		s.Properties["until"].Description = "only commits before this (same formats)"
		s.Properties["author"].Description = "only commits whose author name or email contains this"
		if !locals {
			toolkit.Drop(s, "pickaxe")
			s.Properties["author"].Description = "only commits by this author (GitHub: login or email; GitLab: name or email; Bitbucket: name or email)"
		}
	}
	tools := []toolkit.Tool{
		toolkit.New(toolkit.Def{
			Name:        "list_repos",
			Title:       "List repositories",
			Description: "List the repositories available here with default branch and last update (local repositories also show branches and tags). Call this first when you do not know the repository's name.",
			Hints:       hostHints,
			Schema:      h.shape,
		}, h.listRepos),
		toolkit.New(toolkit.Def{
			Name:        "list_files",
			Title:       "List files",
			Description: "List a folder at a ref (files with sizes, and subfolders), every file below it (recursive), or files matching a glob. Use it to find paths before read_file.",
			Hints:       hostHints,
			Schema:      h.shape,
		}, h.listFiles),
		toolkit.New(toolkit.Def{
			Name:        "read_file",
			Title:       "Read file",
			Description: fmt.Sprintf("Read a text file with line numbers, at a ref. Long files are cut at %s with a footer: pass start_line/end_line for another part.", sizeText(int64(h.limits.Bytes))),
			Hints:       hostHints,
			Schema:      h.shape,
		}, h.readFile),
		toolkit.New(toolkit.Def{
			Name:        "search_code",
			Title:       "Search code",
			Description: searchHelp,
			Hints:       hostHints,
			Schema: func(s *jsonschema.Schema) {
				h.shape(s)
				s.Properties["query"].Description = "what to find"
				if locals && hosted {
					s.Properties["ref"].Description = "branch, tag or commit (local repositories and GitLab)"
				} else if locals {
					s.Properties["ref"].Description = "branch, tag or commit; default: the default branch"
				} else {
					s.Properties["ref"].Description = "branch or tag (GitLab only)"
				}
			},
		}, h.search),
		toolkit.New(toolkit.Def{
			Name:        "list_commits",
			Title:       "List commits",
			Description: "List commits newest first with date, author, files changed, +/- lines and subject, filtered by path, author and time range. To find what broke something: filter by the failing file's path and a since just before the incident, then get_commit.",
			Hints:       hostHints,
			Schema: func(s *jsonschema.Schema) {
				h.shape(s)
				sinceUntil(s)
			},
		}, h.listCommits),
		toolkit.New(toolkit.Def{
			Name:        "get_commit",
			Title:       "Get commit with diff",
			Description: "One commit: message, the list of changed files with +/- counts, then the diffs, shortened to fit with a footer naming what was cut; pass path for one file's whole diff.",
			Hints:       hostHints,
			Schema:      h.shape,
		}, h.getCommit),
		toolkit.New(toolkit.Def{
			Name:        "compare",
			Title:       "Compare two refs",
			Description: "What head changed since it diverged from base (like a pull request): its commits, changed files and diffs. E.g. base=v1.4.0 head=main to see what a release contains.",
			Hints:       hostHints,
			Schema:      h.shape,
		}, h.compare),
	}
	if locals {
		tools = append(tools, toolkit.New(toolkit.Def{
			Name:        "blame",
			Title:       "Blame lines",
			Description: "For a line range of a file in a local repository: the commit, author and date that last changed each line. Default: 100 lines from start_line.",
			Hints:       toolkit.Read,
			Schema:      h.shape,
		}, h.blame))
	}
	if hosted {
		tools = append(tools,
			toolkit.New(toolkit.Def{
				Name:        "list_pull_requests",
				Title:       "List pull or merge requests",
				Description: "Pull requests (GitHub, Bitbucket) or merge requests (GitLab) with state, author, branches, reviewers and comment counts, most recently updated first.",
				Hints:       toolkit.ReadOpenWorld,
				Schema: func(s *jsonschema.Schema) {
					h.shape(s)
					toolkit.SetEnum(s, "state", []string{"open", "closed", "merged", "all"})
				},
			}, h.pulls),
			toolkit.New(toolkit.Def{
				Name:        "list_pipelines",
				Title:       "List CI pipeline runs",
				Description: "CI runs (GitHub Actions workflow runs, GitLab pipelines, Bitbucket Pipelines) with status, ref, commit, trigger and duration, newest first. Filter status=failed to find what broke.",
				Hints:       toolkit.ReadOpenWorld,
				Schema:      h.shape,
			}, h.pipelines),
		)
	}
	return tools
}

// target picks the connection and repository a call names.
func (h *handlers) target(a repoArgs) (*conn, string, error) {
	repo := strings.Trim(strings.TrimSpace(a.Repo), "/")
	if a.Connection != "" {
		c, err := h.conns.Named(a.Connection)
		if err != nil {
			return nil, "", err
		}
		return inConn(c, repo)
	}
	if repo != "" {
		for _, c := range h.locals() {
			if c.Name == repo {
				return c, c.Name, nil
			}
		}
		var open []*conn
		for _, c := range h.hosted() {
			switch only := c.Backend.restrictedTo(); {
			case only == "":
				open = append(open, c)
			case strings.EqualFold(only, repo):
				return c, only, nil
			}
		}
		if strings.Contains(repo, "/") {
			switch len(open) {
			case 1:
				return open[0], repo, nil
			case 0:
			default:
				var names []string
				for _, c := range open {
					names = append(names, c.Name)
				}
				return nil, "", toolkit.Errorf("%s could be on %s; pass connection", repo, strings.Join(names, " or "))
			}
		}
		known := h.knownRepos()
		msg := fmt.Sprintf("no repository %q here", repo)
		if close := suggest.Closest(repo, known, 3); len(close) > 0 {
			return nil, "", toolkit.Errorf("%s; did you mean %s?", msg, strings.Join(close, ", "))
		}
		return nil, "", toolkit.Errorf("%s; pass %s (list_repos shows them)", msg, h.repoHelp())
	}
	if h.conns.Len() == 1 {
		return inConn(h.conns.All()[0], "")
	}
	return nil, "", toolkit.Errorf("several repositories are loaded; pass repo: %s (list_repos shows them)", h.repoHelp())
}

func inConn(c *conn, repo string) (*conn, string, error) {
	if c.Provider == localProvider {
		if repo != "" && repo != c.Name {
			return nil, "", toolkit.Errorf("connection %s is the local repository %s; leave repo empty or pass %q", c.Name, c.Name, c.Name)
		}
		return c, c.Name, nil
	}
	only := c.Backend.restrictedTo()
	if repo == "" {
		if only != "" {
			return c, only, nil
		}
		return nil, "", toolkit.Errorf("pass repo (%s); list_repos shows the repositories of %s", c.Provider.repoForm, c.Name)
	}
	if only != "" && !strings.EqualFold(repo, only) {
		return nil, "", toolkit.Errorf("connection %s is restricted to %s; %s is not available through it", c.Name, only, repo)
	}
	if !strings.Contains(repo, "/") {
		return nil, "", toolkit.Errorf("repo %q needs its owner: write it as %s", repo, c.Provider.repoForm)
	}
	return c, repo, nil
}

func (h *handlers) knownRepos() []string {
	var out []string
	for _, c := range h.conns.All() {
		if r := c.Backend.restrictedTo(); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func (h *handlers) limit(n int) (int, error) {
	return toolkit.Bounded("limit", n, h.limits.Rows, h.limits.MaxRows)
}

func (h *handlers) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(h.limits.Timeout))
}

// label names a repository in output: the local name or host/repo.
func label(c *conn, repo string) string {
	if c.Provider == localProvider {
		return repo
	}
	return repo + " (" + c.Provider.Title + ")"
}

func (h *handlers) listRepos(ctx context.Context, in listReposArgs) (string, error) {
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	conns := h.conns.All()
	if in.Connection != "" {
		c, err := h.conns.Named(in.Connection)
		if err != nil {
			return "", err
		}
		conns = []*conn{c}
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	var all []repoInfo
	more := false
	for _, c := range conns {
		if c.Provider == localProvider && in.Query != "" && !strings.Contains(strings.ToLower(c.Name), strings.ToLower(in.Query)) {
			continue
		}
		list, m, err := c.Backend.listRepos(ctx, in.Query, limit)
		if err != nil {
			return "", fmt.Errorf("%s: %w", c.Name, err)
		}
		more = more || m
		all = append(all, list...)
	}
	where := "here"
	if in.Query != "" {
		where = fmt.Sprintf("matching %q", in.Query)
	}
	if len(all) > limit {
		all, more = all[:limit], true
	}
	return renderRepos(all, more, limit, where), nil
}

var globChars = "*?["

// globRE turns a path glob into a regular expression: * and ? stay within
// a folder, ** crosses folders, and a pattern without / matches base names.
func globRE(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	if !strings.Contains(glob, "/") {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				if i+1 < len(glob) && glob[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(glob[i:], ']')
			if j < 0 {
				return nil, toolkit.Errorf("glob %q has an unclosed [", glob)
			}
			b.WriteString(glob[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, toolkit.Errorf("glob %q is not valid: %v", glob, err)
	}
	return re, nil
}

func (h *handlers) listFiles(ctx context.Context, in listFilesArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	p := strings.Trim(strings.TrimSpace(in.Path), "/")
	if strings.ContainsAny(p, globChars) {
		re, err := globRE(p)
		if err != nil {
			return "", err
		}
		dir := p[:strings.IndexAny(p, globChars)]
		if i := strings.LastIndexByte(dir, '/'); i >= 0 {
			dir = dir[:i]
		} else {
			dir = ""
		}
		l, err := c.Backend.listFiles(ctx, repo, in.Ref, dir, true, 50000)
		if err != nil {
			return "", err
		}
		var kept []entry
		for _, e := range l.Entries {
			if e.Type != "dir" && re.MatchString(e.Path) {
				kept = append(kept, e)
			}
		}
		out := &listing{Ref: l.Ref, Entries: kept}
		if len(kept) > limit {
			out.Entries, out.More = kept[:limit], true
		}
		if len(kept) == 0 {
			return fmt.Sprintf("No files match %q in %s at %s. Globs: * stays within a folder, ** crosses folders; a pattern without / matches file names anywhere.", p, label(c, repo), l.Ref), nil
		}
		return renderListing(out, label(c, repo), p, limit), nil
	}
	l, err := c.Backend.listFiles(ctx, repo, in.Ref, p, in.Recursive, limit)
	if err != nil {
		return "", err
	}
	return renderListing(l, label(c, repo), p, limit), nil
}

func (h *handlers) readFile(ctx context.Context, in readFileArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Path) == "" {
		return "", toolkit.Errorf("path is empty; pass a file path (list_files shows them)")
	}
	lr := lineRange{Start: in.StartLine, End: in.EndLine}
	if _, _, err := clampRange(lr, 1<<30, 0); err != nil {
		return "", toolkit.Errorf("%v", err)
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	fc, err := c.Backend.readFile(ctx, repo, in.Ref, in.Path, lr)
	if err != nil {
		return "", err
	}
	return renderFile(fc, lr, h.limits.Bytes)
}

func (h *handlers) search(ctx context.Context, in searchArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Query) == "" {
		return "", toolkit.Errorf("query is empty; pass the text or pattern to find")
	}
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	res, err := c.Backend.search(ctx, repo, searchQuery{Query: in.Query, Path: in.Path, Ref: in.Ref, IgnoreCase: in.IgnoreCase, Limit: limit})
	if err != nil {
		return "", err
	}
	return renderHits(res, label(c, repo), in.Query), nil
}

// timeFilter reads since/until; either may be empty.
func timeFilter(since, until string) (time.Time, time.Time, error) {
	if strings.TrimSpace(since) == "" && strings.TrimSpace(until) == "" {
		return time.Time{}, time.Time{}, nil
	}
	r, err := timerange.Parse(since, until, time.Now(), 100*365*24*time.Hour)
	if err != nil {
		return time.Time{}, time.Time{}, toolkit.Errorf("%v", err)
	}
	var s, u time.Time
	if strings.TrimSpace(since) != "" {
		s = r.Start
	}
	if strings.TrimSpace(until) != "" {
		u = r.End
	}
	return s, u, nil
}

func (h *handlers) listCommits(ctx context.Context, in listCommitsArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	since, until, err := timeFilter(in.Since, in.Until)
	if err != nil {
		return "", err
	}
	if in.Pickaxe != "" && c.Provider != localProvider {
		return "", toolkit.Errorf("pickaxe works on local repositories only; on %s, use search_code to find where the text is now", c.Provider.Title)
	}
	q := commitQuery{Ref: in.Ref, Path: in.Path, Author: strings.TrimSpace(in.Author), Since: since, Until: until, Pickaxe: in.Pickaxe, Limit: limit}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	list, more, err := c.Backend.commits(ctx, repo, q)
	if err != nil {
		return "", err
	}
	return renderCommits(list, more, label(c, repo), q, limit), nil
}

func (h *handlers) getCommit(ctx context.Context, in getCommitArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	sha := strings.TrimSpace(in.SHA)
	if sha == "" {
		return "", toolkit.Errorf("sha is empty; pass a commit ID from list_commits")
	}
	if err := checkRef(sha); err != nil {
		return "", err
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	ci, changes, err := c.Backend.commit(ctx, repo, sha, in.Path)
	if err != nil {
		return "", err
	}
	changes, err = filterChanges(changes, in.Path, c.Provider != localProvider)
	if err != nil {
		return "", err
	}
	return renderCommit(ci, changes, label(c, repo), in.Path, h.limits.Bytes), nil
}

// filterChanges applies a path filter to hosts' change lists (git applies
// it itself for local repositories).
func filterChanges(changes []fileChange, filter string, apply bool) ([]fileChange, error) {
	filter = strings.Trim(strings.TrimSpace(filter), "/")
	if !apply || filter == "" {
		return changes, nil
	}
	var re *regexp.Regexp
	if strings.ContainsAny(filter, globChars) {
		var err error
		if re, err = globRE(filter); err != nil {
			return nil, err
		}
	}
	var out []fileChange
	for _, c := range changes {
		for _, p := range []string{c.Path, c.OldPath} {
			if p == "" {
				continue
			}
			if (re != nil && re.MatchString(p)) || (re == nil && (p == filter || strings.HasPrefix(p, filter+"/"))) {
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
}

func (h *handlers) compare(ctx context.Context, in compareArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	base, head := strings.TrimSpace(in.Base), strings.TrimSpace(in.Head)
	if base == "" {
		return "", toolkit.Errorf("base is empty; pass the older branch, tag or commit")
	}
	for _, r := range []string{base, head} {
		if err := checkRef(r); err != nil {
			return "", err
		}
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	cmp, err := c.Backend.compare(ctx, repo, base, head, in.Path)
	if err != nil {
		return "", err
	}
	cmp.Changes, err = filterChanges(cmp.Changes, in.Path, c.Provider != localProvider)
	if err != nil {
		return "", err
	}
	return renderComparison(cmp, label(c, repo), in.Path, h.limits.Bytes), nil
}

func (h *handlers) blame(ctx context.Context, in blameArgs) (string, error) {
	c, repo, err := h.target(in.repoArgs)
	if err != nil {
		return "", err
	}
	bs, ok := c.Backend.(blameSource)
	if !ok {
		return "", toolkit.Errorf("blame works on local repositories only; for %s, list_commits with path shows who changed the file", c.Provider.Title)
	}
	if strings.TrimSpace(in.Path) == "" {
		return "", toolkit.Errorf("path is empty; pass a file path (list_files shows them)")
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	res, err := bs.blame(ctx, repo, in.Ref, in.Path, lineRange{Start: in.StartLine, End: in.EndLine})
	if err != nil {
		return "", err
	}
	return renderBlame(res, label(c, repo)), nil
}

func (h *handlers) review(a repoArgs) (*conn, string, reviewSource, error) {
	c, repo, err := h.target(a)
	if err != nil {
		return nil, "", nil, err
	}
	rs, ok := c.Backend.(reviewSource)
	if !ok {
		return nil, "", nil, toolkit.Errorf("%s is a local repository: it has no pull requests or pipelines; pass a GitHub, GitLab or Bitbucket repository", repo)
	}
	return c, repo, rs, nil
}

func (h *handlers) pulls(ctx context.Context, in pullsArgs) (string, error) {
	c, repo, rs, err := h.review(in.repoArgs)
	if err != nil {
		return "", err
	}
	state := strings.ToLower(strings.TrimSpace(in.State))
	if state == "" {
		state = "open"
	}
	valid := []string{"open", "closed", "merged", "all"}
	if !contains(valid, state) {
		return "", toolkit.Errorf("state %q is not one of: %s", in.State, strings.Join(valid, ", "))
	}
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	list, more, err := rs.pulls(ctx, repo, state, limit)
	if err != nil {
		return "", err
	}
	noun := "pull request"
	if c.Provider == gitlabProvider {
		noun = "merge request"
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Updated.After(list[j].Updated) })
	return renderPulls(list, more, label(c, repo), state, noun, limit), nil
}

func (h *handlers) pipelines(ctx context.Context, in pipelinesArgs) (string, error) {
	c, repo, rs, err := h.review(in.repoArgs)
	if err != nil {
		return "", err
	}
	limit, err := h.limit(in.Limit)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.deadline(ctx)
	defer cancel()
	list, more, err := rs.pipelines(ctx, repo, strings.TrimSpace(in.Ref), strings.ToLower(strings.TrimSpace(in.Status)), limit)
	if err != nil {
		return "", err
	}
	return renderPipelines(list, more, label(c, repo), limit), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
