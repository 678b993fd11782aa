package timebucket

import (
	"strings"
	"testing"
	"time"
)

func TestWidth(t *testing.T) {
	for _, c := range []struct {
		span   time.Duration
		target int
		want   time.Duration
	}{
		{time.Hour, 60, time.Minute},
		{time.Hour, 12, 5 * time.Minute},
		{24 * time.Hour, 48, 30 * time.Minute},
		{7 * 24 * time.Hour, 60, 3 * time.Hour},
		{10 * time.Second, 60, time.Second},
		{1000 * 24 * time.Hour, 10, 7 * 24 * time.Hour},
	} {
		if got := Width(c.span, c.target); got != c.want {
			t.Errorf("Width(%s, %d) = %s, want %s", c.span, c.target, got, c.want)
		}
	}
}

func TestCountsAlignGroupAndRender(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	c := New(start, start.Add(time.Hour), 10*time.Minute)
	if !c.Start.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("first bucket should be aligned to 10:00, got %s", c.Start)
	}
	if c.Len() != 7 {
		t.Fatalf("10:00 to 11:02 in 10m buckets is 7 buckets, got %d", c.Len())
	}
	c.Add(start, "error")
	c.Add(start.Add(time.Minute), "info")
	c.Add(start.Add(35*time.Minute), "error")
	c.Add(start.Add(-time.Hour), "error")
	if c.Total() != 3 || c.Outside != 1 {
		t.Fatalf("total %d outside %d, want 3 and 1", c.Total(), c.Outside)
	}
	other := New(start, start.Add(time.Hour), 10*time.Minute)
	other.Add(start.Add(36*time.Minute), "warn")
	c.Merge(other)
	if i, n := c.Peak(); i != 0 || n != 2 {
		t.Fatalf("peak = bucket %d with %d, want bucket 0 with 2", i, n)
	}
	out := c.Table(TableOptions{MaxGroups: 1, SkipEmpty: 1})
	for _, want := range []string{
		"bucket,count,error,other,bar",
		"2026-03-01T10:00Z,2,1,1,####################",
		"# 2 empty buckets from 2026-03-01T10:10Z to 2026-03-01T10:20Z",
		"2026-03-01T10:30Z,2,1,1,####################",
		"# 3 empty buckets from 2026-03-01T10:40Z to 2026-03-01T11:00Z",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestParseWidth(t *testing.T) {
	if d, err := ParseWidth("1d"); err != nil || d != 24*time.Hour {
		t.Errorf("1d = %s, %v", d, err)
	}
	if _, err := ParseWidth("10ms"); err == nil {
		t.Error("10ms should be refused")
	}
}
