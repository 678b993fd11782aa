package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timebucket"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Local log files: the embedded default. A connection is one or more globs;
// each file is mapped into memory and searched with vectorised byte search
// (bytes.Index, IndexByte) before any line is parsed, so a rare string in
// a gigabyte of JSON lines is found at memory speed. When a file's lines
// are in time order, a time window is found by binary search on the
// timestamps and the rest of the file is never read. Counting and
// signature passes split the region into chunks, one per core.
// Gzip-compressed and rotated files (app.log.1, app.log.2.gz,
// app.log-20260301) are read too; compressed ones are streamed.

var localProvider = &provider{
	Provider: connections.Provider{
		Name:    "files",
		Aliases: []string{"file", "localfiles", "log-files"},
		Title:   "Local log files",
		Fields: []config.Field{
			{Name: "path", Required: true, Help: "a file, directory or glob (app/*.log); several separated by commas; rotated siblings (app.log.1, app.log.2.gz) are included"},
		},
		DefaultName: func(v config.Values) string {
			p := strings.Split(v.Get("path"), ",")[0]
			base := filepath.Base(strings.TrimSpace(p))
			base = strings.TrimSuffix(base, filepath.Ext(base))
			if base == "" || base == "*" || strings.ContainsAny(base, "*?[") {
				return "files"
			}
			return base
		},
	},
	open: func(_ context.Context, v config.Values, o openOptions) (backend, error) {
		var globs []string
		for _, p := range strings.Split(v.Get("path"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				if _, err := filepath.Match(p, ""); err != nil {
					return nil, fmt.Errorf("path %q is not a valid glob: %v", p, err)
				}
				globs = append(globs, p)
			}
		}
		l := newLocalFiles(globs)
		l.workers = o.workers
		return l, nil
	},
}

// localFiles serves the files its globs match, re-expanded on every call
// so new and rotated files are seen.
type localFiles struct {
	globs []string
	// workers is how many chunks a pass runs in parallel; 0 means one
	// per core.
	workers int
	mu      sync.Mutex
	cache   map[string]*fileMeta
}

func newLocalFiles(globs []string) *localFiles {
	return &localFiles{globs: globs, cache: map[string]*fileMeta{}}
}

// fileMeta is what a file's first and last pages say about it. It is kept
// until the file's size or modification time changes.
type fileMeta struct {
	path    string
	size    int64
	mod     time.Time
	gz      bool
	lay     layout
	first   time.Time // first timestamp, zero when none
	last    time.Time // last timestamp (zero for gzip files: unknown)
	ordered bool      // timestamps rise through the file: binary search works
}

func (l *localFiles) lookback() time.Duration { return 0 }
func (l *localFiles) close() error            { return nil }

var rotatedSuffix = regexp.MustCompile(`^[.\-_](\d{1,4}|\d{4}-?\d{2}-?\d{2}([T_\-]?\d{2,6})?)(\.gz)?$|^\.gz$`)

// files expands the globs (and the rotated siblings of plain paths), keeps
// those matching source, and returns their metadata oldest first.
// Unreadable files are reported in notes, not as errors, unless nothing
// can be read.
func (l *localFiles) files(source string) ([]*fileMeta, []string, error) {
	seen := map[string]bool{}
	var paths, notes []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	// addRotated adds a file and its rotated siblings (app.log.1,
	// app.log.2.gz, app.log-20260301), so a path or glob naming the live
	// file covers its history too.
	addRotated := func(p string) {
		add(p)
		sibs, _ := filepath.Glob(globEscape(p) + "*")
		for _, s := range sibs {
			if rotatedSuffix.MatchString(strings.TrimPrefix(s, p)) {
				add(s)
			}
		}
	}
	for _, g := range l.globs {
		if !strings.ContainsAny(g, "*?[") {
			st, err := os.Stat(g)
			switch {
			case err != nil:
				notes = append(notes, fmt.Sprintf("%s: %s", g, logtext.DescribeFileErr(err)))
				continue
			case st.IsDir():
				g = filepath.Join(g, "*")
			default:
				addRotated(g)
				continue
			}
		}
		matches, err := filepath.Glob(g)
		if err != nil {
			return nil, nil, toolkit.Errorf("%q is not a valid glob: %v", g, err)
		}
		n := 0
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
				addRotated(m)
				n++
			}
		}
		if n == 0 {
			notes = append(notes, fmt.Sprintf("%s matches no files", g))
		}
	}
	if source != "" {
		var kept []string
		for _, p := range paths {
			if matchSource(source, p) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return nil, notes, toolkit.Errorf("source %q matches none of the %d log files; %s", source, len(paths), fileNamesHint(paths, source))
		}
		paths = kept
	}
	var metas []*fileMeta
	for _, p := range paths {
		m, err := l.meta(p)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %s", p, logtext.DescribeFileErr(err)))
			continue
		}
		metas = append(metas, m)
	}
	if len(metas) == 0 {
		msg := "no readable log files: " + strings.Join(l.globs, ", ")
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		return nil, notes, toolkit.Errorf("%s; check the paths given with --files and that this process may read them", msg)
	}
	sort.SliceStable(metas, func(i, j int) bool {
		a, b := metas[i], metas[j]
		if !a.first.Equal(b.first) && !a.first.IsZero() && !b.first.IsZero() {
			return a.first.Before(b.first)
		}
		return rotationRank(a.path) > rotationRank(b.path)
	})
	return metas, notes, nil
}

// rotationRank orders rotated files oldest first when they have no
// timestamps: app.log.3 before app.log.1 before app.log.
func rotationRank(p string) int {
	base := strings.TrimSuffix(filepath.Base(p), ".gz")
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		n := 0
		for _, c := range base[i+1:] {
			if c < '0' || c > '9' {
				return 0
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	return 0
}

func globEscape(p string) string {
	r := strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`)
	return r.Replace(p)
}

// matchSource matches a file against a source argument: a glob against
// the base name or the path, else a substring.
func matchSource(source, path string) bool {
	if ok, _ := filepath.Match(source, filepath.Base(path)); ok {
		return true
	}
	if ok, _ := filepath.Match(source, path); ok {
		return true
	}
	return strings.Contains(path, source)
}

func fileNamesHint(paths []string, source string) string {
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	if len(names) > 15 {
		return "list_log_sources shows them"
	}
	return "files are: " + strings.Join(names, ", ")
}

const samplePage = 64 << 10

// meta reads (or returns the cached) metadata of a file.
func (l *localFiles) meta(path string) (*fileMeta, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	m := l.cache[path]
	l.mu.Unlock()
	if m != nil && m.size == st.Size() && m.mod.Equal(st.ModTime()) {
		return m, nil
	}
	m = &fileMeta{path: path, size: st.Size(), mod: st.ModTime()}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	m.gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	year := st.ModTime().UTC().Year()
	if m.gz {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("not a readable gzip file: %v", err)
		}
		head := make([]byte, samplePage)
		k, _ := io.ReadFull(zr, head)
		head = head[:k]
		m.lay = detectLayout(head, year)
		m.first = firstTime(head, &m.lay)
	} else {
		data, unmap, err := mapFile(f, st.Size())
		if err != nil {
			return nil, err
		}
		m.lay = detectLayout(data[:min(len(data), samplePage)], year)
		m.first = firstTime(data[:min(len(data), samplePage)], &m.lay)
		m.last = lastTime(data, &m.lay)
		m.ordered = isOrdered(data, &m.lay)
		unmap()
	}
	l.mu.Lock()
	l.cache[path] = m
	l.mu.Unlock()
	return m, nil
}

// readAll reads the whole file from its start, wherever f's offset is.
func readAll(f *os.File, size int64) ([]byte, func(), error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), data); err != nil {
		return nil, nil, err
	}
	return data, func() {}, nil
}

func firstTime(data []byte, lay *layout) time.Time {
	for n := 0; len(data) > 0 && n < 200; n++ {
		var line []byte
		line, data = nextLine(data)
		if t, ok := lay.lineTime(line); ok {
			return t
		}
	}
	return time.Time{}
}

func lastTime(data []byte, lay *layout) time.Time {
	end := len(data)
	for n := 0; end > 0 && n < 200; n++ {
		start := bytes.LastIndexByte(data[:max(0, end-1)], '\n') + 1
		if t, ok := lay.lineTime(data[start:end]); ok {
			return t
		}
		end = start
		if start == 0 {
			break
		}
	}
	return time.Time{}
}

// orderSlack is how far back in time a line may be and the file still
// count as ordered: lines written by concurrent threads interleave.
const orderSlack = time.Minute

// isOrdered samples timestamps through the file and reports whether they
// rise, so binary search on time is safe.
func isOrdered(data []byte, lay *layout) bool {
	if len(data) < 4*samplePage {
		return false // small: scanning it whole is cheap
	}
	var prev time.Time
	for i := 0; i <= 16; i++ {
		t, ok := timeAtOrAfter(data, len(data)*i/17, lay)
		if !ok {
			continue
		}
		if !prev.IsZero() && t.Before(prev.Add(-orderSlack)) {
			return false
		}
		prev = t
	}
	return !prev.IsZero()
}

// timeAtOrAfter returns the first timestamp at or after the line that
// follows offset off, looking at most a few kilobytes ahead.
func timeAtOrAfter(data []byte, off int, lay *layout) (time.Time, bool) {
	if off > 0 {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return time.Time{}, false
		}
		off += i + 1
	}
	limit := min(len(data), off+16<<10)
	for off < limit {
		line, _ := nextLine(data[off:limit])
		if t, ok := lay.lineTime(line); ok {
			return t, true
		}
		off += len(line) + 1
	}
	return time.Time{}, false
}

// lineStartAfter returns the start of the first line at or after off.
func lineStartAfter(data []byte, off int) int {
	if off <= 0 {
		return 0
	}
	if off >= len(data) {
		return len(data)
	}
	if data[off-1] == '\n' {
		return off
	}
	i := bytes.IndexByte(data[off:], '\n')
	if i < 0 {
		return len(data)
	}
	return off + i + 1
}

// offsetOf returns a line-aligned offset before which every line is older
// than t (less the order slack), by binary search on timestamps.
func offsetOf(data []byte, t time.Time, lay *layout) int {
	t = t.Add(-orderSlack)
	lo, hi := 0, len(data)
	for hi-lo > samplePage {
		mid := lo + (hi-lo)/2
		mt, ok := timeAtOrAfter(data, mid, lay)
		if !ok {
			break
		}
		if mt.Before(t) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lineStartAfter(data, lo)
}

// region is the part of a file that can hold lines in f's window.
func region(data []byte, m *fileMeta, f *filter) (int, int) {
	if !f.HasRange || !m.ordered {
		return 0, len(data)
	}
	lo := offsetOf(data, f.Range.Start, &m.lay)
	hi := offsetOf(data, f.Range.End.Add(2*orderSlack), &m.lay)
	if hi < len(data) {
		// offsetOf leaves hi at or before the end; include a page more.
		hi = lineStartAfter(data, min(len(data), hi+samplePage))
	}
	return lo, max(lo, hi)
}

// outsideWindow reports whether a whole file lies outside f's window.
func outsideWindow(m *fileMeta, f *filter) bool {
	if !f.HasRange || m.first.IsZero() {
		return false
	}
	if m.first.After(f.Range.End.Add(orderSlack)) {
		return true
	}
	return !m.last.IsZero() && m.ordered && m.last.Before(f.Range.Start.Add(-orderSlack))
}

// ---- the scanner ----

// candidate is a line that passed the filter, with what was learned on
// the way: its time, level, and the parsed event when fields were checked.
type candidate struct {
	line   []byte
	t      time.Time
	hasT   bool
	lv     Level
	hasLv  bool
	parsed *Event
}

// scanner runs one filter over chunks of one file.
type scanner struct {
	f      *filter
	lay    *layout
	source string
	needle []byte
	fold   bool
	anchor int // the byte of needle a case-insensitive search jumps to
	// anchored: the exact search jumps to needle[anchor] too, because the
	// sample shows that byte is rare; else bytes.Index decides.
	anchored bool
	// needLevel: compute the level of every candidate (grouping by level).
	needLevel bool
	// timed: the file has timestamps, so a line without one is a
	// continuation of the entry above (a stack trace) and borrows its time.
	timed bool
}

func newScanner(f *filter, m *fileMeta) *scanner {
	s := &scanner{f: f, lay: &m.lay, source: filepath.Base(m.path), timed: !m.first.IsZero()}
	switch {
	case f.Text != "":
		s.needle, s.fold = []byte(f.Text), f.fold
	case f.Regex != nil:
		if prefix, _ := f.Regex.LiteralPrefix(); len(prefix) >= 3 {
			s.needle = []byte(prefix)
		}
	}
	return s
}

// prepare tunes the scanner to the data, given a sample of it.
func (s *scanner) prepare(sample []byte) {
	if s.needle == nil {
		return
	}
	sample = sample[:min(len(sample), samplePage)]
	s.anchor = rarestByte(s.needle, sample)
	if !s.fold {
		s.anchored = bytes.Count(sample, s.needle[s.anchor:s.anchor+1])*1000 < len(sample)
	}
}

// scan calls visit for every line of chunk (complete lines) that passes
// the filter, until visit returns false. chunk must start at a line start.
func (s *scanner) scan(ctx context.Context, chunk []byte, visit func(c *candidate) bool) error {
	var c candidate
	var h lookupHints
	if s.needle != nil {
		pos := 0
		for pos < len(chunk) {
			var i int
			switch {
			case s.fold:
				i = indexFoldAt(chunk[pos:], s.needle, s.anchor)
			case s.anchored:
				i = indexAt(chunk[pos:], s.needle, s.anchor)
			default:
				i = bytes.Index(chunk[pos:], s.needle)
			}
			if i < 0 {
				return nil
			}
			at := pos + i
			start := bytes.LastIndexByte(chunk[:at], '\n') + 1
			end := bytes.IndexByte(chunk[at:], '\n')
			if end < 0 {
				end = len(chunk)
			} else {
				end += at
			}
			pos = end + 1
			c = candidate{line: chunk[start:end]}
			if !s.check(&c, chunk, start, &h) {
				continue
			}
			if !visit(&c) {
				return nil
			}
			if pos&(1<<22) != 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	}
	pos, checked := 0, 0
	for pos < len(chunk) {
		end := bytes.IndexByte(chunk[pos:], '\n')
		if end < 0 {
			end = len(chunk)
		} else {
			end += pos
		}
		line := chunk[pos:end]
		lineStart := pos
		pos = end + 1
		if len(line) == 0 {
			continue
		}
		c = candidate{line: line}
		if !s.check(&c, chunk, lineStart, &h) {
			continue
		}
		if !visit(&c) {
			return nil
		}
		if checked++; checked&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// check applies the filter to a candidate line. chunk and start locate
// the line so a continuation line can borrow the time of the entry above.
func (s *scanner) check(c *candidate, chunk []byte, start int, h *lookupHints) bool {
	f := s.f
	// The level first: it rejects most lines of an error search, and
	// reading it costs less than reading a time.
	if f.MinLevel != levelUnknown || s.needLevel {
		c.lv, c.hasLv = s.lay.lineLevelAt(c.line, &h.level), true
		if c.lv < f.MinLevel {
			return false
		}
	}
	c.t, c.hasT = s.lay.lineTimeAt(c.line, &h.time)
	if !c.hasT && s.timed {
		c.t, c.hasT = timeAbove(chunk, start, s.lay)
	}
	if f.HasRange && c.hasT && !f.Range.Contains(c.t) {
		return false
	}
	if f.Regex != nil && !f.Regex.Match(c.line) {
		return false
	}
	if len(f.Fields) > 0 {
		e := s.event(c)
		for _, fc := range f.Fields {
			if !fc.holds(e) {
				return false
			}
		}
	}
	return true
}

// event parses the candidate fully (once).
func (s *scanner) event(c *candidate) *Event {
	if c.parsed == nil {
		e := s.lay.parseLine(c.line, s.source)
		if e.Time.IsZero() && c.hasT {
			e.Time = c.t
		}
		c.parsed = &e
	}
	return c.parsed
}

// indexAt finds sub in s by jumping between occurrences of sub[a].
func indexAt(s, sub []byte, a int) int {
	pos := 0
	for {
		i := bytes.IndexByte(s[pos:], sub[a])
		if i < 0 {
			return -1
		}
		start := pos + i - a
		if start >= 0 && start+len(sub) <= len(s) && bytes.Equal(s[start:start+len(sub)], sub) {
			return start
		}
		pos += i + 1
	}
}

// timeAbove finds the time of the nearest timestamped line above start,
// looking back a few lines: the entry a stack-trace line belongs to.
func timeAbove(chunk []byte, start int, lay *layout) (time.Time, bool) {
	end := start - 1
	for n := 0; n < 30 && end > 0; n++ {
		ls := bytes.LastIndexByte(chunk[:end], '\n') + 1
		if t, ok := lay.lineTime(chunk[ls:end]); ok {
			return t, true
		}
		end = ls - 1
	}
	return time.Time{}, false
}

// chunks splits data into n line-aligned parts.
func chunks(data []byte, n int) [][]byte {
	if n <= 1 || len(data) < 4<<20 {
		return [][]byte{data}
	}
	var out [][]byte
	start := 0
	for i := 1; i <= n; i++ {
		end := len(data)
		if i < n {
			end = lineStartAfter(data, len(data)*i/n)
		}
		if end > start {
			out = append(out, data[start:end])
		}
		start = end
	}
	return out
}

func (l *localFiles) nworkers() int {
	if l.workers > 0 {
		return l.workers
	}
	return runtime.GOMAXPROCS(0)
}

// pass runs a filter over every file in the window. For each file it calls
// begin(file, parts) with the number of parallel parts, then part(i, s,
// chunk) for each chunk (concurrently for mapped files, in order for
// compressed ones), then end(file). It returns what was scanned.
type passHooks struct {
	begin func(m *fileMeta, parts int)
	part  func(i int, s *scanner, chunk []byte) error
	end   func(m *fileMeta)
	// owned is set when chunks of compressed files are reused buffers the
	// part function must copy from.
	setup func(s *scanner)
}

func (l *localFiles) pass(ctx context.Context, f *filter, h passHooks) (scanInfo, error) {
	metas, notes, err := l.files(f.Source)
	if err != nil {
		return scanInfo{}, err
	}
	info := scanInfo{Notes: notes}
	var scanned int64
	var skipped int
	for _, m := range metas {
		info.Sources = append(info.Sources, m.path)
		if outsideWindow(m, f) {
			skipped++
			continue
		}
		s := newScanner(f, m)
		if h.setup != nil {
			h.setup(s)
		}
		n, err := l.passFile(ctx, m, s, h)
		scanned += n
		if err != nil {
			if ctx.Err() != nil {
				return info, ctx.Err()
			}
			info.Notes = append(info.Notes, fmt.Sprintf("%s: %s", m.path, logtext.DescribeFileErr(err)))
		}
	}
	info.Scanned = fmt.Sprintf("%s in %d of %d files", render.Bytes(int(scanned)), len(metas)-skipped, len(metas))
	if skipped > 0 {
		info.Scanned += fmt.Sprintf(" (%d outside the window skipped)", skipped)
	}
	return info, nil
}

// passFile scans one file and returns how many bytes it read.
func (l *localFiles) passFile(ctx context.Context, m *fileMeta, s *scanner, h passHooks) (int64, error) {
	fh, err := os.Open(m.path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	if m.gz {
		h.begin(m, -1)
		zr, err := gzip.NewReader(bufio.NewReaderSize(fh, 1<<20))
		if err != nil {
			return 0, err
		}
		var total int64
		buf := make([]byte, 8<<20)
		carry := 0
		for i := 0; ; i++ {
			k, rerr := io.ReadFull(zr, buf[carry:])
			n := carry + k
			total += int64(k)
			eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
			if rerr != nil && !eof {
				h.end(m)
				return total, fmt.Errorf("reading the compressed file: %v", rerr)
			}
			cut := n
			if !eof {
				cut = bytes.LastIndexByte(buf[:n], '\n') + 1
				if cut == 0 { // one line longer than the buffer
					buf = append(buf, make([]byte, len(buf))...)
					carry = n
					continue
				}
			}
			if i == 0 {
				s.prepare(buf[:cut])
			}
			if err := h.part(i, s, buf[:cut]); err != nil {
				h.end(m)
				return total, err
			}
			if eof {
				break
			}
			carry = copy(buf, buf[cut:n])
			if ctx.Err() != nil {
				h.end(m)
				return total, ctx.Err()
			}
		}
		h.end(m)
		return total, nil
	}
	data, unmap, err := mapFile(fh, m.size)
	if err != nil {
		return 0, err
	}
	defer unmap()
	lo, hi := region(data, m, s.f)
	s.prepare(data[lo:hi])
	parts := chunks(data[lo:hi], l.nworkers())
	h.begin(m, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, c := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.part(i, s, c)
		}()
	}
	wg.Wait()
	h.end(m)
	return int64(hi - lo), errors.Join(errs...)
}

// ---- operations ----

func (l *localFiles) search(ctx context.Context, f *filter, limit int) (*searchResult, error) {
	res := &searchResult{}
	var mu sync.Mutex
	var rings []*ring
	var gzRing *ring
	info, err := l.pass(ctx, f, passHooks{
		begin: func(m *fileMeta, parts int) {
			if parts < 0 {
				gzRing = newRing(limit, true)
				rings = []*ring{gzRing}
				return
			}
			rings = make([]*ring, parts)
			for i := range rings {
				rings[i] = newRing(limit, false)
			}
		},
		part: func(i int, s *scanner, chunk []byte) error {
			r := gzRing
			if r == nil {
				r = rings[i]
			}
			return s.scan(ctx, chunk, func(c *candidate) bool {
				r.add(c)
				return true
			})
		},
		end: func(m *fileMeta) {
			// Parse the newest matches of this file while its mapping lives.
			lay, src := m.lay, filepath.Base(m.path)
			var evs []Event
			total := 0
			for _, r := range rings {
				total += r.total
				evs = append(evs, r.events(&lay, src)...)
			}
			if len(evs) > limit {
				evs = evs[len(evs)-limit:]
			}
			mu.Lock()
			res.Total += total
			res.Events = append(res.Events, evs...)
			if len(res.Events) > limit {
				sortEvents(res.Events)
				res.Events = res.Events[len(res.Events)-limit:]
			}
			mu.Unlock()
			rings, gzRing = nil, nil
		},
	})
	if err != nil {
		return nil, err
	}
	sortEvents(res.Events)
	if len(res.Events) > limit {
		res.Events = res.Events[len(res.Events)-limit:]
	}
	res.scanInfo = info
	return res, nil
}

// ring keeps the newest n candidates of a chunk.
type ring struct {
	n     int
	copy  bool // the chunk buffer is reused: keep copies
	items []candidate
	next  int
	total int
}

func newRing(n int, copyLines bool) *ring { return &ring{n: n, copy: copyLines} }

func (r *ring) add(c *candidate) {
	r.total++
	item := *c
	if r.copy {
		item.line = bytes.Clone(c.line)
		item.parsed = nil
	}
	if len(r.items) < r.n {
		r.items = append(r.items, item)
		return
	}
	r.items[r.next] = item
	r.next = (r.next + 1) % r.n
}

// events returns the kept lines parsed, oldest first.
func (r *ring) events(lay *layout, source string) []Event {
	out := make([]Event, 0, len(r.items))
	for i := range r.items {
		c := r.items[(r.next+i)%len(r.items)]
		var e Event
		if c.parsed != nil {
			e = *c.parsed
		} else {
			e = lay.parseLine(c.line, source)
		}
		if e.Time.IsZero() && c.hasT {
			e.Time = c.t
		}
		out = append(out, e)
	}
	return out
}

func (l *localFiles) count(ctx context.Context, f *filter, c *timebucket.Counts, groupBy string) (scanInfo, error) {
	var mu sync.Mutex
	byLevel := strings.EqualFold(groupBy, "level") || strings.EqualFold(groupBy, "severity")
	return l.pass(ctx, f, passHooks{
		setup: func(s *scanner) { s.needLevel = byLevel },
		begin: func(*fileMeta, int) {},
		part: func(i int, s *scanner, chunk []byte) error {
			local := timebucket.New(c.Start, c.Start.Add(time.Duration(c.Len())*c.Width), c.Width)
			err := s.scan(ctx, chunk, func(cd *candidate) bool {
				if !cd.hasT {
					local.Outside++
					return true
				}
				g := ""
				switch {
				case groupBy == "":
				case byLevel:
					g = "none"
					if cd.lv != levelUnknown {
						g = cd.lv.String()
					}
				default:
					g = groupOf(s.event(cd), groupBy)
				}
				local.Add(cd.t, g)
				return true
			})
			mu.Lock()
			c.Merge(local)
			mu.Unlock()
			return err
		},
		end: func(*fileMeta) {},
	})
}

func (l *localFiles) signatures(ctx context.Context, f *filter) (*sigTable, scanInfo, error) {
	total := newSigTable()
	var mu sync.Mutex
	info, err := l.pass(ctx, f, passHooks{
		begin: func(*fileMeta, int) {},
		part: func(i int, s *scanner, chunk []byte) error {
			t := newSigTable()
			err := s.scan(ctx, chunk, func(c *candidate) bool {
				t.add(s.event(c))
				c.parsed = nil
				return true
			})
			mu.Lock()
			total.merge(t)
			mu.Unlock()
			return err
		},
		end: func(*fileMeta) {},
	})
	return total, info, err
}

func (l *localFiles) fields(ctx context.Context, f *filter, key string) (*fieldStats, scanInfo, error) {
	res, err := l.search(ctx, f, 2000)
	if err != nil {
		return nil, scanInfo{}, err
	}
	fc := newFieldCounter(key)
	for i := range res.Events {
		fc.add(&res.Events[i])
	}
	return fc.result(), res.scanInfo, nil
}

func (l *localFiles) extent(ctx context.Context, source string) (timerange.Range, bool) {
	metas, _, err := l.files(source)
	if err != nil {
		return timerange.Range{}, false
	}
	var r timerange.Range
	for _, m := range metas {
		if !m.first.IsZero() && (r.Start.IsZero() || m.first.Before(r.Start)) {
			r.Start = m.first
		}
		last := m.last
		if last.IsZero() {
			last = m.first
		}
		if !last.IsZero() && last.After(r.End) {
			r.End = last
		}
	}
	if r.Start.IsZero() || r.End.IsZero() {
		return r, false
	}
	r.End = r.End.Add(time.Millisecond)
	return r, true
}

func (l *localFiles) sources(ctx context.Context, pattern string) (*SourceTable, error) {
	metas, notes, err := l.files(pattern)
	if err != nil {
		return nil, err
	}
	t := &SourceTable{Columns: []render.Column{{Name: "file"}, {Name: "size"}, {Name: "format"}, {Name: "first"}, {Name: "last"}, {Name: "modified"}}}
	for _, m := range metas {
		kind := m.lay.format.String()
		if m.gz {
			kind += "+gzip"
		}
		last := logtext.When(m.last)
		if m.gz {
			last = "?"
		}
		t.Rows = append(t.Rows, []string{m.path, render.Bytes(int(m.size)), kind, logtext.When(m.first), last, logtext.When(m.mod)})
	}
	if len(notes) > 0 {
		t.Note = "Not readable: " + strings.Join(notes, "; ")
	}
	return t, nil
}
