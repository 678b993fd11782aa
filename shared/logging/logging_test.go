package logging

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/secret"
)

func TestScrubsEveryField(t *testing.T) {
	secret.New("canary-logging-secret")
	for _, format := range []string{"text", "json"} {
		var b strings.Builder
		l, err := New(&b, Options{Level: "debug", Format: format})
		if err != nil {
			t.Fatal(err)
		}
		l.With("dsn", "postgres://u:canary-logging-secret@h").WithGroup("g").Debug("connect canary-logging-secret",
			"err", errors.New("auth canary-logging-secret"), slog.Group("inner", "v", "canary-logging-secret"), "any", []string{"canary-logging-secret"})
		if strings.Contains(b.String(), "canary") || !strings.Contains(b.String(), secret.Redacted) {
			t.Errorf("%s: %s", format, b.String())
		}
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(nil, Options{Level: "verbose"}); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("got %v", err)
	}
	if _, err := New(nil, Options{Format: "xml"}); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("got %v", err)
	}
}

func TestQuietHidesInfoUnlessDebug(t *testing.T) {
	var b strings.Builder
	l, _ := New(&b, Options{})
	q := Quiet(l)
	q.Info("session started")
	q.Warn("something odd")
	if strings.Contains(b.String(), "session started") || !strings.Contains(b.String(), "something odd") {
		t.Errorf("got %q", b.String())
	}
	b.Reset()
	d, _ := New(&b, Options{Level: "debug"})
	Quiet(d).Info("session started")
	if !strings.Contains(b.String(), "session started") {
		t.Error("debug level should see everything")
	}
}
