package logs

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Event is one log entry as every provider hands it to the tools: local
// lines, Axiom rows, CloudWatch events, Cloud Logging entries and Workers
// telemetry all become events, so searching, counting over time and error
// signatures are written once.
type Event struct {
	Time    time.Time // zero when the entry has none
	Level   Level
	Message string
	Fields  []Field // the rest, in the order the source gave them
	Source  string  // file, log group/stream, log name, worker
	// Raw is the text text and regex filters look at: the line itself for
	// files, the message and fields for structured providers.
	Raw string
}

// Field is one key and its value as text (nested values as JSON).
type Field struct{ Key, Value string }

// get returns a field's value.
func (e *Event) get(key string) (string, bool) {
	for _, f := range e.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	switch strings.ToLower(key) {
	case "message", "msg":
		return e.Message, true
	case "level", "severity":
		if e.Level != levelUnknown {
			return e.Level.String(), true
		}
	case "source":
		return e.Source, e.Source != ""
	}
	return "", false
}

// Level is a normalised severity. Sources spell levels many ways (WARN,
// warning, 40, W, SEVERITY_WARNING); they all map onto these. The zero
// Level is none: the entry has no level, or any level will do.
type Level uint8

const (
	levelUnknown Level = iota // none
	LevelTrace
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

var levelNames = [...]string{"", "trace", "debug", "info", "warn", "error", "fatal"}

func (l Level) String() string { return levelNames[l] }

// tag is the short uppercase form shown on log lines.
func (l Level) tag() string {
	switch l {
	case levelUnknown:
		return "-"
	case LevelWarn:
		return "WARN"
	}
	return strings.ToUpper(levelNames[l])
}

// parseLevelArg reads the level argument of a tool: a minimum severity.
func parseLevelArg(s string) (Level, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "any" || s == "all" {
		return levelUnknown, nil
	}
	if l := levelOf([]byte(s)); l != levelUnknown {
		return l, nil
	}
	return 0, toolkit.Errorf("level %q is not a level; use trace, debug, info, warn, error or fatal (each means that level and above), or any", s)
}

// levelOf maps a level as written in a log to a level. It accepts the
// usual words in any case, syslog and GCP severities, single letters
// (glog's I/W/E/F) and pino/bunyan numbers.
func levelOf(b []byte) Level {
	b = bytes.Trim(b, " []<>:\t")
	if len(b) == 0 || len(b) > 16 {
		return levelUnknown
	}
	var buf [16]byte
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(b)]) {
	case "trace", "trc", "finest", "finer", "verbose", "10":
		return LevelTrace
	case "debug", "dbg", "d", "fine", "default", "20":
		return LevelDebug
	case "info", "information", "informational", "inf", "i", "notice", "log", "config", "30":
		return LevelInfo
	case "warn", "warning", "wrn", "w", "40":
		return LevelWarn
	case "error", "err", "e", "severe", "50":
		return LevelError
	case "fatal", "ftl", "f", "critical", "crit", "panic", "emerg", "emergency", "alert", "dpanic", "60":
		return LevelFatal
	}
	if bytes.HasPrefix(buf[:len(b)], []byte("severity_")) {
		return levelOf(b[len("severity_"):])
	}
	return levelUnknown
}

// filter is what the search, count and signature tools select: a time
// window, a minimum level, text or a regular expression, and conditions on
// fields. Providers push what they can to the backend; match checks the
// rest on every event, so results never depend on what a backend filters.
type filter struct {
	Range    timerange.Range
	HasRange bool // false: no time limit (whole local files)
	MinLevel Level
	Text     string
	fold     bool // Text has no upper case: match it in any case
	Regex    *regexp.Regexp
	Fields   []fieldCond
	// Source narrows the sources searched: a file name or glob, a dataset,
	// a log group, a log name, a worker.
	Source string
	// Native is a filter in the provider's own language, passed through.
	Native string
}

// fieldCond is one key/operator/value condition: status>=500,
// service=api, path~/checkout, user!=bot.
type fieldCond struct {
	Key, Op, Value string
	num            float64
	isNum          bool
}

var condRE = regexp.MustCompile(`^\s*([A-Za-z0-9_.@$\-/\[\]]+)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$`)

// parseFieldConds reads field conditions such as "status>=500".
func parseFieldConds(in []string) ([]fieldCond, error) {
	var out []fieldCond
	for _, s := range in {
		if strings.TrimSpace(s) == "" {
			continue
		}
		m := condRE.FindStringSubmatch(s)
		if m == nil {
			return nil, toolkit.Errorf("field condition %q is not KEY=VALUE; write service=api, status>=500, path~checkout (contains) or user!=bot", s)
		}
		c := fieldCond{Key: m[1], Op: m[2], Value: strings.Trim(m[3], `"'`)}
		if f, err := strconv.ParseFloat(c.Value, 64); err == nil {
			c.num, c.isNum = f, true
		}
		if (c.Op == ">" || c.Op == ">=" || c.Op == "<" || c.Op == "<=") && !c.isNum {
			return nil, toolkit.Errorf("field condition %q compares with %s, which needs a number", s, c.Op)
		}
		out = append(out, c)
	}
	return out, nil
}

func (c fieldCond) String() string { return c.Key + c.Op + c.Value }

func (c fieldCond) holds(e *Event) bool {
	v, ok := e.get(c.Key)
	if !ok {
		return c.Op == "!="
	}
	switch c.Op {
	case "=":
		return strings.EqualFold(v, c.Value)
	case "!=":
		return !strings.EqualFold(v, c.Value)
	case "~":
		return containsFold(v, c.Value)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch c.Op {
	case ">":
		return f > c.num
	case ">=":
		return f >= c.num
	case "<":
		return f < c.num
	}
	return f <= c.num
}

// setText sets the text filter with "smart case": all lower case matches
// any case, any upper case letter makes it exact.
func (f *filter) setText(s string) {
	f.Text = s
	f.fold = strings.ToLower(s) == s
}

// matchText reports whether raw contains the text filter.
func (f *filter) matchText(raw string) bool {
	if f.Text == "" {
		return true
	}
	if f.fold {
		return containsFold(raw, f.Text)
	}
	return strings.Contains(raw, f.Text)
}

// match checks a whole event against the filter.
func (f *filter) match(e *Event) bool {
	if f.HasRange && !e.Time.IsZero() && !f.Range.Contains(e.Time) {
		return false
	}
	if f.MinLevel != levelUnknown && e.Level < f.MinLevel {
		return false
	}
	if !f.matchText(e.Raw) {
		return false
	}
	if f.Regex != nil && !f.Regex.MatchString(e.Raw) {
		return false
	}
	for _, c := range f.Fields {
		if !c.holds(e) {
			return false
		}
	}
	return true
}

// describe says in words what the filter selects, for summaries and for
// "nothing matched" hints.
func (f *filter) describe() string {
	var parts []string
	if f.HasRange {
		parts = append(parts, f.Range.String())
	}
	if f.MinLevel != levelUnknown {
		parts = append(parts, "level "+f.MinLevel.String()+"+")
	}
	if f.Text != "" {
		parts = append(parts, strconv.Quote(f.Text))
	}
	if f.Regex != nil {
		parts = append(parts, "/"+f.Regex.String()+"/")
	}
	for _, c := range f.Fields {
		parts = append(parts, c.String())
	}
	if f.Native != "" {
		parts = append(parts, "filter "+strconv.Quote(f.Native))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, ", ")
}

// containsFold is a case-insensitive strings.Contains for ASCII text.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	return indexFold([]byte(s), []byte(sub)) >= 0
}
