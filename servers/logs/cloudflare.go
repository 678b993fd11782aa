package logs

import (
	"context"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Cloudflare Workers logs through the Workers Observability telemetry API:
// POST /accounts/{account}/workers/observability/telemetry/query for
// events (view "events", a needle for text, filters for the worker),
// .../telemetry/keys and .../telemetry/values for log_fields, and
// GET /accounts/{account}/workers/scripts for the workers. cloudflare-go
// is a large generated module for the whole Cloudflare API; httpapi makes
// these calls with the same retry and error rules as every provider.

const cloudflareDefaultBaseURL = "https://api.cloudflare.com/client/v4"

// cloudflareRetention is how far back Workers Logs go.
const cloudflareRetention = 7 * 24 * time.Hour

var cloudflareProvider = &provider{
	Provider: connections.Provider{
		Name:    "cloudflare",
		Aliases: []string{"cloudflare-logging", "cloudflare-workers"},
		Title:   "Cloudflare Workers logs",
		Fields: []config.Field{
			{Name: "api_token", Secret: true, Required: true, Env: "CLOUDFLARE_API_TOKEN", Help: "an API token with Account → Workers Scripts → Read and Workers Observability read"},
			{Name: "account_id", Required: true, Env: "CLOUDFLARE_ACCOUNT_ID", Help: "the 32-character Account ID from the dashboard"},
			{Name: "script_name", Help: "only this Worker's logs"},
			{Name: "base_url", Help: "API base URL, default " + cloudflareDefaultBaseURL},
		},
		DefaultName: func(config.Values) string { return "workers" },
	},
	open: openCloudflare,
}

var cloudflareAccountRE = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

type cloudflare struct {
	fetchOps
	api     *httpapi.Client
	account string
	script  string
}

func openCloudflare(_ context.Context, v config.Values, o openOptions) (backend, error) {
	account := strings.TrimSpace(v.Get("account_id"))
	if !cloudflareAccountRE.MatchString(account) {
		return nil, fmt.Errorf("account_id %q is not a Cloudflare account ID: copy the 32 hexadecimal characters shown as Account ID under Workers & Pages", account)
	}
	base, err := httpapi.BaseURL(v.Get("base_url"), cloudflareDefaultBaseURL, "base_url")
	if err != nil {
		return nil, err
	}
	token := v.Secret("api_token")
	c := &cloudflare{account: account, script: strings.TrimSpace(v.Get("script_name"))}
	c.api = &httpapi.Client{
		Service: "Cloudflare",
		BaseURL: base + "/accounts/" + url.PathEscape(account),
		Auth:    func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) },
		Hints: map[int]string{
			http.StatusForbidden: "The token needs Account → Workers Scripts → Read and Workers Observability read on this account.",
		},
		UserAgent: "opstower",
	}
	c.fetchOps = fetchOps{f: c, maxScan: hostedMaxScan}
	return c, nil
}

func (c *cloudflare) lookback() time.Duration { return hostedLookback }
func (c *cloudflare) close() error            { return nil }
func (c *cloudflare) extent(context.Context, string) (timerange.Range, bool) {
	return noExtent()
}

// pushesAll: the needle and the worker go to the API; levels, regexes and
// field conditions are checked here.
func (c *cloudflare) pushesAll(f *filter) bool { return pushedByDefault(f) }

// cfEnvelope is Cloudflare's response envelope.
type cfEnvelope[T any] struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result T `json:"result"`
}

func (c *cloudflare) call(ctx context.Context, method, path string, body any, out any) error {
	_, err := c.api.JSON(ctx, httpapi.Request{Method: method, Path: path, Body: body, What: "account or Worker"}, out)
	return err
}

type cfScript struct {
	ID         string `json:"id"`
	CreatedOn  string `json:"created_on"`
	ModifiedOn string `json:"modified_on"`
	UsageModel string `json:"usage_model"`
}

func (c *cloudflare) scripts(ctx context.Context) ([]cfScript, error) {
	var env cfEnvelope[[]cfScript]
	if err := c.call(ctx, http.MethodGet, "/workers/scripts", nil, &env); err != nil {
		return nil, err
	}
	return env.Result, nil
}

func (c *cloudflare) sources(ctx context.Context, pattern string) (*SourceTable, error) {
	ss, err := c.scripts(ctx)
	if err != nil {
		return nil, err
	}
	t := &SourceTable{Columns: []render.Column{{Name: "worker"}, {Name: "created"}, {Name: "modified"}}}
	for _, s := range ss {
		if pattern != "" && !containsFold(s.ID, pattern) {
			continue
		}
		t.Rows = append(t.Rows, []string{s.ID, s.CreatedOn, s.ModifiedOn})
	}
	t.Note = "Workers Logs keep up to 7 days."
	if c.script != "" {
		t.Note += " This connection reads " + c.script + " only."
	}
	return t, nil
}

// cfTimeframe is a window in Unix milliseconds.
type cfTimeframe struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

type cfFilter struct {
	Key       string `json:"key"`
	Operation string `json:"operation"`
	Type      string `json:"type"`
	Value     any    `json:"value,omitempty"`
}

type cfNeedle struct {
	Value     string `json:"value"`
	IsRegex   bool   `json:"isRegex"`
	MatchCase bool   `json:"matchCase"`
}

type cfQuery struct {
	QueryID    string      `json:"queryId"`
	Timeframe  cfTimeframe `json:"timeframe"`
	View       string      `json:"view"`
	Limit      int         `json:"limit"`
	Offset     string      `json:"offset,omitempty"`
	Dry        bool        `json:"dry"`
	Parameters struct {
		Datasets          []string   `json:"datasets,omitempty"`
		Filters           []cfFilter `json:"filters,omitempty"`
		FilterCombination string     `json:"filterCombination,omitempty"`
		Needle            *cfNeedle  `json:"needle,omitempty"`
	} `json:"parameters"`
}

type cfEvent struct {
	Metadata  map[string]any `json:"$metadata"`
	Workers   map[string]any `json:"$workers"`
	Dataset   string         `json:"dataset"`
	Source    any            `json:"source"`
	Timestamp int64          `json:"timestamp"`
}

type cfQueryResult struct {
	Events struct {
		Events []cfEvent `json:"events"`
		Count  int       `json:"count"`
	} `json:"events"`
}

func (c *cloudflare) window(f *filter) (cfTimeframe, error) {
	r := f.Range
	if !f.HasRange {
		r = timerange.Range{Start: time.Now().Add(-hostedLookback), End: time.Now()}
	}
	if time.Since(r.Start) > cloudflareRetention+time.Hour {
		return cfTimeframe{}, toolkit.Errorf("Workers Logs keep 7 days; since %s is older. Use since 7d or later", r.Start.UTC().Format(time.RFC3339))
	}
	return cfTimeframe{From: r.Start.UnixMilli(), To: r.End.UnixMilli()}, nil
}

func (c *cloudflare) scriptFilters(source string) []cfFilter {
	script := source
	if script == "" {
		script = c.script
	}
	if script == "" {
		return nil
	}
	return []cfFilter{{Key: "$metadata.service", Operation: "eq", Type: "string", Value: script}}
}

// cfPage is how many events one query asks for (the API's maximum).
const cfPage = 2000

func (c *cloudflare) fetch(ctx context.Context, f *filter, max int, fn func(*Event) bool) (scanInfo, error) {
	tf, err := c.window(f)
	if err != nil {
		return scanInfo{}, err
	}
	q := cfQuery{QueryID: "opstower-search", Timeframe: tf, View: "events"}
	q.Parameters.Filters = c.scriptFilters(f.Source)
	q.Parameters.FilterCombination = "and"
	if f.Text != "" {
		q.Parameters.Needle = &cfNeedle{Value: f.Text, MatchCase: !f.fold}
	}
	info := scanInfo{Sources: []string{first(f.Source, c.script, "all Workers")}}
	n := 0
	for n < max {
		q.Limit = min(cfPage, max-n)
		var env cfEnvelope[cfQueryResult]
		if err := c.call(ctx, http.MethodPost, "/workers/observability/telemetry/query", q, &env); err != nil {
			return info, err
		}
		evs := env.Result.Events.Events
		for i := range evs {
			n++
			e := cfToEvent(&evs[i])
			if !fn(&e) {
				return info, nil
			}
		}
		if len(evs) < q.Limit {
			break
		}
		id, _ := evs[len(evs)-1].Metadata["id"].(string)
		if id == "" {
			break
		}
		q.Offset = id
	}
	info.Scanned = render.Count(n) + " events"
	return info, nil
}

// cfToEvent maps a Workers telemetry event: $metadata holds the message,
// level and request facts; source holds the logged object when a Worker
// logs structured data.
func cfToEvent(ce *cfEvent) Event {
	var e Event
	if obj, ok := ce.Source.(map[string]any); ok {
		e = RecordEvent(obj, "")
	} else if s, ok := ce.Source.(string); ok {
		e.Message = s
	}
	e.Time = time.UnixMilli(ce.Timestamp).UTC()
	md := ce.Metadata
	if s, _ := md["message"].(string); s != "" && e.Message == "" {
		e.Message = s
	}
	if s, _ := md["error"].(string); s != "" {
		if e.Message == "" {
			e.Message = s
		} else if !strings.Contains(e.Message, s) {
			e.Fields = append(e.Fields, Field{Key: "error", Value: s})
		}
	}
	if s, _ := md["level"].(string); s != "" && e.Level == levelUnknown {
		e.Level = levelOf([]byte(s))
	}
	e.Source, _ = md["service"].(string)
	if w, _ := ce.Workers["scriptName"].(string); w != "" {
		e.Source = w
	}
	for _, k := range []string{"trigger", "statusCode", "url", "requestId", "origin", "region"} {
		if v, ok := md[k]; ok && v != nil && anyText(v) != "" {
			e.Fields = append(e.Fields, Field{Key: k, Value: anyText(v)})
		}
	}
	if v, ok := ce.Workers["outcome"]; ok && v != nil {
		e.Fields = append(e.Fields, Field{Key: "outcome", Value: anyText(v)})
	}
	var raw strings.Builder
	raw.WriteString(e.Message)
	for _, f := range e.Fields {
		raw.WriteString(" " + f.Key + "=" + f.Value)
	}
	e.Raw = raw.String()
	return e
}

type cfKey struct {
	Key        string `json:"key"`
	Type       string `json:"type"`
	LastSeenAt int64  `json:"lastSeenAt"`
}

type cfValue struct {
	Key     string `json:"key"`
	Type    string `json:"type"`
	Value   any    `json:"value"`
	Dataset string `json:"dataset"`
}

// fields uses the keys and values endpoints: they cover the whole window,
// not a sample of events. Values come without counts.
func (c *cloudflare) fields(ctx context.Context, f *filter, key string) (*fieldStats, scanInfo, error) {
	tf, err := c.window(f)
	if err != nil {
		return nil, scanInfo{}, err
	}
	info := scanInfo{Sources: []string{first(f.Source, c.script, "all Workers")}, Scanned: "the telemetry keys index"}
	fs := &fieldStats{Key: key}
	body := map[string]any{"timeframe": tf, "limit": 200}
	if flt := c.scriptFilters(f.Source); flt != nil {
		body["filters"] = flt
	}
	if key == "" {
		var env cfEnvelope[[]cfKey]
		if err := c.call(ctx, http.MethodPost, "/workers/observability/telemetry/keys", body, &env); err != nil {
			return nil, info, err
		}
		for _, k := range env.Result {
			fs.Counts = append(fs.Counts, nameCount{Name: k.Key, N: 0, Note: k.Type + ", last seen " + logtext.When(time.UnixMilli(k.LastSeenAt))})
		}
		return fs, info, nil
	}
	body["key"] = key
	body["type"] = "string"
	body["datasets"] = []string{"cloudflare-workers"}
	var env cfEnvelope[[]cfValue]
	if err := c.call(ctx, http.MethodPost, "/workers/observability/telemetry/values", body, &env); err != nil {
		return nil, info, err
	}
	for _, v := range env.Result {
		fs.Counts = append(fs.Counts, nameCount{Name: anyText(v.Value)})
	}
	info.Scanned = "the telemetry values index"
	return fs, info, nil
}
