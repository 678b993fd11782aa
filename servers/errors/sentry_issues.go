package errors

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/toolkit"
)

// sentrySorts maps the tools' sort keys to Sentry's.
var sentrySorts = map[string]string{"events": "freq", "last_seen": "date", "first_seen": "new", "users": "user", "trends": "trends"}

// sentryTimeFormat is how start and end are sent: ISO 8601 in UTC, the
// form the API reference shows.
const sentryTimeFormat = "2006-01-02T15:04:05"

// searchHint is added when Sentry rejects an issue or event search.
const searchHint = "Check the query: Sentry search terms are key:value (is:unresolved, level:error, release:1.2.3, environment:production, user.email:x@y.z, !has:user), free text matches titles"

func (s *sentryClient) issues(ctx context.Context, q issueQuery) (*issuePage, error) {
	ids, err := s.projectIDs(ctx, q.Projects)
	if err != nil {
		return nil, err
	}
	v := url.Values{
		"query":    {q.Query},
		"sort":     {sentrySorts[q.Sort]},
		"start":    {q.Start.UTC().Format(sentryTimeFormat)},
		"end":      {q.End.UTC().Format(sentryTimeFormat)},
		"project":  ids,
		"collapse": {"stats"},
	}
	if q.Environment != "" {
		v.Set("environment", q.Environment)
	}
	raw, more, total, err := sentryList[sentryIssue](ctx, s, s.orgPath("issues"), v, "limit", q.Limit, "organization "+s.org, searchHint)
	if err != nil {
		return nil, err
	}
	page := &issuePage{Total: total, More: more}
	for _, g := range raw {
		page.Issues = append(page.Issues, g.model())
	}
	return page, nil
}

var (
	numericRE  = regexp.MustCompile(`^[0-9]+$`)
	shortIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*-[A-Za-z0-9]+$`)
	issueURLRE = regexp.MustCompile(`/issues/([0-9]+)`)
	eventIDRE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func (s *sentryClient) issue(ctx context.Context, ref string) (*issue, error) {
	ref = strings.TrimSpace(ref)
	if m := issueURLRE.FindStringSubmatch(ref); m != nil && strings.Contains(ref, "://") {
		ref = m[1]
	}
	var is issue
	switch {
	case numericRE.MatchString(ref):
		var g sentryIssue
		if _, err := s.get(ctx, s.orgPath("issues", ref), nil, "issue "+ref+" in organization "+s.org, &g); err != nil {
			return nil, err
		}
		is = g.model()
	case shortIDRE.MatchString(ref):
		var l sentryShortIDLookup
		short := strings.ToUpper(ref)
		if _, err := s.get(ctx, s.orgPath("shortids", short), nil, "issue "+short+" in organization "+s.org, &l); err != nil {
			return nil, err
		}
		is = l.Group.model()
		if is.ID == "" {
			is.ID = string(l.GroupID)
		}
		if is.Project == "" {
			is.Project = l.ProjectSlug
		}
	default:
		return nil, toolkit.Errorf("issue %q is neither an issue ID (4711), a short ID (WEB-3F) nor a Sentry issue URL; list_issues shows them", ref)
	}
	if len(s.scopeList) > 0 && !containsFold(s.scopeList, is.Project) {
		return nil, toolkit.Errorf("issue %s belongs to project %s, outside this connection's projects (%s)", ref, is.Project, strings.Join(s.scopeList, ", "))
	}
	return &is, nil
}

// eventRef normalises an event reference: latest, oldest, recommended or a
// 32-digit event ID (dashes allowed).
func eventRef(ref string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(ref))
	switch r {
	case "", "latest":
		return "latest", nil
	case "oldest", "recommended":
		return r, nil
	}
	r = strings.ReplaceAll(r, "-", "")
	if !eventIDRE.MatchString(r) {
		return "", toolkit.Errorf("event %q is not an event ID (32 hexadecimal digits, from list_issue_events) nor latest, oldest or recommended", ref)
	}
	return r, nil
}

func (s *sentryClient) event(ctx context.Context, iss *issue, ref string) (*event, error) {
	r, err := eventRef(ref)
	if err != nil {
		return nil, err
	}
	var e sentryEvent
	what := "event " + r + " of issue " + iss.ShortID
	_, err = s.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: s.orgPath("issues", iss.ID, "events", r), What: what}, &e)
	if err != nil {
		if httpapi.IsNotFound(err) && r == "latest" {
			return nil, nil // the issue exists but none of its events is retained
		}
		return nil, s.explain(err, "")
	}
	return e.model(s.showPII), nil
}

func (s *sentryClient) events(ctx context.Context, iss *issue, q eventQuery) (*eventPage, error) {
	v := url.Values{"full": {"false"}}
	if q.Query != "" {
		v.Set("query", q.Query)
	}
	if q.Environment != "" {
		v.Set("environment", q.Environment)
	}
	if !q.Start.IsZero() {
		v.Set("start", q.Start.UTC().Format(sentryTimeFormat))
		v.Set("end", q.End.UTC().Format(sentryTimeFormat))
	}
	raw, more, _, err := sentryList[sentryEventSummary](ctx, s, s.orgPath("issues", iss.ID, "events"), v, "per_page", q.Limit, "issue "+iss.ShortID, searchHint)
	if err != nil {
		return nil, err
	}
	page := &eventPage{More: more}
	for _, e := range raw {
		page.Events = append(page.Events, e.model())
	}
	return page, nil
}
