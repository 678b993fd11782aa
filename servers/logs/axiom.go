package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/opstower/opstower/servers/logs/internal/logtext"
	"net/http"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/timerange"
	"github.com/opstower/opstower/shared/toolkit"
)

// Axiom through its REST API: datasets from GET /v2/datasets, events and
// APL queries from POST /v1/datasets/_apl?format=tabular. There is no
// official Go SDK worth its weight here: axiom-go pulls OpenTelemetry and
// more for two JSON calls, which httpapi makes with retries that honour
// Retry-After and errors that say what to do.

const axiomDefaultBaseURL = "https://api.axiom.co"

var axiomProvider = &provider{
	Provider: connections.Provider{
		Name:  "axiom",
		Title: "Axiom",
		Fields: []config.Field{
			{Name: "token", Secret: true, Required: true, Env: "AXIOM_TOKEN", Help: "an API token (xaat- or xapt-) with query access to the datasets"},
			{Name: "dataset", Env: "AXIOM_DATASET", Help: "the dataset searched when a call names none"},
			{Name: "org_id", Env: "AXIOM_ORG_ID", Help: "organization ID, needed with personal tokens (xapt-)"},
			{Name: "base_url", Help: "API base URL, default " + axiomDefaultBaseURL + " (EU: https://api.eu.axiom.co)"},
		},
		DefaultName: func(config.Values) string { return "axiom" },
	},
	open: openAxiom,
}

type axiom struct {
	fetchOps
	api     *httpapi.Client
	dataset string
}

func openAxiom(_ context.Context, v config.Values, o openOptions) (backend, error) {
	base, err := httpapi.BaseURL(v.Get("base_url"), axiomDefaultBaseURL, "base_url")
	if err != nil {
		return nil, err
	}
	token, org := v.Secret("token"), v.Get("org_id")
	a := &axiom{dataset: strings.TrimSpace(v.Get("dataset"))}
	a.api = &httpapi.Client{
		Service: "Axiom",
		BaseURL: base,
		Auth: func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token.Reveal())
			if org != "" {
				r.Header.Set("X-Axiom-Org-Id", org)
			}
		},
		Hints: map[int]string{
			http.StatusForbidden: "The token needs query access to this dataset; a personal token (xapt-) also needs org_id.",
		},
		UserAgent: "opstower",
	}
	a.fetchOps = fetchOps{f: a, maxScan: hostedMaxScan}
	return a, nil
}

func (a *axiom) lookback() time.Duration { return hostedLookback }
func (a *axiom) close() error            { return nil }
func (a *axiom) extent(context.Context, string) (timerange.Range, bool) {
	return noExtent()
}
func (a *axiom) nativeFilter() string { return "Axiom: an APL where predicate" }

type axiomDataset struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Created     string `json:"created"`
	Kind        string `json:"kind"`
}

func (a *axiom) datasets(ctx context.Context) ([]axiomDataset, error) {
	var ds []axiomDataset
	if _, err := a.api.GetJSON(ctx, "/v2/datasets", nil, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

func (a *axiom) sources(ctx context.Context, pattern string) (*SourceTable, error) {
	ds, err := a.datasets(ctx)
	if err != nil {
		return nil, err
	}
	t := &SourceTable{Columns: []render.Column{{Name: "dataset"}, {Name: "kind"}, {Name: "created"}, {Name: "description"}}}
	for _, d := range ds {
		if pattern != "" && !containsFold(d.Name, pattern) {
			continue
		}
		t.Rows = append(t.Rows, []string{d.Name, d.Kind, d.Created, d.Description})
	}
	if a.dataset != "" {
		t.Note = "Default dataset: " + a.dataset + "."
	}
	return t, nil
}

// axiomTabular is the tabular query result: column-major values.
type axiomTabular struct {
	Status struct {
		RowsExamined int64 `json:"rowsExamined"`
		RowsMatched  int64 `json:"rowsMatched"`
		ElapsedTime  int64 `json:"elapsedTime"`
		IsPartial    bool  `json:"isPartial"`
		Messages     []struct {
			Priority string `json:"priority"`
			Msg      string `json:"msg"`
		} `json:"messages"`
	} `json:"status"`
	Tables []struct {
		Name   string `json:"name"`
		Fields []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"fields"`
		Columns [][]any `json:"columns"`
	} `json:"tables"`
}

// axiomPartial says that Axiom stopped the query at a limit of its own
// (isPartial), so the answer covers part of the data only.
const axiomPartial = "Axiom answered with partial results (it stopped the query at one of its own limits): narrow since/until or filter more."

// aplString quotes s as an APL string literal.
func aplString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// aplDataset quotes a dataset name for APL: ['name'].
func aplDataset(name string) string {
	return "['" + strings.ReplaceAll(name, "'", `\'`) + "']"
}

func (a *axiom) query(ctx context.Context, apl string, r timerange.Range) (*axiomTabular, error) {
	body := map[string]any{"apl": apl}
	if !r.Start.IsZero() {
		body["startTime"] = r.Start.UTC().Format(time.RFC3339Nano)
		body["endTime"] = r.End.UTC().Format(time.RFC3339Nano)
	}
	var res axiomTabular
	_, err := a.api.JSON(ctx, httpapi.Request{Method: http.MethodPost, Path: "/v1/datasets/_apl", Query: map[string][]string{"format": {"tabular"}}, Body: body, What: "dataset"}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// unknownDataset turns a 404 into a did-you-mean.
func (a *axiom) unknownDataset(ctx context.Context, name string, err error) error {
	if !httpapi.IsNotFound(err) {
		return err
	}
	var names []string
	if ds, lerr := a.datasets(ctx); lerr == nil {
		for _, d := range ds {
			names = append(names, d.Name)
		}
	}
	return toolkit.Errorf("Axiom has no dataset %q that this token can read%s", name, logtext.DidYouMean(name, names))
}

func (a *axiom) fetch(ctx context.Context, f *filter, max int, fn func(*Event) bool) (scanInfo, error) {
	ds := f.Source
	if ds == "" {
		ds = a.dataset
	}
	if ds == "" {
		return scanInfo{}, toolkit.Errorf("pass source: the Axiom dataset to search (list_log_sources lists them), or set dataset on the connection")
	}
	apl := aplDataset(ds)
	if f.Text != "" {
		apl += " | search " + aplString(f.Text)
	}
	if f.Native != "" {
		apl += " | where " + f.Native
	}
	apl += fmt.Sprintf(" | sort by _time desc | limit %d", max)
	res, err := a.query(ctx, apl, f.Range)
	if err != nil {
		return scanInfo{}, a.unknownDataset(ctx, ds, err)
	}
	info := scanInfo{Sources: []string{ds}}
	if len(res.Tables) == 0 {
		return info, nil
	}
	tab := res.Tables[0]
	rows := 0
	if len(tab.Columns) > 0 {
		rows = len(tab.Columns[0])
	}
	info.Scanned = fmt.Sprintf("%s events of %s examined in dataset %s", render.Count(rows), render.Count(int(res.Status.RowsExamined)), ds)
	if res.Status.IsPartial {
		info.Notes = append(info.Notes, axiomPartial)
	}
	rec := map[string]any{}
	for i := 0; i < rows; i++ {
		clear(rec)
		for c, fd := range tab.Fields {
			if c < len(tab.Columns) && i < len(tab.Columns[c]) && fd.Name != "_sysTime" && fd.Name != "_rowId" {
				rec[fd.Name] = tab.Columns[c][i]
			}
		}
		e := RecordEvent(rec, ds)
		if !fn(&e) {
			break
		}
	}
	return info, nil
}

// aplArgs are axiom_query's arguments.
type aplArgs struct {
	Connection string `json:"connection,omitempty" jsonschema:"which connection"`
	APL        string `json:"apl" jsonschema:"APL query, e.g. ['logs'] | where level == 'error' | summarize count() by bin(_time, 5m)"`
	Since      string `json:"since,omitempty" jsonschema:"start: 15m, 2h, 7d, a date or RFC 3339; default 24h ago"`
	Until      string `json:"until,omitempty" jsonschema:"end; default now"`
	Limit      int    `json:"limit,omitempty" jsonschema:"rows to show, default 100"`
}

// runAPL is the axiom_query tool: APL as written, results as CSV.
func (h *handlers) runAPL(ctx context.Context, in aplArgs) (string, error) {
	c, err := h.conns.Of("axiom").Pick(in.Connection)
	if err != nil {
		return "", err
	}
	a := c.Backend.(*axiom)
	apl := strings.TrimSpace(in.APL)
	if apl == "" {
		return "", toolkit.Errorf("apl is empty; start with the dataset, e.g. ['%s'] | where level == 'error' | take 20", first(a.dataset, "DATASET"))
	}
	r, err := timerange.Parse(in.Since, in.Until, time.Now(), hostedLookback)
	if err != nil {
		return "", toolkit.Errorf("%v", err)
	}
	limit, err := h.rowLimit(in.Limit)
	if err != nil {
		return "", err
	}
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	start := time.Now()
	res, err := a.query(ctx, apl, r)
	if err != nil {
		var se *httpapi.StatusError
		if ok := asStatus(err, &se); ok && se.Status == http.StatusBadRequest {
			return "", toolkit.Errorf("Axiom rejected the APL: %s", se.Message)
		}
		if ok := asStatus(err, &se); ok && se.Status == http.StatusNotFound {
			return "", a.unknownDataset(ctx, datasetOf(apl), err)
		}
		return "", h.backendError(ctx, c, err)
	}
	if len(res.Tables) == 0 || len(res.Tables[0].Columns) == 0 || len(res.Tables[0].Columns[0]) == 0 {
		return fmt.Sprintf("The query returned no rows in %s (%s rows examined). Check the dataset and field names (log_fields lists fields), or widen since/until.", r, render.Count(int(res.Status.RowsExamined))), nil
	}
	tab := res.Tables[0]
	cols := make([]render.Column, len(tab.Fields))
	for i, fd := range tab.Fields {
		cols[i] = render.Column{Name: fd.Name, Type: fd.Type}
	}
	t := render.NewTable(cols, limit, h.limits.Bytes)
	rows := len(tab.Columns[0])
	cells := make([][]byte, len(cols))
	for i := 0; i < rows; i++ {
		for c := range cols {
			cells[c] = nil
			if c < len(tab.Columns) && i < len(tab.Columns[c]) && tab.Columns[c][i] != nil {
				cells[c] = []byte(logtext.OneLine(anyText(tab.Columns[c][i])))
			}
		}
		if !t.Add(cells) {
			break
		}
	}
	summary := fmt.Sprintf("%s rows (%s examined, %s matched) in %s; %s.", render.Count(rows), render.Count(int(res.Status.RowsExamined)), render.Count(int(res.Status.RowsMatched)), r, logtext.Millis(time.Since(start)))
	if res.Status.IsPartial {
		summary += " " + axiomPartial
	}
	for _, m := range res.Status.Messages {
		summary += " Axiom " + m.Priority + ": " + m.Msg + "."
	}
	return t.Render(summary, "Aggregate in APL (summarize, top, take) or narrow since/until."), nil
}

// datasetOf reads the dataset an APL query starts with.
func datasetOf(apl string) string {
	s := strings.TrimSpace(apl)
	if strings.HasPrefix(s, "['") {
		if i := strings.Index(s, "']"); i > 2 {
			return s[2:i]
		}
	}
	if i := strings.IndexAny(s, " |\n"); i > 0 {
		return s[:i]
	}
	return s
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
