package connections_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

// The tests declare a small category, "widgets", the way a server does:
// its provider type embeds connections.Provider (from outside the
// package, which is how every category uses it) and adds its own open.

type widgetProvider struct {
	connections.Provider
	open func(v config.Values) (*widget, error)
}

// widget is the category's backend.
type widget struct {
	name, url string
	closed    bool
	closeErr  error
}

var (
	acme = &widgetProvider{
		Provider: connections.Provider{
			Name:    "acme",
			Aliases: []string{"acme-cloud"},
			Title:   "Acme Widgets",
			Fields: []config.Field{
				{Name: "url", Required: true, Help: "the Acme endpoint"},
				{Name: "token", Secret: true, Env: "ACME_TOKEN"},
			},
			DefaultName: func(v config.Values) string { return strings.TrimPrefix(v.Get("url"), "acme://") },
		},
		open: func(v config.Values) (*widget, error) { return &widget{url: v.Get("url")}, nil },
	}
	// bolt has no DefaultName: its connections are labelled "bolt".
	bolt = &widgetProvider{
		Provider: connections.Provider{Name: "bolt", Title: "Bolt", Fields: []config.Field{{Name: "path"}}},
		open: func(v config.Values) (*widget, error) {
			if v.Get("path") == "bad" {
				return nil, errors.New("path bad is not a bolt file")
			}
			return &widget{url: v.Get("path")}, nil
		},
	}
)

func registry() *connections.Registry[*widgetProvider, *widget] {
	return &connections.Registry[*widgetProvider, *widget]{
		Category:  "widgets",
		Noun:      "widget",
		Providers: []*widgetProvider{acme, bolt},
		// A connection with a path and no provider is a bolt file.
		Infer: func(c config.Connection) (*widgetProvider, error) {
			if c.Provider == "" && c.Settings["path"] != "" {
				return bolt, nil
			}
			if c.Provider == "guess" {
				return nil, errors.New("cannot guess")
			}
			return nil, nil
		},
		LabelHint: "give each a label (--widget NAME=URL)",
		Close: func(w *widget) error {
			w.closed = true
			return w.closeErr
		},
	}
}

// open opens conns the way a server's New does.
func open(conns []config.Connection, env map[string]string) (*connections.Set[*widgetProvider, *widget], error) {
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return registry().Open(conns, lookup, func(p *widgetProvider, name string, v config.Values) (*widget, error) {
		w, err := p.open(v)
		if w != nil {
			w.name = name
		}
		return w, err
	})
}

type opened struct{ Name, Provider, URL string }

func summary(s *connections.Set[*widgetProvider, *widget]) []opened {
	var out []opened
	for _, c := range s.All() {
		out = append(out, opened{c.Name, c.Provider.Name, c.Backend.url})
		if c.Backend.name != c.Name {
			panic("open was not given the label")
		}
	}
	return out
}

func TestOpen(t *testing.T) {
	cases := []struct {
		name  string
		conns []config.Connection
		want  []opened
	}{
		{"name, alias, any case", []config.Connection{
			{Name: "a", Provider: "acme", Settings: map[string]string{"url": "acme://one"}},
			{Name: "b", Provider: " ACME-Cloud ", Settings: map[string]string{"url": "acme://two"}},
		}, []opened{{"a", "acme", "acme://one"}, {"b", "acme", "acme://two"}}},
		{"default labels", []config.Connection{
			{Provider: "acme", Settings: map[string]string{"url": "acme://shop"}},
			{Provider: "bolt", Settings: map[string]string{}},
		}, []opened{{"shop", "acme", "acme://shop"}, {"bolt", "bolt", ""}}},
		{"inferred from settings", []config.Connection{
			{Settings: map[string]string{"path": "/data/w.bolt"}},
		}, []opened{{"bolt", "bolt", "/data/w.bolt"}}},
		{"other categories skipped", []config.Connection{
			{Name: "db", Category: "databases", Provider: "acme", Settings: map[string]string{"url": "x"}},
			{Name: "pg", Provider: "postgres", Settings: map[string]string{"url": "postgres://x"}},
			{Name: "w", Category: "widgets", Provider: "acme", Settings: map[string]string{"url": "acme://w"}},
		}, []opened{{"w", "acme", "acme://w"}}},
		{"nothing", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := open(c.conns, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, summary(s)); diff != "" {
				t.Errorf("opened (-want +got):\n%s", diff)
			}
			if s.Len() != len(c.want) {
				t.Errorf("Len() = %d, want %d", s.Len(), len(c.want))
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct {
		name  string
		conns []config.Connection
		want  string
	}{
		{"unknown provider of this category",
			[]config.Connection{{Name: "x", Category: "widgets", Provider: "zinc", Settings: map[string]string{}}},
			`connection "x": unknown widget provider "zinc"; known: acme, bolt`},
		{"Infer's error",
			[]config.Connection{{Name: "x", Provider: "guess", Settings: map[string]string{}}},
			"cannot guess"},
		{"settings checked against the fields",
			[]config.Connection{{Name: "x", Provider: "acme", Settings: map[string]string{"url": "acme://x", "tokn": "t"}}},
			`connection "x": unknown setting "tokn" for provider acme; did you mean "token"?`},
		{"an inferred provider is named in messages",
			[]config.Connection{{Settings: map[string]string{"path": "p", "size": "2"}}},
			`connection "bolt": unknown setting "size" for provider bolt; known settings: path`},
		{"required setting",
			[]config.Connection{{Name: "x", Provider: "acme", Settings: map[string]string{}}},
			`connection "x": provider acme needs "url" (the Acme endpoint)`},
		{"a label used twice",
			[]config.Connection{
				{Provider: "acme", Settings: map[string]string{"url": "acme://shop"}},
				{Name: "shop", Provider: "bolt", Settings: map[string]string{}},
			},
			`two widget connections are named "shop"; give each a label (--widget NAME=URL)`},
		{"open's error names the connection",
			[]config.Connection{{Name: "files", Provider: "bolt", Settings: map[string]string{"path": "bad"}}},
			`connection "files": path bad is not a bolt file`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := open(c.conns, nil)
			if err == nil {
				t.Fatalf("opened %v, want error %q", summary(s), c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error:\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

func TestOpenClosesWhatItOpenedOnError(t *testing.T) {
	var first *widget
	_, err := registry().Open([]config.Connection{
		{Name: "ok", Provider: "bolt", Settings: map[string]string{"path": "good"}},
		{Name: "broken", Provider: "bolt", Settings: map[string]string{"path": "bad"}},
	}, nil, func(p *widgetProvider, name string, v config.Values) (*widget, error) {
		w, err := p.open(v)
		if first == nil {
			first = w
		}
		return w, err
	})
	if err == nil {
		t.Fatal("want an error")
	}
	if !first.closed {
		t.Error("the connection opened before the failing one was not closed")
	}
}

func TestOpenLooksUpTheEnvironment(t *testing.T) {
	var got string
	open := func(_ *widgetProvider, _ string, v config.Values) (*widget, error) {
		got = v.Secret("token").Reveal()
		return &widget{}, nil
	}
	conns := []config.Connection{{Provider: "acme", Settings: map[string]string{"url": "acme://x"}}}

	lookup := func(k string) (string, bool) {
		return map[string]string{"ACME_TOKEN": "from-lookup"}[k], k == "ACME_TOKEN"
	}
	if _, err := registry().Open(conns, lookup, open); err != nil || got != "from-lookup" {
		t.Errorf("with lookup: token %q, err %v", got, err)
	}
	t.Setenv("ACME_TOKEN", "from-process")
	if _, err := registry().Open(conns, nil, open); err != nil || got != "from-process" {
		t.Errorf("without lookup, the process environment: token %q, err %v", got, err)
	}
}
