// Package logstest holds what the tests of package logs and of the
// providers registered from outside it (package cloudlogs) share: the
// times of the story their fixtures tell, and small assertions.
package logstest

import (
	"strings"
	"testing"
	"time"
)

// The fixtures tell one story: a checkout service runs quietly from 10:00
// to 12:00 UTC on 2026-03-01, and from 11:00 to 11:10 its database
// connections time out. Local logs in every format and the fakes of Axiom,
// CloudWatch and Cloud Logging carry it, so every parser and provider is
// checked against the same facts.
var (
	Start        = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	IncidentFrom = Start.Add(time.Hour)
	IncidentTo   = IncidentFrom.Add(10 * time.Minute)
)

// Must fails the test on an error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ContainsAll checks that got contains every one of wants; what names the
// check in failures.
func ContainsAll(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, got)
		}
	}
}
