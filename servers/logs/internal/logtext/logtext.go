// Package logtext holds the small text helpers that the logs server and
// its cloud providers (package cloudlogs) write their answers and errors
// with, so that every provider says things the same way.
package logtext

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opstower/opstower/shared/suggest"
)

// DidYouMean names the closest known names, or lists a few, as the end of
// an error about an unknown name.
func DidYouMean(name string, known []string) string {
	if len(known) == 0 {
		return ""
	}
	if c := suggest.Closest(name, known, 3); len(c) > 0 {
		return "; did you mean " + strings.Join(c, ", ") + "?"
	}
	if len(known) > 10 {
		return fmt.Sprintf("; list_log_sources shows all %d", len(known))
	}
	return "; known: " + strings.Join(known, ", ")
}

// When formats a time for summaries: UTC to the second, "-" when unknown.
func When(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// Millis formats how long a call took.
func Millis(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}

// Shorten cuts s to n bytes at a rune boundary, marking the cut.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// OneLine folds line breaks so a value stays on its line.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎").Replace(s)
}

// DescribeFileErr says why a file could not be read, without its path
// (which may be a secret's location, and which the caller knows).
func DescribeFileErr(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (this process cannot read it)"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
