package errors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/suggest"
	"github.com/opstower/opstower/shared/toolkit"
)

// sentryDefaultURL is sentry.io; its API answers for every organization,
// whatever region the data lives in.
const sentryDefaultURL = "https://sentry.io"

var sentryProvider = &provider{
	Provider: connections.Provider{
		Name:  "sentry",
		Title: "Sentry",
		Fields: []config.Field{
			{Name: "organization", Required: true, Env: "SENTRY_ORG", Help: "the organization slug, as in https://SLUG.sentry.io"},
			{Name: "auth_token", Secret: true, Required: true, Env: "SENTRY_AUTH_TOKEN", Help: "an Internal Integration token with Read on Organization, Project, and Issue & Event"},
			{Name: "url", Env: "SENTRY_URL", Help: "the Sentry address for self-hosted Sentry or a data region, default " + sentryDefaultURL},
			{Name: "projects", Help: "comma-separated project slugs that every query is limited to"},
			{Name: "show_pii", Help: "true to show users' emails, IP addresses and names unmasked"},
		},
		DefaultName: func(v config.Values) string { return v.Get("organization") },
	},
	open: openSentry,
}

// sentryClient reads one Sentry organization through the web API
// (https://docs.sentry.io/api/), with a bearer token. It follows Sentry's
// cursor pagination only as far as a call's row limit needs, and keeps the
// organization's project list for a few minutes: slugs are resolved to the
// numeric IDs the issue and stats endpoints take, and unknown slugs get a
// "did you mean".
type sentryClient struct {
	api       *httpapi.Client
	http      *http.Client
	org       string
	scopeList []string
	showPII   bool

	mu        sync.Mutex
	projs     []project
	projsAt   time.Time
	projsMore bool // the organization has more projects than were read
}

// projectsTTL is how long the project list is reused.
const projectsTTL = 5 * time.Minute

// maxProjects bounds how many projects are read (ten pages).
const maxProjects = 1000

var sentrySlugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func openSentry(v config.Values, o openOptions) (tracker, error) {
	org := strings.TrimSpace(v.Get("organization"))
	if !sentrySlugRE.MatchString(org) {
		return nil, fmt.Errorf("organization %q is not a Sentry organization slug: use the lowercase name in your Sentry URL (https://SLUG.sentry.io, or https://sentry.io/organizations/SLUG/)", org)
	}
	base, err := sentryBaseURL(v.Get("url"))
	if err != nil {
		return nil, err
	}
	var scope []string
	for _, p := range strings.Split(v.Get("projects"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			scope = append(scope, p)
		}
	}
	token := v.Secret("auth_token")
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	s := &sentryClient{http: hc, org: org, scopeList: scope, showPII: o.showPII}
	s.api = &httpapi.Client{
		Service:   "Sentry",
		BaseURL:   base + "/api/0",
		HTTP:      hc,
		UserAgent: o.userAgent,
		Auth:      func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) },
		Hints: map[int]string{
			http.StatusUnauthorized: "Sentry auth tokens are made under Settings → Developer Settings → Custom Integrations (Internal Integration, Read on Organization, Project, and Issue & Event); set it as SENTRY_AUTH_TOKEN or auth_token.",
			http.StatusForbidden:    "The token needs Read access to Organization, Project, and Issue & Event (scopes org:read, project:read, event:read), and its integration must belong to organization " + org + ".",
		},
	}
	return s, nil
}

// sentryBaseURL checks the configured Sentry address (see httpapi.BaseURL);
// a trailing /api/0 is tolerated.
func sentryBaseURL(raw string) (string, error) {
	base, err := httpapi.BaseURL(raw, sentryDefaultURL, "url")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/api/0"), nil
}

func (s *sentryClient) organization() string { return s.org }
func (s *sentryClient) scope() []string      { return s.scopeList }
func (s *sentryClient) showsPII() bool       { return s.showPII }
func (s *sentryClient) close()               { s.http.CloseIdleConnections() }

// orgPath is /organizations/{org}/ followed by escaped path segments.
func (s *sentryClient) orgPath(segs ...string) string {
	var b strings.Builder
	b.WriteString("/organizations/" + url.PathEscape(s.org) + "/")
	for _, seg := range segs {
		b.WriteString(url.PathEscape(seg) + "/")
	}
	return b.String()
}

// get fetches one JSON document.
func (s *sentryClient) get(ctx context.Context, path string, q url.Values, what string, out any) (*httpapi.Response, error) {
	resp, err := s.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: path, Query: q, What: what}, out)
	if err != nil {
		return nil, s.explain(err, "")
	}
	return resp, nil
}

// explain turns API errors the model can act on into tool errors, adding
// badRequest to a 400 (what was likely wrong with the arguments).
func (s *sentryClient) explain(err error, badRequest string) error {
	var se *httpapi.StatusError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Status {
	case http.StatusBadRequest:
		msg := "Sentry rejected the request (400)"
		if se.Message != "" {
			msg += ": " + se.Message
		}
		if badRequest != "" {
			msg += ". " + badRequest
		}
		return toolkit.Errorf("%s", msg)
	case http.StatusNotFound:
		return toolkit.Errorf("%s", se.Error())
	}
	return err
}

// sentryList reads pages of a list endpoint until max items are read or no
// page is left. size names the page-size parameter (limit or per_page). It
// reports whether more items exist and the total Sentry counted (X-Hits),
// or -1.
//
// Each next page is requested on the configured base URL with the cursor
// of the Link header, not by following the link: self-hosted Sentry often
// advertises a wrong public address, and the token must only ever go to
// the configured one.
func sentryList[T any](ctx context.Context, s *sentryClient, path string, q url.Values, size string, max int, what, badRequest string) ([]T, bool, int, error) {
	if q == nil {
		q = url.Values{}
	}
	page := min(100, max)
	q.Set(size, strconv.Itoa(page))
	var out []T
	total := -1
	for {
		var items []T
		resp, err := s.api.JSON(ctx, httpapi.Request{Method: http.MethodGet, Path: path, Query: q, What: what}, &items)
		if err != nil {
			return nil, false, total, s.explain(err, badRequest)
		}
		if h := resp.Header.Get("X-Hits"); h != "" && total < 0 {
			if n, err := strconv.Atoi(h); err == nil {
				total = n
			}
		}
		out = append(out, items...)
		next := nextCursor(resp.Header)
		if len(out) >= max {
			return out[:max], len(out) > max || next != "", total, nil
		}
		if next == "" || len(items) == 0 {
			return out, false, total, nil
		}
		q.Set("cursor", next)
	}
}

// nextCursor is the cursor of the Link header's next page, or "" when
// Sentry says (results="false") that there is none.
func nextCursor(h http.Header) string {
	link := httpapi.NextLink(h)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("cursor")
}

// allProjects returns the organization's projects, read at most every
// projectsTTL.
func (s *sentryClient) allProjects(ctx context.Context) ([]project, bool, error) {
	s.mu.Lock()
	if s.projs != nil && time.Since(s.projsAt) < projectsTTL {
		p, more := s.projs, s.projsMore
		s.mu.Unlock()
		return p, more, nil
	}
	s.mu.Unlock()
	raw, more, _, err := sentryList[sentryProject](ctx, s, s.orgPath("projects"), nil, "per_page", maxProjects, "organization "+s.org, "")
	if err != nil {
		return nil, false, err
	}
	projs := make([]project, len(raw))
	for i, p := range raw {
		projs[i] = p.model()
	}
	s.mu.Lock()
	s.projs, s.projsAt, s.projsMore = projs, time.Now(), more
	s.mu.Unlock()
	return projs, more, nil
}

func (s *sentryClient) projects(ctx context.Context) ([]project, error) {
	all, _, err := s.allProjects(ctx)
	if err != nil {
		return nil, err
	}
	if len(s.scopeList) == 0 {
		return all, nil
	}
	ids, err := s.resolve(all, s.scopeList, true)
	if err != nil {
		return nil, err
	}
	var out []project
	for _, p := range all {
		for _, id := range ids {
			if p.ID == id {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (s *sentryClient) ping(ctx context.Context) error {
	q := url.Values{"per_page": {"1"}}
	var out []sentryProject
	_, err := s.get(ctx, s.orgPath("projects"), q, "organization "+s.org, &out)
	return err
}

// projectIDs turns project slugs into the IDs Sentry's query parameters
// take: the given slugs (which must be in scope), else the scope, else -1
// for every project the token can see.
func (s *sentryClient) projectIDs(ctx context.Context, slugs []string) ([]string, error) {
	if len(slugs) == 0 && len(s.scopeList) == 0 {
		return []string{"-1"}, nil
	}
	all, _, err := s.allProjects(ctx)
	if err != nil {
		return nil, err
	}
	if len(slugs) == 0 {
		return s.resolve(all, s.scopeList, true)
	}
	if len(s.scopeList) > 0 {
		for _, slug := range slugs {
			if !containsFold(s.scopeList, slug) {
				return nil, toolkit.Errorf("project %q is outside this connection's projects (%s)%s", slug, strings.Join(s.scopeList, ", "), didYouMean(slug, s.scopeList))
			}
		}
	}
	return s.resolve(all, slugs, false)
}

// resolve maps slugs to IDs, with a "did you mean" for unknown ones.
// fromSettings says the slugs come from the connection's settings, not
// from the model.
func (s *sentryClient) resolve(all []project, slugs []string, fromSettings bool) ([]string, error) {
	ids := make([]string, 0, len(slugs))
	for _, slug := range slugs {
		id := ""
		for _, p := range all {
			if strings.EqualFold(p.Slug, slug) || p.ID == slug {
				id = p.ID
				break
			}
		}
		if id == "" {
			known := make([]string, len(all))
			for i, p := range all {
				known[i] = p.Slug
			}
			hint := didYouMean(slug, known)
			switch {
			case hint != "":
			case len(known) == 0:
				hint = "; the token sees no project in " + s.org
			case len(known) <= 20:
				hint = "; projects are: " + strings.Join(known, ", ")
			default:
				hint = "; list_projects shows them"
			}
			if fromSettings {
				return nil, fmt.Errorf("the connection's projects setting names %q, which is not a project of %s that the token can see%s", slug, s.org, hint)
			}
			return nil, toolkit.Errorf("no project %q in %s%s", slug, s.org, hint)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func didYouMean(name string, known []string) string {
	if m := suggest.Closest(name, known, 3); len(m) > 0 {
		return "; did you mean " + strings.Join(m, ", ") + "?"
	}
	return ""
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
