package logs

import (
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"sort"
	"strconv"
	"strings"

	"github.com/opstower/opstower/shared/render"
)

// Output a model reads: one line per log entry, "time LEVEL message" and
// then only the fields whose values differ between the lines shown; fields
// with one value across all of them are said once above the lines. Times
// drop the date when every line is on the same day. All of it is fenced as
// untrusted data: log lines are written by whoever sends requests to the
// user's services.

const (
	maxFieldValue = 160 // bytes of one field value on a line
	maxMessage    = 600 // bytes of one message
	maxLineFields = 12  // varying fields shown per line
)

// renderEvents writes events (already in display order) within maxBytes.
// It returns the text and how many events fit.
func renderEvents(events []Event, maxBytes int) (string, int) {
	if len(events) == 0 {
		return "", 0
	}
	constant, varying := splitFields(events)
	sameDay := true
	var day string
	for i, e := range events {
		if e.Time.IsZero() {
			continue
		}
		d := e.Time.UTC().Format("2006-01-02")
		if i > 0 && day != "" && d != day {
			sameDay = false
		}
		day = d
	}
	multiSource := false
	for _, e := range events[1:] {
		if e.Source != events[0].Source {
			multiSource = true
			break
		}
	}
	var b strings.Builder
	if sameDay && day != "" {
		fmt.Fprintf(&b, "times UTC on %s\n", day)
	} else {
		b.WriteString("times UTC\n")
	}
	if !multiSource && events[0].Source != "" {
		fmt.Fprintf(&b, "source: %s\n", events[0].Source)
	}
	if len(constant) > 0 {
		b.WriteString("every line has:")
		for _, f := range constant {
			b.WriteString(" " + f.Key + "=" + quoteValue(logtext.Shorten(logtext.OneLine(f.Value), maxFieldValue)))
		}
		b.WriteByte('\n')
	}
	shown := 0
	budget := maxBytes - 400
	for _, e := range events {
		line := formatEvent(&e, sameDay, varying, multiSource)
		if b.Len()+len(line)+1 > budget && shown > 0 {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
		shown++
	}
	return b.String(), shown
}

func formatEvent(e *Event, sameDay bool, varying map[string]bool, multiSource bool) string {
	var b strings.Builder
	switch {
	case e.Time.IsZero():
		b.WriteString("-")
	case sameDay:
		b.WriteString(e.Time.UTC().Format("15:04:05.000"))
	default:
		b.WriteString(e.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	b.WriteByte(' ')
	b.WriteString(e.Level.tag())
	if multiSource && e.Source != "" {
		b.WriteString(" [" + e.Source + "]")
	}
	b.WriteByte(' ')
	b.WriteString(logtext.Shorten(logtext.OneLine(e.Message), maxMessage))
	n := 0
	for _, f := range e.Fields {
		if !varying[f.Key] {
			continue
		}
		if n == maxLineFields {
			b.WriteString(" …")
			break
		}
		b.WriteString(" " + f.Key + "=" + quoteValue(logtext.Shorten(logtext.OneLine(f.Value), maxFieldValue)))
		n++
	}
	return b.String()
}

// splitFields finds the fields with one value on every event (said once)
// and the keys that vary (shown per line).
func splitFields(events []Event) ([]Field, map[string]bool) {
	type seen struct {
		value string
		count int
		same  bool
		order int
	}
	keys := map[string]*seen{}
	for _, e := range events {
		for _, f := range e.Fields {
			s := keys[f.Key]
			if s == nil {
				keys[f.Key] = &seen{value: f.Value, count: 1, same: true, order: len(keys)}
				continue
			}
			s.count++
			if s.value != f.Value {
				s.same = false
			}
		}
	}
	var constant []Field
	varying := map[string]bool{}
	for k, s := range keys {
		if s.same && s.count == len(events) && len(events) > 1 {
			constant = append(constant, Field{Key: k, Value: s.value})
		} else {
			varying[k] = true
		}
	}
	sort.Slice(constant, func(i, j int) bool { return keys[constant[i].Key].order < keys[constant[j].Key].order })
	return constant, varying
}

// quoteValue quotes values with spaces or quotes so lines stay parseable.
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \"=") {
		return strconv.Quote(v)
	}
	return v
}

// fence wraps untrusted text.
func fence(body string) string {
	open, closing := render.Fence()
	return open + "\n" + body + closing + "\n"
}

func itoa(n int) string { return strconv.Itoa(n) }
