package llm

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// retryTransport retries requests that failed with 408, 429 or 5xx, or
// could not reach the server, honouring Retry-After and Retry-After-Ms.
//
// The Anthropic and OpenAI SDKs do this themselves; genai does not retry
// generateContent unless told to, and its own retry ignores Retry-After, so
// the Gemini provider gets this transport instead.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	// base and maxDelay shape the exponential backoff used when the server
	// gives no Retry-After.
	base, maxDelay time.Duration
	// maxWait is the longest Retry-After honoured; a longer one fails the
	// request at once rather than hanging a chat for minutes.
	maxWait time.Duration
}

func newRetryTransport(next http.RoundTripper, maxRetries int) *retryTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &retryTransport{next: next, maxRetries: maxRetries, base: 500 * time.Millisecond, maxDelay: 8 * time.Second, maxWait: 60 * time.Second}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 || body != nil {
			r = req.Clone(req.Context())
			switch {
			case body != nil:
				r.Body = io.NopCloser(bytes.NewReader(body))
			case req.GetBody != nil:
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		res, err := t.next.RoundTrip(r)
		if attempt >= t.maxRetries || !retryable(res, err) || req.Context().Err() != nil {
			return res, err
		}
		wait, ok := retryAfter(res)
		if !ok {
			wait = backoff(t.base, t.maxDelay, attempt)
		}
		if wait > t.maxWait {
			return res, err
		}
		if res != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			_ = res.Body.Close()
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

func retryable(res *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch c := res.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return res.Header.Get("X-Should-Retry") != "false"
	}
	return false
}

// retryAfter reads Retry-After-Ms, then Retry-After as seconds or as an HTTP
// date.
func retryAfter(res *http.Response) (time.Duration, bool) {
	if res == nil {
		return 0, false
	}
	if v := res.Header.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := res.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(at)), true
	}
	return 0, false
}

// backoff is base·2ⁿ capped at maxDelay, less up to a quarter of jitter so
// that many clients do not retry in step.
func backoff(base, maxDelay time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 16)
	if d > maxDelay || d <= 0 {
		d = maxDelay
	}
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}
