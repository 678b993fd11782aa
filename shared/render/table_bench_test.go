package render

import (
	"strconv"
	"testing"
)

// benchRows returns n rows shaped like an orders table (the make bench
// data set): bigint, int, short text, numeric, char(3), timestamptz at
// microsecond precision, and a note that is NULL on half of the rows.
func benchRows(n int) [][][]byte {
	statuses := []string{"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}
	notes := []string{"leave at the front door", "gift wrap, please", "call before delivery, fragile"}
	rows := make([][][]byte, n)
	for i := range rows {
		var note []byte
		if i%2 == 1 {
			note = []byte(notes[i%len(notes)])
		}
		rows[i] = [][]byte{
			[]byte(strconv.Itoa(i + 1)),
			[]byte(strconv.Itoa(10000 + i*37%40000)),
			[]byte(statuses[i%len(statuses)]),
			[]byte(strconv.Itoa(5+i%600) + "." + strconv.Itoa(10+i%90)),
			[]byte("EUR"),
			[]byte("2025-03-14 09:26:53." + strconv.Itoa(100000+i*7919%900000) + "+00"),
			note,
		}
	}
	return rows
}

// BenchmarkTable100Rows measures what the query tool spends turning 100
// rows into text: header, CSV cells with quoting, and the fenced result.
func BenchmarkTable100Rows(b *testing.B) {
	cols := []Column{{"id", "int8"}, {"customer_id", "int4"}, {"status", "text"}, {"total", "numeric"},
		{"currency", "bpchar"}, {"created_at", "timestamptz"}, {"note", "text"}}
	rows := benchRows(100)
	var out string
	b.ReportAllocs()
	for b.Loop() {
		t := NewTable(cols, 100, 16<<10)
		for _, r := range rows {
			if !t.Add(r) {
				b.Fatal("the table refused one of 100 rows")
			}
		}
		out = t.Render("100 rows; 1.0 ms.", "")
	}
	b.ReportMetric(float64(len(out)), "text-bytes")
}
