package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseInterpolatesValuesNotStructure(t *testing.T) {
	doc := `
connections:
  - name: app
    provider: postgres
    url: ${DB_URL}
    password: ${DB_PASSWORD}
  - name: fallback
    provider: sqlite
    path: ${SHOP_DB:-./shop.db}
    note: price is $${not_a_var}
limits:
  rows: 50
  timeout: 20s
`
	f, err := Parse([]byte(doc), env(map[string]string{"DB_URL": "postgres://h/app", "DB_PASSWORD": "a: b\n- c # not yaml"}))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Connections[0]
	if c.Settings["url"] != "postgres://h/app" || c.Settings["password"] != "a: b\n- c # not yaml" || c.Line != 3 {
		t.Errorf("got %+v", c)
	}
	if f.Connections[1].Settings["path"] != "./shop.db" || f.Connections[1].Settings["note"] != "price is ${not_a_var}" {
		t.Errorf("got %+v", f.Connections[1].Settings)
	}
	if f.Limits.Rows != 50 || time.Duration(f.Limits.Timeout) != 20*time.Second {
		t.Errorf("limits %+v", f.Limits)
	}
}

func TestParseErrorsSayWhere(t *testing.T) {
	cases := map[string]string{
		"connections:\n  - name: a\n    provider: postgres\n    url: ${MISSING}\n": "line 4: environment variable MISSING is not set",
		"conections: []\n":                                                   `line 1: unknown key "conections"; did you mean "connections"?`,
		"limits:\n  rowz: 5\n":                                               `line 2: unknown key "rowz"; did you mean "rows"?`,
		"limits:\n  timeout: soon\n":                                         `line 2: "soon" is not a duration`,
		"limits:\n  rows: 5000\n  max_rows: 10\n":                            "rows (5000) is larger than max_rows (10)",
		"limits:\n  timeout: 2h\n":                                           "longer than the 10m0s maximum",
		"connections:\n  - name: x\n":                                        "needs a provider",
		"connections:\n  - name: x\n    provider: p\n    h: [1]\n":           `setting "h" must be a single value`,
		"connections:\n  - name: x\n    provider: p\n    url: ${BAD NAME}\n": "invalid variable name",
	}
	for doc, want := range cases {
		_, err := Parse([]byte(doc), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", doc, err, want)
		}
	}
}

func TestResolveFields(t *testing.T) {
	fields := []Field{{Name: "url", Secret: true, Required: true}, {Name: "token", Secret: true, Env: "TOKEN"}, {Name: "region"}}
	c := Connection{Name: "x", Provider: "p", Settings: map[string]string{"url": "postgres://u:pw-canary@h/db", "region": "eu"}}
	v, err := c.Resolve(fields, env(map[string]string{"TOKEN": "tok-canary"}))
	if err != nil {
		t.Fatal(err)
	}
	if v.Secret("url").Reveal() != "postgres://u:pw-canary@h/db" || v.Secret("token").Reveal() != "tok-canary" || v.Get("region") != "eu" {
		t.Errorf("got %+v", v)
	}
	c.Settings["regoin"] = "x"
	if _, err := c.Resolve(fields, nil); err == nil || !strings.Contains(err.Error(), `did you mean "region"`) {
		t.Errorf("got %v", err)
	}
	if _, err := (Connection{Name: "y", Provider: "p", Settings: map[string]string{}}).Resolve(fields, nil); err == nil || !strings.Contains(err.Error(), `needs "url"`) {
		t.Errorf("got %v", err)
	}
}
