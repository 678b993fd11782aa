package timerange

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		since, until string
		start, end   time.Time
	}{
		{"", "", now.Add(-time.Hour), now},
		{"2h", "", now.Add(-2 * time.Hour), now},
		{"7d", "1d", now.Add(-7 * 24 * time.Hour), now.Add(-24 * time.Hour)},
		{"2026-03-01", "2026-03-02", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"2026-03-10T11:30:00Z", "now", now.Add(-30 * time.Minute), now},
		{"30m ago", "", now.Add(-30 * time.Minute), now},
		{"1773100800", "", time.Unix(1773100800, 0), now},
	}
	for _, c := range cases {
		r, err := Parse(c.since, c.until, now, time.Hour)
		if err != nil {
			t.Errorf("%q..%q: %v", c.since, c.until, err)
			continue
		}
		if !r.Start.Equal(c.start) || !r.End.Equal(c.end) {
			t.Errorf("%q..%q: got %s", c.since, c.until, r)
		}
	}
}

func TestParseErrors(t *testing.T) {
	now := time.Now()
	for _, c := range []struct{ since, until, want string }{
		{"1h", "2h", "runs backwards"},
		{"2026-03-02", "2026-03-01", "swap them"},
		{"yesterday-ish", "", "cannot read"},
		{"", "soon", "until: cannot read"},
	} {
		_, err := Parse(c.since, c.until, now, time.Hour)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q..%q: got %v, want %q", c.since, c.until, err, c.want)
		}
	}
}
