package errors

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// How much of a stack trace a model reads. A crash usually has a handful
// of frames in the application's own code and dozens in frameworks and
// libraries; the application frames are where a fix goes, so they are
// shown in full while runs of library frames collapse to one line that
// counts them and names their packages. The frame that raised is always
// shown, even in a library, because it says what failed.
const (
	contextAround  = 2   // source lines shown above and below the top frame's line
	maxInAppFrames = 30  // in-app frames shown per exception (recursion can make hundreds)
	maxFullFrames  = 150 // frames shown per exception with full=true
	noAppFrames    = 5   // frames shown when no frame is marked in-app
	maxSourceLine  = 200 // bytes of one source line
	maxValue       = 600 // bytes of an exception message
)

// stackCut counts what a rendering left out, for the footer.
type stackCut struct {
	library    int  // library frames collapsed
	inApp      int  // in-app frames beyond maxInAppFrames
	sdkOmitted int  // frames the SDK itself dropped
	vars       bool // some frame had local variables, which are never shown
	context    bool // some frame had source context that was not shown
}

// writeExceptions writes an exception chain, the exception raised last
// first, each followed by its stack, most recent call first.
func writeExceptions(b *strings.Builder, xs []exception, full bool, cut *stackCut) {
	for i := len(xs) - 1; i >= 0; i-- {
		x := xs[i]
		if i < len(xs)-1 {
			b.WriteString("caused by ")
		}
		b.WriteString(exceptionHeadline(x))
		b.WriteByte('\n')
		writeFrames(b, x, full, i == len(xs)-1, cut)
	}
}

// exceptionHeadline is "Type: value [unhandled, mechanism]".
func exceptionHeadline(x exception) string {
	var b strings.Builder
	t := x.Type
	if x.Module != "" && !strings.Contains(t, ".") && x.Module != "builtins" && x.Module != "__builtin__" {
		t = x.Module + "." + t
	}
	b.WriteString(t)
	if v := strings.TrimSpace(x.Value); v != "" {
		if t != "" {
			b.WriteString(": ")
		}
		b.WriteString(clip(oneLine(v), maxValue))
	}
	var notes []string
	if x.Handled != nil {
		if *x.Handled {
			notes = append(notes, "handled")
		} else {
			notes = append(notes, "unhandled")
		}
	}
	if x.Mechanism != "" && x.Mechanism != "generic" {
		notes = append(notes, "mechanism "+x.Mechanism)
	}
	if len(notes) > 0 {
		b.WriteString(" [" + strings.Join(notes, ", ") + "]")
	}
	return b.String()
}

// writeFrames writes one exception's frames, most recent call first.
// withContext gives the top frame its surrounding source lines.
func writeFrames(b *strings.Builder, x exception, full, withContext bool, cut *stackCut) {
	n := len(x.Frames)
	if n == 0 {
		b.WriteString("  (no stack trace)\n")
		return
	}
	cut.sdkOmitted += x.FramesOmitted
	inApp := 0
	for _, f := range x.Frames {
		if f.InApp {
			inApp++
		}
		cut.vars = cut.vars || f.HasVars
	}
	// show decides, per frame in most-recent-first order, whether it gets
	// a line of its own.
	show := make([]bool, n)
	top := -1 // the frame that gets source context
	shown := 0
	for k := 0; k < n; k++ {
		i := n - 1 - k
		f := x.Frames[i]
		switch {
		case full:
			show[i] = shown < maxFullFrames
		case inApp == 0:
			show[i] = k < noAppFrames
		case k == 0:
			show[i] = true // the raising frame, even in a library
		case f.InApp:
			show[i] = shown < maxInAppFrames
			if !show[i] {
				cut.inApp++
			}
		}
		if show[i] {
			shown++
			if top < 0 && (f.InApp || inApp == 0) {
				top = i
			}
		}
	}
	var run []frame // library frames waiting to be collapsed
	flush := func() {
		if len(run) == 0 {
			return
		}
		fmt.Fprintf(b, "  … %d %s (%s)\n", len(run), plural(len(run), "library frame", "library frames"), packageSummary(run))
		cut.library += len(run)
		run = run[:0]
	}
	for k := 0; k < n; k++ {
		i := n - 1 - k
		f := x.Frames[i]
		if !show[i] {
			if !full && (!f.InApp || inApp == 0) {
				run = append(run, f)
			}
			continue
		}
		flush()
		b.WriteString("  " + frameLabel(f))
		if !f.InApp && inApp > 0 {
			b.WriteString(" [library]")
		}
		b.WriteByte('\n')
		if withContext && i == top {
			writeSource(b, f, contextAround)
			continue
		}
		writeSource(b, f, 0)
		cut.context = cut.context || len(f.Context) > 1
	}
	flush()
	if full && shown < n {
		fmt.Fprintf(b, "  … %d more frames\n", n-shown)
	}
}

// frameLabel is "file:line:col in function".
func frameLabel(f frame) string {
	where := f.File
	if where == "" {
		where = f.Module
	}
	if where == "" {
		where = f.Package
	}
	if where == "" {
		where = "?"
	}
	if f.Line > 0 {
		where += ":" + strconv.Itoa(f.Line)
		if f.Column > 0 {
			where += ":" + strconv.Itoa(f.Column)
		}
	}
	if f.Function != "" {
		return where + " in " + clip(f.Function, 200)
	}
	return where
}

// writeSource writes the frame's line, and around lines above and below,
// marking the frame's own line with ">".
func writeSource(b *strings.Builder, f frame, around int) {
	if len(f.Context) == 0 || f.Line <= 0 {
		return
	}
	width := len(strconv.Itoa(f.Line + around))
	for _, l := range f.Context {
		if l.N < f.Line-around || l.N > f.Line+around {
			continue
		}
		mark := "   "
		if l.N == f.Line {
			mark = "  >"
		}
		line := fmt.Sprintf("  %s %*d | %s", mark, width, l.N, clip(strings.TrimRight(l.Text, " \t\r\n"), maxSourceLine))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
}

// packageSummary names the packages of collapsed frames, most frames
// first: "react-dom 9, scheduler 5".
func packageSummary(frames []frame) string {
	counts := map[string]int{}
	for _, f := range frames {
		counts[packageOf(f)]++
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for i, n := range names {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d others", len(names)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", n, counts[n]))
	}
	return strings.Join(parts, ", ")
}

// packageOf guesses the library a frame belongs to: the native image, the
// npm or Python package in the path, or the module's top level.
func packageOf(f frame) string {
	if f.Package != "" {
		return path.Base(strings.ReplaceAll(f.Package, `\`, "/"))
	}
	p := strings.ReplaceAll(f.File, `\`, "/")
	for _, marker := range []string{"node_modules/", "site-packages/", "dist-packages/", "/gems/", "/vendor/", "/pkg/mod/"} {
		if i := strings.LastIndex(p, marker); i >= 0 {
			rest := strings.Split(p[i+len(marker):], "/")
			if len(rest) > 1 && strings.HasPrefix(rest[0], "@") {
				return rest[0] + "/" + rest[1]
			}
			if marker == "/pkg/mod/" && len(rest) > 2 {
				return strings.Join(rest[:3], "/")
			}
			return strings.SplitN(rest[0], "@", 2)[0]
		}
	}
	if f.Module != "" {
		m := f.Module
		for _, sep := range []string{".", ":", "/"} {
			m = strings.SplitN(m, sep, 2)[0]
		}
		if m != "" {
			return m
		}
	}
	if p != "" {
		if d := path.Dir(p); d != "." && d != "/" {
			return strings.TrimPrefix(d, "/")
		}
		return p
	}
	return "unknown"
}

// clip shortens s to at most n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…[+%d bytes]", len(s)-cut)
}

// oneLine folds line breaks so a value stays on its line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
