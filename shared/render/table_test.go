package render

import (
	"encoding/csv"
	"strings"
	"testing"
)

func TestTableQuotingKeepsNullAndEmptyApart(t *testing.T) {
	tb := NewTable([]Column{{"id", "int8"}, {"note", "text"}}, 10, 4096)
	rows := [][][]byte{
		{[]byte("1"), nil},
		{[]byte("2"), []byte("")},
		{[]byte("3"), []byte(`a "quoted", multi` + "\nline")},
		{[]byte("4"), []byte(" padded ")},
		{[]byte("5"), []byte("NULL")},
	}
	for _, r := range rows {
		if !tb.Add(r) {
			t.Fatal("table full too early")
		}
	}
	out := tb.Render("5 rows.", "")
	body := out[strings.Index(out, ">\n")+2 : strings.Index(out, "</untrusted")]
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, out)
	}
	if recs[0][0] != "id:int8" || recs[3][1] != "a \"quoted\", multi\nline" || recs[4][1] != " padded " {
		t.Errorf("got %q", recs)
	}
	for _, want := range []string{"\n1,\n", "\n2,\"\"\n", "\n5,NULL\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "[cut]") {
		t.Errorf("nothing was cut:\n%s", out)
	}
}

func TestTableCaps(t *testing.T) {
	tb := NewTable([]Column{{"n", ""}}, 3, 4096)
	for i := 0; i < 3; i++ {
		tb.Add([][]byte{[]byte("x")})
	}
	if tb.Add([][]byte{[]byte("x")}) || !tb.Full() || tb.Rows() != 3 {
		t.Fatal("the fourth row should be refused")
	}
	if out := tb.Render("", "Add a filter."); !strings.Contains(out, "[cut] Cut at the 3-row limit: more rows exist. Add a filter.") {
		t.Errorf("footer: %s", out)
	}

	tb = NewTable([]Column{{"v", ""}}, 1000, 2048)
	n := 0
	for tb.Add([][]byte{[]byte(strings.Repeat("y", 100))}) {
		n++
	}
	out := tb.Render("summary", "")
	if len(out) > 2048 || !strings.Contains(out, "text cap was reached") || n == 0 {
		t.Errorf("%d bytes, %d rows:\n%s", len(out), n, out)
	}

	tb = NewTable([]Column{{"v", ""}}, 10, 1<<20)
	tb.Add([][]byte{[]byte(strings.Repeat("é", 1000))}) // 2000 bytes, cut inside a rune
	out = tb.Render("", "")
	if !strings.Contains(out, "…[+976 bytes]") || !strings.Contains(out, "values longer than 1 KB were shortened") {
		t.Errorf("cell cap:\n%s", out[len(out)-300:])
	}
}

func TestFenceIsUnique(t *testing.T) {
	a, _ := Fence()
	b, _ := Fence()
	if a == b || !strings.HasPrefix(a, "<untrusted-data-") {
		t.Errorf("%s %s", a, b)
	}
}

func TestCapAndNumbers(t *testing.T) {
	text, cut := Cap(strings.Repeat("ä", 600), 500, "Narrow it.")
	if !cut || len(text) > 500 || !strings.HasSuffix(text, "Narrow it.") {
		t.Errorf("%d %q", len(text), text[len(text)-80:])
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 48211: "48,211", -1234567: "-1,234,567"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %s", n, got)
		}
	}
	if Bytes(16384) != "16 KB" || Bytes(1536) != "1.5 KB" || Bytes(100) != "100 B" {
		t.Error(Bytes(16384), Bytes(1536), Bytes(100))
	}
}
