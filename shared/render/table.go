// Package render turns results into the compact text a model reads: a
// one-line summary, a header written once, one line per row, and a footer
// that says what was cut and how to get the rest. Every result is bounded in
// rows, in bytes, and per value.
package render

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Column describes a result column: its name and its type as the backend
// names it (int8, numeric, DateTime64(3)...).
type Column struct {
	Name string
	Type string
}

// DefaultMaxCell is the longest single value shown before it is shortened.
const DefaultMaxCell = 1024

// footerReserve keeps room inside the byte cap for what Render adds around
// the rows: the summary line, the untrusted-data fence and the footer.
const footerReserve = 640

// Table accumulates rows as CSV within caps. Cells are written exactly as
// given (the backend's own text form, so no precision is lost). As in
// PostgreSQL's CSV format, NULL is an empty field and the empty string is
// written "", so the two stay apart at no cost per row.
type Table struct {
	MaxRows  int // rows accepted before Add reports the table full
	MaxBytes int // bytes of text, header and footer included
	MaxCell  int // bytes of one value before it is shortened

	buf      bytes.Buffer
	rows     int
	cutRows  bool // a row was refused because MaxRows was reached
	cutBytes bool // a row was refused because MaxBytes was reached
	cutCells int  // values shortened to MaxCell
	scratch  []byte
}

// NewTable starts a table with a header line of name:type cells.
func NewTable(cols []Column, maxRows, maxBytes int) *Table {
	t := &Table{MaxRows: maxRows, MaxBytes: maxBytes, MaxCell: DefaultMaxCell}
	for i, c := range cols {
		if i > 0 {
			t.buf.WriteByte(',')
		}
		h := c.Name
		if c.Type != "" {
			h += ":" + c.Type
		}
		t.writeCell([]byte(h))
	}
	t.buf.WriteByte('\n')
	return t
}

// Add appends one row; a nil cell is NULL. It returns false once the table
// is full, and the caller should stop reading: the row that did not fit is
// counted as evidence that more rows exist.
func (t *Table) Add(cells [][]byte) bool {
	if t.Full() {
		return false
	}
	if t.rows >= t.MaxRows {
		t.cutRows = true
		return false
	}
	mark := t.buf.Len()
	cut := 0
	for i, c := range cells {
		if i > 0 {
			t.buf.WriteByte(',')
		}
		if c == nil {
			continue // NULL: an empty field
		}
		if t.MaxCell > 0 && len(c) > t.MaxCell {
			c = t.shorten(c)
			cut++
		}
		t.writeCell(c)
	}
	t.buf.WriteByte('\n')
	if t.MaxBytes > 0 && t.buf.Len() > t.MaxBytes-footerReserve {
		t.buf.Truncate(mark)
		t.cutBytes = true
		return false
	}
	t.rows++
	t.cutCells += cut
	return true
}

// Full reports whether a row was refused.
func (t *Table) Full() bool { return t.cutRows || t.cutBytes }

// Rows is the number of rows accepted.
func (t *Table) Rows() int { return t.rows }

// Render returns the summary line, the rows fenced as untrusted data, and a
// footer when anything was cut. hint says how to get what was cut
// ("add a WHERE clause or raise limit").
func (t *Table) Render(summary, hint string) string {
	var b strings.Builder
	b.Grow(t.buf.Len() + len(summary) + 256)
	b.WriteString(summary)
	b.WriteByte('\n')
	open, closing := Fence()
	b.WriteString(open)
	b.WriteByte('\n')
	b.Write(t.buf.Bytes())
	b.WriteString(closing)
	b.WriteByte('\n')
	if f := t.footer(hint); f != "" {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

func (t *Table) footer(hint string) string {
	var parts []string
	switch {
	case t.cutBytes:
		parts = append(parts, fmt.Sprintf("Cut at %s rows: the %s text cap was reached and more rows exist.", Count(t.rows), Bytes(t.MaxBytes)))
	case t.cutRows:
		parts = append(parts, fmt.Sprintf("Cut at the %s-row limit: more rows exist.", Count(t.MaxRows)))
	}
	if t.cutCells > 0 {
		parts = append(parts, fmt.Sprintf("%s values longer than %s were shortened (marked …[+N bytes]).", Count(t.cutCells), Bytes(t.MaxCell)))
	}
	if len(parts) == 0 {
		return ""
	}
	if hint != "" {
		parts = append(parts, hint)
	}
	return "[cut] " + strings.Join(parts, " ")
}

// shorten cuts c to MaxCell bytes at a rune boundary and marks how much was
// left out.
func (t *Table) shorten(c []byte) []byte {
	n := t.MaxCell
	for n > 0 && !utf8.RuneStart(c[n]) {
		n--
	}
	t.scratch = append(t.scratch[:0], c[:n]...)
	t.scratch = fmt.Appendf(t.scratch, "…[+%d bytes]", len(c)-n)
	return t.scratch
}

// writeCell writes one CSV field, quoting it when it would otherwise be
// ambiguous: the empty string (an empty field is NULL), separators, quotes,
// line breaks and surrounding space.
func (t *Table) writeCell(c []byte) {
	if !needsQuotes(c) {
		t.buf.Write(c)
		return
	}
	t.buf.WriteByte('"')
	for {
		i := bytes.IndexByte(c, '"')
		if i < 0 {
			t.buf.Write(c)
			break
		}
		t.buf.Write(c[:i+1])
		t.buf.WriteByte('"')
		c = c[i+1:]
	}
	t.buf.WriteByte('"')
}

func needsQuotes(c []byte) bool {
	if len(c) == 0 {
		return true
	}
	if c[0] == ' ' || c[len(c)-1] == ' ' {
		return true
	}
	for _, b := range c {
		switch b {
		case ',', '"', '\n', '\r':
			return true
		}
	}
	return false
}
