package databases

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

const d1DefaultBaseURL = "https://api.cloudflare.com/client/v4"

var d1Provider = &provider{
	Provider: connections.Provider{
		Name:    "d1",
		Aliases: []string{"cloudflare-d1"},
		Title:   "Cloudflare D1",
		Fields: []config.Field{
			{Name: "account_id", Required: true, Help: "the 32-character Account ID from the Cloudflare dashboard"},
			{Name: "database_id", Required: true, Help: "the database's UUID from Workers & Pages → D1"},
			{Name: "api_token", Secret: true, Required: true, Env: "CLOUDFLARE_API_TOKEN", Help: "an API token with the Account → D1 → Read permission"},
			{Name: "base_url", Help: "Cloudflare API base URL, default " + d1DefaultBaseURL},
		},
		DefaultName: func(config.Values) string { return "d1" },
	},
	schemes: []string{"d1"},
	open:    openD1,
}

// d1Engine queries a Cloudflare D1 database through Cloudflare's HTTP API
// (POST .../d1/database/{id}/raw), which returns rows as arrays in column
// order.
//
// D1 has no read-only session or transaction, so the read-only guarantee
// comes from two places. The first is the credential: the query and raw
// endpoints accept a token with only the "Account → D1 → Read" permission,
// and since Cloudflare's 2025 permission fixes such a token cannot run
// statements that modify the database; that is what users should create.
// The second is sqlguard, run by the tools and again here, which also
// guarantees that only one statement is ever sent: the API runs every
// statement of a semicolon-separated batch.
//
// It uses net/http rather than cloudflare-go: the SDK is a large generated
// module for the whole Cloudflare API, and it decodes rows into float64,
// which loses the digits of big integers. Here numbers are decoded with
// json.Number, so values keep exactly the digits the API sent.
type d1Engine struct {
	endpoint   string // .../accounts/{account}/d1/database/{database}/raw
	accountID  string
	databaseID string
	token      secret.String
	client     *http.Client
}

var (
	d1AccountRE  = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	d1DatabaseRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func openD1(v config.Values, _ config.Limits) (engine, error) {
	account, database := strings.TrimSpace(v.Get("account_id")), strings.TrimSpace(v.Get("database_id"))
	if !d1AccountRE.MatchString(account) {
		return nil, fmt.Errorf("account_id %q is not a Cloudflare account ID: copy the 32 hexadecimal characters shown as Account ID on the account's overview page", account)
	}
	if !d1DatabaseRE.MatchString(database) {
		return nil, fmt.Errorf("database_id %q is not a D1 database ID: copy the UUID (like a1b2c3d4-e5f6-7890-abcd-ef1234567890) shown on the database's page under Workers & Pages → D1; the database name does not work here", database)
	}
	base, err := httpapi.BaseURL(v.Get("base_url"), d1DefaultBaseURL, "base_url")
	if err != nil {
		return nil, err
	}
	return &d1Engine{
		endpoint:   base + "/accounts/" + url.PathEscape(account) + "/d1/database/" + url.PathEscape(database) + "/raw",
		accountID:  account,
		databaseID: database,
		token:      v.Secret("api_token"),
		client:     &http.Client{},
	}, nil
}

func (e *d1Engine) dialect() sqlguard.Dialect { return sqlguard.SQLite }

func (e *d1Engine) close() error {
	e.client.CloseIdleConnections()
	return nil
}

func (e *d1Engine) ping(ctx context.Context) error {
	_, err := e.exec(ctx, "SELECT 1", nil, &d1Collector{max: 1})
	return err
}

func (e *d1Engine) query(ctx context.Context, st sqlguard.Statement, s *sink) error {
	// The tools have checked st already; D1 would run every statement of a
	// batch, so check again right before the request.
	if _, err := sqlguard.Check(sqlguard.SQLite, st.SQL); err != nil {
		return err
	}
	_, err := e.exec(ctx, st.SQL, nil, &d1SinkWriter{s: s})
	return err
}

// d1Rows receives a statement's result while it is decoded.
type d1Rows interface {
	columns(names []string)
	// row takes one row (nil, json.Number, string, bool, []any for a BLOB)
	// and reports whether more rows are wanted.
	row(vals []any) bool
}

// d1SinkWriter feeds a tool's sink, formatting each value exactly.
type d1SinkWriter struct {
	s     *sink
	cells [][]byte
}

func (w *d1SinkWriter) columns(names []string) {
	cols := make([]render.Column, len(names))
	for i, n := range names {
		cols[i] = render.Column{Name: n}
	}
	w.s.columns(cols)
	w.cells = make([][]byte, len(names))
}

func (w *d1SinkWriter) row(vals []any) bool {
	for i := range w.cells {
		w.cells[i] = nil
		if i < len(vals) {
			w.cells[i] = d1Cell(vals[i])
		}
	}
	return w.s.add(w.cells)
}

// emptyCell is a non-nil empty value: an empty string, not NULL.
var emptyCell = []byte{}

// d1Cell is the text form of a decoded JSON value: numbers with the digits
// the API sent, BLOBs (arrays of bytes) as X'hex' literals, nil for NULL.
func d1Cell(v any) []byte {
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
	case []any:
		if b, ok := d1Blob(x); ok {
			return []byte("X'" + strings.ToUpper(hex.EncodeToString(b)) + "'")
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprint(v))
	}
	return out
}

// d1Blob reads a BLOB, which the API sends as an array of byte values.
func d1Blob(vals []any) ([]byte, bool) {
	b := make([]byte, len(vals))
	for i, v := range vals {
		n, ok := v.(json.Number)
		if !ok {
			return nil, false
		}
		x, err := strconv.ParseUint(n.String(), 10, 8)
		if err != nil {
			return nil, false
		}
		b[i] = byte(x)
	}
	return b, true
}

// d1Collector keeps up to max rows, for the engine's own catalog queries.
type d1Collector struct {
	max   int
	names []string
	rows  [][]any
}

func (c *d1Collector) columns(names []string) { c.names = names }

func (c *d1Collector) row(vals []any) bool {
	if len(c.rows) >= c.max {
		return false
	}
	c.rows = append(c.rows, vals)
	return true
}

// d1Meta is the statistics D1 returns with a result.
type d1Meta struct {
	Duration json.Number `json:"duration"` // milliseconds
	RowsRead json.Number `json:"rows_read"`
}

// d1Message is an entry of the errors or messages array of Cloudflare's
// response envelope.
type d1Message struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// d1Body is the request body of the raw endpoint: one statement and its
// positional parameters.
type d1Body struct {
	SQL    string   `json:"sql"`
	Params []string `json:"params,omitempty"`
}

// exec sends one statement and streams its rows into rows. Reading stops
// as soon as rows wants no more, so a large result is never held whole.
func (e *d1Engine) exec(ctx context.Context, sql string, params []string, rows d1Rows) (*d1Meta, error) {
	body, err := json.Marshal(d1Body{SQL: sql, Params: params})
	if err != nil {
		return nil, err
	}
	resp, err := sendWithRetry(ctx, e.client, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+e.token.Reveal())
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "opstower")
		return req, nil
	})
	if err != nil {
		return nil, e.transportErr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, e.statusErr(resp)
	}
	meta, err := readD1Envelope(json.NewDecoder(resp.Body), rows)
	if err != nil {
		return nil, e.decodeErr(ctx, err)
	}
	return meta, nil
}

// transportErr explains a request that got no answer.
func (e *d1Engine) transportErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("cannot reach the Cloudflare API at %s: %s", e.host(), secret.Scrub(err.Error()))
}

func (e *d1Engine) host() string {
	if u, err := url.Parse(e.endpoint); err == nil {
		return u.Host
	}
	return "the configured base_url"
}

// decodeErr explains a response that could not be read to its end.
func (e *d1Engine) decodeErr(ctx context.Context, err error) error {
	var qe *queryError
	switch {
	case errors.As(err, &qe):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("the Cloudflare API sent a response that is not D1's JSON format: %s", secret.Scrub(err.Error()))
}

// statusErr turns an HTTP error answer into a message that says what to
// fix. Every text taken from the response is scrubbed of secrets.
func (e *d1Engine) statusErr(resp *http.Response) error {
	msgs := readD1Errors(resp.Body)
	detail := d1Detail(msgs)
	switch code := resp.StatusCode; {
	case code == http.StatusBadRequest && d1IsSQLError(msgs):
		return d1SQLError(detail)
	case code == http.StatusUnauthorized || d1IsTokenFormatError(msgs):
		return fmt.Errorf("Cloudflare rejected the API token (HTTP %d%s): check api_token (or CLOUDFLARE_API_TOKEN); create a token with the Account → D1 → Read permission under My Profile → API Tokens", code, detail)
	case code == http.StatusForbidden:
		return fmt.Errorf("Cloudflare refused the API token for this D1 database (HTTP 403%s): the token needs the Account → D1 → Read permission with account %s in its Account Resources; also check that api_token holds the whole token", detail, e.accountID)
	case code == http.StatusNotFound:
		return fmt.Errorf("Cloudflare found no D1 database %s in account %s (HTTP 404%s): check database_id and account_id on the database's page under Workers & Pages → D1", e.databaseID, e.accountID, detail)
	case code == http.StatusTooManyRequests:
		return fmt.Errorf("Cloudflare's API rate limit was reached (HTTP 429%s); %s", detail, retryHint(resp.Header))
	case code >= 500:
		return fmt.Errorf("the Cloudflare API failed (HTTP %d%s); this is on Cloudflare's side, try again in a minute", code, detail)
	}
	return fmt.Errorf("the Cloudflare API answered HTTP %d%s", resp.StatusCode, detail)
}

// readD1Errors reads the errors of an error response, if it has Cloudflare's
// envelope.
func readD1Errors(body io.Reader) []d1Message {
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var env struct {
		Errors []d1Message `json:"errors"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Errors) > 0 {
		return env.Errors
	}
	if text := strings.TrimSpace(string(raw)); text != "" && len(text) < 300 && !strings.HasPrefix(text, "<") {
		return []d1Message{{Message: text}}
	}
	return nil
}

// d1Detail formats error messages as ": message (code N); ..." for an
// error line.
func d1Detail(msgs []d1Message) string {
	var parts []string
	for _, m := range msgs {
		p := strings.TrimSpace(m.Message)
		if m.Code != 0 {
			p += fmt.Sprintf(" (code %d)", m.Code)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + secret.Scrub(strings.Join(parts, "; "))
}

// d1SQLErrorCode is the code Cloudflare gives to errors raised by the
// database itself.
const d1SQLErrorCode = 7500

func d1IsSQLError(msgs []d1Message) bool {
	for _, m := range msgs {
		if m.Code == d1SQLErrorCode || strings.Contains(m.Message, "SQLITE_") {
			return true
		}
	}
	return false
}

// d1IsTokenFormatError spots Cloudflare's answers to a malformed
// Authorization header (a token pasted with spaces, or a Global API Key).
func d1IsTokenFormatError(msgs []d1Message) bool {
	for _, m := range msgs {
		if m.Code == 6003 || m.Code == 6111 {
			return true
		}
	}
	return false
}

var (
	d1NoTable = regexp.MustCompile(`no such table: ([^\s:]+)`)
	// D1 wraps SQLite's message: "D1_ERROR: no such table: x: SQLITE_ERROR".
	d1ErrorSuffix = regexp.MustCompile(`:\s*SQLITE_[A-Z_]+\s*$`)
)

// d1SQLError turns a database error into a *queryError the model can act
// on, naming the missing table when there is one.
func d1SQLError(detail string) error {
	raw := strings.TrimPrefix(detail, ": ")
	msg := strings.TrimSuffix(raw, fmt.Sprintf(" (code %d)", d1SQLErrorCode))
	msg = d1ErrorSuffix.ReplaceAllString(strings.TrimPrefix(msg, "D1_ERROR: "), "")
	if msg == "" {
		msg = "the database could not run the statement"
	}
	qe := &queryError{msg: "D1: " + msg}
	if m := d1NoTable.FindStringSubmatch(msg); m != nil {
		qe.table = strings.TrimPrefix(m[1], "main.")
	}
	switch {
	case strings.Contains(raw, "not authorized") || strings.Contains(raw, "SQLITE_AUTH"):
		qe.msg += " (D1 does not allow this; its internal _cf_ tables cannot be read)"
	case strings.Contains(raw, "TOOBIG") || strings.Contains(raw, "too big") || strings.Contains(raw, "too large") || strings.Contains(raw, "exceeded"):
		qe.msg += " (the result or statement is over D1's size limits: add a LIMIT, select fewer or shorter columns, or aggregate in SQL)"
	}
	return qe
}

// readD1Envelope walks Cloudflare's envelope
// {"result":[{"results":{"columns":[...],"rows":[[...]]},"meta":{...},"success":true}],"errors":[],"messages":[],"success":true}
// without holding it whole, handing rows of the first statement's result to
// rows. It stops reading once rows wants no more.
func readD1Envelope(dec *json.Decoder, rows d1Rows) (*d1Meta, error) {
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	var meta d1Meta
	var errs []d1Message
	success := true
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "result":
			stop, err := readD1Results(dec, rows, &meta)
			if err != nil || stop {
				return &meta, err
			}
		case "errors":
			if err := dec.Decode(&errs); err != nil {
				return nil, err
			}
		case "success":
			if err := dec.Decode(&success); err != nil {
				return nil, err
			}
		default:
			if err := skipValue(dec); err != nil {
				return nil, err
			}
		}
	}
	if !success || len(errs) > 0 {
		return nil, d1SQLError(d1Detail(errs))
	}
	return &meta, nil
}

// readD1Results reads the result array: the first statement's result goes
// to rows; there is never more than one, but any others are skipped.
func readD1Results(dec *json.Decoder, rows d1Rows, meta *d1Meta) (stop bool, err error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return false, fmt.Errorf("result is %v, not an array", tok)
	}
	for i := 0; dec.More(); i++ {
		if i > 0 {
			if err := skipValue(dec); err != nil {
				return false, err
			}
			continue
		}
		if stop, err := readD1Statement(dec, rows, meta); err != nil || stop {
			return stop, err
		}
	}
	_, err = dec.Token() // ]
	return false, err
}

// readD1Statement reads {"results":{"columns":[...],"rows":[...]},"meta":{...},"success":true}.
func readD1Statement(dec *json.Decoder, rows d1Rows, meta *d1Meta) (stop bool, err error) {
	if err := expectDelim(dec, '{'); err != nil {
		return false, err
	}
	success, failure := true, ""
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return false, err
		}
		switch key {
		case "results":
			if stop, err := readD1Table(dec, rows); err != nil || stop {
				return stop, err
			}
		case "meta":
			if err := dec.Decode(meta); err != nil {
				return false, err
			}
		case "success":
			if err := dec.Decode(&success); err != nil {
				return false, err
			}
		case "error":
			if err := dec.Decode(&failure); err != nil {
				return false, err
			}
		default:
			if err := skipValue(dec); err != nil {
				return false, err
			}
		}
	}
	if !success || failure != "" {
		return false, d1SQLError(": " + secret.Scrub(failure))
	}
	_, err = dec.Token() // }
	return false, err
}

// readD1Table reads {"columns":[...],"rows":[[...],...]}. Rows that come
// before the columns are held until the columns are known.
func readD1Table(dec *json.Decoder, rows d1Rows) (stop bool, err error) {
	if err := expectDelim(dec, '{'); err != nil {
		return false, err
	}
	var early [][]any
	haveCols := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return false, err
		}
		switch key {
		case "columns":
			var names []string
			if err := dec.Decode(&names); err != nil {
				return false, err
			}
			rows.columns(names)
			haveCols = true
			for _, r := range early {
				if !rows.row(r) {
					return true, nil
				}
			}
			early = nil
		case "rows":
			stop, err := readD1Rows(dec, func(r []any) bool {
				if haveCols {
					return rows.row(r)
				}
				early = append(early, r)
				return true
			})
			if err != nil || stop {
				return stop, err
			}
		default:
			if err := skipValue(dec); err != nil {
				return false, err
			}
		}
	}
	_, err = dec.Token() // }
	return false, err
}

func readD1Rows(dec *json.Decoder, each func([]any) bool) (stop bool, err error) {
	if err := expectDelim(dec, '['); err != nil {
		return false, err
	}
	for dec.More() {
		var r []any
		if err := dec.Decode(&r); err != nil {
			return false, err
		}
		if !each(r) {
			return true, nil
		}
	}
	_, err = dec.Token() // ]
	return false, err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected an object key, found %v", tok)
	}
	return key, nil
}

func skipValue(dec *json.Decoder) error {
	var skip json.RawMessage
	return dec.Decode(&skip)
}

// maxRetryWait is the longest Retry-After a call waits out before retrying
// once; longer waits are reported to the model instead.
const maxRetryWait = 5 * time.Second

// sendWithRetry sends a request built by build and, when the API answers
// 429 with a Retry-After short enough to wait within the call's deadline,
// waits and sends it once more. Otherwise the 429 response is returned for
// the caller to explain. Supabase's REST engine uses it too.
func sendWithRetry(ctx context.Context, client *http.Client, build func() (*http.Request, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt > 0 {
			return resp, err
		}
		wait, ok := retryAfter(resp.Header, time.Now())
		if !ok || wait > maxRetryWait {
			return resp, nil
		}
		if deadline, has := ctx.Deadline(); has && time.Until(deadline) < wait+time.Second {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// retryHint tells the model when to try again after a 429.
func retryHint(h http.Header) string {
	if wait, ok := retryAfter(h, time.Now()); ok {
		return fmt.Sprintf("retry in %s, and make fewer calls meanwhile", wait.Round(time.Second))
	}
	return "wait a minute before retrying, and make fewer calls meanwhile"
}

// d1ListSQL lists tables, views and virtual tables, leaving out SQLite's
// own and D1's internal (_cf_...) tables, which D1 refuses to read. wr
// marks WITHOUT ROWID tables, which have no rowid to estimate from.
const d1ListSQL = `SELECT name, type, wr FROM pragma_table_list
WHERE schema = 'main' AND type IN ('table', 'view', 'virtual')
  AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY name`

// d1MaxListed bounds list_tables; the tool shows at most this many anyway.
const d1MaxListed = 1000

func (e *d1Engine) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	if schema != "" && schema != "main" {
		return nil, nil
	}
	c := &d1Collector{max: d1MaxListed}
	if _, err := e.exec(ctx, d1ListSQL, nil, c); err != nil {
		return nil, err
	}
	out := make([]tableInfo, 0, len(c.rows))
	var rowid []int // tables whose size can be estimated
	for _, r := range c.rows {
		t := tableInfo{Name: d1String(r, 0), Kind: d1String(r, 1), Rows: -1, Bytes: -1}
		if t.Kind == "table" && d1String(r, 2) == "0" {
			rowid = append(rowid, len(out))
		}
		out = append(out, t)
	}
	e.estimateRows(ctx, out, rowid)
	return out, nil
}

func d1String(r []any, i int) string {
	if i >= len(r) || r[i] == nil {
		return ""
	}
	return string(d1Cell(r[i]))
}

// d1EstimateBatch bounds how many tables one estimate statement covers.
const d1EstimateBatch = 100

// estimateRows fills in row estimates from each rowid table's largest
// rowid: one index seek per table, where count(*) would read (and D1 would
// bill) every row. It is exact for tables without deletions, and is left
// at -1 when it does not answer within a short budget.
func (e *d1Engine) estimateRows(ctx context.Context, tabs []tableInfo, idx []int) {
	if len(idx) > d1EstimateBatch {
		idx = idx[:d1EstimateBatch]
	}
	if len(idx) == 0 {
		return
	}
	var b strings.Builder
	for n, i := range idx {
		if n > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT %d, (SELECT max(rowid) FROM %s)", i, quoteIdent(tabs[i].Name))
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c := &d1Collector{max: len(idx)}
	if _, err := e.exec(ctx, b.String(), nil, c); err != nil {
		return
	}
	for _, r := range c.rows {
		i, err := strconv.Atoi(d1String(r, 0))
		if err != nil || i < 0 || i >= len(tabs) {
			continue
		}
		n, _ := strconv.ParseInt(d1String(r, 1), 10, 64) // NULL: an empty table
		tabs[i].Rows = n
	}
}

// quoteIdent quotes an SQL identifier with double quotes.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// d1DescribeSQL reads a table's kind, columns, foreign keys and indexes in
// one statement, so describe_table costs one round trip to Cloudflare
// (plus one for the row estimate). part orders the sections.
const d1DescribeSQL = `WITH t AS (
  SELECT name, type, wr FROM pragma_table_list
  WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name = ?1 COLLATE NOCASE
    AND name NOT LIKE '\_cf\_%' ESCAPE '\'
  LIMIT 1)
SELECT 0 AS part, 0 AS seq, t.name, t.type, t.wr, NULL, NULL FROM t
UNION ALL
SELECT 1, c.cid, c.name, c.type, c."notnull", c.dflt_value, c.pk
FROM t, pragma_table_xinfo(t.name) AS c WHERE c.hidden IN (0, 2, 3)
UNION ALL
SELECT 2, f.id * 10000 + f.seq, f."from", f."table", COALESCE(f."to", ''), f.on_delete, f.id
FROM t, pragma_foreign_key_list(t.name) AS f
UNION ALL
SELECT 3, 0, i.name, i.sql, NULL, NULL, NULL
FROM t, sqlite_master AS i WHERE i.type = 'index' AND i.tbl_name = t.name AND i.sql IS NOT NULL
ORDER BY 1, 2, 3`

func (e *d1Engine) describe(ctx context.Context, name string) (*tableDesc, error) {
	bare := strings.TrimPrefix(name, "main.")
	c := &d1Collector{max: 10000}
	if _, err := e.exec(ctx, d1DescribeSQL, []string{bare}, c); err != nil {
		return nil, err
	}
	if len(c.rows) == 0 || d1String(c.rows[0], 0) != "0" {
		return nil, &notFoundError{name: name}
	}
	d := &tableDesc{Name: d1String(c.rows[0], 2), Kind: d1String(c.rows[0], 3), Rows: -1}
	var pk []string
	fks := map[string]*d1ForeignKey{}
	var fkOrder []string
	for _, r := range c.rows[1:] {
		switch d1String(r, 0) {
		case "1":
			col := columnDesc{Name: d1String(r, 2), Type: d1String(r, 3), Default: d1String(r, 5)}
			col.Nullable = d1String(r, 4) == "0" && d1String(r, 6) == "0"
			if d1String(r, 6) != "0" {
				pk = append(pk, col.Name)
			}
			d.Columns = append(d.Columns, col)
		case "2":
			id := d1String(r, 6)
			fk, ok := fks[id]
			if !ok {
				fk = &d1ForeignKey{table: d1String(r, 3), onDelete: d1String(r, 5)}
				fks[id] = fk
				fkOrder = append(fkOrder, id)
			}
			fk.from = append(fk.from, d1String(r, 2))
			fk.to = append(fk.to, d1String(r, 4))
		case "3":
			d.Indexes = append(d.Indexes, d1String(r, 3))
		}
	}
	if len(pk) > 0 {
		d.Constraints = append(d.Constraints, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
	}
	for _, id := range fkOrder {
		d.Constraints = append(d.Constraints, fks[id].String())
	}
	if d.Kind == "table" && d1String(c.rows[0], 4) == "0" {
		tabs := []tableInfo{{Name: d.Name, Kind: d.Kind, Rows: -1}}
		e.estimateRows(ctx, tabs, []int{0})
		d.Rows = tabs[0].Rows
	}
	return d, nil
}

// d1ForeignKey is one (possibly multi-column) foreign key.
type d1ForeignKey struct {
	table, onDelete string
	from, to        []string
}

func (k *d1ForeignKey) String() string {
	s := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", strings.Join(k.from, ", "), k.table, strings.Join(k.to, ", "))
	if k.onDelete != "" && k.onDelete != "NO ACTION" {
		s += " ON DELETE " + k.onDelete
	}
	return s
}

func (e *d1Engine) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	if _, err := sqlguard.Check(sqlguard.SQLite, st.SQL); err != nil {
		return "", err
	}
	c := &d1Collector{max: 10000}
	if _, err := e.exec(ctx, "EXPLAIN QUERY PLAN "+st.SQL, nil, c); err != nil {
		return "", err
	}
	depth := map[string]int{}
	var b strings.Builder
	for _, r := range c.rows {
		id, parent := d1String(r, 0), d1String(r, 1)
		depth[id] = depth[parent] + 1
		b.WriteString(strings.Repeat("  ", depth[id]-1) + d1String(r, 3) + "\n")
	}
	if analyze {
		start := time.Now()
		n := &d1Counter{}
		meta, err := e.exec(ctx, st.SQL, nil, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "Ran in %s (D1 reports %s ms of SQL time and %s rows read) and returned %s rows; D1 reports no per-step timings.\n",
			ms(time.Since(start)), orUnknown(meta.Duration), orUnknown(meta.RowsRead), render.Count(n.n))
	}
	return b.String(), nil
}

func orUnknown(n json.Number) string {
	if n == "" {
		return "?"
	}
	return n.String()
}

// d1Counter counts rows without keeping them.
type d1Counter struct{ n int }

func (c *d1Counter) columns([]string) {}
func (c *d1Counter) row([]any) bool   { c.n++; return true }
