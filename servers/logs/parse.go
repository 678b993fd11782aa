package logs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Parsing is written for speed: the search and signature passes read
// gigabytes, so a line is never handed to encoding/json or time.Parse on
// the hot path. JSON lines are walked by a small scanner that finds one key
// without building anything; timestamps are read digit by digit.

// format is how a file's lines are written.
type format uint8

const (
	formatPlain  format = iota // a timestamp, maybe a level, then text
	formatJSON                 // one JSON object per line
	formatLogfmt               // key=value pairs
)

func (f format) String() string {
	return [...]string{"plain", "json", "logfmt"}[f]
}

// Key names looked for, in order of preference.
var (
	timeKeys  = []string{"time", "timestamp", "ts", "@timestamp", "_time", "t", "date", "datetime", "eventTime", "asctime", "@t"}
	levelKeys = []string{"level", "lvl", "severity", "log.level", "loglevel", "levelname", "@l", "@level", "status_level"}
	msgKeys   = []string{"msg", "message", "@message", "@m", "log", "text", "event", "@mt"}
	// errorKeys hold an error's text beside the message; signatures include it.
	errorKeys = []string{"error", "err", "exception", "error.message", "exc_info", "stack"}
)

// layout is what detection learned about a file: its format and, for
// structured lines, which keys hold the time, level and message.
type layout struct {
	format   format
	timeKey  string
	levelKey string
	msgKey   string
	// quoted keys for the JSON scanner: `"time"`.
	timeQ, levelQ []byte
	// year for syslog timestamps, which have none: the file's year.
	year int
}

func newLayout(f format, timeKey, levelKey, msgKey string, year int) layout {
	l := layout{format: f, timeKey: timeKey, levelKey: levelKey, msgKey: msgKey, year: year}
	if timeKey != "" {
		l.timeQ = []byte(strconv.Quote(timeKey))
	}
	if levelKey != "" {
		l.levelQ = []byte(strconv.Quote(levelKey))
	}
	return l
}

// detectLayout looks at the first lines of a file and picks its format
// and keys by majority, so one odd line (a banner, a stack trace) does not
// decide.
func detectLayout(sample []byte, year int) layout {
	var jsonN, logfmtN, plainN int
	keyVotes := map[string]int{}
	lines := 0
	for len(sample) > 0 && lines < 50 {
		var line []byte
		line, sample = nextLine(sample)
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		lines++
		switch {
		case line[0] == '{':
			jsonN++
			jsonEach(line, func(k, _ []byte) bool {
				keyVotes[string(k)]++
				return true
			})
		case looksLogfmt(line):
			logfmtN++
			logfmtEach(line, func(k, _ []byte) bool {
				keyVotes[string(k)]++
				return true
			})
		default:
			plainN++
		}
	}
	pick := func(cands []string) string {
		best, n := "", 0
		for _, c := range cands {
			if keyVotes[c] > n {
				best, n = c, keyVotes[c]
			}
		}
		return best
	}
	switch {
	case jsonN > 0 && jsonN >= logfmtN && jsonN >= plainN:
		return newLayout(formatJSON, pick(timeKeys), pick(levelKeys), pick(msgKeys), year)
	case logfmtN > 0 && logfmtN >= plainN:
		return newLayout(formatLogfmt, pick(timeKeys), pick(levelKeys), pick(msgKeys), year)
	}
	return newLayout(formatPlain, "", "", "", year)
}

// looksLogfmt reports whether a line is mostly key=value pairs with a
// time, level or message key among them.
func looksLogfmt(line []byte) bool {
	pairs, known := 0, 0
	logfmtEach(line, func(k, _ []byte) bool {
		pairs++
		ks := string(k)
		for _, list := range [][]string{timeKeys, levelKeys, msgKeys} {
			for _, c := range list {
				if ks == c {
					known++
				}
			}
		}
		return true
	})
	return pairs >= 2 && known >= 1
}

func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// lookupHints remember where a key was on the previous line: lines of one
// log mostly share a shape, so the next line is checked there first.
type lookupHints struct{ time, level int }

// lineTime extracts a line's timestamp cheaply.
func (l *layout) lineTime(line []byte) (time.Time, bool) {
	var hint int
	return l.lineTimeAt(line, &hint)
}

// lineTimeAt is lineTime with a position hint.
func (l *layout) lineTimeAt(line []byte, hint *int) (time.Time, bool) {
	switch l.format {
	case formatJSON:
		if l.timeQ != nil {
			if v := jsonLookupAt(line, l.timeQ, hint); v != nil {
				return parseTimeValue(v, l.year)
			}
		}
		if len(line) > 0 && line[0] == '{' {
			return time.Time{}, false
		}
	case formatLogfmt:
		if l.timeKey != "" {
			if v := logfmtLookup(line, l.timeKey); v != nil {
				return parseTime(unquoteRaw(v), l.year)
			}
		}
	}
	t, _, ok := plainTime(line, l.year)
	return t, ok
}

// lineLevelAt extracts a line's level cheaply, trying the position in hint
// first for JSON lines (lines of one file put the key in the same place).
func (l *layout) lineLevelAt(line []byte, hint *int) Level {
	switch l.format {
	case formatJSON:
		if l.levelQ != nil {
			if v := jsonLookupAt(line, l.levelQ, hint); v != nil {
				return levelOf(unquoteRaw(v))
			}
			return levelUnknown
		}
	case formatLogfmt:
		if l.levelKey != "" {
			if v := logfmtLookup(line, l.levelKey); v != nil {
				return levelOf(unquoteRaw(v))
			}
			return levelUnknown
		}
	}
	_, rest, ok := plainTime(line, l.year)
	if !ok {
		rest = line
	}
	lv, _ := plainLevel(rest)
	return lv
}

// parseLine builds the full event for a line.
func (l *layout) parseLine(line []byte, source string) Event {
	e := Event{Source: source, Raw: string(line)}
	trimmed := bytes.TrimSpace(line)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && l.format != formatLogfmt:
		if l.parseJSON(trimmed, &e) {
			return e
		}
	case l.format == formatLogfmt:
		if l.parseLogfmt(trimmed, &e) {
			return e
		}
	}
	t, rest, ok := plainTime(trimmed, l.year)
	if ok {
		e.Time = t
	} else {
		rest = trimmed
	}
	lv, rest := plainLevel(rest)
	e.Level = lv
	e.Message = string(bytes.TrimSpace(rest))
	return e
}

func (l *layout) parseJSON(line []byte, e *Event) bool {
	ok := jsonEach(line, func(k, v []byte) bool {
		key := string(k)
		switch {
		case e.Time.IsZero() && isOneOf(key, l.timeKey, timeKeys):
			if t, ok := parseTimeValue(v, l.year); ok {
				e.Time = t
				return true
			}
		case e.Level == levelUnknown && isOneOf(key, l.levelKey, levelKeys):
			if lv := levelOf(unquoteRaw(v)); lv != levelUnknown {
				e.Level = lv
				return true
			}
		case e.Message == "" && isOneOf(key, l.msgKey, msgKeys) && len(v) > 0 && v[0] == '"':
			e.Message = jsonString(v)
			return true
		}
		e.Fields = append(e.Fields, Field{Key: key, Value: jsonValueText(v)})
		return true
	})
	return ok
}

func (l *layout) parseLogfmt(line []byte, e *Event) bool {
	n := 0
	logfmtEach(line, func(k, v []byte) bool {
		n++
		key := string(k)
		val := unquoteLogfmt(v)
		switch {
		case e.Time.IsZero() && isOneOf(key, l.timeKey, timeKeys):
			if t, ok := parseTime([]byte(val), l.year); ok {
				e.Time = t
				return true
			}
		case e.Level == levelUnknown && isOneOf(key, l.levelKey, levelKeys):
			if lv := levelOf([]byte(val)); lv != levelUnknown {
				e.Level = lv
				return true
			}
		case e.Message == "" && isOneOf(key, l.msgKey, msgKeys):
			e.Message = val
			return true
		}
		e.Fields = append(e.Fields, Field{Key: key, Value: val})
		return true
	})
	return n >= 2
}

// isOneOf reports whether key is the detected key, or, when none was
// detected, one of the usual names.
func isOneOf(key, detected string, usual []string) bool {
	if detected != "" {
		return key == detected
	}
	for _, u := range usual {
		if key == u {
			return true
		}
	}
	return false
}

// ---- JSON scanning ----

// jsonEach calls fn with each top-level key and raw value of a JSON
// object. It returns false when the line is not a well-formed object.
func jsonEach(b []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return true
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '"' {
			return false
		}
		kend := skipString(b, i)
		if kend < 0 {
			return false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		vend := skipValue(b, i)
		if vend < 0 {
			return false
		}
		if !fn(key, b[i:vend]) {
			return true
		}
		i = vend
	}
}

// jsonLookupAt finds the raw value of the top-level key whose quoted form
// is quotedKey by searching for the key text (much faster than walking the
// object, and right for flat log lines), trying the offset in hint first
// and remembering where the key was found.
func jsonLookupAt(line, quotedKey []byte, hint *int) []byte {
	if h := *hint; h > 0 && h+len(quotedKey) <= len(line) && bytes.Equal(line[h:h+len(quotedKey)], quotedKey) {
		j := skipSpace(line, h+len(quotedKey))
		if j < len(line) && line[j] == ':' {
			j = skipSpace(line, j+1)
			if end := skipValue(line, j); end >= 0 {
				return line[j:end]
			}
		}
	}
	off := 0
	for {
		i := bytes.Index(line[off:], quotedKey)
		if i < 0 {
			return nil
		}
		j := skipSpace(line, off+i+len(quotedKey))
		if j < len(line) && line[j] == ':' {
			*hint = off + i
			j = skipSpace(line, j+1)
			end := skipValue(line, j)
			if end < 0 {
				return nil
			}
			return line[j:end]
		}
		off += i + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return -1
		}
		i += j
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // skip the escaped character
		if i > len(b) {
			return -1
		}
	}
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

// unquoteRaw returns the inside of a JSON or logfmt string without
// decoding escapes (enough for levels and timestamps).
func unquoteRaw(v []byte) []byte {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// jsonString decodes a raw JSON string value.
func jsonString(v []byte) string {
	inner := unquoteRaw(v)
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return string(inner)
	}
	return s
}

// jsonValueText shows a raw value: strings decoded, others as written.
func jsonValueText(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		return jsonString(v)
	}
	return string(v)
}

// ---- logfmt ----

// logfmtEach calls fn with each key and raw value (quotes kept).
func logfmtEach(b []byte, fn func(key, val []byte) bool) {
	i := 0
	for i < len(b) {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		ks := i
		for i < len(b) && b[i] != '=' && b[i] != ' ' && b[i] != '"' {
			i++
		}
		if i >= len(b) || b[i] != '=' || i == ks {
			// a bare word: skip it
			for i < len(b) && b[i] != ' ' {
				i++
			}
			continue
		}
		key := b[ks:i]
		i++
		vs := i
		if i < len(b) && b[i] == '"' {
			end := skipString(b, i)
			if end < 0 {
				end = len(b)
			}
			i = end
		} else {
			for i < len(b) && b[i] != ' ' {
				i++
			}
		}
		if !fn(key, b[vs:i]) {
			return
		}
	}
}

// logfmtLookup returns the raw value of key.
func logfmtLookup(line []byte, key string) []byte {
	var out []byte
	logfmtEach(line, func(k, v []byte) bool {
		if string(k) == key {
			out = v
			if out == nil {
				out = []byte{}
			}
			return false
		}
		return true
	})
	return out
}

func unquoteLogfmt(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		return jsonString(v)
	}
	return string(v)
}

// ---- plain text ----

// plainTime reads a timestamp at the start of a plain line (optionally in
// brackets), or an Apache/nginx access-log time in brackets near the start.
// It returns the text after it.
func plainTime(line []byte, year int) (time.Time, []byte, bool) {
	b := line
	bracket := len(b) > 0 && b[0] == '['
	if bracket {
		b = b[1:]
	}
	if t, n, ok := isoTime(b); ok {
		rest := b[n:]
		if bracket && len(rest) > 0 && rest[0] == ']' {
			rest = rest[1:]
		}
		return t, rest, true
	}
	if t, n, ok := syslogTime(b, year); ok {
		return t, b[n:], true
	}
	// Common/combined log format: host - - [02/Jan/2006:15:04:05 -0700] "GET ..."
	if i := bytes.IndexByte(line[:min(len(line), 80)], '['); i >= 0 {
		if t, n, ok := clfTime(line[i+1:]); ok {
			return t, line[i+1+n:], true
		}
	}
	// Epoch seconds or milliseconds at the start.
	if t, n, ok := epochPrefix(b); ok {
		return t, b[n:], true
	}
	return time.Time{}, nil, false
}

// plainLevel reads a level word at the start of text ("ERROR", "[warn]",
// "level=error" is handled by logfmt), returning the rest.
func plainLevel(b []byte) (Level, []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '|' || b[i] == '-') {
		i++
	}
	j := i
	for j < len(b) && j-i < 12 && b[j] != ' ' && b[j] != '\t' && b[j] != ':' && b[j] != '|' {
		j++
	}
	word := bytes.Trim(b[i:j], "[]<>")
	if len(word) < 3 || !isLetters(word) {
		return levelUnknown, b
	}
	if lv := levelOf(word); lv != levelUnknown {
		return lv, bytes.TrimLeft(b[j:], ": |-\t")
	}
	return levelUnknown, b
}

func isLetters(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// parseTimeValue reads a JSON/logfmt value: a string time or a number.
func parseTimeValue(v []byte, year int) (time.Time, bool) {
	if len(v) > 0 && v[0] == '"' {
		return parseTime(unquoteRaw(v), year)
	}
	return epochNumber(v)
}

// parseTime reads the usual textual timestamps.
func parseTime(b []byte, year int) (time.Time, bool) {
	b = bytes.TrimSpace(b)
	if t, n, ok := isoTime(b); ok && n >= len(b)-1 {
		return t, true
	}
	if t, _, ok := syslogTime(b, year); ok {
		return t, true
	}
	if t, _, ok := clfTime(b); ok {
		return t, true
	}
	if t, ok := epochNumber(b); ok {
		return t, true
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RubyDate, time.UnixDate, time.ANSIC} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func digits(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// isoTime reads 2006-01-02[T ]15:04:05[.,fraction][Z|±hh:mm|±hhmm| UTC]
// and returns the bytes consumed. A time without a zone is UTC.
func isoTime(b []byte) (time.Time, int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	y, ok1 := digits(b, 4)
	mo, ok2 := digits(b[5:], 2)
	d, ok3 := digits(b[8:], 2)
	h, ok4 := digits(b[11:], 2)
	mi, ok5 := digits(b[14:], 2)
	s, ok6 := digits(b[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	n := 19
	ns := 0
	if n < len(b) && (b[n] == '.' || b[n] == ',') {
		n++
		scale := 100000000
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			ns += int(b[n]-'0') * scale
			scale /= 10
			n++
		}
	}
	loc := time.UTC
	offset := 0
	switch {
	case n < len(b) && (b[n] == 'Z' || b[n] == 'z'):
		n++
	case n < len(b) && (b[n] == '+' || b[n] == '-'):
		sign := 1
		if b[n] == '-' {
			sign = -1
		}
		oh, ok := digits(b[n+1:], 2)
		if ok {
			m := n + 3
			if m < len(b) && b[m] == ':' {
				m++
			}
			om, ok := digits(b[m:], 2)
			if ok {
				offset = sign * (oh*3600 + om*60)
				n = m + 2
			} else {
				offset = sign * oh * 3600
				n += 3
			}
		}
	case n+4 <= len(b) && string(b[n:n+4]) == " UTC":
		n += 4
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, loc)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, n, true
}

var monthNames = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

// syslogTime reads "Jan _2 15:04:05" (RFC 3164), in the given year, UTC.
func syslogTime(b []byte, year int) (time.Time, int, bool) {
	if len(b) < 15 || b[3] != ' ' || b[9] != ':' || b[12] != ':' {
		return time.Time{}, 0, false
	}
	mo, ok := monthNames[string(b[:3])]
	if !ok {
		return time.Time{}, 0, false
	}
	dd := b[4:6]
	if dd[0] == ' ' {
		dd = []byte{'0', dd[1]}
	}
	d, ok1 := digits(dd, 2)
	h, ok2 := digits(b[7:], 2)
	mi, ok3 := digits(b[10:], 2)
	s, ok4 := digits(b[13:], 2)
	if !(ok1 && ok2 && ok3 && ok4) {
		return time.Time{}, 0, false
	}
	if year == 0 {
		year = time.Now().Year()
	}
	return time.Date(year, mo, d, h, mi, s, 0, time.UTC), 15, true
}

// clfTime reads 02/Jan/2006:15:04:05 -0700 (access logs); the text after
// the closing bracket is returned as consumed.
func clfTime(b []byte) (time.Time, int, bool) {
	if len(b) < 26 || b[2] != '/' || b[6] != '/' || b[11] != ':' {
		return time.Time{}, 0, false
	}
	t, err := time.Parse("02/Jan/2006:15:04:05 -0700", string(b[:26]))
	if err != nil {
		return time.Time{}, 0, false
	}
	n := 26
	if n < len(b) && b[n] == ']' {
		n++
	}
	return t.UTC(), n, true
}

// epochNumber reads a Unix time in seconds (maybe fractional),
// milliseconds, microseconds or nanoseconds, told apart by size.
func epochNumber(b []byte) (time.Time, bool) {
	b = bytes.TrimSpace(unquoteRaw(b))
	if len(b) < 9 {
		return time.Time{}, false
	}
	if bytes.IndexByte(b, '.') >= 0 {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil || f < 1e8 || f > 1e10 {
			return time.Time{}, false
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 1e8 {
		return time.Time{}, false
	}
	switch {
	case n > 1e17:
		return time.Unix(0, n).UTC(), true
	case n > 1e14:
		return time.UnixMicro(n).UTC(), true
	case n > 1e11:
		return time.UnixMilli(n).UTC(), true
	case n < 1e10:
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// epochPrefix reads an epoch number at the start of a plain line.
func epochPrefix(b []byte) (time.Time, int, bool) {
	n := 0
	for n < len(b) && (b[n] >= '0' && b[n] <= '9' || b[n] == '.') {
		n++
	}
	if n < 10 || (n < len(b) && b[n] != ' ' && b[n] != '\t') {
		return time.Time{}, 0, false
	}
	t, ok := epochNumber(b[:n])
	return t, n, ok
}

// indexFold finds sub in s ignoring ASCII case. It jumps between
// occurrences of sub's rarest byte (in either case) with IndexByte, which
// is vectorised, and compares only there.
func indexFold(s, sub []byte) int {
	return indexFoldAt(s, sub, rarestByte(sub, nil))
}

// indexFoldAt is indexFold anchored on sub[a].
func indexFoldAt(s, sub []byte, a int) int {
	if len(sub) == 0 {
		return 0
	}
	lo, up := lower(sub[a]), upper(sub[a])
	pos := 0
	nextLo, nextUp := -2, -2
	for {
		if nextLo != -1 && nextLo < pos {
			if i := bytes.IndexByte(s[pos:], lo); i >= 0 {
				nextLo = pos + i
			} else {
				nextLo = -1
			}
		}
		if up != lo && nextUp != -1 && nextUp < pos {
			if i := bytes.IndexByte(s[pos:], up); i >= 0 {
				nextUp = pos + i
			} else {
				nextUp = -1
			}
		} else if up == lo {
			nextUp = -1
		}
		c := nextLo
		if c < 0 || (nextUp >= 0 && nextUp < c) {
			c = nextUp
		}
		if c < 0 {
			return -1
		}
		start := c - a
		if start >= 0 && start+len(sub) <= len(s) && equalFold(s[start:start+len(sub)], sub) {
			return start
		}
		pos = c + 1
	}
}

func equalFold(a, b []byte) bool {
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// byteRank orders bytes by how common they are in log text: lower is
// rarer. Letters follow English frequency; digits, quotes and separators
// are common in logs.
var byteRank = func() [256]int {
	var r [256]int
	for i := range r {
		r[i] = 10
	}
	common := " \"e:t,a_o0i1n2s-r3.h5l4d6c9u78m/f=pgwybv{}kxjqz"
	for i := range len(common) {
		c := common[i]
		r[c] = 100 - i
		r[upper(c)] = 100 - i
	}
	return r
}()

// rarestByte picks the byte of sub to anchor a case-insensitive search
// on: the one least frequent (in either case) in sample, a page of the data
// itself, with the static ranking breaking ties and standing in when there
// is no sample. Anchoring on a byte every line has (the Z of a timestamp)
// would make the search stop on every line.
func rarestByte(sub, sample []byte) int {
	var freq [256]int
	if len(sample) > 0 {
		for _, c := range sample {
			freq[lower(c)]++
		}
	}
	best := 0
	for i, c := range sub {
		fi, fb := freq[lower(c)], freq[lower(sub[best])]
		if fi < fb || fi == fb && byteRank[c] < byteRank[sub[best]] {
			best = i
		}
	}
	return best
}
