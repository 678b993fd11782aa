package errors

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
)

// Parts of an event shown by default; full=true shows every breadcrumb
// (within the byte cap).
const (
	defaultBreadcrumbs = 10
	maxTags            = 40
	maxHeaders         = 10
	maxTagValue        = 120
	maxBreadcrumbData  = 5
)

// eventView is what get_issue shows and what it left out.
type eventView struct {
	body    string   // fenced: it all comes from the monitored application
	trimmed []string // footer notes
}

// renderEvent writes an issue's details and one event: the exception chain
// with trimmed stacks first, because that is what a fix starts from, then
// request, user, tags and contexts, and the breadcrumbs last, so that the
// byte cap cuts the trail before it cuts the stack.
func renderEvent(is *issue, ev *event, full, showPII bool) eventView {
	var b strings.Builder
	var trimmed []string
	fmt.Fprintf(&b, "title: %s\n", oneLine(is.Title))
	if is.Culprit != "" {
		fmt.Fprintf(&b, "culprit: %s\n", oneLine(is.Culprit))
	}
	if is.Link != "" {
		fmt.Fprintf(&b, "link: %s\n", is.Link)
	}
	var rel []string
	if is.FirstRelease != "" {
		rel = append(rel, "first seen in release "+is.FirstRelease)
	}
	if is.LastRelease != "" && is.LastRelease != is.FirstRelease {
		rel = append(rel, "last seen in "+is.LastRelease)
	}
	if is.Assignee != "" {
		rel = append(rel, "assigned to "+is.Assignee)
	}
	if len(rel) > 0 {
		b.WriteString(strings.Join(rel, "; ") + "\n")
	}
	if ev == nil {
		return eventView{body: b.String()}
	}
	fmt.Fprintf(&b, "event %s at %s", ev.ID, stamp(ev.Time))
	for _, kv := range []tag{{"environment", ev.Environment}, {"release", ev.Release}, {"platform", ev.Platform}} {
		if kv.Value != "" {
			fmt.Fprintf(&b, ", %s %s", kv.Key, kv.Value)
		}
	}
	b.WriteByte('\n')
	if ev.Location != "" {
		fmt.Fprintf(&b, "location: %s\n", ev.Location)
	}
	if m := strings.TrimSpace(ev.Message); m != "" && !mentionedIn(m, ev.Exceptions) {
		fmt.Fprintf(&b, "message: %s\n", clip(oneLine(m), maxValue))
	}
	var cut stackCut
	if len(ev.Exceptions) > 0 {
		writeExceptions(&b, ev.Exceptions, full, &cut)
	}
	if r := ev.Request; r != nil {
		b.WriteString("request: " + strings.TrimSpace(r.Method+" "+clip(r.URL, 400)))
		if len(r.Headers) > 0 {
			var hs []string
			for i, h := range r.Headers {
				if i == maxHeaders {
					hs = append(hs, fmt.Sprintf("%d more", len(r.Headers)-maxHeaders))
					break
				}
				hs = append(hs, h.Key+": "+clip(oneLine(h.Value), maxTagValue))
			}
			b.WriteString(" (" + strings.Join(hs, "; ") + ")")
		}
		b.WriteByte('\n')
	}
	masked := false
	if line, m := userLine(ev.User, showPII); line != "" {
		b.WriteString("user: " + line + "\n")
		masked = m
	}
	if tags := tagLine(ev.Tags); tags != "" {
		b.WriteString("tags: " + tags + "\n")
	}
	if len(ev.Contexts) > 0 {
		var cs []string
		for _, c := range ev.Contexts {
			cs = append(cs, c.Key+"="+clip(oneLine(c.Value), maxTagValue))
		}
		b.WriteString("contexts: " + strings.Join(cs, "; ") + "\n")
	}
	crumbs := ev.Breadcrumbs
	if len(crumbs) > 0 {
		shown := crumbs
		if !full && len(crumbs) > defaultBreadcrumbs {
			shown = crumbs[len(crumbs)-defaultBreadcrumbs:]
			trimmed = append(trimmed, fmt.Sprintf("%d older breadcrumbs", len(crumbs)-defaultBreadcrumbs))
		}
		if len(shown) < len(crumbs) {
			fmt.Fprintf(&b, "breadcrumbs (last %d of %d, oldest first):\n", len(shown), len(crumbs))
		} else {
			fmt.Fprintf(&b, "breadcrumbs (%d, oldest first):\n", len(crumbs))
		}
		for _, c := range shown {
			b.WriteString("  " + breadcrumbLine(c, ev.Time) + "\n")
		}
	}
	if cut.library > 0 {
		trimmed = append(trimmed, fmt.Sprintf("%d library frames collapsed", cut.library))
	}
	if cut.inApp > 0 {
		trimmed = append(trimmed, fmt.Sprintf("%d deeper in-app frames", cut.inApp))
	}
	if cut.context {
		trimmed = append(trimmed, "source lines kept around the top frame only")
	}
	if cut.sdkOmitted > 0 {
		trimmed = append(trimmed, fmt.Sprintf("%d frames the SDK itself omitted", cut.sdkOmitted))
	}
	if masked {
		trimmed = append(trimmed, "user email, IP and name masked (show_pii: true on the connection shows them)")
	}
	if r := ev.Request; r != nil && r.Dropped > 0 {
		trimmed = append(trimmed, fmt.Sprintf("%d request headers, cookies or body fields withheld", r.Dropped))
	}
	if len(ev.Omitted) > 0 {
		trimmed = append(trimmed, "not shown: "+strings.Join(ev.Omitted, ", "))
	}
	return eventView{body: b.String(), trimmed: trimmed}
}

// mentionedIn reports whether the event message repeats an exception's
// value, as it usually does.
func mentionedIn(msg string, xs []exception) bool {
	for _, x := range xs {
		if x.Value != "" && (strings.Contains(msg, x.Value) || strings.Contains(x.Value, msg)) {
			return true
		}
	}
	return false
}

// tagLine writes tags as k=v, leaving out those shown elsewhere.
func tagLine(tags []tag) string {
	var parts []string
	n := 0
	for _, t := range tags {
		switch t.Key {
		case "environment", "release", "level", "handled", "mechanism", "user":
			continue
		}
		if n == maxTags {
			parts = append(parts, fmt.Sprintf("%d more", len(tags)-n))
			break
		}
		n++
		parts = append(parts, t.Key+"="+clip(oneLine(t.Value), maxTagValue))
	}
	return strings.Join(parts, ", ")
}

// breadcrumbLine writes one breadcrumb: time, category, level when not
// info, then the message or the request it records.
func breadcrumbLine(c breadcrumb, eventTime time.Time) string {
	var b strings.Builder
	if !c.Time.IsZero() {
		layout := "15:04:05.000"
		if !sameDay(c.Time, eventTime) {
			layout = "2006-01-02 15:04:05"
		}
		b.WriteString(c.Time.UTC().Format(layout) + " ")
	}
	cat := c.Category
	if cat == "" {
		cat = c.Type
	}
	if cat == "" {
		cat = "default"
	}
	b.WriteString(cat)
	if c.Level != "" && c.Level != "info" {
		b.WriteString(" " + c.Level)
	}
	data := map[string]string{}
	for _, d := range c.Data {
		data[d.Key] = d.Value
	}
	used := map[string]bool{}
	switch {
	case data["url"] != "" && (c.Type == "http" || data["method"] != "" || data["status_code"] != ""):
		fmt.Fprintf(&b, " %s %s", data["method"], clip(data["url"], 300))
		if sc := data["status_code"]; sc != "" {
			b.WriteString(" → " + sc)
		}
		used["method"], used["url"], used["status_code"] = true, true, true
	case data["to"] != "":
		fmt.Fprintf(&b, " %s → %s", clip(data["from"], 200), clip(data["to"], 200))
		used["from"], used["to"] = true, true
	}
	if m := strings.TrimSpace(c.Message); m != "" {
		b.WriteString(" " + clip(oneLine(m), 300))
	}
	var extra []string
	keys := make([]string, 0, len(data))
	for k := range data {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == maxBreadcrumbData {
			extra = append(extra, fmt.Sprintf("+%d", len(keys)-i))
			break
		}
		extra = append(extra, k+"="+clip(oneLine(data[k]), 80))
	}
	if len(extra) > 0 {
		b.WriteString(" {" + strings.Join(extra, ", ") + "}")
	}
	return b.String()
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// stamp formats a time for a model: RFC 3339 in UTC, or "-" when unknown.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// fence wraps text from the monitored application as untrusted data.
func fence(body string) string {
	open, closing := render.Fence()
	return open + "\n" + strings.TrimRight(body, "\n") + "\n" + closing + "\n"
}
