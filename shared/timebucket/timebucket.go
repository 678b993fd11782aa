// Package timebucket counts events over time in fixed-width buckets, the
// way every server shows "how many, when" (log lines per 5 minutes, errors
// per hour): a round bucket width chosen for the window, counts per bucket
// and per group (a level, a status, a release), and a compact table a model
// reads without plotting. It knows nothing of where the events come from.
package timebucket

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// widths are the bucket widths Width picks from: round numbers people use
// when they read a chart.
var widths = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour,
}

// Width returns the smallest round width that splits span into at most
// target buckets (at least one second, at most a week).
func Width(span time.Duration, target int) time.Duration {
	if target < 1 {
		target = 1
	}
	for _, w := range widths {
		if span/w <= time.Duration(target) {
			return w
		}
	}
	return widths[len(widths)-1]
}

// ParseWidth reads a bucket width such as "5m", "1h" or "1d".
func ParseWidth(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("bucket %q is not a width of at least 1s; write 30s, 5m, 1h or 1d", s)
	}
	return d, nil
}

// Counts holds counts per bucket, optionally split by group. Buckets are
// aligned to multiples of Width since the Unix epoch (in UTC), so the same
// window always yields the same bucket edges.
type Counts struct {
	Start time.Time     // start of the first bucket
	Width time.Duration // bucket width
	total []int
	group map[string][]int
	// Outside counts events that fell outside [Start, Start+len*Width).
	Outside int
}

// New returns empty counts covering [start, end) in buckets of width.
func New(start, end time.Time, width time.Duration) *Counts {
	if width <= 0 {
		width = time.Minute
	}
	first := start.UTC().Truncate(width)
	n := int(end.Sub(first) / width)
	if end.Sub(first)%width != 0 || n == 0 {
		n++
	}
	return &Counts{Start: first, Width: width, total: make([]int, n), group: map[string][]int{}}
}

// Len is the number of buckets.
func (c *Counts) Len() int { return len(c.total) }

// Add counts one event at t in group g ("" for none).
func (c *Counts) Add(t time.Time, g string) { c.AddN(t, g, 1) }

// AddN counts n events at t in group g.
func (c *Counts) AddN(t time.Time, g string, n int) {
	i := c.index(t)
	if i < 0 {
		c.Outside += n
		return
	}
	c.total[i] += n
	if g != "" {
		gs := c.group[g]
		if gs == nil {
			gs = make([]int, len(c.total))
			c.group[g] = gs
		}
		gs[i] += n
	}
}

func (c *Counts) index(t time.Time) int {
	d := t.Sub(c.Start)
	if d < 0 {
		return -1
	}
	i := int(d / c.Width)
	if i >= len(c.total) {
		return -1
	}
	return i
}

// Merge adds o's counts, which must have the same start, width and length.
func (c *Counts) Merge(o *Counts) {
	for i, n := range o.total {
		c.total[i] += n
	}
	for g, gs := range o.group {
		mine := c.group[g]
		if mine == nil {
			mine = make([]int, len(c.total))
			c.group[g] = mine
		}
		for i, n := range gs {
			mine[i] += n
		}
	}
	c.Outside += o.Outside
}

// Total is the number of events counted inside the buckets.
func (c *Counts) Total() int {
	n := 0
	for _, v := range c.total {
		n += v
	}
	return n
}

// Bucket returns the start and total count of bucket i.
func (c *Counts) Bucket(i int) (time.Time, int) {
	return c.Start.Add(time.Duration(i) * c.Width), c.total[i]
}

// Groups returns the groups by descending total, then name.
func (c *Counts) Groups() []string {
	type gt struct {
		name string
		n    int
	}
	var all []gt
	for g, gs := range c.group {
		n := 0
		for _, v := range gs {
			n += v
		}
		all = append(all, gt{g, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].name < all[j].name
	})
	out := make([]string, len(all))
	for i, g := range all {
		out[i] = g.name
	}
	return out
}

// GroupCount is the count of group g in bucket i.
func (c *Counts) GroupCount(g string, i int) int {
	if gs := c.group[g]; gs != nil {
		return gs[i]
	}
	return 0
}

// Peak returns the index and count of the fullest bucket (-1 when empty).
func (c *Counts) Peak() (int, int) {
	best, bi := 0, -1
	for i, n := range c.total {
		if n > best {
			best, bi = n, i
		}
	}
	return bi, best
}

// TableOptions shape Table's output.
type TableOptions struct {
	// MaxGroups is how many groups get their own column; the rest are
	// summed into "other". Zero means 5.
	MaxGroups int
	// SkipEmpty leaves out runs of empty buckets longer than this many
	// (they are summarised in one line); zero keeps every bucket.
	SkipEmpty int
}

// Table writes the counts as CSV: bucket start, total, then one column per
// group, plus a bar of # marks scaled to the peak so a model sees the shape
// at a glance. Times are RFC 3339 in UTC, shortened to what the width needs.
func (c *Counts) Table(o TableOptions) string {
	maxGroups := o.MaxGroups
	if maxGroups == 0 {
		maxGroups = 5
	}
	groups := c.Groups()
	other := false
	if len(groups) > maxGroups {
		groups, other = groups[:maxGroups], true
	}
	var b strings.Builder
	b.WriteString("bucket,count")
	for _, g := range groups {
		b.WriteString("," + csvCell(g))
	}
	if other {
		b.WriteString(",other")
	}
	b.WriteString(",bar\n")
	_, peak := c.Peak()
	layout := Layout(c.Width)
	empty := 0
	flush := func(i int) {
		if empty == 0 {
			return
		}
		if o.SkipEmpty > 0 && empty > o.SkipEmpty {
			from, _ := c.Bucket(i - empty)
			to, _ := c.Bucket(i - 1)
			fmt.Fprintf(&b, "# %d empty buckets from %s to %s\n", empty, from.Format(layout), to.Format(layout))
		} else {
			for k := i - empty; k < i; k++ {
				c.row(&b, k, groups, other, peak, layout)
			}
		}
		empty = 0
	}
	for i := range c.total {
		if c.total[i] == 0 {
			empty++
			continue
		}
		flush(i)
		c.row(&b, i, groups, other, peak, layout)
	}
	flush(len(c.total))
	return b.String()
}

func (c *Counts) row(b *strings.Builder, i int, groups []string, other bool, peak int, layout string) {
	t, n := c.Bucket(i)
	b.WriteString(t.Format(layout))
	b.WriteString("," + strconv.Itoa(n))
	rest := n
	for _, g := range groups {
		v := c.GroupCount(g, i)
		rest -= v
		b.WriteString("," + strconv.Itoa(v))
	}
	if other {
		b.WriteString("," + strconv.Itoa(rest))
	}
	b.WriteByte(',')
	if peak > 0 && n > 0 {
		b.WriteString(strings.Repeat("#", max(1, n*20/peak)))
	}
	b.WriteByte('\n')
}

// Layout is the shortest time layout that tells buckets of width apart.
func Layout(width time.Duration) string {
	switch {
	case width < time.Minute:
		return "2006-01-02T15:04:05Z"
	case width < 24*time.Hour:
		return "2006-01-02T15:04Z"
	}
	return "2006-01-02"
}

func csvCell(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
