package errors

import (
	"context"
	"time"
)

// tracker is what an error-tracking provider implements. The tools are
// written against it and against the provider-neutral types below, so a
// second tracker (GlitchTip, Rollbar, Bugsnag...) adds an implementation
// and a registry entry, not new tools. Implementations connect lazily, are
// safe for concurrent use, and only read.
type tracker interface {
	// organization names what the connection reads ("acme" on Sentry).
	organization() string
	// scope returns the project slugs the connection is limited to; empty
	// means every project the token can see.
	scope() []string
	// showsPII reports whether users' emails, IP addresses and names are
	// shown unmasked (show_pii); what the tools render follows it too.
	showsPII() bool
	// projects lists the projects in scope.
	projects(ctx context.Context) ([]project, error)
	// issues runs an issue search and returns up to q.Limit issues.
	issues(ctx context.Context, q issueQuery) (*issuePage, error)
	// issue looks one issue up by ID, short ID or URL.
	issue(ctx context.Context, ref string) (*issue, error)
	// event returns one event of an issue: an event ID, or latest, oldest
	// or recommended.
	event(ctx context.Context, iss *issue, ref string) (*event, error)
	// events lists an issue's events, newest first.
	events(ctx context.Context, iss *issue, q eventQuery) (*eventPage, error)
	// stats returns event counts over time.
	stats(ctx context.Context, q statsQuery) (*stats, error)
	// releases lists releases, newest first.
	releases(ctx context.Context, q releaseQuery) (*releasePage, error)
	// ping checks the credentials and the organization ("Test Connection").
	ping(ctx context.Context) error
	close()
}

// project is one project of the organization.
type project struct {
	ID         string
	Slug       string
	Name       string
	Platform   string
	Created    time.Time
	FirstEvent time.Time // zero when the project never received an event
}

// issueQuery selects issues.
type issueQuery struct {
	Query       string // the tracker's search syntax
	Projects    []string
	Environment string
	Sort        string // one of sortKeys
	Start, End  time.Time
	Limit       int
}

// sortKeys are the issue orders every tracker offers, in tool order.
var sortKeys = []string{"events", "last_seen", "first_seen", "users", "trends"}

// issuePage is one issue search's result.
type issuePage struct {
	Issues []issue
	// Total is the number of matching issues the tracker reported, or -1.
	Total int
	// More reports whether issues beyond Issues exist.
	More bool
}

// issue is a group of events with one cause.
type issue struct {
	ID        string
	ShortID   string
	Title     string
	Culprit   string // where it happened: a function, a route
	Level     string
	Status    string
	Substatus string
	Project   string // slug
	Events    int64
	Users     int64
	FirstSeen time.Time
	LastSeen  time.Time
	Link      string
	// Details, filled by tracker.issue only.
	FirstRelease string
	LastRelease  string
	Assignee     string
	Unhandled    bool
}

// eventQuery selects an issue's events.
type eventQuery struct {
	Query       string
	Environment string
	Start, End  time.Time // zero for the tracker's whole retention
	Limit       int
}

// eventPage is a list of events.
type eventPage struct {
	Events []eventSummary
	More   bool
}

// eventSummary is one line of an issue's event list.
type eventSummary struct {
	ID          string
	Time        time.Time
	Message     string
	Location    string
	Environment string
	Release     string
	User        user
}

// event is one occurrence, with what is needed to debug it.
type event struct {
	ID          string
	Time        time.Time
	Title       string
	Message     string
	Platform    string
	Environment string
	Release     string
	Location    string
	Exceptions  []exception // innermost (the one raised last) last
	Breadcrumbs []breadcrumb
	Tags        []tag
	User        user
	Request     *request
	Contexts    []tag // summarised contexts: os, runtime, browser, trace...
	Omitted     []string
}

// exception is one exception of a chain.
type exception struct {
	Type      string
	Value     string
	Module    string
	Mechanism string
	Handled   *bool
	Frames    []frame // outermost call first, the raising frame last
	// FramesOmitted is how many frames the SDK itself left out.
	FramesOmitted int
}

// frame is one stack frame.
type frame struct {
	File     string
	Function string
	Module   string
	Package  string
	Line     int
	Column   int
	InApp    bool
	// Context holds source lines around Line, when the tracker has them.
	Context []sourceLine
	HasVars bool // the tracker captured local variables (never shown)
}

// sourceLine is one line of source code.
type sourceLine struct {
	N    int
	Text string
}

// breadcrumb is one entry of the trail that led to an event.
type breadcrumb struct {
	Time     time.Time
	Type     string
	Category string
	Level    string
	Message  string
	Data     []tag // already filtered of secrets
}

// tag is a key and value.
type tag struct{ Key, Value string }

// user is the affected user as the tracker stored it.
type user struct {
	ID, Username, Email, IP, Name string
	Geo                           string
}

// request is the HTTP request being served when the event happened.
type request struct {
	Method  string
	URL     string
	Headers []tag // already filtered: no credentials, no cookies
	// Dropped counts headers, cookies and body fields withheld.
	Dropped int
}

// statsQuery selects event counts.
type statsQuery struct {
	GroupBy    string // outcome or project
	Projects   []string
	Start, End time.Time
	Interval   time.Duration
}

// stats are event counts per interval and group.
type stats struct {
	Start, End time.Time
	Intervals  []time.Time
	Groups     []statsGroup
}

// statsGroup is one series: an outcome, or a project and an outcome.
type statsGroup struct {
	Outcome string
	Project string
	Total   int64
	Series  []int64 // one count per interval; nil when not broken down
}

// releaseQuery selects releases.
type releaseQuery struct {
	Query    string
	Projects []string
	Limit    int
}

// releasePage is a list of releases.
type releasePage struct {
	Releases []release
	More     bool
}

// release is one deployed version.
type release struct {
	Version    string
	Created    time.Time
	Released   time.Time
	NewIssues  int64
	FirstEvent time.Time
	LastEvent  time.Time
	Commits    int64
	Deploys    int64
	LastDeploy string // environment of the last deploy
	Projects   []string
}
