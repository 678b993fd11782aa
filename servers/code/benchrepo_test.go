package code

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The benchmark repository: 10,000 commits by eight authors over four
// years, touching 400 Go files in 40 directories (about 2 MB at HEAD). It is
// written with git fast-import (a few seconds) and kept under the OS temp
// directory between runs; a .ready file marks a complete build.
const (
	benchCommits = 10000
	benchFiles   = 400
	benchVersion = "v1"
	// benchRare occurs in three files at HEAD, so a search for it must scan
	// the whole tree.
	benchRare = "reconcileLedgerDrift"
	// benchHotFile is changed by about one commit in 50.
	benchHotFile = "pkg/d07/file003.go"
)

var benchAuthors = []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson", "Margaret Hamilton", "Donald Knuth"}

// benchRepo returns the path of the benchmark repository, building it on
// first use.
func benchRepo(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("the benchmark repository is built with git fast-import; git is not installed")
	}
	dir := filepath.Join(os.TempDir(), "opstower-code-bench-"+benchVersion)
	if _, err := os.Stat(filepath.Join(dir, ".git", "opstower-ready")); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "opstower-code-bench-build-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	if err := buildBenchRepo(tmp); err != nil {
		tb.Fatalf("building the benchmark repository: %v", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".git", "opstower-ready"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built the %d-commit benchmark repository in %s", benchCommits, time.Since(start).Round(time.Millisecond))
	return dir
}

func buildBenchRepo(dir string) error {
	run := func(stdin *os.File, args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = stdin
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run(nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	stream, err := os.CreateTemp(dir, "fast-import-")
	if err != nil {
		return err
	}
	defer os.Remove(stream.Name())
	w := bufio.NewWriterSize(stream, 1<<20)
	writeBenchStream(w)
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := stream.Seek(0, 0); err != nil {
		return err
	}
	defer stream.Close()
	if err := run(stream, "fast-import", "--quiet"); err != nil {
		return err
	}
	// A repository as people have it: packed, with its work tree checked out.
	if err := run(nil, "repack", "-a", "-d", "-q"); err != nil {
		return err
	}
	return run(nil, "checkout", "-q", "-f", "main")
}

// writeBenchStream writes the fast-import stream: every file starts as
// generated Go source, and each commit rewrites a few lines of one to three
// files.
func writeBenchStream(w *bufio.Writer) {
	rng := rand.New(rand.NewPCG(1, 2))
	files := make([][]string, benchFiles)
	paths := make([]string, benchFiles)
	for i := range files {
		paths[i] = fmt.Sprintf("pkg/d%02d/file%03d.go", i/10, i%10)
		files[i] = benchSource(rng, i)
	}
	hot := 0
	for i, p := range paths {
		if p == benchHotFile {
			hot = i
		}
	}
	when := time.Date(2022, 1, 3, 9, 0, 0, 0, time.UTC)
	for c := 1; c <= benchCommits; c++ {
		when = when.Add(time.Duration(2+rng.IntN(4)) * time.Hour)
		author := benchAuthors[rng.IntN(len(benchAuthors))]
		email := strings.ToLower(strings.Fields(author)[1]) + "@example.com"
		var touched []int
		if c == 1 {
			touched = make([]int, benchFiles)
			for i := range touched {
				touched[i] = i
			}
		} else {
			for range 1 + rng.IntN(3) {
				touched = append(touched, rng.IntN(benchFiles))
			}
			if c%50 == 0 {
				touched = append(touched, hot)
			}
			if c == benchCommits {
				touched = append(touched, 0, 97, 194)
			}
		}
		msg := fmt.Sprintf("%s: %s (change %d)\n\nWhy: %s.\n", paths[touched[0]], benchVerbs[rng.IntN(len(benchVerbs))], c, benchWhy[rng.IntN(len(benchWhy))])
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\n", c)
		fmt.Fprintf(w, "author %s <%s> %d +0000\ncommitter %s <%s> %d +0000\n", author, email, when.Unix(), author, email, when.Unix())
		fmt.Fprintf(w, "data %d\n%s", len(msg), msg)
		if c > 1 {
			fmt.Fprintf(w, "from :%d\n", c-1)
		}
		for _, f := range touched {
			if c > 1 {
				lines := files[f]
				for range 1 + rng.IntN(4) {
					k := 2 + rng.IntN(len(lines)-2)
					lines[k] = benchLine(rng, f, c)
				}
			}
			if c == benchCommits && f%97 == 0 && f < 200 {
				files[f] = append(files[f], "// "+benchRare+" keeps the ledger and the journal in step.")
			}
			body := strings.Join(files[f], "\n") + "\n"
			fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", paths[f], len(body), body)
		}
	}
}

var (
	benchVerbs = []string{"fix nil map write", "retry on timeout", "log the request id", "rename variables", "cache lookups", "bound the queue", "check the error", "add a metric"}
	benchWhy   = []string{"customers saw 500s", "the queue grew without bound", "on-call asked for it", "review feedback", "a flaky test", "latency at p99"}
	benchIdent = []string{"ctx", "order", "invoice", "ledger", "cursor", "batch", "limit", "tenant", "payload", "retry"}
)

func benchSource(rng *rand.Rand, f int) []string {
	lines := []string{fmt.Sprintf("package d%02d", f/10), ""}
	for len(lines) < 150 {
		lines = append(lines, benchLine(rng, f, 0))
	}
	return lines
}

func benchLine(rng *rand.Rand, f, c int) string {
	a, b := benchIdent[rng.IntN(len(benchIdent))], benchIdent[rng.IntN(len(benchIdent))]
	switch rng.IntN(5) {
	case 0:
		return fmt.Sprintf("func handle%s%d(%s int) error { return check(%s, %d) }", strings.ToUpper(a[:1])+a[1:], rng.IntN(1000), b, b, c)
	case 1:
		return fmt.Sprintf("\t%s := load%s(ctx, %d) // file %d", a, strings.ToUpper(b[:1])+b[1:], rng.IntN(1e6), f)
	case 2:
		return fmt.Sprintf("\tif err := %s.Validate(%s); err != nil { return fmt.Errorf(\"%s: %%w\", err) }", a, b, a)
	case 3:
		return fmt.Sprintf("// %s updates the %s after each %s (rev %d).", a, b, a, c)
	}
	return fmt.Sprintf("var %s%d = []string{%q, %q}", a, rng.IntN(1e5), a, b)
}
