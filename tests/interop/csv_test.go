package interop

import (
	"encoding/csv"
	"strings"
	"testing"
)

// csvRows extracts the data rows of a query result: the CSV between the
// untrusted-data fence lines, without its name:type header. Parsing it as
// CSV (rather than matching text) checks that quoting survives every
// client: commas, quotes and newlines inside values.
func csvRows(t *testing.T, text string) [][]string {
	t.Helper()
	start := strings.Index(text, "<untrusted-data-")
	if start < 0 {
		t.Fatalf("no data fence in the result:\n%s", text)
	}
	tag := text[start+1 : start+strings.IndexAny(text[start:], " >")]
	body := text[start+strings.IndexByte(text[start:], '\n')+1:]
	end := strings.Index(body, "</"+tag+">")
	if end < 0 {
		t.Fatalf("the data fence %s is not closed:\n%s", tag, text)
	}
	records, err := csv.NewReader(strings.NewReader(body[:end])).ReadAll()
	if err != nil {
		t.Fatalf("the rows are not valid CSV: %v\n%s", err, text)
	}
	if len(records) == 0 {
		t.Fatalf("no header line in the result:\n%s", text)
	}
	return records[1:]
}
