package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/timerange"
)

// What the hosted providers share: how many events one analysing call
// reads, and how a structured record becomes an event.

// hostedMaxScan is how many events a count or signature call reads from a
// hosted provider; past it, results cover the newest events and say so.
const hostedMaxScan = 5000

// hostedLookback is the default window for hosted providers.
const hostedLookback = 24 * time.Hour

// noExtent is the extent of hosted providers: unknown, so windows apply.
func noExtent() (timerange.Range, bool) { return timerange.Range{}, false }

// RecordEvent turns a flat record (an Axiom row, a Workers event, a JSON
// payload) into an event: the usual time, level and message keys are
// picked out, the rest become fields in key order.
func RecordEvent(rec map[string]any, source string) Event {
	e := Event{Source: source}
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var raw strings.Builder
	for _, k := range keys {
		v := rec[k]
		switch {
		case e.Time.IsZero() && slices.Contains(timeKeys, k):
			if t, ok := anyTime(v); ok {
				e.Time = t
				continue
			}
		case e.Level == levelUnknown && slices.Contains(levelKeys, k):
			if s, ok := v.(string); ok {
				if lv := levelOf([]byte(s)); lv != levelUnknown {
					e.Level = lv
					continue
				}
			}
		case e.Message == "" && slices.Contains(msgKeys, k):
			if s, ok := v.(string); ok {
				e.Message = s
				continue
			}
		}
		if v == nil {
			continue
		}
		val := anyText(v)
		e.Fields = append(e.Fields, Field{Key: k, Value: val})
		raw.WriteString(" " + k + "=" + val)
	}
	e.Raw = e.Message + raw.String()
	return e
}

// anyText shows a decoded JSON value: strings as they are, numbers with
// their digits, the rest as compact JSON.
func anyText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(b.String())
}

func anyTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		return parseTime([]byte(x), 0)
	case json.Number:
		return epochNumber([]byte(x.String()))
	case float64:
		return epochNumber([]byte(strconv.FormatFloat(x, 'f', -1, 64)))
	}
	return time.Time{}, false
}
