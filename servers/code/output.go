package code

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/toolkit"
)

// This file turns what providers return into the compact text a model
// reads: a summary line, the data fenced as untrusted, and a footer saying
// what was cut and how to get it.

// reserve keeps room in the byte cap for the summary, the fence and the
// footer around the body.
const reserve = 700

// maxLine is the longest line of a file or diff shown before it is cut
// (minified code would otherwise fill a whole result with one line).
const maxLine = 1000

func sizeText(n int64) string {
	if n < 0 {
		return "unknown size"
	}
	return render.Bytes(int(n))
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// isBinary applies git's rule: a NUL byte in the first 8,000 bytes.
func isBinary(data []byte) bool {
	n := min(len(data), 8000)
	return bytes.IndexByte(data[:n], 0) >= 0
}

func countLines(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	n := bytes.Count(data, []byte{'\n'})
	if data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// clampRange checks a requested line range against a file of total lines;
// an open end shows span lines (0: to the end).
func clampRange(lr lineRange, total, span int) (int, int, error) {
	start, end := lr.Start, lr.End
	if start < 0 || end < 0 {
		return 0, 0, fmt.Errorf("line numbers start at 1")
	}
	if start == 0 {
		start = 1
	}
	if end != 0 && end < start {
		return 0, 0, fmt.Errorf("end_line %d is before start_line %d", end, start)
	}
	if total == 0 {
		return 1, 0, nil
	}
	if start > total {
		return 0, 0, fmt.Errorf("start_line %d is past the end of the file, which has %s lines", start, render.Count(total))
	}
	if end == 0 {
		end = total
		if span > 0 {
			end = min(total, start+span-1)
		}
	}
	return start, min(end, total), nil
}

// cutLine shortens one long line, marking what was left out.
func cutLine(s string) string {
	if len(s) <= maxLine {
		return s
	}
	n := maxLine
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("…[+%d bytes]", len(s)-n)
}

func renderFile(fc *fileContent, lr lineRange, maxBytes int) (string, error) {
	if fc.Link != "" {
		return fmt.Sprintf("%s at %s is a symbolic link to %s. Read the target with read_file.", fc.Path, fc.Ref, fc.Link), nil
	}
	if isBinary(fc.Data) {
		return "", toolkit.Errorf("%s is a binary file (%s); only text files can be read. list_files shows its size; get_commit shows when it changed", fc.Path, sizeText(fc.Size))
	}
	total := countLines(fc.Data)
	start, end, err := clampRange(lr, total, 0)
	if err != nil {
		return "", toolkit.Errorf("%s: %v", fc.Path, err)
	}
	var body strings.Builder
	budget := maxBytes - reserve
	shownEnd := start - 1
	lineNo := 0
	rest := fc.Data
	for len(rest) > 0 && lineNo < end {
		i := bytes.IndexByte(rest, '\n')
		var line []byte
		if i < 0 {
			line, rest = rest, nil
		} else {
			line, rest = rest[:i], rest[i+1:]
		}
		lineNo++
		if lineNo < start {
			continue
		}
		text := fmt.Sprintf("%5d  %s\n", lineNo, cutLine(strings.TrimSuffix(string(line), "\r")))
		if body.Len()+len(text) > budget && shownEnd >= start {
			break
		}
		body.WriteString(text)
		shownEnd = lineNo
	}
	var b strings.Builder
	partial := ""
	if fc.Partial {
		partial = fmt.Sprintf(" (only its first %s were read)", render.Bytes(len(fc.Data)))
	}
	if total == 0 {
		fmt.Fprintf(&b, "%s at %s is empty.\n", fc.Path, fc.Ref)
		return b.String(), nil
	}
	fmt.Fprintf(&b, "%s at %s: lines %d-%d of %s, %s%s.\n", fc.Path, fc.Ref, start, shownEnd, render.Count(total), sizeText(fc.Size), partial)
	open, closing := render.Fence()
	b.WriteString(open + "\n" + body.String() + closing + "\n")
	if shownEnd < end {
		fmt.Fprintf(&b, "[cut] lines %d-%d not shown (the %s text cap). Call read_file with start_line=%d to continue, or search_code to find a line.\n",
			shownEnd+1, end, render.Bytes(maxBytes), shownEnd+1)
	}
	return b.String(), nil
}

func renderListing(l *listing, repo, dir string, limit int) string {
	if len(l.Entries) == 0 {
		where := dir
		if where == "" {
			where = "the repository root"
		}
		return fmt.Sprintf("%s at %s: %s is empty.", repo, l.Ref, where)
	}
	t := render.NewTable([]render.Column{{Name: "path"}, {Name: "type"}, {Name: "size"}}, limit, 0)
	for _, e := range l.Entries {
		p := e.Path
		size := ""
		if e.Type == "dir" {
			p += "/"
		} else if e.Size >= 0 {
			size = strconv.FormatInt(e.Size, 10)
		}
		t.Add([][]byte{[]byte(p), []byte(e.Type), []byte(size)})
	}
	where := dir
	if where == "" {
		where = "/"
	}
	summary := fmt.Sprintf("%s entries under %s in %s at %s; size in bytes.", render.Count(len(l.Entries)), where, repo, l.Ref)
	out := t.Render(summary, "")
	if l.More {
		out += fmt.Sprintf("[cut] more than %s entries; pass a deeper path, a glob such as src/**/*.go, or a higher limit.\n", render.Count(limit))
	}
	return out
}

func renderHits(res *searchResult, repo, query string) string {
	if len(res.Hits) == 0 {
		msg := fmt.Sprintf("No matches for %q in %s", query, repo)
		if res.Ref != "" {
			msg += " at " + res.Ref
		}
		msg += ". Try a shorter or case-insensitive query, or drop the path filter."
		if res.Note != "" {
			msg += " " + res.Note
		}
		return msg
	}
	var b strings.Builder
	files := map[string]bool{}
	for _, h := range res.Hits {
		files[h.Path] = true
	}
	fmt.Fprintf(&b, "%s matches in %s files of %s", render.Count(len(res.Hits)), render.Count(len(files)), repo)
	if res.Ref != "" {
		b.WriteString(" at " + res.Ref)
	}
	if res.Total > len(res.Hits) {
		fmt.Fprintf(&b, " (the host reports %s in all)", render.Count(res.Total))
	}
	b.WriteString(".")
	if res.Note != "" {
		b.WriteString(" " + res.Note)
	}
	b.WriteByte('\n')
	open, closing := render.Fence()
	b.WriteString(open + "\n")
	last := ""
	for _, h := range res.Hits {
		if h.Path != last {
			b.WriteString(h.Path + "\n")
			last = h.Path
		}
		text := strings.TrimRight(h.Text, "\r\n")
		if h.Line > 0 {
			fmt.Fprintf(&b, "%6d: %s\n", h.Line, cutLine(text))
		} else {
			for _, l := range strings.Split(text, "\n") {
				b.WriteString("     ~  " + cutLine(l) + "\n")
			}
		}
	}
	b.WriteString(closing + "\n")
	if res.More {
		fmt.Fprintf(&b, "[cut] more matches exist; narrow with path (a folder or a glob such as *.go) or a more specific query, or raise limit.\n")
	}
	return b.String()
}

func renderCommits(list []commitInfo, more bool, repo string, q commitQuery, limit int) string {
	if len(list) == 0 {
		msg := fmt.Sprintf("No commits in %s", repo)
		var f []string
		if q.Path != "" {
			f = append(f, "touching "+q.Path)
		}
		if q.Author != "" {
			f = append(f, "by "+q.Author)
		}
		if !q.Since.IsZero() {
			f = append(f, "since "+day(q.Since))
		}
		if !q.Until.IsZero() {
			f = append(f, "until "+day(q.Until))
		}
		if q.Pickaxe != "" {
			f = append(f, fmt.Sprintf("adding or removing %q", q.Pickaxe))
		}
		if len(f) > 0 {
			msg += " " + strings.Join(f, ", ")
		}
		return msg + ". Widen the time range, check the author's name or the path (list_files), or try another ref."
	}
	notes := false
	stats := false
	for _, c := range list {
		notes = notes || c.PathNote != ""
		stats = stats || c.Files >= 0
	}
	cols := []render.Column{{Name: "commit"}, {Name: "date"}, {Name: "author"}}
	if stats {
		cols = append(cols, render.Column{Name: "files"}, render.Column{Name: "+"}, render.Column{Name: "-"})
	}
	if notes {
		cols = append(cols, render.Column{Name: "path"})
	}
	cols = append(cols, render.Column{Name: "subject"})
	t := render.NewTable(cols, limit, 0)
	for _, c := range list {
		row := [][]byte{[]byte(short(c.SHA)), []byte(day(c.Date)), []byte(c.Author)}
		if stats {
			if c.Files >= 0 {
				row = append(row, []byte(strconv.Itoa(c.Files)), []byte(strconv.Itoa(c.Additions)), []byte(strconv.Itoa(c.Deletions)))
			} else {
				row = append(row, nil, nil, nil)
			}
		}
		if notes {
			row = append(row, []byte(c.PathNote))
		}
		row = append(row, []byte(c.subject()))
		t.Add(row)
	}
	summary := fmt.Sprintf("%s commits in %s, newest first; dates UTC. get_commit shows one with its diff.", render.Count(len(list)), repo)
	out := t.Render(summary, "")
	if more {
		out += fmt.Sprintf("[cut] more than %s commits match; narrow with since/until, path or author, or raise limit.\n", render.Count(limit))
	}
	return out
}

// short is a commit ID as people write it.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func statusCode(s string) string {
	switch s {
	case "added":
		return "A"
	case "deleted":
		return "D"
	case "renamed":
		return "R"
	case "copied":
		return "C"
	case "type changed":
		return "T"
	}
	return "M"
}

// generated reports files whose diffs rarely explain a change: lock files
// and minified or generated assets. Their diffs are shown last.
func generated(p string) bool {
	base := path.Base(p)
	switch base {
	case "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "go.sum", "Cargo.lock", "poetry.lock", "Gemfile.lock", "composer.lock", "Pipfile.lock", "uv.lock":
		return true
	}
	for _, suf := range []string{".min.js", ".min.css", ".map", ".snap", ".svg"} {
		if strings.HasSuffix(base, suf) {
			return true
		}
	}
	return strings.HasPrefix(p, "vendor/") || strings.Contains(p, "/vendor/") || strings.Contains(p, "node_modules/")
}

// renderChanges writes the stat of every change, then as much of each
// diff as fits in budget, and returns the footer that says what was cut.
func renderChanges(b *strings.Builder, changes []fileChange, budget int, tool, path string) string {
	if len(changes) == 0 {
		if path != "" {
			fmt.Fprintf(b, "no changed file matches %q; call %s without path to see every file\n", path, tool)
		} else {
			b.WriteString("no file changes\n")
		}
		return ""
	}
	adds, dels := 0, 0
	for _, c := range changes {
		adds += c.Additions
		dels += c.Deletions
	}
	fmt.Fprintf(b, "%d files changed, +%d -%d:\n", len(changes), adds, dels)
	statStart := b.Len()
	statLines := 0
	for _, c := range changes {
		line := fmt.Sprintf("%s %s", statusCode(c.Status), c.Path)
		if c.OldPath != "" && c.OldPath != c.Path {
			line = fmt.Sprintf("%s %s → %s", statusCode(c.Status), c.OldPath, c.Path)
		}
		if c.Binary {
			line += " (binary)"
		} else {
			line += fmt.Sprintf(" +%d -%d", c.Additions, c.Deletions)
		}
		if b.Len()-statStart+len(line) > budget/3 {
			break
		}
		b.WriteString(line + "\n")
		statLines++
	}
	var notes []string
	if statLines < len(changes) {
		notes = append(notes, fmt.Sprintf("the list stops after %d of %d files", statLines, len(changes)))
	}
	remaining := budget - (b.Len() - statStart)

	// Order: diffs that explain the change first, generated files last.
	order := make([]int, len(changes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		return !generated(changes[order[i]].Path) && generated(changes[order[j]].Path)
	})
	var patches []string
	for _, i := range order {
		patches = append(patches, patchText(changes[i]))
	}
	share := fairShare(patches, remaining)
	var shortened, omitted []string
	for k, i := range order {
		c := changes[i]
		p := patches[k]
		if p == "" {
			if c.PatchMissing && !c.Binary {
				omitted = append(omitted, c.Path)
			}
			continue
		}
		if remaining < 200 {
			omitted = append(omitted, c.Path)
			continue
		}
		limit := min(share, remaining)
		if len(p) <= limit {
			b.WriteString(p)
			remaining -= len(p)
			continue
		}
		cut, lines := cutPatch(p, limit-80)
		if cut == "" {
			omitted = append(omitted, c.Path)
			continue
		}
		b.WriteString(cut)
		fmt.Fprintf(b, "… [%d more lines of %s's diff]\n", lines, c.Path)
		remaining -= len(cut) + 60
		shortened = append(shortened, c.Path)
	}
	if len(shortened) > 0 {
		notes = append(notes, fmt.Sprintf("diffs shortened: %s", listNames(shortened)))
	}
	if len(omitted) > 0 {
		notes = append(notes, fmt.Sprintf("diffs not shown: %s", listNames(omitted)))
	}
	if len(notes) == 0 {
		return ""
	}
	example := ""
	if len(shortened) > 0 {
		example = shortened[0]
	} else if len(omitted) > 0 {
		example = omitted[0]
	}
	hint := ""
	if example != "" {
		hint = fmt.Sprintf(" Call %s with path=%q for one file's whole diff, or read_file for the file itself.", tool, example)
	}
	return "[cut] " + strings.Join(notes, "; ") + "." + hint
}

func listNames(names []string) string {
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(" and %d more", len(names)-8)
	}
	return strings.Join(names, ", ")
}

// patchText is a change's diff with a one-line header of our own when the
// host sent bare hunks.
func patchText(c fileChange) string {
	p := c.Patch
	if p == "" {
		return ""
	}
	if !strings.HasPrefix(p, "diff --git ") {
		p = "--- " + c.Path + "\n" + p
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(p, "\n") {
		if len(line) > maxLine {
			b.WriteString(cutLine(strings.TrimSuffix(line, "\n")) + "\n")
			continue
		}
		b.WriteString(line)
	}
	out := b.String()
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// fairShare is the largest per-file size such that giving every patch at
// most that much fits in budget; small patches are then shown whole and
// large ones share what is left. It never goes below 1,500 bytes: past
// that, later files are listed as not shown instead.
func fairShare(patches []string, budget int) int {
	sizes := make([]int, 0, len(patches))
	total := 0
	for _, p := range patches {
		if p != "" {
			sizes = append(sizes, len(p))
			total += len(p)
		}
	}
	if total <= budget || len(sizes) == 0 {
		return budget
	}
	sort.Ints(sizes)
	left := budget
	for i, s := range sizes {
		fair := left / (len(sizes) - i)
		if s > fair {
			return max(fair, 1500)
		}
		left -= s
	}
	return budget
}

// cutPatch keeps whole lines of p up to max bytes and counts the rest.
func cutPatch(p string, max int) (string, int) {
	if max <= 0 {
		return "", strings.Count(p, "\n")
	}
	i := strings.LastIndexByte(p[:min(max, len(p))], '\n')
	if i < 0 {
		return "", strings.Count(p, "\n")
	}
	return p[:i+1], strings.Count(p[i+1:], "\n")
}

func renderCommit(c *commitInfo, changes []fileChange, repo, path string, maxBytes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "commit %s in %s\n", c.SHA, repo)
	fmt.Fprintf(&b, "author: %s", c.Author)
	if c.Email != "" {
		fmt.Fprintf(&b, " <%s>", c.Email)
	}
	fmt.Fprintf(&b, ", %s UTC", day(c.Date))
	if c.Committer != "" && c.Committer != c.Author {
		fmt.Fprintf(&b, "; committer: %s", c.Committer)
	}
	if len(c.Parents) > 0 {
		ps := make([]string, len(c.Parents))
		for i, p := range c.Parents {
			ps[i] = short(p)
		}
		fmt.Fprintf(&b, "; parents: %s", strings.Join(ps, " "))
		if len(c.Parents) > 1 {
			b.WriteString(" (a merge: the diff is against the first parent)")
		}
	}
	if c.URL != "" {
		b.WriteString("\n" + c.URL)
	}
	if path != "" {
		fmt.Fprintf(&b, "\nonly files matching %q are shown", path)
	}
	b.WriteByte('\n')
	open, closing := render.Fence()
	b.WriteString(open + "\n")
	msg := c.Message
	if len(msg) > maxBytes/4 {
		msg, _ = render.Cap(msg, maxBytes/4, "")
	}
	b.WriteString(msg + "\n\n")
	footer := renderChanges(&b, changes, maxBytes-b.Len()-reserve, "get_commit", path)
	b.WriteString(closing + "\n")
	if footer != "" {
		b.WriteString(footer + "\n")
	}
	return b.String()
}

func renderComparison(cmp *comparison, repo, path string, maxBytes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s compared with %s in %s: %d commits ahead", cmp.Head, cmp.Base, repo, cmp.Ahead)
	if cmp.Behind >= 0 {
		fmt.Fprintf(&b, ", %d behind", cmp.Behind)
	}
	b.WriteString("; the diff is what head changed since the common ancestor")
	if cmp.MergeBase != "" {
		b.WriteString(" " + short(cmp.MergeBase))
	}
	b.WriteString(".\n")
	if cmp.URL != "" {
		b.WriteString(cmp.URL + "\n")
	}
	if path != "" {
		fmt.Fprintf(&b, "only files matching %q are shown\n", path)
	}
	open, closing := render.Fence()
	b.WriteString(open + "\n")
	if len(cmp.Commits) > 0 {
		b.WriteString("commits:\n")
		shown := cmp.Commits
		if len(shown) > 30 {
			shown = shown[len(shown)-30:]
		}
		for _, c := range shown {
			fmt.Fprintf(&b, "%s %s %s: %s\n", short(c.SHA), day(c.Date), c.Author, c.subject())
		}
		if len(cmp.Commits) < cmp.Ahead || len(shown) < len(cmp.Commits) {
			fmt.Fprintf(&b, "(%d of %d commits listed; list_commits with ref=head shows more)\n", len(shown), cmp.Ahead)
		}
		b.WriteByte('\n')
	}
	footer := renderChanges(&b, cmp.Changes, maxBytes-b.Len()-reserve, "compare", path)
	b.WriteString(closing + "\n")
	if footer != "" {
		b.WriteString(footer + "\n")
	}
	return b.String()
}

func renderBlame(res *blameResult, repo string) string {
	var b strings.Builder
	first, last := 0, 0
	if len(res.Lines) > 0 {
		first, last = res.Lines[0].Line, res.Lines[len(res.Lines)-1].Line
	}
	fmt.Fprintf(&b, "blame of %s at %s in %s, lines %d-%d of %s: the commit that last changed each line.\n", res.Path, res.Ref, repo, first, last, render.Count(res.Total))
	open, closing := render.Fence()
	b.WriteString(open + "\n")
	var shas []string
	for sha := range res.Commits {
		shas = append(shas, sha)
	}
	sort.Slice(shas, func(i, j int) bool { return res.Commits[shas[i]].Date.After(res.Commits[shas[j]].Date) })
	b.WriteString("commits:\n")
	for _, sha := range shas {
		c := res.Commits[sha]
		fmt.Fprintf(&b, "%s %s %s: %s\n", sha[:8], day(c.Date), c.Author, c.Summary)
	}
	b.WriteString("lines:\n")
	for _, l := range res.Lines {
		fmt.Fprintf(&b, "%5d %s  %s\n", l.Line, l.SHA[:8], cutLine(l.Text))
	}
	b.WriteString(closing + "\n")
	if last < res.Total {
		fmt.Fprintf(&b, "Lines %d-%d not blamed; pass start_line and end_line for another range.\n", last+1, res.Total)
	}
	return b.String()
}

func renderRepos(list []repoInfo, more bool, limit int, where string) string {
	if len(list) == 0 {
		return "No repositories " + where + ". Check that the token can see them (for a fine-grained GitHub token: its repository access list), or clear the query."
	}
	t := render.NewTable([]render.Column{{Name: "repo"}, {Name: "default_branch"}, {Name: "visibility"}, {Name: "language"}, {Name: "updated"}, {Name: "description"}}, limit, 0)
	for _, r := range list {
		desc := r.Description
		if r.Extra != "" {
			if desc != "" {
				desc += "; "
			}
			desc += r.Extra
		}
		t.Add([][]byte{[]byte(r.Name), []byte(r.DefaultBranch), []byte(r.Visibility), []byte(r.Language), []byte(day(r.Updated)), []byte(desc)})
	}
	out := t.Render(fmt.Sprintf("%d repositories %s, most recently updated first.", len(list), where), "")
	if more {
		out += fmt.Sprintf("[cut] more than %d repositories; pass query to filter by name.\n", limit)
	}
	return out
}

func renderPulls(list []pullRequest, more bool, repo, state, noun string, limit int) string {
	if len(list) == 0 {
		return fmt.Sprintf("No %s %ss in %s. Try state=all.", state, noun, repo)
	}
	t := render.NewTable([]render.Column{{Name: "number"}, {Name: "state"}, {Name: "author"}, {Name: "source"}, {Name: "target"}, {Name: "updated"}, {Name: "comments"}, {Name: "reviewers"}, {Name: "title"}}, limit, 0)
	for _, p := range list {
		st := p.State
		if p.Draft {
			st += " (draft)"
		}
		comments := ""
		if p.Comments >= 0 {
			comments = strconv.Itoa(p.Comments)
		}
		t.Add([][]byte{[]byte(strconv.Itoa(p.Number)), []byte(st), []byte(p.Author), []byte(p.Source), []byte(p.Target), []byte(day(p.Updated)), []byte(comments), []byte(strings.Join(p.Reviewers, " ")), []byte(p.Title)})
	}
	out := t.Render(fmt.Sprintf("%d %s %ss in %s, most recently updated first.", len(list), state, noun, repo), "")
	if more {
		out += fmt.Sprintf("[cut] more than %d; raise limit or narrow state.\n", limit)
	}
	return out
}

func renderPipelines(list []pipeline, more bool, repo string, limit int) string {
	if len(list) == 0 {
		return fmt.Sprintf("No pipeline runs in %s for these filters. Pipelines may be off for the repository; try without ref or status.", repo)
	}
	t := render.NewTable([]render.Column{{Name: "id"}, {Name: "status"}, {Name: "ref"}, {Name: "commit"}, {Name: "source"}, {Name: "created"}, {Name: "duration"}, {Name: "name"}, {Name: "url"}}, limit, 0)
	for _, p := range list {
		dur := ""
		if p.Duration > 0 {
			dur = p.Duration.Round(time.Second).String()
		}
		t.Add([][]byte{[]byte(strconv.FormatInt(p.ID, 10)), []byte(p.Status), []byte(p.Ref), []byte(short(p.SHA)), []byte(p.Source), []byte(day(p.Created)), []byte(dur), []byte(p.Name), []byte(p.URL)})
	}
	out := t.Render(fmt.Sprintf("%d pipeline runs in %s, newest first.", len(list), repo), "")
	if more {
		out += fmt.Sprintf("[cut] more than %d runs; filter by ref or status, or raise limit.\n", limit)
	}
	return out
}
