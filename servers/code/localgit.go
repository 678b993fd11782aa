package code

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/suggest"
	"github.com/opstower/opstower/shared/toolkit"
)

var localProvider = &provider{
	Provider: connections.Provider{
		Name:    "local",
		Aliases: []string{"git"},
		Title:   "local git",
		Fields: []config.Field{
			{Name: "path", Required: true, Help: "the repository's top folder (or a bare repository)"},
			{Name: "default_branch", Help: "the ref read when a call names none; default HEAD"},
		},
		DefaultName: func(v config.Values) string { return filepath.Base(filepath.Clean(v.Get("path"))) },
	},
	open: openLocal,
}

// maxFileRead bounds how much of one file read_file and blame load.
const maxFileRead = 16 << 20

// maxPatchRead bounds how much diff text one call reads from git; the
// renderer shows a small part of it anyway.
const maxPatchRead = 8 << 20

// localRepo reads one repository on disk with the git command.
type localRepo struct {
	name       string
	path       string
	defaultRef string
	gitPath    string

	mu      sync.Mutex
	checked bool // git's version and the repository were checked
	noPCRE  bool // this git has no Perl-compatible regexes; use -E
}

func openLocal(name string, v config.Values, _ config.Limits) (source, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, errors.New("local repositories are read with the git command, which is not installed or not on PATH; install git 2.24 or later (apt-get install git, brew install git, or https://git-scm.com)")
	}
	path := v.Get("path")
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("repository folder %s does not exist or is not a folder", path)
	}
	ref := v.Get("default_branch")
	if ref == "" {
		ref = "HEAD"
	}
	return &localRepo{name: name, path: path, defaultRef: ref, gitPath: gitPath}, nil
}

func (r *localRepo) close() {}

// restrictedTo is the repository itself: a local connection serves one.
func (r *localRepo) restrictedTo() string { return r.name }

// safeConfig overrides every repository setting that would make a read
// command run a program or write a file.
var safeConfig = []string{
	"-c", "core.fsmonitor=false",
	"-c", "core.quotePath=false",
	"-c", "core.pager=cat",
	"-c", "color.ui=never",
	"-c", "diff.external=",
	"-c", "log.showSignature=false",
	"-c", "gpg.program=false",
	"-c", "log.decorate=false",
	"-c", "grep.fallbackToNoIndex=false",
	"-c", "core.commitGraph=true",
	"--no-pager",
}

// env is the environment of every git process: the caller's, without
// GIT_* variables that could point git elsewhere, plus settings that keep
// git from writing, prompting or fetching.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "LC_ALL=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_OPTIONAL_LOCKS=0",  // never refresh the index
		"GIT_TERMINAL_PROMPT=0", // never ask for credentials
		"GIT_NO_LAZY_FETCH=1",   // partial clones: never fetch a missing object
		"GIT_NO_REPLACE_OBJECTS=1",
		"GIT_PAGER=cat",
		"LC_ALL=C",
	)
}

// gitError is a failed git command.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.code)
	}
	return "git " + e.args[0] + ": " + msg
}

// command builds a git command for this repository.
func (r *localRepo) command(ctx context.Context, args []string) *exec.Cmd {
	full := append(append([]string{"-C", r.path}, safeConfig...), args...)
	cmd := exec.CommandContext(ctx, r.gitPath, full...)
	cmd.Env = gitEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// check runs once before the first command: git's version and whether the
// folder is a repository git will read.
func (r *localRepo) check(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checked {
		return nil
	}
	out, err := exec.CommandContext(ctx, r.gitPath, "version").Output()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // not a verdict on git: try again next call
		}
		return fmt.Errorf("running git version failed: %v", err)
	}
	if !gitVersionAtLeast(string(out), 2, 24) {
		return fmt.Errorf("%s is too old; local repositories need git 2.24 or later", strings.TrimSpace(string(out)))
	}
	if _, err := r.runRaw(ctx, []string{"rev-parse", "--git-dir"}, 1<<10); err != nil {
		return r.explain(err)
	}
	r.checked = true
	return nil
}

var gitVersionRE = regexp.MustCompile(`git version (\d+)\.(\d+)`)

func gitVersionAtLeast(out string, major, minor int) bool {
	m := gitVersionRE.FindStringSubmatch(out)
	if m == nil {
		return true // an unusual build string: let the commands decide
	}
	ma, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return ma > major || (ma == major && mi >= minor)
}

// explain turns git's own messages about the repository into advice.
func (r *localRepo) explain(err error) error {
	var ge *gitError
	if !errors.As(err, &ge) {
		return err
	}
	s := ge.stderr
	switch {
	case strings.Contains(s, "not a git repository"):
		return toolkit.Errorf("%s (%s) is not a git repository; point --repo at a folder that contains .git, or at a bare repository", r.name, r.path)
	case strings.Contains(s, "dubious ownership"):
		return toolkit.Errorf("git refuses to read %s because the folder belongs to another user; if you trust it, run: git config --global --add safe.directory %s", r.path, r.path)
	case strings.Contains(s, "does not have any commits yet"), strings.Contains(s, "bad default revision 'HEAD'"):
		return toolkit.Errorf("%s has no commits yet", r.name)
	}
	return err
}

// run runs git and returns its output, failing when it is larger than max.
func (r *localRepo) run(ctx context.Context, args []string, max int) ([]byte, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	out, err := r.runRaw(ctx, args, max)
	if err != nil {
		return nil, r.explain(err)
	}
	return out, nil
}

func (r *localRepo) runRaw(ctx context.Context, args []string, max int) ([]byte, error) {
	var out []byte
	err := r.streamRaw(ctx, args, func(chunk []byte) bool {
		out = append(out, chunk...)
		return len(out) <= max
	}, false)
	if err != nil {
		return nil, err
	}
	if len(out) > max {
		return nil, fmt.Errorf("git %s printed more than %d bytes", args[0], max)
	}
	return out, nil
}

// stream runs git and hands its output to fn line by line (lines keep
// their terminator) until fn returns false, which stops git.
func (r *localRepo) stream(ctx context.Context, args []string, fn func(line []byte) bool) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	if err := r.streamRaw(ctx, args, fn, true); err != nil {
		return r.explain(err)
	}
	return nil
}

// streamRaw runs git, passing stdout to fn in lines (byLine) or chunks.
// Stopping early kills git; that is not an error.
func (r *localRepo) streamRaw(ctx context.Context, args []string, fn func([]byte) bool, byLine bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, args)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting git: %w", err)
	}
	stopped := false
	br := bufio.NewReaderSize(stdout, 64<<10)
	buf := make([]byte, 64<<10)
	for !stopped {
		var chunk []byte
		var rerr error
		if byLine {
			chunk, rerr = br.ReadBytes('\n')
		} else {
			var n int
			n, rerr = br.Read(buf)
			chunk = buf[:n]
		}
		if len(chunk) > 0 && !fn(chunk) {
			stopped = true
			cancel()
		}
		if rerr != nil {
			break
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	if stopped {
		return nil
	}
	if ctx.Err() != nil && werr != nil {
		if pctx := context.Cause(ctx); pctx != nil && !errors.Is(pctx, context.Canceled) {
			return pctx
		}
		return ctx.Err()
	}
	if werr != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			code = ee.ExitCode()
		}
		return &gitError{args: args, code: code, stderr: stderr.String()}
	}
	return nil
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if len(q) > l.n {
			q = q[:l.n]
		}
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}

// checkRef rejects refs that could be read as options or that no ref
// name can contain.
func checkRef(ref string) error {
	switch {
	case strings.HasPrefix(ref, "-"):
		return toolkit.Errorf("ref %q must not start with '-'", ref)
	case strings.ContainsAny(ref, " \t\r\n\x00\\") || len(ref) > 256:
		return toolkit.Errorf("ref %q is not a valid branch, tag or commit name", ref)
	}
	return nil
}

// resolve turns a ref (branch, tag, commit, HEAD~2...) into a commit ID.
func (r *localRepo) resolve(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		ref = r.defaultRef
	}
	if err := checkRef(ref); err != nil {
		return "", err
	}
	out, err := r.run(ctx, []string{"rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"}, 1<<10)
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && ge.code == 1 {
			return "", r.unknownRef(ctx, ref)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func (r *localRepo) unknownRef(ctx context.Context, ref string) error {
	if ref == "HEAD" {
		if out, err := r.run(ctx, []string{"rev-list", "-n1", "--all"}, 1<<10); err == nil && len(bytes.TrimSpace(out)) == 0 {
			return toolkit.Errorf("%s has no commits yet", r.name)
		}
	}
	refs := r.refNames(ctx, 2000)
	msg := fmt.Sprintf("no branch, tag or commit %q in %s", ref, r.name)
	if close := suggest.Closest(ref, refs, 3); len(close) > 0 {
		return toolkit.Errorf("%s; did you mean %s?", msg, strings.Join(close, ", "))
	}
	if len(refs) > 0 && len(refs) <= 15 {
		return toolkit.Errorf("%s; refs are: %s", msg, strings.Join(refs, ", "))
	}
	return toolkit.Errorf("%s; list_repos shows its branches and tags", msg)
}

func (r *localRepo) refNames(ctx context.Context, n int) []string {
	out, err := r.run(ctx, []string{"for-each-ref", "--sort=-committerdate", "--count=" + strconv.Itoa(n), "--format=%(refname:short)", "refs/heads", "refs/tags", "refs/remotes"}, 1<<20)
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// cleanPath normalizes a repository path argument.
func cleanPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	p = strings.TrimPrefix(p, "./")
	p = strings.Trim(p, "/")
	if p == "." {
		p = ""
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", toolkit.Errorf("path %q must not contain '..'; paths are relative to the repository root", p)
		}
	}
	if strings.ContainsAny(p, "\x00\n") {
		return "", toolkit.Errorf("path %q contains a control character", p)
	}
	return p, nil
}

// treeEntry is one line of git ls-tree -l -z.
type treeEntry struct {
	mode, typ, hash string
	size            int64
	path            string
}

func parseTreeEntry(rec string) (treeEntry, bool) {
	meta, path, ok := strings.Cut(rec, "\t")
	if !ok {
		return treeEntry{}, false
	}
	f := strings.Fields(meta)
	if len(f) < 3 {
		return treeEntry{}, false
	}
	e := treeEntry{mode: f[0], typ: f[1], hash: f[2], size: -1, path: path}
	if len(f) > 3 {
		if n, err := strconv.ParseInt(f[3], 10, 64); err == nil {
			e.size = n
		}
	}
	return e, true
}

func (e treeEntry) kind() string {
	switch {
	case e.typ == "tree":
		return "dir"
	case e.typ == "commit":
		return "submodule"
	case e.mode == "120000":
		return "link"
	}
	return "file"
}

// lookup finds one path in a commit's tree; nil when it does not exist.
func (r *localRepo) lookup(ctx context.Context, sha, path string) (*treeEntry, error) {
	if path == "" {
		return &treeEntry{typ: "tree", path: ""}, nil
	}
	out, err := r.run(ctx, []string{"ls-tree", "-l", "-z", "--full-tree", sha, "--", path}, 1<<16)
	if err != nil {
		return nil, err
	}
	for _, rec := range strings.Split(string(out), "\x00") {
		if e, ok := parseTreeEntry(rec); ok && e.path == path {
			return &e, nil
		}
	}
	return nil, nil
}

// missingPath explains a path that is not in the tree, with the closest
// existing paths.
func (r *localRepo) missingPath(ctx context.Context, sha, ref, path string) error {
	var all []string
	_ = r.stream(ctx, []string{"ls-tree", "-r", "-t", "--name-only", "-z", "--full-tree", sha}, func(line []byte) bool {
		for _, p := range strings.Split(strings.TrimRight(string(line), "\n"), "\x00") {
			if p != "" {
				all = append(all, p)
			}
		}
		return len(all) < 200000
	})
	return notFoundPath(path, ref, r.name, all)
}

// notFoundPath builds the "no such path" error with did-you-mean
// candidates by full path and by base name.
func notFoundPath(path, ref, repo string, all []string) error {
	msg := fmt.Sprintf("no file or folder %q at %s in %s", path, ref, repo)
	close := suggest.Closest(path, all, 3)
	if len(close) == 0 {
		base := filepath.Base(path)
		var same []string
		for _, p := range all {
			if filepath.Base(p) == base || len(suggest.Closest(base, []string{filepath.Base(p)}, 1)) > 0 {
				same = append(same, p)
				if len(same) == 3 {
					break
				}
			}
		}
		close = same
	}
	if len(close) > 0 {
		return toolkit.Errorf("%s; did you mean %s?", msg, strings.Join(close, ", "))
	}
	return toolkit.Errorf("%s; list_files shows what is there", msg)
}

func (r *localRepo) listRepos(ctx context.Context, _ string, _ int) ([]repoInfo, bool, error) {
	info := repoInfo{Name: r.name, Visibility: "local"}
	if out, err := r.run(ctx, []string{"symbolic-ref", "--short", "-q", "HEAD"}, 1<<10); err == nil {
		info.DefaultBranch = strings.TrimSpace(string(out))
	}
	if out, err := r.run(ctx, []string{"log", "-1", "--format=%cI", "--end-of-options", r.defaultRef, "--"}, 1<<10); err == nil {
		info.Updated, _ = time.Parse(time.RFC3339, strings.TrimSpace(string(out)))
	} else {
		return nil, false, err
	}
	var parts []string
	for _, q := range []struct{ label, sort, ns string }{{"branches", "-committerdate", "refs/heads"}, {"tags", "-creatordate", "refs/tags"}} {
		out, err := r.run(ctx, []string{"for-each-ref", "--sort=" + q.sort, "--format=%(refname:short)", q.ns}, 1<<20)
		if err != nil {
			return nil, false, err
		}
		names := strings.Fields(string(out))
		if len(names) == 0 {
			continue
		}
		shown := names
		if len(shown) > 8 {
			shown = shown[:8]
		}
		s := q.label + ": " + strings.Join(shown, " ")
		if len(names) > len(shown) {
			s += fmt.Sprintf(" (+%d older)", len(names)-len(shown))
		}
		parts = append(parts, s)
	}
	info.Extra = strings.Join(parts, "; ")
	info.Description = r.path
	return []repoInfo{info}, false, nil
}

func (r *localRepo) listFiles(ctx context.Context, _, ref, path string, recursive bool, limit int) (*listing, error) {
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		ref = r.defaultRef
	}
	path, err = cleanPath(path)
	if err != nil {
		return nil, err
	}
	e, err := r.lookup(ctx, sha, path)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, r.missingPath(ctx, sha, ref, path)
	}
	l := &listing{Ref: ref + " (" + sha[:12] + ")"}
	if e.typ != "tree" {
		l.Entries = []entry{{Path: e.path, Type: e.kind(), Size: e.size}}
		return l, nil
	}
	args := []string{"ls-tree", "-l", "-z", "--full-tree"}
	if recursive {
		args = append(args, "-r")
	}
	args = append(args, sha)
	if path != "" {
		args = append(args, "--", path+"/")
	}
	var rest []byte
	err = r.stream(ctx, args, func(chunk []byte) bool {
		rest = append(rest, chunk...)
		for {
			i := bytes.IndexByte(rest, 0)
			if i < 0 {
				break
			}
			if te, ok := parseTreeEntry(string(rest[:i])); ok {
				if len(l.Entries) >= limit {
					l.More = true
					return false
				}
				l.Entries = append(l.Entries, entry{Path: te.path, Type: te.kind(), Size: te.size})
			}
			rest = rest[i+1:]
		}
		return true
	})
	return l, err
}

func (r *localRepo) readFile(ctx context.Context, _, ref, path string, _ lineRange) (*fileContent, error) {
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ref == "" {
		ref = r.defaultRef
	}
	path, err = cleanPath(path)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, toolkit.Errorf("path is empty; pass a file path (list_files shows them)")
	}
	e, err := r.lookup(ctx, sha, path)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, r.missingPath(ctx, sha, ref, path)
	}
	fc := &fileContent{Path: path, Ref: ref + " (" + sha[:12] + ")", Size: e.size}
	switch e.kind() {
	case "dir":
		return nil, toolkit.Errorf("%s is a folder; call list_files with path=%q", path, path)
	case "submodule":
		return nil, toolkit.Errorf("%s is a submodule pinned at commit %s; its files live in another repository", path, e.hash)
	}
	data, err := r.blob(ctx, e.hash, maxFileRead)
	if err != nil {
		return nil, err
	}
	if e.kind() == "link" {
		fc.Link = string(data)
		return fc, nil
	}
	fc.Data = data
	fc.Partial = int64(len(data)) < e.size
	return fc, nil
}

// blob reads up to max bytes of a blob.
func (r *localRepo) blob(ctx context.Context, hash string, max int) ([]byte, error) {
	var out []byte
	err := r.stream(ctx, []string{"cat-file", "blob", hash}, func(line []byte) bool {
		out = append(out, line...)
		return len(out) < max
	})
	if len(out) > max {
		out = out[:max]
	}
	return out, err
}

func (r *localRepo) search(ctx context.Context, _ string, q searchQuery) (*searchResult, error) {
	re := q.Query
	if q.IgnoreCase {
		re = "(?i)" + re
	}
	if _, err := regexp.Compile(re); err != nil {
		return nil, toolkit.Errorf("query is not a valid regular expression: %v; escape special characters such as ( [ . * with a backslash", regexpMessage(err))
	}
	sha, err := r.resolve(ctx, q.Ref)
	if err != nil {
		return nil, err
	}
	ref := q.Ref
	if ref == "" {
		ref = r.defaultRef
	}
	path, err := pathspec(q.Path)
	if err != nil {
		return nil, err
	}
	res := &searchResult{Ref: ref + " (" + sha[:12] + ")", Total: -1}
	run := func(flavour string) error {
		res.Hits, res.More = nil, false
		args := []string{"grep", "-n", "-z", "-I", "--no-color", "--full-name", flavour}
		if q.IgnoreCase {
			args = append(args, "-i")
		}
		args = append(args, "-e", q.Query, sha)
		if path != "" {
			args = append(args, "--", path)
		}
		prefix := sha + ":"
		err := r.stream(ctx, args, func(line []byte) bool {
			f := bytes.SplitN(bytes.TrimRight(line, "\n"), []byte{0}, 3)
			if len(f) < 3 {
				return true
			}
			if len(res.Hits) >= q.Limit {
				res.More = true
				return false
			}
			n, _ := strconv.Atoi(string(f[1]))
			res.Hits = append(res.Hits, searchHit{Path: strings.TrimPrefix(string(f[0]), prefix), Line: n, Text: string(f[2])})
			return true
		})
		var ge *gitError
		if errors.As(err, &ge) && ge.code == 1 && strings.TrimSpace(ge.stderr) == "" {
			return nil // no match
		}
		return err
	}
	flavour := "-P"
	r.mu.Lock()
	if r.noPCRE {
		flavour = "-E"
	}
	r.mu.Unlock()
	err = run(flavour)
	var ge *gitError
	if flavour == "-P" && errors.As(err, &ge) && (strings.Contains(ge.stderr, "USE_LIBPCRE") || strings.Contains(ge.stderr, "Perl-compatible")) {
		r.mu.Lock()
		r.noPCRE = true
		r.mu.Unlock()
		err = run("-E")
	}
	if errors.As(err, &ge) {
		return nil, toolkit.Errorf("git grep could not run this search: %s", strings.TrimSpace(ge.stderr))
	}
	return res, err
}

// regexpMessage keeps the useful part of a regexp syntax error.
func regexpMessage(err error) string {
	s := err.Error()
	return strings.TrimPrefix(s, "error parsing regexp: ")
}

// pathspec checks a path filter: a folder, a file or a glob such as *.go
// or src/*.ts (where * also matches /). Pathspec magic is refused.
func pathspec(p string) (string, error) {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, ":") {
		return "", toolkit.Errorf("path %q: pathspec magic (a leading ':') is not supported; pass a folder, a file or a glob like src/*.go", p)
	}
	if strings.HasPrefix(p, "-") {
		return "", toolkit.Errorf("path %q must not start with '-'", p)
	}
	return cleanPath(p)
}

const logFormat = "%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%P%x1f%s"

func (r *localRepo) commits(ctx context.Context, _ string, q commitQuery) ([]commitInfo, bool, error) {
	sha, err := r.resolve(ctx, q.Ref)
	if err != nil {
		return nil, false, err
	}
	path, err := pathspec(q.Path)
	if err != nil {
		return nil, false, err
	}
	args := []string{"log", "--no-color", "--format=" + logFormat, "--shortstat", "-n", strconv.Itoa(q.Limit + 1)}
	if q.Author != "" {
		args = append(args, "--author="+q.Author, "--regexp-ignore-case", "--fixed-strings")
	}
	if !q.Since.IsZero() {
		args = append(args, "--since="+q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		args = append(args, "--until="+q.Until.UTC().Format(time.RFC3339))
	}
	if q.Pickaxe != "" {
		args = append(args, "-S"+q.Pickaxe)
	}
	follow := false
	if path != "" && !strings.ContainsAny(path, "*?[") {
		if e, err := r.lookup(ctx, sha, path); err == nil && e != nil && e.typ == "blob" {
			follow = true
			args = append(args, "--follow", "--name-status")
		}
	}
	args = append(args, "--end-of-options", sha, "--")
	if path != "" {
		args = append(args, path)
	}
	out, err := r.run(ctx, args, 32<<20)
	if err != nil {
		return nil, false, err
	}
	var list []commitInfo
	for _, rec := range strings.Split(string(out), "\x1e") {
		if rec == "" {
			continue
		}
		head, rest, _ := strings.Cut(rec, "\n")
		f := strings.Split(head, "\x1f")
		if len(f) < 6 {
			continue
		}
		c := commitInfo{SHA: f[0], Author: f[1], Email: f[2], Message: f[5], Files: -1}
		c.Date, _ = time.Parse(time.RFC3339, f[3])
		if f[4] != "" {
			c.Parents = strings.Fields(f[4])
		}
		for _, line := range strings.Split(rest, "\n") {
			switch {
			case strings.Contains(line, " changed"):
				c.Files, c.Additions, c.Deletions = parseShortstat(line)
			case follow && (strings.HasPrefix(line, "R") || strings.HasPrefix(line, "C")) && strings.Count(line, "\t") == 2:
				p := strings.Split(line, "\t")
				c.PathNote = "renamed from " + p[1]
				if p[2] != path {
					c.PathNote = p[1] + " → " + p[2]
				}
			case follow && strings.Count(line, "\t") == 1:
				if p := strings.Split(line, "\t"); p[1] != path {
					c.PathNote = "as " + p[1]
				}
			}
		}
		list = append(list, c)
	}
	more := len(list) > q.Limit
	if more {
		list = list[:q.Limit]
	}
	return list, more, nil
}

var shortstatRE = regexp.MustCompile(`(\d+) (file|insertion|deletion)`)

func parseShortstat(line string) (files, add, del int) {
	for _, m := range shortstatRE.FindAllStringSubmatch(line, -1) {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "file":
			files = n
		case "insertion":
			add = n
		case "deletion":
			del = n
		}
	}
	return
}

func (r *localRepo) commit(ctx context.Context, _, ref, path string) (*commitInfo, []fileChange, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, nil, toolkit.Errorf("sha is empty; pass a commit ID from list_commits (or a branch or tag)")
	}
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.run(ctx, []string{"log", "-1", "--no-color", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%P%x1f%B", "--end-of-options", sha, "--"}, 1<<20)
	if err != nil {
		return nil, nil, err
	}
	f := strings.SplitN(string(out), "\x1f", 7)
	if len(f) < 7 {
		return nil, nil, fmt.Errorf("unexpected git log output for %s", sha)
	}
	c := &commitInfo{SHA: f[0], Author: f[1], Email: f[2], Committer: f[4], Message: strings.TrimSpace(f[6]), Files: -1}
	c.Date, _ = time.Parse(time.RFC3339, f[3])
	c.Parents = strings.Fields(f[5])
	from := ""
	if len(c.Parents) > 0 {
		from = c.Parents[0]
	}
	changes, err := r.diff(ctx, from, sha, path)
	return c, changes, err
}

// diff lists the changes from one commit to another (from "" means the
// empty tree) with per-file counts and patches.
func (r *localRepo) diff(ctx context.Context, from, to, path string) ([]fileChange, error) {
	spec, err := pathspec(path)
	if err != nil {
		return nil, err
	}
	base := []string{"diff-tree", "-r", "-M", "--no-color", "--no-commit-id"}
	revs := []string{to}
	if from == "" {
		revs = []string{"--root", to}
	} else {
		revs = []string{from, to}
	}
	tail := []string{"--"}
	if spec != "" {
		tail = append(tail, spec)
	}
	build := func(extra ...string) []string {
		a := append(append([]string{}, base...), extra...)
		a = append(a, revs...)
		return append(a, tail...)
	}
	status, err := r.run(ctx, build("--name-status", "-z"), 16<<20)
	if err != nil {
		return nil, err
	}
	changes := parseNameStatus(string(status))
	nums, err := r.run(ctx, build("--numstat", "-z"), 16<<20)
	if err != nil {
		return nil, err
	}
	applyNumstat(changes, string(nums))
	var patch []byte
	cut := false
	err = r.stream(ctx, build("-p", "--no-ext-diff", "--no-textconv"), func(line []byte) bool {
		if len(patch)+len(line) > maxPatchRead {
			cut = true
			return false
		}
		patch = append(patch, line...)
		return true
	})
	if err != nil {
		return nil, err
	}
	assignPatches(changes, splitPatch(string(patch)), cut)
	return changes, nil
}

func parseNameStatus(s string) []fileChange {
	f := strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
	var out []fileChange
	for i := 0; i < len(f); {
		code := f[i]
		if code == "" {
			i++
			continue
		}
		c := fileChange{Status: statusName(code[:1])}
		switch code[0] {
		case 'R', 'C':
			if i+2 >= len(f) {
				return out
			}
			c.OldPath, c.Path = f[i+1], f[i+2]
			i += 3
		default:
			if i+1 >= len(f) {
				return out
			}
			c.Path = f[i+1]
			i += 2
		}
		out = append(out, c)
	}
	return out
}

func statusName(code string) string {
	switch code {
	case "A":
		return "added"
	case "D":
		return "deleted"
	case "R":
		return "renamed"
	case "C":
		return "copied"
	case "T":
		return "type changed"
	}
	return "modified"
}

// applyNumstat fills line counts from diff-tree --numstat -z, which lists
// the same files in the same order as --name-status.
func applyNumstat(changes []fileChange, s string) {
	f := strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
	k := 0
	for i := 0; i < len(f) && k < len(changes); i++ {
		cols := strings.SplitN(f[i], "\t", 3)
		if len(cols) < 3 {
			continue
		}
		if cols[2] == "" {
			i += 2 // a rename: old and new path follow
		}
		c := &changes[k]
		k++
		if cols[0] == "-" {
			c.Binary = true
			continue
		}
		c.Additions, _ = strconv.Atoi(cols[0])
		c.Deletions, _ = strconv.Atoi(cols[1])
	}
}

// splitPatch cuts a multi-file patch at its diff --git headers.
func splitPatch(p string) []string {
	var out []string
	for p != "" {
		next := strings.Index(p[1:], "\ndiff --git ")
		if next < 0 {
			out = append(out, p)
			break
		}
		out = append(out, p[:next+2])
		p = p[next+2:]
	}
	return out
}

// assignPatches gives each change its patch. git prints them in the same
// order as the file list; a header that does not name the file is a sign
// of something unexpected, and that change keeps no patch.
func assignPatches(changes []fileChange, patches []string, cut bool) {
	for i := range changes {
		if i >= len(patches) {
			changes[i].PatchMissing = cut
			continue
		}
		header, _, _ := strings.Cut(patches[i], "\n")
		if !strings.Contains(header, changes[i].Path) {
			changes[i].PatchMissing = true
			continue
		}
		changes[i].Patch = patches[i]
		if i == len(patches)-1 && cut {
			changes[i].PatchMissing = true
		}
	}
}

func (r *localRepo) compare(ctx context.Context, _, base, head, path string) (*comparison, error) {
	if strings.TrimSpace(base) == "" {
		return nil, toolkit.Errorf("base is empty; pass the older ref (a branch, tag or commit)")
	}
	b, err := r.resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	h, err := r.resolve(ctx, head)
	if err != nil {
		return nil, err
	}
	if head == "" {
		head = r.defaultRef
	}
	cmp := &comparison{Base: base + " (" + b[:12] + ")", Head: head + " (" + h[:12] + ")", MergeBase: b}
	if out, err := r.run(ctx, []string{"merge-base", b, h}, 1<<10); err == nil {
		cmp.MergeBase = strings.TrimSpace(string(out))
	}
	counts, err := r.run(ctx, []string{"rev-list", "--left-right", "--count", b + "..." + h}, 1<<10)
	if err != nil {
		return nil, err
	}
	if f := strings.Fields(string(counts)); len(f) == 2 {
		cmp.Behind, _ = strconv.Atoi(f[0])
		cmp.Ahead, _ = strconv.Atoi(f[1])
	}
	list, _, err := r.commitsRange(ctx, b, h, 50)
	if err != nil {
		return nil, err
	}
	cmp.Commits = list
	cmp.Changes, err = r.diff(ctx, cmp.MergeBase, h, path)
	return cmp, err
}

// commitsRange lists commits reachable from head and not from base.
func (r *localRepo) commitsRange(ctx context.Context, base, head string, limit int) ([]commitInfo, bool, error) {
	out, err := r.run(ctx, []string{"log", "--no-color", "--format=" + logFormat, "-n", strconv.Itoa(limit + 1), "--end-of-options", base + ".." + head, "--"}, 8<<20)
	if err != nil {
		return nil, false, err
	}
	var list []commitInfo
	for _, rec := range strings.Split(string(out), "\x1e") {
		f := strings.Split(strings.TrimSpace(rec), "\x1f")
		if len(f) < 6 {
			continue
		}
		c := commitInfo{SHA: f[0], Author: f[1], Email: f[2], Message: f[5], Files: -1}
		c.Date, _ = time.Parse(time.RFC3339, f[3])
		c.Parents = strings.Fields(f[4])
		list = append(list, c)
	}
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	return list, more, nil
}

func (r *localRepo) blame(ctx context.Context, _, ref, path string, lines lineRange) (*blameResult, error) {
	fc, err := r.readFile(ctx, "", ref, path, lines)
	if err != nil {
		return nil, err
	}
	if fc.Link != "" {
		return nil, toolkit.Errorf("%s is a symbolic link to %s; blame the target instead", fc.Path, fc.Link)
	}
	if isBinary(fc.Data) {
		return nil, toolkit.Errorf("%s is a binary file (%s); blame works on text files", fc.Path, sizeText(fc.Size))
	}
	total := countLines(fc.Data)
	start, end, err := clampRange(lines, total, 100)
	if err != nil {
		return nil, toolkit.Errorf("%s: %v", fc.Path, err)
	}
	sha, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, []string{"blame", "--porcelain", "--no-textconv", "-L", fmt.Sprintf("%d,%d", start, end), sha, "--", fc.Path}, 32<<20)
	if err != nil {
		return nil, err
	}
	res := &blameResult{Path: fc.Path, Ref: fc.Ref, Total: total, Commits: map[string]blameCommit{}}
	var cur string
	var final int
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "\t"):
			res.Lines = append(res.Lines, blameLine{Line: final, SHA: cur, Text: line[1:]})
		case len(line) >= 40 && isHex(line[:40]):
			f := strings.Fields(line)
			cur = f[0]
			if len(f) >= 3 {
				final, _ = strconv.Atoi(f[2])
			}
			if _, ok := res.Commits[cur]; !ok {
				res.Commits[cur] = blameCommit{SHA: cur}
			}
		default:
			k, v, _ := strings.Cut(line, " ")
			bc := res.Commits[cur]
			switch k {
			case "author":
				bc.Author = v
			case "author-time":
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					bc.Date = time.Unix(n, 0).UTC()
				}
			case "summary":
				bc.Summary = v
			default:
				continue
			}
			res.Commits[cur] = bc
		}
	}
	return res, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
