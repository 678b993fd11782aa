// Package timerange reads the time windows tools take ("since 2h ago until
// now", "2026-03-01 to 2026-03-02") the same way in every category, and
// explains mistakes such as a window that runs backwards.
package timerange

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Range is the window [Start, End).
type Range struct {
	Start, End time.Time
}

// Duration is End − Start.
func (r Range) Duration() time.Duration { return r.End.Sub(r.Start) }

// Contains reports whether t is inside the window.
func (r Range) Contains(t time.Time) bool { return !t.Before(r.Start) && t.Before(r.End) }

// String shows the window in UTC.
func (r Range) String() string {
	return r.Start.UTC().Format(time.RFC3339) + " to " + r.End.UTC().Format(time.RFC3339)
}

// Formats is the help text for since/until arguments.
const Formats = `a duration ago ("15m", "2h", "7d"), "now", a date ("2026-03-01") or an RFC 3339 time ("2026-03-01T10:00:00Z")`

// Parse reads since and until relative to now. An empty since means
// defaultLookback before until; an empty until means now.
func Parse(since, until string, now time.Time, defaultLookback time.Duration) (Range, error) {
	end := now
	if strings.TrimSpace(until) != "" {
		t, err := Point(until, now)
		if err != nil {
			return Range{}, fmt.Errorf("until: %w", err)
		}
		end = t
	}
	start := end.Add(-defaultLookback)
	if strings.TrimSpace(since) != "" {
		t, err := Point(since, now)
		if err != nil {
			return Range{}, fmt.Errorf("since: %w", err)
		}
		start = t
	}
	if !start.Before(end) {
		return Range{}, fmt.Errorf("the time range runs backwards or is empty: since %s is not before until %s; swap them",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
	}
	return Range{Start: start, End: end}, nil
}

// Point reads one moment: a duration ago, "now", a date or RFC 3339.
func Point(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "now") {
		return now, nil
	}
	if d, ok := ago(s); ok {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 1e9 {
		switch {
		case n > 1e17:
			return time.Unix(0, n), nil
		case n > 1e14:
			return time.UnixMicro(n), nil
		case n > 1e11:
			return time.UnixMilli(n), nil
		}
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time; use %s", s, Formats)
}

// ago parses "15m", "2h", "7d", "1w", "90s", "1h30m", with an optional
// "-" or " ago" decoration.
func ago(s string) (time.Duration, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "-"), " ago")
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, true
	}
	if len(s) < 2 {
		return 0, false
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, false
	}
	n, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return time.Duration(n * float64(unit)), true
}
