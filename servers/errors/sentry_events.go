package errors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// sentryEvent is a full event as GET .../issues/{id}/events/{event_id}/
// returns it: the SDK's payload normalised by Sentry, with the interfaces
// (exception, breadcrumbs, request...) as typed "entries".
type sentryEvent struct {
	ID          sentryID                   `json:"id"`
	EventID     string                     `json:"eventID"`
	DateCreated sentryTime                 `json:"dateCreated"`
	Title       sentryText                 `json:"title"`
	Message     sentryText                 `json:"message"`
	Platform    string                     `json:"platform"`
	Location    sentryText                 `json:"location"`
	Culprit     sentryText                 `json:"culprit"`
	Entries     []sentryEntry              `json:"entries"`
	Tags        []sentryTag                `json:"tags"`
	User        *sentryUser                `json:"user"`
	Contexts    map[string]json.RawMessage `json:"contexts"`
	Context     map[string]json.RawMessage `json:"context"` // "extra" data
	Release     *sentryReleaseRef          `json:"release"`
}

type sentryEntry struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type sentryStacktrace struct {
	Frames        []sentryFrame `json:"frames"`
	FramesOmitted []int         `json:"framesOmitted"` // [start, end) of frames the SDK dropped
}

type sentryFrame struct {
	Filename string            `json:"filename"`
	AbsPath  string            `json:"absPath"`
	Module   sentryText        `json:"module"`
	Package  sentryText        `json:"package"`
	Function sentryText        `json:"function"`
	Symbol   sentryText        `json:"symbol"`
	LineNo   *int              `json:"lineNo"`
	ColNo    *int              `json:"colNo"`
	InApp    *bool             `json:"inApp"`
	Context  []json.RawMessage `json:"context"` // [lineno, "source"] pairs
	Vars     json.RawMessage   `json:"vars"`
}

type sentryException struct {
	Type      sentryText `json:"type"`
	Value     sentryText `json:"value"`
	Module    sentryText `json:"module"`
	Mechanism *struct {
		Type    string `json:"type"`
		Handled *bool  `json:"handled"`
	} `json:"mechanism"`
	Stacktrace    *sentryStacktrace `json:"stacktrace"`
	RawStacktrace *sentryStacktrace `json:"rawStacktrace"`
	ThreadID      sentryID          `json:"threadId"`
}

type sentryThread struct {
	ID         sentryID          `json:"id"`
	Crashed    bool              `json:"crashed"`
	Current    bool              `json:"current"`
	Stacktrace *sentryStacktrace `json:"stacktrace"`
}

type sentryBreadcrumb struct {
	Timestamp sentryTime                 `json:"timestamp"`
	Type      string                     `json:"type"`
	Category  sentryText                 `json:"category"`
	Level     string                     `json:"level"`
	Message   sentryText                 `json:"message"`
	Data      map[string]json.RawMessage `json:"data"`
}

type sentryRequest struct {
	URL     sentryText      `json:"url"`
	Method  sentryText      `json:"method"`
	Query   json.RawMessage `json:"query"` // [[k, v]...] or a string
	Headers [][]sentryText  `json:"headers"`
	Cookies json.RawMessage `json:"cookies"`
	Data    json.RawMessage `json:"data"`
	Env     json.RawMessage `json:"env"`
}

// model converts the event, filtering credentials out of the request and
// breadcrumbs (see privacy.go). Entries it cannot decode are skipped and
// named in Omitted rather than failing the whole event.
func (e *sentryEvent) model(showPII bool) *event {
	ev := &event{
		ID: e.EventID, Time: e.DateCreated.Time, Title: string(e.Title), Message: string(e.Message),
		Platform: e.Platform, Location: string(e.Location), User: e.User.model(),
	}
	if ev.ID == "" {
		ev.ID = string(e.ID)
	}
	if ev.Location == "" {
		ev.Location = string(e.Culprit)
	}
	if e.Release != nil {
		ev.Release = e.Release.Version
	}
	for _, t := range e.Tags {
		switch t.Key {
		case "environment":
			ev.Environment = string(t.Value)
		case "release":
			if ev.Release == "" {
				ev.Release = string(t.Value)
			}
		}
		ev.Tags = append(ev.Tags, tag{Key: t.Key, Value: scrubTagValue(t.Key, string(t.Value))})
	}
	var threads []sentryThread
	var loose *sentryStacktrace
	for _, en := range e.Entries {
		switch en.Type {
		case "exception":
			var d struct {
				Values []sentryException `json:"values"`
			}
			if json.Unmarshal(en.Data, &d) != nil {
				ev.Omitted = append(ev.Omitted, "an exception entry that could not be read")
				continue
			}
			for _, x := range d.Values {
				ev.Exceptions = append(ev.Exceptions, x.model())
			}
		case "threads":
			var d struct {
				Values []sentryThread `json:"values"`
			}
			if json.Unmarshal(en.Data, &d) == nil {
				threads = d.Values
			}
		case "stacktrace":
			var st sentryStacktrace
			if json.Unmarshal(en.Data, &st) == nil {
				loose = &st
			}
		case "breadcrumbs":
			var d struct {
				Values []sentryBreadcrumb `json:"values"`
			}
			if json.Unmarshal(en.Data, &d) != nil {
				continue
			}
			for _, b := range d.Values {
				ev.Breadcrumbs = append(ev.Breadcrumbs, b.model(showPII))
			}
		case "request":
			var r sentryRequest
			if json.Unmarshal(en.Data, &r) == nil {
				ev.Request = r.model(showPII)
			}
		case "message":
			var d struct {
				Formatted sentryText `json:"formatted"`
				Message   sentryText `json:"message"`
			}
			if json.Unmarshal(en.Data, &d) == nil {
				if d.Formatted != "" {
					ev.Message = string(d.Formatted)
				} else if d.Message != "" {
					ev.Message = string(d.Message)
				}
			}
		}
	}
	attachThreadStack(ev, threads, loose)
	ev.Contexts, ev.Omitted = summariseContexts(e.Contexts, ev.Omitted)
	if len(e.Context) > 0 {
		ev.Omitted = append(ev.Omitted, fmt.Sprintf("extra data (%d %s)", len(e.Context), plural(len(e.Context), "key", "keys")))
	}
	return ev
}

// attachThreadStack gives the stack of the crashed (or current) thread to
// an exception that has none, as native and JVM SDKs report it on the
// thread rather than on the exception; an event with no exception at all
// (a message with an attached stack) gets a pseudo-exception.
func attachThreadStack(ev *event, threads []sentryThread, loose *sentryStacktrace) {
	var st *sentryStacktrace
	for _, pick := range []func(sentryThread) bool{
		func(t sentryThread) bool { return t.Crashed },
		func(t sentryThread) bool { return t.Current },
		func(sentryThread) bool { return true },
	} {
		for i := range threads {
			if threads[i].Stacktrace != nil && len(threads[i].Stacktrace.Frames) > 0 && pick(threads[i]) {
				st = threads[i].Stacktrace
				break
			}
		}
		if st != nil {
			break
		}
	}
	if st == nil {
		st = loose
	}
	if st == nil || len(st.Frames) == 0 {
		return
	}
	if n := len(ev.Exceptions); n > 0 {
		if len(ev.Exceptions[n-1].Frames) == 0 {
			ev.Exceptions[n-1].Frames, ev.Exceptions[n-1].FramesOmitted = st.frames()
		}
		return
	}
	x := exception{Type: "stack", Value: "stack trace of the event"}
	x.Frames, x.FramesOmitted = st.frames()
	ev.Exceptions = append(ev.Exceptions, x)
}

func (x sentryException) model() exception {
	out := exception{Type: string(x.Type), Value: string(x.Value), Module: string(x.Module)}
	if m := x.Mechanism; m != nil {
		out.Mechanism = m.Type
		out.Handled = m.Handled
	}
	st := x.Stacktrace
	if st == nil || len(st.Frames) == 0 {
		st = x.RawStacktrace
	}
	if st != nil {
		out.Frames, out.FramesOmitted = st.frames()
	}
	return out
}

func (st *sentryStacktrace) frames() ([]frame, int) {
	out := make([]frame, 0, len(st.Frames))
	for _, f := range st.Frames {
		out = append(out, f.model())
	}
	omitted := 0
	if len(st.FramesOmitted) == 2 && st.FramesOmitted[1] > st.FramesOmitted[0] {
		omitted = st.FramesOmitted[1] - st.FramesOmitted[0]
	}
	return out, omitted
}

func (f sentryFrame) model() frame {
	out := frame{
		File: f.Filename, Function: string(f.Function), Module: string(f.Module), Package: string(f.Package),
		InApp: f.InApp != nil && *f.InApp, HasVars: len(f.Vars) > 0 && string(f.Vars) != "null" && string(f.Vars) != "{}",
	}
	if out.File == "" {
		out.File = f.AbsPath
	}
	if out.Function == "" {
		out.Function = string(f.Symbol)
	}
	if f.LineNo != nil {
		out.Line = *f.LineNo
	}
	if f.ColNo != nil {
		out.Column = *f.ColNo
	}
	for _, raw := range f.Context {
		var pair []json.RawMessage
		if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 {
			continue
		}
		var n int
		var text sentryText
		if json.Unmarshal(pair[0], &n) != nil || json.Unmarshal(pair[1], &text) != nil {
			continue
		}
		out.Context = append(out.Context, sourceLine{N: n, Text: string(text)})
	}
	return out
}

func (b sentryBreadcrumb) model(showPII bool) breadcrumb {
	out := breadcrumb{Time: b.Timestamp.Time, Type: b.Type, Category: string(b.Category), Level: b.Level, Message: scrubText(string(b.Message))}
	keys := make([]string, 0, len(b.Data))
	for k := range b.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := b.Data[k]
		var v string
		switch {
		case isCredentialKey(k) || (!showPII && isPIIKey(k)):
			v = filtered
		case k == "url" || k == "to" || k == "from":
			var s sentryText
			_ = json.Unmarshal(raw, &s)
			v = scrubURL(string(s))
		default:
			var s sentryText
			_ = json.Unmarshal(raw, &s)
			v = scrubText(string(s))
		}
		out.Data = append(out.Data, tag{Key: k, Value: v})
	}
	return out
}

// isPIIKey names breadcrumb data that identifies a person.
func isPIIKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "email") || k == "ip" || strings.Contains(k, "ip_address")
}

func (r sentryRequest) model(showPII bool) *request {
	out := &request{Method: string(r.Method), URL: scrubURL(string(r.URL))}
	if q := queryString(r.Query); q != "" && !strings.Contains(out.URL, "?") {
		out.URL = scrubURL(out.URL + "?" + q)
	}
	for _, h := range r.Headers {
		if len(h) != 2 {
			continue
		}
		name := string(h[0])
		lower := strings.ToLower(name)
		if isCredentialKey(name) || (!showPII && clientIPHeaders[lower]) {
			out.Dropped++
			continue
		}
		out.Headers = append(out.Headers, tag{Key: name, Value: scrubText(string(h[1]))})
	}
	for _, raw := range []json.RawMessage{r.Cookies, r.Data, r.Env} {
		if present(raw) {
			out.Dropped++
		}
	}
	if out.Method == "" && out.URL == "" && len(out.Headers) == 0 {
		return nil
	}
	return out
}

// queryString rebuilds a request's query from Sentry's [[k, v]...] list
// (or plain string).
func queryString(raw json.RawMessage) string {
	if !present(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimPrefix(s, "?")
	}
	var pairs [][]sentryText
	if json.Unmarshal(raw, &pairs) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range pairs {
		if len(p) != 2 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(string(p[0])) + "=" + url.QueryEscape(string(p[1])))
	}
	return b.String()
}

// present reports whether a raw JSON value holds something.
func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	switch string(t) {
	case "", "null", "{}", "[]", `""`:
		return false
	}
	return true
}

// scrubTagValue withholds tags that carry credentials, and scrubs others.
func scrubTagValue(key, value string) string {
	if isCredentialKey(key) {
		return filtered
	}
	if strings.EqualFold(key, "url") {
		return scrubURL(value)
	}
	return scrubText(value)
}

// contextFields picks, per well-known context type, the fields that make
// a one-line summary ("os: Windows 10", "runtime: CPython 3.12.1").
var contextFields = map[string][]string{
	"os": {"name", "version"}, "runtime": {"name", "version"}, "browser": {"name", "version"},
	"device": {"family", "model", "arch"}, "app": {"app_name", "app_version", "app_build"},
	"trace": {"trace_id", "op"}, "response": {"status_code"}, "culture": {"locale", "timezone"},
	"cloud_resource": {"cloud.provider", "cloud.region"}, "k8s": {"pod_name"}, "gpu": {"name"},
	"otel": {"resource"}, "state": {"type"}, "replay": {"replay_id"}, "profile": {"profile_id"},
}

// summariseContexts turns known contexts into one line each and names the
// custom ones it leaves out, which often hold application data.
func summariseContexts(ctxs map[string]json.RawMessage, omitted []string) ([]tag, []string) {
	names := make([]string, 0, len(ctxs))
	for k := range ctxs {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []tag
	var custom []string
	for _, name := range names {
		var obj map[string]json.RawMessage
		if json.Unmarshal(ctxs[name], &obj) != nil {
			continue
		}
		typ := name
		var t string
		if json.Unmarshal(obj["type"], &t) == nil && t != "" {
			typ = t
		}
		fields, known := contextFields[typ]
		if !known {
			custom = append(custom, name)
			continue
		}
		var vals []string
		for _, f := range fields {
			var s sentryText
			if json.Unmarshal(obj[f], &s) == nil && s != "" && len(s) < 200 {
				vals = append(vals, string(s))
			}
		}
		if len(vals) > 0 {
			out = append(out, tag{Key: name, Value: scrubText(strings.Join(vals, " "))})
		}
	}
	if len(custom) > 0 {
		omitted = append(omitted, "custom contexts ("+strings.Join(custom, ", ")+")")
	}
	return out, omitted
}
