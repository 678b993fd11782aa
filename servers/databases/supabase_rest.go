package databases

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

// supabaseREST reads a Supabase project through PostgREST (/rest/v1/) with
// the service-role key, for connections configured with the project URL
// and key rather than a connection string.
//
// It is read-only by construction: it only ever sends GET and HEAD
// requests, which PostgREST serves in read-only transactions; nothing it
// sends can insert, update, delete or call a function. list_tables and
// describe_table read PostgREST's OpenAPI document; query translates a
// subset of SELECT (see parseRestSQL) into one GET with Prefer:
// count=exact, so the result also says how many rows match in all;
// explain is not available.
type supabaseREST struct {
	base   string // https://REF.supabase.co/rest/v1
	key    secret.String
	jwt    bool // the key is a JWT (legacy service_role key), sent as a bearer token too
	client *http.Client

	mu    sync.Mutex
	specs map[string]*restSpec // by schema; "" is the API's default schema
}

// restSpecTTL is how long a fetched OpenAPI document is reused; tables
// created later show up after at most this long.
const restSpecTTL = 30 * time.Second

func newSupabaseREST(project *url.URL, key secret.String) *supabaseREST {
	return &supabaseREST{
		base:   strings.TrimSuffix(project.String(), "/") + "/rest/v1",
		key:    key,
		jwt:    strings.Count(key.Reveal(), ".") == 2 && strings.HasPrefix(key.Reveal(), "eyJ"),
		client: &http.Client{},
		specs:  map[string]*restSpec{},
	}
}

// checkServiceRoleKey rejects keys that cannot read every table: the
// publishable key, and legacy JWT keys whose role is anon.
func checkServiceRoleKey(key secret.String) error {
	k := key.Reveal()
	if strings.HasPrefix(k, "sb_publishable_") {
		return errors.New("service_role_key holds a publishable key, which Row Level Security limits; use a secret key (sb_secret_...) or the legacy service_role key from Project Settings → API Keys")
	}
	parts := strings.Split(k, ".")
	if len(parts) != 3 || !strings.HasPrefix(k, "eyJ") {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var claims struct {
		Role string `json:"role"`
	}
	if json.Unmarshal(payload, &claims) == nil && claims.Role == "anon" {
		return errors.New("service_role_key holds the anon key (its role is anon), which Row Level Security limits; copy the service_role key from Project Settings → API instead")
	}
	return nil
}

func (e *supabaseREST) dialect() sqlguard.Dialect { return sqlguard.Postgres }

func (e *supabaseREST) close() error {
	e.client.CloseIdleConnections()
	return nil
}

func (e *supabaseREST) ping(ctx context.Context) error {
	_, err := e.spec(ctx, "")
	return err
}

// restSpec is what the OpenAPI document says about the tables and views of
// one schema.
type restSpec struct {
	fetched time.Time
	tables  []*restTable // sorted by name
}

type restTable struct {
	name    string
	view    bool // PostgREST offers no writes on it
	comment string
	columns []restColumnSpec // in table order
}

type restColumnSpec struct {
	name, format, def, comment string
	nullable, pk               bool
	fkTable, fkColumn          string
}

// find returns the named table: an exact match, else the only match that
// differs in case.
func (s *restSpec) find(name string) *restTable {
	var folded []*restTable
	for _, t := range s.tables {
		if t.name == name {
			return t
		}
		if strings.EqualFold(t.name, name) {
			folded = append(folded, t)
		}
	}
	if len(folded) == 1 {
		return folded[0]
	}
	return nil
}

// spec returns the OpenAPI description of schema, fetched at most every
// restSpecTTL.
func (e *supabaseREST) spec(ctx context.Context, schema string) (*restSpec, error) {
	e.mu.Lock()
	s := e.specs[schema]
	e.mu.Unlock()
	if s != nil && time.Since(s.fetched) < restSpecTTL {
		return s, nil
	}
	resp, err := e.send(ctx, http.MethodGet, "/", nil, schema, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	s, err = parseRestSpec(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("the Supabase REST API at %s sent an OpenAPI document that cannot be read: %s", e.host(), secret.Scrub(err.Error()))
	}
	e.mu.Lock()
	e.specs[schema] = s
	e.mu.Unlock()
	return s, nil
}

// parseRestSpec reads PostgREST's OpenAPI 2.0 document: definitions hold
// one schema per table or view, with properties in column order (which a
// Go map would lose, so they are read token by token); paths tell tables,
// which offer POST, from read-only views.
func parseRestSpec(r io.Reader) (*restSpec, error) {
	var doc struct {
		Definitions map[string]json.RawMessage            `json:"definitions"`
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, err
	}
	s := &restSpec{fetched: time.Now()}
	for name, raw := range doc.Definitions {
		t, err := parseRestTable(name, raw)
		if err != nil {
			return nil, fmt.Errorf("definition %q: %w", name, err)
		}
		_, writable := doc.Paths["/"+name]["post"]
		t.view = !writable
		s.tables = append(s.tables, t)
	}
	sort.Slice(s.tables, func(i, j int) bool { return s.tables[i].name < s.tables[j].name })
	return s, nil
}

// restProperty is one column in the OpenAPI document.
type restProperty struct {
	Format      string          `json:"format"`
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Default     json.RawMessage `json:"default"`
	MaxLength   int             `json:"maxLength"`
}

var restFKNote = regexp.MustCompile(`<fk table='([^']*)' column='([^']*)'/>`)

func parseRestTable(name string, raw json.RawMessage) (*restTable, error) {
	var def struct {
		Description string          `json:"description"`
		Properties  json.RawMessage `json:"properties"`
		Required    []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		return nil, err
	}
	t := &restTable{name: name, comment: def.Description}
	required := map[string]bool{}
	for _, r := range def.Required {
		required[r] = true
	}
	if len(def.Properties) == 0 {
		return t, nil
	}
	dec := json.NewDecoder(bytes.NewReader(def.Properties))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		col, err := objectKey(dec)
		if err != nil {
			return nil, err
		}
		var p restProperty
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		t.columns = append(t.columns, restColumnFromProperty(col, p, required[col]))
	}
	return t, nil
}

func restColumnFromProperty(name string, p restProperty, required bool) restColumnSpec {
	c := restColumnSpec{name: name, format: p.Format, nullable: !required}
	if c.format == "" {
		c.format = p.Type
	}
	if p.MaxLength > 0 && c.format == "character varying" {
		c.format += "(" + strconv.Itoa(p.MaxLength) + ")"
	}
	if len(p.Default) > 0 {
		c.def = string(p.Default)
		var text string
		if json.Unmarshal(p.Default, &text) == nil {
			c.def = text
		}
	}
	comment, note, _ := strings.Cut(p.Description, "Note:\n")
	if !strings.Contains(p.Description, "Note:\n") {
		comment, note = p.Description, ""
	}
	c.comment = strings.TrimSpace(comment)
	c.pk = strings.Contains(note, "<pk/>")
	if m := restFKNote.FindStringSubmatch(note); m != nil {
		c.fkTable, c.fkColumn = m[1], m[2]
	}
	return c
}

func (e *supabaseREST) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	s, err := e.spec(ctx, schema)
	if err != nil {
		return nil, err
	}
	out := make([]tableInfo, len(s.tables))
	for i, t := range s.tables {
		kind := "table"
		if t.view {
			kind = "view"
		}
		comment, _, _ := strings.Cut(t.comment, "\n")
		out[i] = tableInfo{Schema: schema, Name: t.name, Kind: kind, Rows: -1, Bytes: -1, Comment: comment}
	}
	e.estimateRows(ctx, out)
	return out, nil
}

// restEstimates bounds the tables estimated per list_tables call.
const restEstimates = 50

// estimateRows asks PostgREST for the planner's row estimate of each table
// (HEAD with Prefer: count=planned, which reads no rows), a few at a time
// within a short budget; tables it does not reach stay unknown.
func (e *supabaseREST) estimateRows(ctx context.Context, tabs []tableInfo) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range tabs {
		if i >= restEstimates {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(t *tableInfo) {
			defer wg.Done()
			defer func() { <-sem }()
			if n, ok := e.rowCount(ctx, t.Schema, t.Name, nil, "planned"); ok {
				t.Rows = n
			}
		}(&tabs[i])
	}
	wg.Wait()
}

// rowCount sends HEAD with Prefer: count=... and reads the total from
// Content-Range.
func (e *supabaseREST) rowCount(ctx context.Context, schema, table string, params url.Values, count string) (int64, bool) {
	resp, err := e.send(ctx, http.MethodHead, "/"+url.PathEscape(table), params, schema, "count="+count)
	if err != nil {
		return 0, false
	}
	resp.Body.Close()
	return contentRangeTotal(resp.Header.Get("Content-Range"))
}

// contentRangeTotal reads the total of "0-24/3573" or "*/0".
func contentRangeTotal(h string) (int64, bool) {
	_, total, ok := strings.Cut(h, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

func (e *supabaseREST) describe(ctx context.Context, name string) (*tableDesc, error) {
	schema, bare := "", name
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		schema, bare = name[:i], name[i+1:]
	}
	s, err := e.spec(ctx, schema)
	if err != nil {
		return nil, err
	}
	t := s.find(bare)
	if t == nil {
		return nil, &notFoundError{name: name}
	}
	d := &tableDesc{Name: t.name, Kind: "table", Comment: t.comment, Rows: -1}
	if schema != "" {
		d.Name = schema + "." + t.name
	}
	if t.view {
		d.Kind = "view"
	}
	var pk []string
	for _, c := range t.columns {
		d.Columns = append(d.Columns, columnDesc{Name: c.name, Type: c.format, Nullable: c.nullable, Default: c.def, Comment: c.comment})
		if c.pk {
			pk = append(pk, c.name)
		}
		if c.fkTable != "" {
			d.Constraints = append(d.Constraints, fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", c.name, c.fkTable, c.fkColumn))
		}
	}
	if len(pk) > 0 {
		d.Constraints = append([]string{"PRIMARY KEY (" + strings.Join(pk, ", ") + ")"}, d.Constraints...)
	}
	d.Indexes = []string{"(the REST API does not show indexes; connect with the database connection string to see them)"}
	if n, ok := e.rowCount(ctx, schema, t.name, nil, "planned"); ok {
		d.Rows = n
	}
	return d, nil
}

func (e *supabaseREST) explain(context.Context, sqlguard.Statement, bool) (string, error) {
	return "", fmt.Errorf("%w over the Supabase REST API (project URL + service-role key); configure the connection with url, the database connection string from Project Settings → Database, to use explain", errNoExplain)
}

func (e *supabaseREST) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	if st.Kind != sqlguard.Select {
		return restUnsupported("SHOW and EXPLAIN statements are not supported")
	}
	q, err := parseRestSQL(st.SQL)
	if err != nil {
		return err
	}
	if q.count != "" {
		return e.countQuery(ctx, q, s)
	}
	header := e.header(ctx, q)
	resp, err := e.send(ctx, http.MethodGet, "/"+url.PathEscape(q.table), q.params(s.maxRows+1), q.schema, "count=exact")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := readRestRows(json.NewDecoder(resp.Body), header, s); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the Supabase REST API sent rows that cannot be read: %s", secret.Scrub(err.Error()))
	}
	if total, ok := contentRangeTotal(resp.Header.Get("Content-Range")); ok && s.full() {
		s.note = fmt.Sprintf("%s rows match in all.", render.Count(int(total)))
	}
	return nil
}

// countQuery answers SELECT count(*) from PostgREST's exact count.
func (e *supabaseREST) countQuery(ctx context.Context, q *restQuery, s *sink) error {
	resp, err := e.send(ctx, http.MethodHead, "/"+url.PathEscape(q.table), q.params(0), q.schema, "count=exact")
	if err != nil {
		return err
	}
	resp.Body.Close()
	total, ok := contentRangeTotal(resp.Header.Get("Content-Range"))
	if !ok {
		return fmt.Errorf("the Supabase REST API sent no row count (Content-Range %q)", resp.Header.Get("Content-Range"))
	}
	s.columns([]render.Column{{Name: q.count, Type: "bigint"}})
	s.add([][]byte{strconv.AppendInt(nil, total, 10)})
	return nil
}

// header is the result's columns: the select list, or the table's columns
// for *, with types from the OpenAPI document where it has them. Without
// the document, the rows' own keys name the columns; an unknown table is
// left for PostgREST to report (PGRST205).
func (e *supabaseREST) header(ctx context.Context, q *restQuery) []render.Column {
	spec, err := e.spec(ctx, q.schema)
	if err != nil {
		return restHeader(q, nil)
	}
	return restHeader(q, spec.find(q.table))
}

func restHeader(q *restQuery, t *restTable) []render.Column {
	types := map[string]string{}
	var all []render.Column
	if t != nil {
		for _, c := range t.columns {
			types[c.name] = c.format
			all = append(all, render.Column{Name: c.name, Type: c.format})
		}
	}
	if len(q.columns) == 0 {
		return all
	}
	cols := make([]render.Column, len(q.columns))
	for i, c := range q.columns {
		cols[i] = render.Column{Name: c.output(), Type: types[c.name]}
	}
	return cols
}

// readRestRows streams PostgREST's JSON array of row objects into the sink,
// stopping once it is full. Columns are header's; for * without a known
// header (or when the rows carry columns the header lacks, as after a
// schema change), the first row's keys, in order, are the columns.
func readRestRows(dec *json.Decoder, header []render.Column, s *sink) error {
	dec.UseNumber()
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	started := false
	var cells [][]byte
	for dec.More() {
		keys, vals, err := readRestObject(dec)
		if err != nil {
			return err
		}
		if !started {
			header = restReconcile(header, keys)
			s.columns(header)
			cells = make([][]byte, len(header))
			started = true
		}
		byKey := make(map[string]json.RawMessage, len(keys))
		for i, k := range keys {
			byKey[k] = vals[i]
		}
		for i, c := range header {
			cells[i] = restCell(byKey[c.Name])
		}
		if !s.add(cells) {
			return nil
		}
	}
	if !started {
		s.columns(header)
	}
	return nil
}

// restReconcile keeps header when every key of a row is in it; otherwise
// the row's own keys are the columns.
func restReconcile(header []render.Column, keys []string) []render.Column {
	known := map[string]bool{}
	for _, c := range header {
		known[c.Name] = true
	}
	for _, k := range keys {
		if !known[k] {
			cols := make([]render.Column, len(keys))
			for i, k := range keys {
				cols[i] = render.Column{Name: k}
			}
			return cols
		}
	}
	return header
}

// readRestObject reads one JSON object, keeping its keys in order.
func readRestObject(dec *json.Decoder) ([]string, []json.RawMessage, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, err
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		k, err := objectKey(dec)
		if err != nil {
			return nil, nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	_, err := dec.Token() // }
	return keys, vals, err
}

// restCell is the text of one JSON value: strings unquoted, numbers with
// the digits PostgreSQL sent (json.Number), JSON documents compact, and
// nil for null.
func restCell(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return emptyCell
		}
		return []byte(x)
	case json.Number:
		return []byte(x.String())
	case bool:
		return strconv.AppendBool(nil, x)
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// send makes one read request (GET or HEAD) and returns a 2xx response, or
// an error that says what to fix. schema, when set, picks a schema other
// than the API's default (Accept-Profile); prefer is PostgREST's Prefer
// header.
func (e *supabaseREST) send(ctx context.Context, method, path string, params url.Values, schema, prefer string) (*http.Response, error) {
	target := e.base + path
	if len(params) > 0 {
		target += "?" + params.Encode()
	}
	resp, err := sendWithRetry(ctx, e.client, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("apikey", e.key.Reveal())
		if e.jwt {
			req.Header.Set("Authorization", "Bearer "+e.key.Reveal())
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "opstower")
		if schema != "" {
			req.Header.Set("Accept-Profile", schema)
		}
		if prefer != "" {
			req.Header.Set("Prefer", prefer)
		}
		return req, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the Supabase REST API at %s: %s", e.host(), secret.Scrub(err.Error()))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, e.statusErr(resp)
}

func (e *supabaseREST) host() string {
	if u, err := url.Parse(e.base); err == nil {
		return u.Host
	}
	return "project_url"
}

// restError is PostgREST's error body ({"code","details","hint","message"});
// Supabase's gateway sends {"message","hint"} for key problems.
type restError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
	Hint    json.RawMessage `json:"hint"`
}

var restMissingTable = regexp.MustCompile(`Could not find the table '([^']+)'`)

// statusErr explains an error answer. Text from the response is scrubbed
// of secrets.
func (e *supabaseREST) statusErr(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var re restError
	if json.Unmarshal(raw, &re) != nil || re.Message == "" {
		if text := strings.TrimSpace(string(raw)); text != "" && len(text) < 300 && !strings.HasPrefix(text, "<") {
			re.Message = text
		}
	}
	detail := restDetail(re)
	said := ""
	if detail != "" {
		said = "\nSupabase said: " + detail
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return fmt.Errorf("Supabase rejected the key (HTTP 401): set service_role_key (or SUPABASE_SERVICE_ROLE_KEY) to the service_role key from Project Settings → API, and check that project_url names the same project%s", said)
	case code == http.StatusForbidden:
		return fmt.Errorf("Supabase refused the request (HTTP 403): use the service_role key, which Row Level Security and grants do not limit; the anon key is not enough%s", said)
	case code == http.StatusTooManyRequests:
		return fmt.Errorf("Supabase's rate limit was reached (HTTP 429); %s%s", retryHint(resp.Header), said)
	case code == http.StatusNotFound && re.Code == "PGRST205":
		qe := &queryError{msg: "Supabase: " + secret.Scrub(re.Message)}
		if m := restMissingTable.FindStringSubmatch(re.Message); m != nil {
			qe.table = m[1]
		}
		return qe
	case code == http.StatusNotFound && re.Code == "":
		return fmt.Errorf("Supabase answered HTTP 404 at %s: check project_url (https://PROJECT_REF.supabase.co from Project Settings → API)%s", e.host(), said)
	case code == http.StatusNotAcceptable && re.Code == "PGRST106":
		return &queryError{msg: "Supabase: " + detail + "\n(expose the schema under Project Settings → API → Exposed schemas, or use the database connection string)"}
	case re.Code == "57014":
		return &queryError{msg: "Supabase: " + detail + "\n(add filters or a smaller LIMIT)"}
	case code >= 500:
		return fmt.Errorf("the Supabase REST API failed (HTTP %d); if the project is paused (free projects pause after a week without activity), restore it from the dashboard, otherwise try again in a minute%s", code, said)
	case code >= 400 && re.Code != "":
		return &queryError{msg: "Supabase: " + detail}
	}
	return fmt.Errorf("the Supabase REST API answered HTTP %d%s", resp.StatusCode, said)
}

// restDetail formats an error body as "message (code X)\nDetail: ...\nHint: ...".
func restDetail(re restError) string {
	if re.Message == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(re.Message)
	if re.Code != "" {
		b.WriteString(" (" + re.Code + ")")
	}
	for _, part := range []struct {
		label string
		raw   json.RawMessage
	}{{"Detail", re.Details}, {"Hint", re.Hint}} {
		var text string
		if json.Unmarshal(part.raw, &text) == nil && text != "" {
			b.WriteString("\n" + part.label + ": " + text)
		}
	}
	return secret.Scrub(b.String())
}
