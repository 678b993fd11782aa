// Package httpapi is the client every SaaS provider uses to call a JSON REST
// API the same way: base URL and auth headers, bounded response bodies,
// retries on 429 and 5xx that honour Retry-After within the caller's
// deadline, and errors that tell a model or a person what to do (a 401 says
// the token is wrong or expired, a 404 says which thing was not found).
// Upstream text in errors is scrubbed of secrets and shortened.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/secret"
)

// Client calls one service's API.
type Client struct {
	// Service names the API in error messages ("Sentry", "GitHub").
	Service string
	// BaseURL is prepended to relative paths.
	BaseURL string
	// Auth sets credentials on each request (Authorization, API key
	// headers). Values come from secret.String and are never logged.
	Auth func(*http.Request)
	// HTTP is the transport; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// MaxBody bounds a response body; default 16 MiB.
	MaxBody int64
	// MaxRetries is how often a 429 or 5xx is retried; default 2,
	// negative for none.
	MaxRetries int
	// MaxWait caps one wait before a retry; default 10 s. Longer
	// Retry-After values are reported instead of waited for.
	MaxWait time.Duration
	// Hints add service-specific advice to errors by status code, e.g.
	// 403: "the token needs the project:read scope".
	Hints map[int]string
	// UserAgent is sent with every request.
	UserAgent string
}

// Request describes one call.
type Request struct {
	Method string
	Path   string     // relative to BaseURL, or an absolute URL (pagination links)
	Query  url.Values // added to the URL
	Body   any        // JSON-encoded when not nil
	Header http.Header
	// What names the object for a 404 ("issue 123", "project web").
	What string
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Service    string
	Status     int
	Message    string        // the upstream message, scrubbed and shortened
	RetryAfter time.Duration // from Retry-After, when present
	advice     string
}

func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString(e.advice)
	if e.Message != "" {
		fmt.Fprintf(&b, " %s said: %s", e.Service, e.Message)
	}
	return b.String()
}

// IsNotFound reports whether err is a 404 from the service.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// GetJSON fetches path and decodes the JSON answer into out.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, out any) (*Response, error) {
	return c.JSON(ctx, Request{Method: http.MethodGet, Path: path, Query: query}, out)
}

// JSON performs r and decodes a JSON answer into out (when out is not nil).
func (c *Client) JSON(ctx context.Context, r Request, out any) (*Response, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	if out != nil && len(resp.Body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(resp.Body))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return nil, fmt.Errorf("%s returned a response that is not the expected JSON: %v", c.Service, err)
		}
	}
	return resp, nil
}

// Do performs r, retrying 429 and 5xx answers while the deadline allows.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	retries := c.MaxRetries
	if retries == 0 {
		retries = 2
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, r)
		if err == nil {
			return resp, nil
		}
		var se *StatusError
		if !errors.As(err, &se) || !retryable(se.Status) || attempt >= retries {
			return nil, err
		}
		wait := se.RetryAfter
		if wait == 0 {
			wait = backoff(attempt)
		}
		if wait > c.maxWait() || !fits(ctx, wait) {
			return nil, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return 10 * time.Second
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout || status == http.StatusInternalServerError
}

// backoff is 0.5 s, 1 s, 2 s... with jitter.
func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << attempt
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// fits reports whether waiting d still leaves time before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d+500*time.Millisecond
}

func (c *Client) once(ctx context.Context, r Request) (*Response, error) {
	u, err := c.url(r)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if r.Body != nil {
		raw, err := json.Marshal(r.Body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Auth != nil {
		c.Auth(req)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach %s at %s: %s", c.Service, req.URL.Host, secret.Scrub(unwrapURLError(err)))
	}
	defer resp.Body.Close()
	max := c.MaxBody
	if max == 0 {
		max = 16 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s's answer: %s", c.Service, secret.Scrub(err.Error()))
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s's answer is larger than %d MB; narrow the request (filters, a shorter time range, a smaller page)", c.Service, max>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp, data, r.What)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) url(r Request) (string, error) {
	raw := r.Path
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		raw = strings.TrimSuffix(c.BaseURL, "/") + "/" + strings.TrimPrefix(raw, "/")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid %s URL: %v", c.Service, err)
	}
	if len(r.Query) > 0 {
		q := u.Query()
		for k, vs := range r.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func (c *Client) statusError(resp *http.Response, body []byte, what string) *StatusError {
	e := &StatusError{Service: c.Service, Status: resp.StatusCode, Message: upstreamMessage(body)}
	e.RetryAfter = RetryAfter(resp.Header, time.Now())
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		e.advice = fmt.Sprintf("%s rejected the credentials (401): the token is wrong, expired or revoked; create a new one and update the connection.", c.Service)
	case resp.StatusCode == http.StatusForbidden:
		e.advice = fmt.Sprintf("%s refused access (403): the credentials lack permission for this.", c.Service)
	case resp.StatusCode == http.StatusNotFound:
		if what == "" {
			what = "the requested resource"
		}
		e.advice = fmt.Sprintf("%s found no %s (404): check the name or ID, and that the token can see it.", c.Service, what)
	case resp.StatusCode == http.StatusTooManyRequests:
		e.advice = fmt.Sprintf("%s is rate limiting these requests (429)", c.Service)
		if e.RetryAfter > 0 {
			e.advice += fmt.Sprintf("; retry after %s", e.RetryAfter.Round(time.Second))
		}
		e.advice += "."
	case resp.StatusCode >= 500:
		e.advice = fmt.Sprintf("%s had a server error (%d); try again shortly.", c.Service, resp.StatusCode)
	default:
		e.advice = fmt.Sprintf("%s refused the request (%d).", c.Service, resp.StatusCode)
	}
	if h := c.Hints[resp.StatusCode]; h != "" {
		e.advice += " " + h
	}
	return e
}

// upstreamMessage pulls a human message out of an error body: the common
// JSON fields, else the start of the text.
func upstreamMessage(body []byte) string {
	var m map[string]any
	msg := ""
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"message", "detail", "error_description", "error", "errors"} {
			if v, ok := m[k]; ok {
				msg = flatten(v)
				if msg != "" {
					break
				}
			}
		}
	} else {
		msg = strings.TrimSpace(string(body))
		if strings.HasPrefix(msg, "<") {
			msg = "" // an HTML error page says nothing useful
		}
	}
	msg = secret.Scrub(strings.Join(strings.Fields(msg), " "))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		for _, k := range []string{"message", "detail", "error"} {
			if s := flatten(x[k]); s != "" {
				return s
			}
		}
	case []any:
		var parts []string
		for _, e := range x {
			if s := flatten(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); zero
// when absent or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// NextLink returns the rel="next" URL of an RFC 8288 Link header (GitHub,
// Sentry and GitLab paginate this way), or "". Sentry marks an empty next
// page with results="false"; that counts as none.
func NextLink(h http.Header) string {
	for _, link := range h.Values("Link") {
		for _, part := range strings.Split(link, ",") {
			segs := strings.Split(part, ";")
			if len(segs) < 2 {
				continue
			}
			target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
			next, empty := false, false
			for _, p := range segs[1:] {
				p = strings.TrimSpace(p)
				switch {
				case p == `rel="next"` || p == "rel=next":
					next = true
				case p == `results="false"`:
					empty = true
				}
			}
			if next && !empty {
				return target
			}
		}
	}
	return ""
}
