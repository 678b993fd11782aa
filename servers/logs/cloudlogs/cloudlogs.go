// Package cloudlogs adds AWS CloudWatch Logs and Google Cloud Logging to
// the logs server (package logs), with CloudWatch's Logs Insights tool
// cloudwatch_insights_query. Import it for its side effect:
//
//	import _ "github.com/opstower/opstower/servers/logs/cloudlogs"
//
// Its init registers both providers with logs.Register. They are kept
// apart because the initialisation of their client libraries (the AWS
// SDK, and Google's Cloud Logging client over gRPC) adds more than 10 MB
// of resident memory to every process that links them, whether or not it
// reads cloud logs. Without this package a connection to either fails in
// logs.New with an error that wraps logs.ErrNotLinked.
package cloudlogs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/suggest"
)

func init() {
	logs.Register(cloudwatchProvider)
	logs.Register(gcloudProvider)
}

// Text helpers, written as package logs writes the same things.

// didYouMean names the closest known names, or lists a few.
func didYouMean(name string, known []string) string {
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

// containsFold is a case-insensitive strings.Contains.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// when formats a time for summaries.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ms formats how long a call took.
func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
}

// shorten cuts s to n bytes at a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// oneLine folds line breaks so a value stays on its line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎").Replace(s)
}

// describeFileErr says why a file could not be read, without its path.
func describeFileErr(err error) string {
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
