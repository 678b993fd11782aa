package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNeverPrinted(t *testing.T) {
	s := New("hunter2-canary")
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "pw", s)
	js, _ := json.Marshal(struct{ P String }{s})
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %+v %#v", s, s, s, s, s, s), string(js), logs.String(),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2-canary" {
		t.Error("Reveal lost the value")
	}
	if (String{}).String() != "" || !(String{}).IsZero() {
		t.Error("the zero secret should be empty")
	}
}

func TestScrub(t *testing.T) {
	New("p@ss/word-canary")
	got := Scrub("dial failed for postgres://u:p%40ss%2Fword-canary@h and p@ss/word-canary")
	if strings.Contains(got, "canary") {
		t.Errorf("not scrubbed: %s", got)
	}
	New("ab") // too short to scrub from free text
	if got := Scrub("a tab b"); got != "a tab b" {
		t.Errorf("short secret mangled text: %s", got)
	}
}

func TestRedactURL(t *testing.T) {
	got := RedactURL("postgres://app:topsecret@db:5432/app?sslmode=require&api_key=k123")
	if strings.Contains(got, "topsecret") || strings.Contains(got, "k123") || !strings.Contains(got, "db:5432/app") {
		t.Errorf("got %s", got)
	}
}
