package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opstower/opstower/shared/secret"
)

func TestRetriesAfterRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123456" {
			t.Errorf("auth header missing")
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"detail":"slow down"}`))
			return
		}
		w.Write([]byte(`{"ok":true,"n":12345678901234567890}`))
	}))
	defer srv.Close()
	tok := secret.New("tok-123456")
	c := &Client{Service: "Example", BaseURL: srv.URL, Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Reveal()) }}
	var out struct {
		OK bool
		N  any
	}
	start := time.Now()
	if _, err := c.GetJSON(context.Background(), "/v1/things", nil, &out); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || !out.OK || time.Since(start) < time.Second {
		t.Fatalf("want one retry after 1s; calls=%d out=%+v", calls.Load(), out)
	}
	if s := out.N.(interface{ String() string }).String(); s != "12345678901234567890" {
		t.Fatalf("big number lost digits: %s", s)
	}
}

func TestErrorsExplain(t *testing.T) {
	cases := []struct {
		status int
		body   string
		header map[string]string
		want   []string
	}{
		{401, `{"detail":"Invalid token tok-123456"}`, nil, []string{"rejected the credentials (401)", "expired", "Invalid token [redacted]"}},
		{403, `{"message":"Resource not accessible"}`, nil, []string{"refused access (403)", "needs project:read", "Resource not accessible"}},
		{404, `{"detail":"The requested resource does not exist"}`, nil, []string{"found no issue 42 (404)"}},
		{429, `{"detail":"rate limited"}`, map[string]string{"Retry-After": "120"}, []string{"rate limiting", "retry after 2m0s"}},
		{503, `<html>oops</html>`, nil, []string{"server error (503)"}},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
			w.Write([]byte(tc.body))
		}))
		secret.New("tok-123456")
		c := &Client{Service: "Sentry", BaseURL: srv.URL, MaxRetries: -1, Hints: map[int]string{403: "The token needs project:read."}}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := c.Do(ctx, Request{Path: "/x", What: "issue 42"})
		cancel()
		srv.Close()
		if err == nil {
			t.Fatalf("%d: no error", tc.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: %q missing %q", tc.status, err, w)
			}
		}
		if strings.Contains(err.Error(), "tok-123456") {
			t.Errorf("%d: secret in error: %v", tc.status, err)
		}
	}
}

func TestNextLink(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"`)
	if got := NextLink(h); got != "https://sentry.io/api/0/x/?cursor=0:100:0" {
		t.Fatalf("got %q", got)
	}
	h = http.Header{}
	h.Add("Link", `<https://x/?c=1>; rel="next"; results="false"`)
	if got := NextLink(h); got != "" {
		t.Fatalf("empty next page should be none, got %q", got)
	}
	h = http.Header{}
	h.Add("Link", `<https://api.github.com/repos/o/r/commits?page=2>; rel="next", <https://api.github.com/repos/o/r/commits?page=5>; rel="last"`)
	if got := NextLink(h); !strings.HasSuffix(got, "page=2") {
		t.Fatalf("got %q", got)
	}
}
