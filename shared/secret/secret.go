// Package secret holds credentials in a type that cannot be printed, logged or
// marshalled by accident, and scrubs known secret values from any text that
// leaves the process (tool results, errors, logs).
//
// Every Secret created with New is registered with a process-wide scrubber, so
// even a driver error that echoes a password back is cleaned before a model or
// a log sees it.
package secret

import (
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// minScrubLen is the shortest value the scrubber replaces in free text.
// Shorter values would mangle ordinary output ("a", "db"); they are still
// never printed through the Secret type itself.
const minScrubLen = 4

// String is a secret value. Its zero value is the empty secret. Printing it
// with fmt, slog, JSON, YAML or text marshalling shows only [Redacted].
type String struct {
	v string
}

// New wraps v and registers it with the scrubber.
func New(v string) String {
	register(v)
	return String{v: v}
}

// Reveal returns the plain value. Call it only where the value is handed to
// the backend (a driver, an HTTP header).
func (s String) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.v == "" }

// String implements fmt.Stringer.
func (s String) String() string {
	if s.v == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer so %#v does not leak the value.
func (s String) GoString() string { return `secret.String{` + s.String() + `}` }

// Format implements fmt.Formatter so every verb (%s, %v, %q, %x...) redacts.
func (s String) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML and friends).
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// registry is the set of secret values the scrubber removes from text.
var registry struct {
	sync.RWMutex
	values   map[string]struct{}
	replacer *strings.Replacer
}

func register(v string) {
	if len(v) < minScrubLen {
		return
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.values == nil {
		registry.values = map[string]struct{}{}
	}
	if _, ok := registry.values[v]; ok {
		return
	}
	registry.values[v] = struct{}{}
	variants := map[string]struct{}{v: {}}
	// Drivers sometimes echo a URL-escaped form of the value.
	variants[url.QueryEscape(v)] = struct{}{}
	variants[url.PathEscape(v)] = struct{}{}
	for val := range registry.values {
		variants[val] = struct{}{}
		variants[url.QueryEscape(val)] = struct{}{}
		variants[url.PathEscape(val)] = struct{}{}
	}
	// Longest first, so a secret that contains another is replaced whole.
	all := make([]string, 0, len(variants))
	for val := range variants {
		all = append(all, val)
	}
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	pairs := make([]string, 0, 2*len(all))
	for _, val := range all {
		pairs = append(pairs, val, Redacted)
	}
	registry.replacer = strings.NewReplacer(pairs...)
}

// Scrub replaces every registered secret value in text with [Redacted].
func Scrub(text string) string {
	registry.RLock()
	r := registry.replacer
	registry.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// RedactURL returns raw with any password (and secret-looking query
// parameters) replaced, for showing a connection URL in logs and messages.
// Text that does not parse as a URL is returned scrubbed.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return Scrub(raw)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if IsSecretKey(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return Scrub(u.String())
}

// IsSecretKey reports whether a setting or parameter name conventionally
// holds a credential.
func IsSecretKey(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "key", "credential", "auth"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
