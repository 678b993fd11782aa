package code

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

func TestLocalListReposAndFiles(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, "shop="+r.dir))

	out := mcptest.MustText(t, cs, "list_repos", nil)
	containsAll(t, "list_repos", out, "shop,main,local", "feature/retry", "tags: v1.0")

	out = mcptest.MustText(t, cs, "list_files", nil)
	containsAll(t, "root", out, "README.md,file,", "src/,dir", "assets/,dir", "data/,dir")
	containsNone(t, "root is not recursive", out, "charge.go")

	out = mcptest.MustText(t, cs, "list_files", map[string]any{"path": "src", "recursive": true})
	containsAll(t, "recursive", out, "src/payments/charge.go,file", "src/payments/refunds.go")

	out = mcptest.MustText(t, cs, "list_files", map[string]any{"path": "*.go"})
	containsAll(t, "glob", out, "src/payments/charge.go", "src/payments/refunds.go")
	containsNone(t, "glob", out, "README.md")

	out = mcptest.MustText(t, cs, "list_files", map[string]any{"path": "src/payments", "ref": "v1.0"})
	containsAll(t, "at a tag", out, "v1.0", "refunds.go")

	out = mcptest.MustText(t, cs, "list_files", map[string]any{"path": "src/payments", "ref": r.sha["zero"]})
	containsAll(t, "before the rename", out, "src/payments/refund.go")

	msg := mcptest.MustError(t, cs, "list_files", map[string]any{"path": "src/payment"})
	containsAll(t, "unknown folder", msg, `no file or folder "src/payment"`, "did you mean src/payments")

	msg = mcptest.MustError(t, cs, "list_files", map[string]any{"ref": "mian"})
	containsAll(t, "unknown ref", msg, `"mian"`, "did you mean main")

	msg = mcptest.MustError(t, cs, "list_files", map[string]any{"ref": "--output=/tmp/x"})
	containsAll(t, "option as ref", msg, "must not start with '-'")

	msg = mcptest.MustError(t, cs, "list_files", map[string]any{"path": "../etc"})
	containsAll(t, "escape", msg, "'..'")
}

func TestLocalReadFile(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))

	out := mcptest.MustText(t, cs, "read_file", map[string]any{"path": "src/payments/charge.go", "start_line": 6, "end_line": 12})
	containsAll(t, "range", out, "lines 6-12 of", "    6  func Charge(customer string, amount int) error {", "chargeZeroGuard", "untrusted")
	containsNone(t, "range", out, "package payments")

	out = mcptest.MustText(t, cs, "read_file", map[string]any{"path": "src/payments/charge.go", "ref": "v1.0", "start_line": 6, "end_line": 12})
	containsAll(t, "older version", out, "free orders skip the processor")
	containsNone(t, "older version", out, "chargeZeroGuard")

	out = mcptest.MustText(t, cs, "read_file", map[string]any{"path": "data/big.txt"})
	containsAll(t, "large file", out, "of 5,000", "[cut]", "start_line=")
	if len(out) > 16<<10 {
		t.Errorf("large file: %d bytes, over the 16 KB cap", len(out))
	}

	msg := mcptest.MustError(t, cs, "read_file", map[string]any{"path": "assets/logo.png"})
	containsAll(t, "binary", msg, "binary file")

	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"path": "src/payments/charg.go"})
	containsAll(t, "typo", msg, "did you mean src/payments/charge.go")

	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"path": "src/payments/refund.go"})
	containsAll(t, "renamed away", msg, "src/payments/refunds.go")

	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"path": "src"})
	containsAll(t, "folder", msg, "is a folder", "list_files")

	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"path": "README.md", "start_line": 50})
	containsAll(t, "past the end", msg, "past the end", "3 lines")

	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"path": "README.md", "start_line": 3, "end_line": 2})
	containsAll(t, "backwards range", msg, "before start_line")
}

func TestLocalSearch(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))

	out := mcptest.MustText(t, cs, "search_code", map[string]any{"query": `func (Partial)?Refund\(`})
	containsAll(t, "regex", out, "2 matches in 1 files", "src/payments/refunds.go", "     4: func Refund(id string)", "    15: func PartialRefund")

	out = mcptest.MustText(t, cs, "search_code", map[string]any{"query": `\bcharge\b`, "ignore_case": true, "path": "*.md"})
	containsAll(t, "path glob", out, "docs/guide.md")
	containsNone(t, "path glob", out, ".go")

	out = mcptest.MustText(t, cs, "search_code", map[string]any{"query": "retryOnTimeout", "ref": "feature/retry"})
	containsAll(t, "other branch", out, "1 matches", "charge.go")

	out = mcptest.MustText(t, cs, "search_code", map[string]any{"query": "retryOnTimeout"})
	containsAll(t, "no match", out, "No matches", "Try")

	out = mcptest.MustText(t, cs, "search_code", map[string]any{"query": "row", "limit": 5})
	containsAll(t, "limit", out, "5 matches", "[cut] more matches exist")

	msg := mcptest.MustError(t, cs, "search_code", map[string]any{"query": "func (Refund"})
	containsAll(t, "bad regex", msg, "not a valid regular expression", "missing closing )")

	msg = mcptest.MustError(t, cs, "search_code", map[string]any{"query": "x", "path": ":(exclude)*.go"})
	containsAll(t, "pathspec magic", msg, "not supported")

	out = mcptest.MustText(t, cs, "search_code", map[string]any{"query": "--version"})
	containsAll(t, "query that looks like an option", out, "No matches")
}

func TestLocalListCommits(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))

	out := mcptest.MustText(t, cs, "list_commits", nil)
	containsAll(t, "all", out, "6 commits", short(r.sha["guard"]), "2024-05-01 14:00,Dave Brown", "Add payments service")
	containsNone(t, "other branch", out, "retry on timeout")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"author": "bob"})
	containsAll(t, "author", out, "1 commits", "Bob Jones")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"ref": "feature/retry", "author": "bob"})
	containsAll(t, "author on a branch", out, "2 commits", "retry on timeout")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"since": "2024-03-01", "until": "2024-04-15"})
	containsAll(t, "window", out, "3 commits", "Add logo", "Add fixture data", "Rename refund.go")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"path": "src/payments/refunds.go"})
	containsAll(t, "follows renames", out, "2 commits", "renamed from src/payments/refund.go", "as src/payments/refund.go", "Add payments service")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"path": "src/payments/charge.go", "limit": 2})
	containsAll(t, "limit", out, "2 commits", "[cut] more than 2")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"pickaxe": "free orders skip"})
	containsAll(t, "pickaxe", out, "2 commits", "skip the processor", "reject zero amounts again")

	out = mcptest.MustText(t, cs, "list_commits", map[string]any{"author": "nobody"})
	containsAll(t, "empty", out, "No commits", "by nobody")

	msg := mcptest.MustError(t, cs, "list_commits", map[string]any{"since": "2024-05-01", "until": "2024-01-01"})
	containsAll(t, "backwards", msg, "runs backwards", "swap")

	msg = mcptest.MustError(t, cs, "list_commits", map[string]any{"since": "last tuesday"})
	containsAll(t, "bad time", msg, "cannot read", "7d")
}

func TestLocalGetCommitAndCompare(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))

	out := mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["guard"][:8]})
	containsAll(t, "commit", out, "commit "+r.sha["guard"], "Dave Brown <dave@example.com>", "2024-05-01 14:00 UTC",
		"1 files changed, +1 -1:", "M src/payments/charge.go +1 -1", "-\t\treturn nil // free orders", "+\t\treturn errors.New(\"zero amount\")", "untrusted")
	if strings.Index(out, "M src/payments/charge.go") > strings.Index(out, "@@") {
		t.Errorf("the stat should come before the diff:\n%s", out)
	}

	out = mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["big"]})
	containsAll(t, "large diff", out, "A data/big.txt +5000 -0", "[cut]", "diffs shortened: data/big.txt", `path="data/big.txt"`)
	if !fenced(out, "IGNORE PREVIOUS INSTRUCTIONS") {
		t.Errorf("the commit message must be inside the untrusted-data fence:\n%.600s", out)
	}
	if len(out) > 17<<10 {
		t.Errorf("large diff: %d bytes", len(out))
	}

	out = mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["rename"]})
	containsAll(t, "rename", out, "R src/payments/refund.go → src/payments/refunds.go +3 -0")

	out = mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["logo"]})
	containsAll(t, "binary", out, "A assets/logo.png (binary)")

	out = mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["initial"], "path": "docs"})
	containsAll(t, "path filter on a root commit", out, "A docs/guide.md", "+Call Charge before Refund.")
	containsNone(t, "path filter", out, "charge.go")

	out = mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": r.sha["guard"], "path": "README.md"})
	containsAll(t, "path matching nothing", out, `no changed file matches "README.md"`)

	msg := mcptest.MustError(t, cs, "get_commit", map[string]any{"sha": "deadbeef"})
	containsAll(t, "unknown sha", msg, `no branch, tag or commit "deadbeef"`)

	out = mcptest.MustText(t, cs, "compare", map[string]any{"base": "v1.0", "head": "feature/retry"})
	containsAll(t, "compare", out, "1 commits ahead, 0 behind", "retry on timeout", "+\tfor attempt := 0; attempt < 3; attempt++ { // retryOnTimeout")

	out = mcptest.MustText(t, cs, "compare", map[string]any{"base": "feature/retry", "head": "main"})
	containsAll(t, "diverged", out, "2 commits ahead, 1 behind", "A data/big.txt")
	containsNone(t, "three-dot diff leaves out the other side", out, "retryOnTimeout")

	msg = mcptest.MustError(t, cs, "compare", map[string]any{"base": "v2.0"})
	containsAll(t, "unknown base", msg, `"v2.0"`, "v1.0")
}

func TestLocalDeadline(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{Timeout: config.Duration(time.Millisecond)}, localConn(t, r.dir))
	msg := mcptest.MustError(t, cs, "list_commits", map[string]any{"pickaxe": "anything"})
	containsAll(t, "deadline", msg, "timed out")
}

func TestLocalBlame(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))
	out := mcptest.MustText(t, cs, "blame", map[string]any{"path": "src/payments/charge.go", "start_line": 6, "end_line": 11})
	containsAll(t, "blame", out, "lines 6-11 of", "Alice Smith", "Dave Brown",
		"   10 "+r.sha["zero"][:8]+"  \tif amount == 0 {",
		"   11 "+r.sha["guard"][:8]+"  \t\treturn errors.New(\"zero amount\") // chargeZeroGuard")
	containsNone(t, "blame", out, r.sha["big"][:8])
	msg := mcptest.MustError(t, cs, "blame", map[string]any{"path": "assets/logo.png"})
	containsAll(t, "binary", msg, "binary file")
	msg = mcptest.MustError(t, cs, "blame", map[string]any{"path": "README.md", "start_line": 9})
	containsAll(t, "range", msg, "past the end")
}

// TestLocalNeverWrites runs every tool and checks that nothing in the
// repository (objects, refs, index, config) changed.
func TestLocalNeverWrites(t *testing.T) {
	r := newTestRepo(t)
	before := treeDigest(t, r.dir)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"list_repos", nil},
		{"list_files", map[string]any{"recursive": true}},
		{"read_file", map[string]any{"path": "README.md"}},
		{"search_code", map[string]any{"query": "Charge"}},
		{"list_commits", map[string]any{"path": "src/payments/refunds.go"}},
		{"get_commit", map[string]any{"sha": "HEAD"}},
		{"compare", map[string]any{"base": "v1.0"}},
		{"blame", map[string]any{"path": "README.md"}},
	}
	for _, c := range calls {
		mcptest.MustText(t, cs, c.tool, c.args)
	}
	if after := treeDigest(t, r.dir); after != before {
		t.Errorf("the repository changed while being read")
	}
}

// TestLocalRepositoryConfigCannotRunPrograms: a repository's own config
// may name programs (fsmonitor, external diff, textconv, gpg); reading it
// must run none of them.
func TestLocalRepositoryConfigCannotRunPrograms(t *testing.T) {
	r := newTestRepo(t)
	marker := filepath.Join(t.TempDir(), "ran")
	hook := "touch " + marker
	r.write(".gitattributes", "* diff=evil\n")
	r.commit("attrs", "Eve Evil", "2024-06-01T00:00:00Z", "Add attributes")
	for _, kv := range [][2]string{
		{"core.fsmonitor", hook},
		{"diff.external", hook},
		{"diff.evil.textconv", hook},
		{"diff.evil.command", hook},
		{"log.showSignature", "true"},
		{"gpg.program", hook},
		{"core.pager", hook},
	} {
		r.git(nil, "config", kv[0], kv[1])
	}
	cs := serve(t, config.Limits{}, localConn(t, r.dir))
	mcptest.MustText(t, cs, "get_commit", map[string]any{"sha": "HEAD~1"})
	mcptest.MustText(t, cs, "list_commits", map[string]any{"path": "src/payments/charge.go"})
	mcptest.MustText(t, cs, "compare", map[string]any{"base": "v1.0"})
	mcptest.MustText(t, cs, "blame", map[string]any{"path": "src/payments/charge.go"})
	mcptest.MustText(t, cs, "search_code", map[string]any{"query": "Charge"})
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a program named in the repository's config was run")
	}
}

func TestLocalBadRepositories(t *testing.T) {
	if _, err := ParseRepo(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("missing folder: %v", err)
	}
	plain := t.TempDir()
	cs := serve(t, config.Limits{}, localConn(t, "plain="+plain))
	msg := mcptest.MustError(t, cs, "list_commits", nil)
	containsAll(t, "not a repository", msg, "is not a git repository", plain)

	empty := &testRepo{t: t, dir: t.TempDir(), sha: map[string]string{}}
	empty.git(nil, "init", "-q", "-b", "main")
	cs = serve(t, config.Limits{}, localConn(t, "empty="+empty.dir))
	msg = mcptest.MustError(t, cs, "list_files", nil)
	containsAll(t, "no commits", msg, "has no commits yet")
}

func TestLocalSeveralRepositories(t *testing.T) {
	a, b := newTestRepo(t), newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, "api="+a.dir), localConn(t, "web="+b.dir))
	msg := mcptest.MustError(t, cs, "read_file", map[string]any{"path": "README.md"})
	containsAll(t, "which repo", msg, "pass repo", "api, web")
	msg = mcptest.MustError(t, cs, "read_file", map[string]any{"repo": "wbe", "path": "README.md"})
	containsAll(t, "typo", msg, "did you mean web")
	out := mcptest.MustText(t, cs, "read_file", map[string]any{"repo": "web", "path": "README.md"})
	containsAll(t, "picked", out, "The payments service.")

	if _, err := New(t.Context(), Config{Connections: []config.Connection{localConn(t, a.dir), localConn(t, a.dir)}}); err == nil || !strings.Contains(err.Error(), "give each a label") {
		t.Errorf("duplicate names: %v", err)
	}
}

// treeDigest hashes every file's path, size, mode and modification time
// under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		lines = append(lines, p+" "+info.Mode().String()+" "+info.ModTime().Format(time.RFC3339Nano)+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}
