package code

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/toolkit"
)

// retryTransport retries GET requests that a host answered with 429 or a
// 5xx (and GitHub's secondary-limit 403 that carries Retry-After), waiting
// as Retry-After or the rate-limit reset header says, as long as the wait
// fits in the call's deadline. The GitHub and GitLab SDKs sit on top of it,
// so both retry the same way as shared/httpapi does for Bitbucket.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int           // default 2
	maxWait    time.Duration // longest single wait; default 10 s
}

func newHTTPClient() *http.Client {
	return &http.Client{Transport: &retryTransport{next: http.DefaultTransport}, Timeout: 60 * time.Second}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	retries, maxWait := t.maxRetries, t.maxWait
	if retries == 0 {
		retries = 2
	}
	if maxWait == 0 {
		maxWait = 10 * time.Second
	}
	for attempt := 0; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || attempt >= retries || (req.Method != http.MethodGet && req.Method != http.MethodHead) || !retryStatus(resp) {
			return resp, err
		}
		wait := retryWait(resp.Header, time.Now())
		if wait == 0 {
			d := 500 * time.Millisecond << attempt
			wait = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
		}
		if wait > maxWait {
			return resp, nil
		}
		if dl, ok := req.Context().Deadline(); ok && time.Until(dl) < wait+500*time.Millisecond {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		select {
		case <-time.After(wait):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
}

func retryStatus(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusForbidden:
		return resp.Header.Get("Retry-After") != ""
	}
	return false
}

// retryWait reads Retry-After, else a rate-limit reset time (GitHub's
// X-RateLimit-Reset, GitLab's RateLimit-Reset, both Unix seconds) when no
// requests remain.
func retryWait(h http.Header, now time.Time) time.Duration {
	if d := httpapi.RetryAfter(h, now); d > 0 {
		return d
	}
	for _, pair := range [][2]string{{"X-RateLimit-Remaining", "X-RateLimit-Reset"}, {"RateLimit-Remaining", "RateLimit-Reset"}} {
		if h.Get(pair[0]) == "0" {
			if reset, err := strconv.ParseInt(h.Get(pair[1]), 10, 64); err == nil {
				if d := time.Unix(reset, 0).Sub(now); d > 0 {
					return d
				}
			}
		}
	}
	return 0
}

// hostError explains a non-2xx answer from a code host in the words
// shared/httpapi uses, so every provider fails the same way. what names
// the object for a 404. Upstream text is scrubbed of secrets.
func hostError(service string, status int, upstream string, h http.Header, what string) error {
	upstream = secret.Scrub(strings.Join(strings.Fields(upstream), " "))
	if len(upstream) > 300 {
		upstream = upstream[:300] + "…"
	}
	said := ""
	if upstream != "" {
		said = fmt.Sprintf(" %s said: %s", service, upstream)
	}
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("%s rejected the credentials (401): the token is wrong, expired or revoked; create a new one and update the connection.%s", service, said)
	case status == http.StatusTooManyRequests || (status == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0")):
		msg := fmt.Sprintf("%s is rate limiting these requests (%d)", service, status)
		if d := retryWait(h, time.Now()); d > 0 {
			msg += fmt.Sprintf("; retry after %s", d.Round(time.Second))
		}
		return fmt.Errorf("%s.%s", msg, said)
	case status == http.StatusForbidden:
		return toolkit.Errorf("%s refused access (403): the token lacks permission for this (repository contents need read access).%s", service, said)
	case status == http.StatusNotFound:
		if what == "" {
			what = "such resource"
		}
		return toolkit.Errorf("%s found no %s (404): check the name, and that the token can see it.%s", service, what, said)
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		return toolkit.Errorf("%s refused the request (%d).%s", service, status, said)
	case status >= 500:
		return fmt.Errorf("%s had a server error (%d); try again shortly.%s", service, status, said)
	}
	return fmt.Errorf("%s refused the request (%d).%s", service, status, said)
}

// transportError explains a request that got no answer.
func transportError(service string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return context.DeadlineExceeded
		}
		return fmt.Errorf("cannot reach %s: %s", service, secret.Scrub(ue.Err.Error()))
	}
	return fmt.Errorf("%s: %s", service, secret.Scrub(err.Error()))
}
