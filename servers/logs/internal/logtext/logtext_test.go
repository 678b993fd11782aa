package logtext

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestText(t *testing.T) {
	cases := []struct{ got, want string }{
		{Shorten("héllo", 2), "h…"}, // never splits é
		{Shorten("hello", 5), "hello"},
		{OneLine("a\r\nb\nc"), "a⏎b⏎c"},
		{When(time.Time{}), "-"},
		{When(time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))), "2026-01-02T02:04:05Z"},
		{Millis(1500 * time.Microsecond), "2 ms"},
		{Millis(12340 * time.Millisecond), "12.3s"},
		{DidYouMean("api-gatway", []string{"api-gateway", "worker"}), "; did you mean api-gateway?"},
		{DidYouMean("x", nil), ""},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
	_, err := os.Open("/nonexistent/secret/path")
	if got := DescribeFileErr(err); got != "no such file" {
		t.Errorf("DescribeFileErr = %q", got)
	}
	if got := DescribeFileErr(fmt.Errorf("wrapped: %w", &os.PathError{Op: "open", Path: "/x/key.json", Err: os.ErrClosed})); got != os.ErrClosed.Error() {
		t.Errorf("DescribeFileErr keeps the path: %q", got)
	}
}
