package code

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// The benchmarks compare a tool call through the MCP server (in memory,
// output rendered) with the git command a person would type for the same
// answer, on the 10,000-commit repository of benchrepo_test.go. Each
// iteration runs both, so one line reports ours, git's and the ratio:
//
//	go test -run '^$' -bench . ./servers/code/

func benchServer(b *testing.B, dir string) *mcp.ClientSession {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	c, err := ParseRepo("bench=" + dir)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(ctx, Config{Connections: []config.Connection{c}, Limits: config.Limits{Timeout: config.Duration(time.Minute)}})
	if err != nil {
		b.Fatal(err)
	}
	return mcptest.Connect(b, s)
}

type benchCase struct {
	name string
	tool string
	args map[string]any
	git  []string
}

func runVersus(b *testing.B, cases []benchCase) {
	dir := benchRepo(b)
	cs := benchServer(b, dir)
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			mcptest.MustText(b, cs, bc.tool, bc.args) // warm the page cache and git's
			var ours, theirs time.Duration
			for b.Loop() {
				start := time.Now()
				mcptest.MustText(b, cs, bc.tool, bc.args)
				ours += time.Since(start)
				start = time.Now()
				cmd := exec.Command("git", append([]string{"-C", dir}, bc.git...)...)
				if out, err := cmd.Output(); err != nil && len(out) == 0 {
					var ee *exec.ExitError
					if !(errors.As(err, &ee) && ee.ExitCode() == 1) { // grep: no match
						b.Fatalf("git %v: %v", bc.git, err)
					}
				}
				theirs += time.Since(start)
			}
			n := float64(b.N)
			b.ReportMetric(float64(ours.Microseconds())/1000/n, "ours-ms")
			b.ReportMetric(float64(theirs.Microseconds())/1000/n, "git-ms")
			b.ReportMetric(float64(ours)/float64(theirs), "ours/git")
		})
	}
}

const benchGitFormat = "--format=%H %an %aI %s"

func BenchmarkGitLog(b *testing.B) {
	runVersus(b, []benchCase{
		{"recent-100", "list_commits", map[string]any{"limit": 100},
			[]string{"log", "-n100", "--shortstat", benchGitFormat}},
		{"file-100", "list_commits", map[string]any{"path": benchHotFile, "limit": 100},
			[]string{"log", "-n100", "--shortstat", "--follow", benchGitFormat, "--", benchHotFile}},
		{"author-since-100", "list_commits", map[string]any{"author": "hopper", "since": "2025-01-01", "limit": 100},
			[]string{"log", "-n100", "--shortstat", "--author=hopper", "-i", "--since=2025-01-01", benchGitFormat}},
		{"pickaxe-rare", "list_commits", map[string]any{"pickaxe": benchRare, "limit": 100},
			[]string{"log", "-n100", "-S" + benchRare, benchGitFormat}},
	})
}

func BenchmarkGitGrep(b *testing.B) {
	runVersus(b, []benchCase{
		{"rare-literal", "search_code", map[string]any{"query": benchRare},
			[]string{"grep", "-n", "-I", "-P", "-e", benchRare, "HEAD"}},
		{"regex-in-folder", "search_code", map[string]any{"query": `func handle\w+\(ledger`, "path": "pkg/d1*"},
			[]string{"grep", "-n", "-I", "-P", "-e", `func handle\w+\(ledger`, "HEAD", "--", "pkg/d1*"}},
		{"common-first-100", "search_code", map[string]any{"query": "ledger", "limit": 100},
			[]string{"grep", "-n", "-I", "-P", "-m", "100", "-e", "ledger", "HEAD"}},
	})
}

// BenchmarkToolsListBytes reports what tools/list costs on every turn:
// one local repository, and every provider loaded (tools/list contacts no
// host, so the hosted connections need no server).
func BenchmarkToolsListBytes(b *testing.B) {
	dir := benchRepo(b)
	local := benchServer(b, dir)
	c, err := ParseRepo("bench=" + dir)
	if err != nil {
		b.Fatal(err)
	}
	hosted := func(provider string) config.Connection {
		return config.Connection{Category: Category, Provider: provider, Settings: map[string]string{"token": "unused-token", "base_url": "http://127.0.0.1:1"}}
	}
	s, err := New(b.Context(), Config{Connections: []config.Connection{c, hosted("github"), hosted("gitlab"), hosted("bitbucket")}, Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		b.Fatal(err)
	}
	all := mcptest.Connect(b, s)
	for b.Loop() {
		mcptest.Tools(b, all)
	}
	b.ReportMetric(float64(mcptest.ListBytes(b, mcptest.Tools(b, local))), "bytes-local")
	b.ReportMetric(float64(mcptest.ListBytes(b, mcptest.Tools(b, all))), "bytes-all")
}
