package main

import (
	"testing"
	"time"
)

// TestHasID checks that responses are matched to requests by exact id,
// including when a result's text mentions ids (its quotes are escaped).
func TestHasID(t *testing.T) {
	cases := []struct {
		line string
		id   string
		want bool
	}{
		{`{"jsonrpc":"2.0","id":7,"result":{}}`, `"id":7`, true},
		{`{"result":{},"jsonrpc":"2.0","id":7}`, `"id":7`, true},
		{`{"jsonrpc":"2.0","id":70,"result":{}}`, `"id":7`, false},
		{`{"jsonrpc":"2.0","id":3,"result":{"text":"{\"id\":7}"}}`, `"id":7`, false},
		{`{"jsonrpc":"2.0","method":"notifications/progress"}`, `"id":7`, false},
	}
	for _, c := range cases {
		if got := hasID([]byte(c.line), []byte(c.id)); got != c.want {
			t.Errorf("hasID(%s, %s) = %v, want %v", c.line, c.id, got, c.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 90: 90, 100: 100, 1: 1} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 19899489: "19,899,489", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
