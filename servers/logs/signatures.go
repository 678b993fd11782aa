package logs

import (
	"bytes"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"sort"
	"strings"
	"time"
)

// An error signature is a message with its variable parts masked, so that
// "timeout after 30s talking to 10.0.0.7 (order 8812)" and "timeout after
// 31s talking to 10.0.0.9 (order 9120)" count as one problem. Masking is a
// single pass over the message with no regular expressions: it runs on
// every error line of gigabyte files.

// maxSignatureInput bounds how much of a message shapes its signature.
const maxSignatureInput = 400

// signatureOf returns the masked form of an event's message, including
// the error field beside it when the message alone is generic.
func signatureOf(e *Event) string {
	msg := e.Message
	for _, k := range errorKeys {
		if v, ok := e.get(k); ok && v != "" && !strings.Contains(msg, v) {
			if msg != "" {
				msg += ": "
			}
			msg += firstLine(v)
			break
		}
	}
	if msg == "" {
		msg = e.Raw
	}
	return maskMessage(msg)
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// maskMessage masks numbers, hex ids, UUIDs, IP addresses, emails, URLs,
// paths and quoted strings, and collapses runs of space.
func maskMessage(s string) string {
	if len(s) > maxSignatureInput {
		s = s[:maxSignatureInput]
	}
	b := []byte(s)
	out := make([]byte, 0, len(b))
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			// A quoted string: mask its content.
			end := bytes.IndexByte(b[i+1:], c)
			if end < 0 || end > 200 {
				out = append(out, c)
				i++
				continue
			}
			out = append(out, c, '*', c)
			i += end + 2
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if len(out) > 0 && out[len(out)-1] != ' ' {
				out = append(out, ' ')
			}
			i++
		case isWordByte(c):
			j := i
			for j < len(b) && isWordByte(b[j]) {
				j++
			}
			out = appendMaskedWord(out, b[i:j])
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return strings.TrimSpace(string(out))
}

// isWordByte is true for bytes that can be part of an id, number, path,
// address or URL.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '@' || c == '%' || c == '+' || c == '~' || c >= 0x80
}

func appendMaskedWord(out, w []byte) []byte {
	// Trailing punctuation belongs to the sentence, not the word.
	tail := 0
	for tail < len(w)-1 && (w[len(w)-1-tail] == '.' || w[len(w)-1-tail] == ':') {
		tail++
	}
	word, rest := w[:len(w)-tail], w[len(w)-tail:]
	switch {
	case bytes.Contains(word, []byte("://")):
		out = append(out, "<url>"...)
	case isUUID(word):
		out = append(out, "<uuid>"...)
	case isIP(word):
		out = append(out, "<ip>"...)
	case bytes.IndexByte(word, '@') > 0 && bytes.IndexByte(word, '.') > 0 && !bytes.ContainsAny(word, "/:"):
		out = append(out, "<email>"...)
	case isPath(word):
		out = append(out, "<path>"...)
	default:
		out = appendMaskedParts(out, word)
	}
	return append(out, rest...)
}

// appendMaskedParts masks each part of a word split at - _ . : so that
// "order-8812" keeps "order-" and "req_7f3a9c2e11" keeps "req_".
func appendMaskedParts(out, w []byte) []byte {
	start := 0
	for i := 0; i <= len(w); i++ {
		if i < len(w) && !isPartSep(w[i]) {
			continue
		}
		out = appendMaskedPart(out, w[start:i])
		if i < len(w) {
			out = append(out, w[i])
		}
		start = i + 1
	}
	return out
}

func isPartSep(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '='
}

func appendMaskedPart(out, p []byte) []byte {
	if len(p) == 0 {
		return out
	}
	hasDigit, allDigit, allHex := false, true, true
	for _, c := range p {
		isD := c >= '0' && c <= '9'
		hasDigit = hasDigit || isD
		allDigit = allDigit && isD
		allHex = allHex && (isD || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	}
	switch {
	case allDigit:
		if len(out) > 0 && (out[len(out)-1] == '.' || out[len(out)-1] == ':') && len(out) >= 4 && string(out[len(out)-4:len(out)-1]) == "<n>" {
			// 1.5 or 12:30 is one number
			return out[:len(out)-1]
		}
		return append(out, "<n>"...)
	case !hasDigit:
		return append(out, p...)
	case allHex && len(p) >= 6:
		return append(out, "<hex>"...)
	}
	// Mixed letters and digits (500ms, user42, v2): mask the digit runs.
	for i := 0; i < len(p); {
		if p[i] >= '0' && p[i] <= '9' {
			for i < len(p) && p[i] >= '0' && p[i] <= '9' {
				i++
			}
			out = append(out, "<n>"...)
			continue
		}
		out = append(out, p[i])
		i++
	}
	return out
}

func isUUID(w []byte) bool {
	if len(w) != 36 || w[8] != '-' || w[13] != '-' || w[18] != '-' || w[23] != '-' {
		return false
	}
	for i, c := range w {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isIP recognises IPv4 (with an optional :port) and IPv6 addresses.
func isIP(w []byte) bool {
	dots, digitsN, colons := 0, 0, 0
	hexOnly := true
	for _, c := range w {
		switch {
		case c == '.':
			dots++
		case c == ':':
			colons++
		case c >= '0' && c <= '9':
			digitsN++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hexOnly = hexOnly && true
		default:
			return false
		}
	}
	if dots == 3 && colons <= 1 && digitsN >= 4 {
		parts := bytes.Split(bytes.SplitN(w, []byte(":"), 2)[0], []byte("."))
		for _, p := range parts {
			if len(p) == 0 || len(p) > 3 || !allDigits(p) {
				return false
			}
		}
		return true
	}
	return dots == 0 && colons >= 2 && hexOnly && len(w) >= 3
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isPath recognises file paths and URL paths: /a/b, ./a, C:\a is left
// alone (rare in server logs).
func isPath(w []byte) bool {
	if len(w) < 2 {
		return false
	}
	if w[0] == '/' || bytes.HasPrefix(w, []byte("./")) || bytes.HasPrefix(w, []byte("~/")) {
		return bytes.Count(w, []byte("/")) >= 1 && len(w) > 1
	}
	return bytes.Count(w, []byte("/")) >= 2
}

// sigStat is one signature's tally.
type sigStat struct {
	Signature   string
	Count       int
	First, Last time.Time
	Level       Level
	Example     string // the most recent message with this signature
	Source      string
	sources     map[string]int
}

// sigTable counts signatures; merge combines tables from parallel workers.
type sigTable struct {
	m     map[string]*sigStat
	total int
	// maxEntries bounds memory on logs with endless distinct messages; past
	// it, new signatures are counted in dropped.
	maxEntries int
	dropped    int
}

func newSigTable() *sigTable { return &sigTable{m: map[string]*sigStat{}, maxEntries: 100000} }

// add counts one event.
func (t *sigTable) add(e *Event) {
	t.total++
	sig := signatureOf(e)
	s := t.m[sig]
	if s == nil {
		if len(t.m) >= t.maxEntries {
			t.dropped++
			return
		}
		s = &sigStat{Signature: sig, First: e.Time, Last: e.Time, Level: e.Level, sources: map[string]int{}}
		t.m[sig] = s
	}
	s.Count++
	if e.Level > s.Level {
		s.Level = e.Level
	}
	if !e.Time.IsZero() && (s.First.IsZero() || e.Time.Before(s.First)) {
		s.First = e.Time
	}
	if !e.Time.IsZero() && !e.Time.Before(s.Last) {
		s.Last = e.Time
		s.Example = exampleOf(e)
	} else if s.Example == "" {
		s.Example = exampleOf(e)
	}
	if e.Source != "" && len(s.sources) < 20 {
		s.sources[e.Source]++
	}
}

func exampleOf(e *Event) string {
	msg := e.Message
	for _, k := range errorKeys {
		if v, ok := e.get(k); ok && v != "" && !strings.Contains(msg, v) {
			msg += " | " + k + "=" + firstLine(v)
			break
		}
	}
	if msg == "" {
		msg = e.Raw
	}
	return logtext.Shorten(logtext.OneLine(msg), 300)
}

// merge adds o into t.
func (t *sigTable) merge(o *sigTable) {
	t.total += o.total
	t.dropped += o.dropped
	for sig, os := range o.m {
		s := t.m[sig]
		if s == nil {
			t.m[sig] = os
			continue
		}
		s.Count += os.Count
		if os.Level > s.Level {
			s.Level = os.Level
		}
		if !os.First.IsZero() && (s.First.IsZero() || os.First.Before(s.First)) {
			s.First = os.First
		}
		if !os.Last.Before(s.Last) {
			s.Last = os.Last
			s.Example = os.Example
		}
		for src, n := range os.sources {
			s.sources[src] += n
		}
	}
}

// top returns the n most frequent signatures (ties: most recent first).
func (t *sigTable) top(n int) []*sigStat {
	all := make([]*sigStat, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		if !all[i].Last.Equal(all[j].Last) {
			return all[i].Last.After(all[j].Last)
		}
		return all[i].Signature < all[j].Signature
	})
	if len(all) > n {
		all = all[:n]
	}
	for _, s := range all {
		best := 0
		for src, c := range s.sources {
			if c > best || (c == best && src < s.Source) {
				s.Source, best = src, c
			}
		}
		if len(s.sources) > 1 {
			s.Source += " +" + itoa(len(s.sources)-1)
		}
	}
	return all
}
