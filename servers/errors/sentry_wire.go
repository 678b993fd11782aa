package errors

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The types below mirror the JSON of Sentry's web API (/api/0/) as its
// public API reference and serializers describe it, keeping only the
// fields the tools use. Sentry is loose with types across versions and
// self-hosted releases: IDs and counts come as strings or numbers, most
// fields may be null, so the decoders here accept both.

// sentryID is an ID or count sent as a JSON string or number.
type sentryID string

func (s *sentryID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*s = ""
		return nil
	}
	if b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = sentryID(v)
		return nil
	}
	*s = sentryID(b)
	return nil
}

// int64 reads a count; unparsable or missing counts are 0.
func (s sentryID) int64() int64 {
	n, _ := strconv.ParseInt(string(s), 10, 64)
	return n
}

// sentryTime is a timestamp: RFC 3339 text (with or without zone), or
// seconds since the epoch as a number (breadcrumbs of some SDKs).
type sentryTime struct{ time.Time }

func (t *sentryTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return nil // a time we cannot read is left empty, not fatal
		}
		t.Time = time.Unix(0, int64(f*1e9)).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return nil
}

// sentryText is a string field that some SDKs fill with other JSON (a
// number, an object); anything but a string is kept as compact JSON.
type sentryText string

func (s *sentryText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*s = ""
		return nil
	}
	if b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = sentryText(v)
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		*s = sentryText(b)
		return nil
	}
	*s = sentryText(buf.String())
	return nil
}

// sentryProject is an entry of GET /organizations/{org}/projects/.
type sentryProject struct {
	ID          sentryID   `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Platform    sentryText `json:"platform"`
	DateCreated sentryTime `json:"dateCreated"`
	FirstEvent  sentryTime `json:"firstEvent"`
}

func (p sentryProject) model() project {
	return project{ID: string(p.ID), Slug: p.Slug, Name: p.Name, Platform: string(p.Platform), Created: p.DateCreated.Time, FirstEvent: p.FirstEvent.Time}
}

// sentryIssue is an issue (a "group") of the issue list, issue details and
// short-ID lookup endpoints.
type sentryIssue struct {
	ID          sentryID   `json:"id"`
	ShortID     string     `json:"shortId"`
	Title       sentryText `json:"title"`
	Culprit     sentryText `json:"culprit"`
	Permalink   string     `json:"permalink"`
	Level       string     `json:"level"`
	Status      string     `json:"status"`
	Substatus   string     `json:"substatus"`
	Count       sentryID   `json:"count"`
	UserCount   sentryID   `json:"userCount"`
	FirstSeen   sentryTime `json:"firstSeen"`
	LastSeen    sentryTime `json:"lastSeen"`
	IsUnhandled bool       `json:"isUnhandled"`
	Project     struct {
		ID   sentryID `json:"id"`
		Slug string   `json:"slug"`
	} `json:"project"`
	AssignedTo *struct {
		Type string     `json:"type"`
		Name sentryText `json:"name"`
	} `json:"assignedTo"`
	FirstRelease *sentryReleaseRef `json:"firstRelease"`
	LastRelease  *sentryReleaseRef `json:"lastRelease"`
}

type sentryReleaseRef struct {
	Version      string `json:"version"`
	ShortVersion string `json:"shortVersion"`
}

func (r *sentryReleaseRef) name() string {
	if r == nil {
		return ""
	}
	return r.Version
}

func (g sentryIssue) model() issue {
	is := issue{
		ID: string(g.ID), ShortID: g.ShortID, Title: string(g.Title), Culprit: string(g.Culprit),
		Level: g.Level, Status: g.Status, Substatus: g.Substatus, Project: g.Project.Slug,
		Events: g.Count.int64(), Users: g.UserCount.int64(),
		FirstSeen: g.FirstSeen.Time, LastSeen: g.LastSeen.Time, Link: g.Permalink,
		FirstRelease: g.FirstRelease.name(), LastRelease: g.LastRelease.name(), Unhandled: g.IsUnhandled,
	}
	if a := g.AssignedTo; a != nil && a.Name != "" {
		is.Assignee = string(a.Name)
		if a.Type == "team" {
			is.Assignee = "team " + is.Assignee
		}
	}
	return is
}

// sentryShortIDLookup is GET /organizations/{org}/shortids/{short_id}/.
type sentryShortIDLookup struct {
	GroupID     sentryID    `json:"groupId"`
	ProjectSlug string      `json:"projectSlug"`
	Group       sentryIssue `json:"group"`
}

// sentryTag is a {"key":..., "value":...} pair.
type sentryTag struct {
	Key   string     `json:"key"`
	Value sentryText `json:"value"`
}

// sentryUser is an event's user interface.
type sentryUser struct {
	ID        sentryID   `json:"id"`
	Username  sentryText `json:"username"`
	Email     sentryText `json:"email"`
	IPAddress sentryText `json:"ip_address"`
	Name      sentryText `json:"name"`
	Geo       *struct {
		CountryCode string     `json:"country_code"`
		City        sentryText `json:"city"`
		Region      sentryText `json:"region"`
	} `json:"geo"`
}

func (u *sentryUser) model() user {
	if u == nil {
		return user{}
	}
	out := user{ID: string(u.ID), Username: string(u.Username), Email: string(u.Email), IP: string(u.IPAddress), Name: string(u.Name)}
	if g := u.Geo; g != nil {
		parts := []string{}
		for _, p := range []string{string(g.City), g.CountryCode} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		out.Geo = strings.Join(parts, ", ")
	}
	return out
}

// sentryEventSummary is an entry of GET .../issues/{id}/events/.
type sentryEventSummary struct {
	ID          sentryID    `json:"id"`
	EventID     string      `json:"eventID"`
	DateCreated sentryTime  `json:"dateCreated"`
	Title       sentryText  `json:"title"`
	Message     sentryText  `json:"message"`
	Location    sentryText  `json:"location"`
	Culprit     sentryText  `json:"culprit"`
	User        *sentryUser `json:"user"`
	Tags        []sentryTag `json:"tags"`
}

func (e sentryEventSummary) model() eventSummary {
	s := eventSummary{ID: e.EventID, Time: e.DateCreated.Time, Message: string(e.Message), Location: string(e.Location), User: e.User.model()}
	if s.ID == "" {
		s.ID = string(e.ID)
	}
	if s.Message == "" {
		s.Message = string(e.Title)
	}
	if s.Location == "" {
		s.Location = string(e.Culprit)
	}
	for _, t := range e.Tags {
		switch t.Key {
		case "environment":
			s.Environment = string(t.Value)
		case "release":
			s.Release = string(t.Value)
		}
	}
	return s
}

// sentryStats is GET /organizations/{org}/stats_v2/.
type sentryStats struct {
	Start     sentryTime   `json:"start"`
	End       sentryTime   `json:"end"`
	Intervals []sentryTime `json:"intervals"`
	Groups    []struct {
		By     map[string]sentryText    `json:"by"`
		Totals map[string]json.Number   `json:"totals"`
		Series map[string][]json.Number `json:"series"`
	} `json:"groups"`
}

// sentryRelease is an entry of GET /organizations/{org}/releases/.
type sentryRelease struct {
	Version      string     `json:"version"`
	DateCreated  sentryTime `json:"dateCreated"`
	DateReleased sentryTime `json:"dateReleased"`
	NewGroups    sentryID   `json:"newGroups"`
	FirstEvent   sentryTime `json:"firstEvent"`
	LastEvent    sentryTime `json:"lastEvent"`
	CommitCount  sentryID   `json:"commitCount"`
	DeployCount  sentryID   `json:"deployCount"`
	LastDeploy   *struct {
		Environment string `json:"environment"`
	} `json:"lastDeploy"`
	Projects []struct {
		Slug string `json:"slug"`
	} `json:"projects"`
}

func (r sentryRelease) model() release {
	out := release{
		Version: r.Version, Created: r.DateCreated.Time, Released: r.DateReleased.Time,
		NewIssues: r.NewGroups.int64(), FirstEvent: r.FirstEvent.Time, LastEvent: r.LastEvent.Time,
		Commits: r.CommitCount.int64(), Deploys: r.DeployCount.int64(),
	}
	if r.LastDeploy != nil {
		out.LastDeploy = r.LastDeploy.Environment
	}
	for _, p := range r.Projects {
		out.Projects = append(out.Projects, p.Slug)
	}
	return out
}
