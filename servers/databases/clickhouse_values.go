package databases

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// chValues scans one row of a result and formats it exactly: integers in
// full (UInt64, Int128...), decimals with all their digits, floats in
// shortest round-trip form, times with their zone, and arrays, tuples and
// maps in ClickHouse's own literal syntax. Strings are passed through as
// bytes. Formatting follows the column's ClickHouse type, because the Go
// values lose some of it (a named tuple arrives as a Go map).
type chValues struct {
	types []*chType
	dests []any
	maps  []*chOrderedMap // top-level Map columns, reset before each row
	buf   []byte
	out   [][]byte
}

func newCHValues(cts []driver.ColumnType) *chValues {
	v := &chValues{
		types: make([]*chType, len(cts)),
		dests: make([]any, len(cts)),
		out:   make([][]byte, len(cts)),
		buf:   make([]byte, 0, 512), // non-nil, so an empty value is not NULL
	}
	for i, ct := range cts {
		v.types[i] = parseCHType(ct.DatabaseTypeName())
		if v.types[i].name == "Map" {
			m := &chOrderedMap{}
			v.maps = append(v.maps, m)
			v.dests[i] = m // keeps the server's key order, which a Go map loses
			continue
		}
		v.dests[i] = reflect.New(ct.ScanType()).Interface()
	}
	return v
}

func (v *chValues) reset() {
	for _, m := range v.maps {
		m.keys, m.vals = m.keys[:0], m.vals[:0]
	}
}

// cells formats the scanned row; nil cells are NULL.
func (v *chValues) cells() [][]byte {
	v.buf = v.buf[:0]
	bounds := make([][2]int, len(v.dests))
	for i, d := range v.dests {
		val := reflect.ValueOf(d).Elem()
		if _, ok := d.(*chOrderedMap); ok {
			val = reflect.ValueOf(d)
		}
		if isNull(val) {
			bounds[i] = [2]int{-1, -1}
			continue
		}
		start := len(v.buf)
		v.buf = appendCH(v.buf, val, v.types[i], false)
		bounds[i] = [2]int{start, len(v.buf)}
	}
	for i, b := range bounds {
		if b[0] < 0 {
			v.out[i] = nil
		} else {
			v.out[i] = v.buf[b[0]:b[1]]
		}
	}
	return v.out
}

func isNull(v reflect.Value) bool {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return true
		}
		if _, ok := v.Interface().(*big.Int); ok {
			return false
		}
		v = v.Elem()
	}
	return !v.IsValid()
}

// chType is a parsed ClickHouse type name such as
// Array(Tuple(id UInt64, tags Array(LowCardinality(String)))).
type chType struct {
	name  string    // Array, Tuple, DateTime64, String...
	args  []string  // the raw arguments: "18", " 2", "'Asia/Tokyo'"
	elems []*chType // element types of composite types
	names []string  // element names of a named Tuple ("" when unnamed)
}

// chGeo are the geo types, which are aliases of composite types.
var chGeo = map[string]string{
	"Point": "Tuple(Float64, Float64)", "Ring": "Array(Point)", "LineString": "Array(Point)",
	"MultiLineString": "Array(LineString)", "Polygon": "Array(Ring)", "MultiPolygon": "Array(Polygon)",
}

func parseCHType(s string) *chType {
	s = strings.TrimSpace(s)
	if alias, ok := chGeo[s]; ok {
		return parseCHType(alias)
	}
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return &chType{name: s}
	}
	t := &chType{name: s[:open], args: splitTopLevel(s[open+1:len(s)-1], ',')}
	switch t.name {
	case "Array", "Nullable", "LowCardinality", "Map", "Tuple", "Nested", "Variant":
		for _, a := range t.args {
			name, typ := splitNamedElem(a)
			t.names = append(t.names, name)
			t.elems = append(t.elems, parseCHType(typ))
		}
	case "SimpleAggregateFunction":
		if len(t.args) > 1 {
			t.elems = []*chType{parseCHType(t.args[len(t.args)-1])}
		}
	}
	if t.name == "Nested" { // Nested(a T, b U) is Array(Tuple(a T, b U))
		t = &chType{name: "Array", elems: []*chType{{name: "Tuple", elems: t.elems, names: t.names}}}
	}
	return t
}

// splitTopLevel splits s at sep outside parentheses and quotes.
func splitTopLevel(s string, sep byte) []string {
	var out []string
	start := 0
	for _, i := range topLevel(s, sep) {
		out = append(out, strings.TrimSpace(s[start:i]))
		start = i + 1
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// topLevel returns the positions of c in s outside parentheses and
// quoted text (ClickHouse quotes with ', ` and ", escaping with \).
func topLevel(s string, c byte) []int {
	var at []int
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case quote != 0:
			if b == '\\' {
				i++
			} else if b == quote {
				quote = 0
			}
		case b == '\'' || b == '`' || b == '"':
			quote = b
		case b == '(':
			depth++
		case b == ')':
			depth--
		case b == c && depth == 0:
			at = append(at, i)
		}
	}
	return at
}

// splitNamedElem splits "name Type" (a named tuple element); a type alone
// has no space outside its parentheses and quotes.
func splitNamedElem(a string) (name, typ string) {
	parts := splitTopLevel(a, ' ')
	if len(parts) < 2 {
		return "", a
	}
	name = strings.Trim(parts[0], "`\"")
	return name, strings.TrimSpace(a[len(parts[0]):])
}

// base strips the wrappers that do not change how a value is written.
func (t *chType) base() *chType {
	for t != nil && (t.name == "Nullable" || t.name == "LowCardinality" || t.name == "SimpleAggregateFunction") && len(t.elems) > 0 {
		t = t.elems[0]
	}
	if t == nil {
		return &chType{}
	}
	return t
}

func (t *chType) elem(i int) *chType {
	if i < len(t.elems) {
		return t.elems[i]
	}
	return &chType{}
}

var bigIntType = reflect.TypeFor[*big.Int]()

// appendCH appends v written as ClickHouse writes a value of type t. Inside
// an array, tuple or map (nested) strings, times and similar are quoted as
// ClickHouse literals; at the top level they are written as they are.
func appendCH(b []byte, v reflect.Value, t *chType, nested bool) []byte {
	t = t.base()
	if !v.IsValid() {
		return append(b, "NULL"...)
	}
	if m, ok := v.Interface().(*chOrderedMap); ok {
		return m.append(b, t)
	}
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.Type() != bigIntType {
		if v.IsNil() {
			return append(b, "NULL"...)
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return append(b, "NULL"...)
	}
	if out, ok := appendCHScalar(b, v, t, nested); ok {
		return out
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		open, closing := byte('['), byte(']')
		if t.name == "Tuple" {
			open, closing = '(', ')'
		}
		b = append(b, open)
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			et := t.elem(0)
			if t.name == "Tuple" {
				et = t.elem(i)
			}
			b = appendCH(b, v.Index(i), et, true)
		}
		return append(b, closing)
	case reflect.Map:
		if t.name == "Tuple" {
			return appendNamedTuple(b, v, t)
		}
		return appendMap(b, v, t)
	}
	return appendQuotedIf(b, []byte(strings.TrimSpace(fmtValue(v))), nested)
}

// appendCHScalar writes the values that are not containers.
func appendCHScalar(b []byte, v reflect.Value, t *chType, nested bool) ([]byte, bool) {
	switch x := v.Interface().(type) {
	case string:
		return appendQuotedIf(b, []byte(x), nested), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int8, int16, int32, int64, int:
		return strconv.AppendInt(b, v.Int(), 10), true
	case uint8, uint16, uint32, uint64, uint:
		return strconv.AppendUint(b, v.Uint(), 10), true
	case float32:
		return appendCHFloat(b, float64(x), 32), true
	case float64:
		return appendCHFloat(b, x, 64), true
	case decimal.Decimal:
		return append(b, x.String()...), true
	case *big.Int:
		return x.Append(b, 10), true
	case time.Time:
		return appendQuotedIf(b, appendCHTime(nil, x, t), nested), true
	case time.Duration:
		return appendQuotedIf(b, []byte(x.String()), nested), true
	case uuid.UUID:
		return appendQuotedIf(b, []byte(x.String()), nested), true
	case net.IP:
		return appendQuotedIf(b, []byte(x.String()), nested), true
	case netip.Addr:
		return appendQuotedIf(b, []byte(x.String()), nested), true
	}
	return b, false
}

// appendCHFloat writes the shortest digits that read back as the same
// float, without an exponent for the magnitudes people read, and nan/inf
// as ClickHouse does.
func appendCHFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, bits)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendCHTime writes dates as 2006-01-02 and times in RFC 3339 with their
// zone's offset, keeping a DateTime64's declared fractional digits.
func appendCHTime(b []byte, x time.Time, t *chType) []byte {
	switch t.name {
	case "Date", "Date32":
		return x.AppendFormat(b, "2006-01-02")
	case "DateTime":
		return x.AppendFormat(b, time.RFC3339)
	case "DateTime64":
		if len(t.args) > 0 {
			if p, err := strconv.Atoi(strings.TrimSpace(t.args[0])); err == nil && p > 0 && p <= 9 {
				return x.AppendFormat(b, "2006-01-02T15:04:05."+strings.Repeat("0", p)+"Z07:00")
			}
		}
		return x.AppendFormat(b, time.RFC3339)
	}
	return x.AppendFormat(b, time.RFC3339Nano)
}

// appendQuotedIf writes s as a ClickHouse string literal when nested,
// else as it is.
func appendQuotedIf(b, s []byte, nested bool) []byte {
	if !nested {
		return append(b, s...)
	}
	b = append(b, '\'')
	for _, c := range s {
		switch c {
		case '\'', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			b = append(b, '\\', '0')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// appendNamedTuple writes a named tuple, which the driver returns as a Go
// map, in the order of its type.
func appendNamedTuple(b []byte, v reflect.Value, t *chType) []byte {
	b = append(b, '(')
	for i, name := range t.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCH(b, v.MapIndex(reflect.ValueOf(name)), t.elem(i), true)
	}
	return append(b, ')')
}

// appendMap writes a Map nested in another value, which the driver returns
// as a Go map: keys in sorted order, as the server's order is lost.
func appendMap(b []byte, v reflect.Value, t *chType) []byte {
	type kv struct{ k, v []byte }
	var pairs []kv
	iter := v.MapRange()
	for iter.Next() {
		pairs = append(pairs, kv{appendCH(nil, iter.Key(), t.elem(0), true), appendCH(nil, iter.Value(), t.elem(1), true)})
	}
	slices.SortFunc(pairs, func(a, b kv) int { return cmp.Compare(string(a.k), string(b.k)) })
	b = append(b, '{')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, p.k...), ':'), p.v...)
	}
	return append(b, '}')
}

// chOrderedMap receives a top-level Map column in the server's key order.
type chOrderedMap struct{ keys, vals []any }

var _ column.IterableOrderedMap = (*chOrderedMap)(nil)

// Put implements column.IterableOrderedMap.
func (m *chOrderedMap) Put(k, v any) { m.keys, m.vals = append(m.keys, k), append(m.vals, v) }

// Iterator implements column.IterableOrderedMap.
func (m *chOrderedMap) Iterator() column.MapIterator { return &chMapIter{m: m, i: -1} }

func (m *chOrderedMap) append(b []byte, t *chType) []byte {
	b = append(b, '{')
	for i := range m.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCH(b, reflect.ValueOf(m.keys[i]), t.elem(0), true)
		b = append(b, ':')
		b = appendCH(b, reflect.ValueOf(m.vals[i]), t.elem(1), true)
	}
	return append(b, '}')
}

type chMapIter struct {
	m *chOrderedMap
	i int
}

func (it *chMapIter) Next() bool { it.i++; return it.i < len(it.m.keys) }
func (it *chMapIter) Key() any   { return it.m.keys[it.i] }
func (it *chMapIter) Value() any { return it.m.vals[it.i] }

// fmtValue formats a value of a type this file does not know (new types
// such as JSON or Variant) the way fmt does.
func fmtValue(v reflect.Value) string {
	if v.CanInterface() {
		if s, ok := v.Interface().(interface{ String() string }); ok {
			return s.String()
		}
	}
	return fmt.Sprint(v)
}
