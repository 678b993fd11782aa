package connections_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/toolkit"
)

// three opens a set of two Acme connections and one Bolt connection.
func three(t *testing.T) *connections.Set[*widgetProvider, *widget] {
	t.Helper()
	s, err := open([]config.Connection{
		{Name: "eu", Provider: "acme", Settings: map[string]string{"url": "acme://eu"}},
		{Name: "files", Provider: "bolt", Settings: map[string]string{}},
		{Name: "us", Provider: "acme", Settings: map[string]string{"url": "acme://us"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func one(t *testing.T) *connections.Set[*widgetProvider, *widget] {
	t.Helper()
	s, err := open([]config.Connection{{Name: "only", Provider: "bolt", Settings: map[string]string{}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPick(t *testing.T) {
	cases := []struct {
		name string
		set  func(*testing.T) *connections.Set[*widgetProvider, *widget]
		arg  string
		want string // the connection picked, or the tool error
	}{
		{"the only one by default", one, "", "only"},
		{"the only one by name", one, "only", "only"},
		{"a wrong name with one", one, "other", `no connection named "other"; connections are: only`},
		{"by name", three, "us", "us"},
		{"no name with several", three, "", "several connections are loaded; pass connection, one of: eu, files, us"},
		{"a wrong name", three, "EU", `no connection named "EU"; connections are: eu, files, us`},
		{"one provider's", func(t *testing.T) *connections.Set[*widgetProvider, *widget] { return three(t).Of("acme") }, "us", "us"},
		{"one provider's, no name", func(t *testing.T) *connections.Set[*widgetProvider, *widget] { return three(t).Of("acme") }, "",
			"several acme connections are loaded; pass connection, one of: eu, us"},
		{"one provider's, another's name", func(t *testing.T) *connections.Set[*widgetProvider, *widget] { return three(t).Of("acme") }, "files",
			`no acme connection named "files"; acme connections are: eu, us`},
		{"the only one of a provider", func(t *testing.T) *connections.Set[*widgetProvider, *widget] { return three(t).Of("bolt") }, "", "files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.set(t).Pick(c.arg)
			if err != nil {
				var te *toolkit.Error
				if !errors.As(err, &te) {
					t.Errorf("%v is not a tool error the model can act on", err)
				}
				if err.Error() != c.want {
					t.Errorf("error:\n got %s\nwant %s", err, c.want)
				}
				return
			}
			if got.Name != c.want {
				t.Errorf("picked %s, want %s", got.Name, c.want)
			}
		})
	}
}

func TestNamesAndOf(t *testing.T) {
	s := three(t)
	if diff := cmp.Diff([]string{"eu", "files", "us"}, s.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"eu", "us"}, s.Of("acme").Names()); diff != "" {
		t.Errorf("Of(acme) (-want +got):\n%s", diff)
	}
	if n := s.Of("zinc").Len(); n != 0 {
		t.Errorf("Of(zinc) has %d connections", n)
	}
	if c, err := s.Named("files"); err != nil || c.Provider != bolt {
		t.Errorf("Named(files) = %v, %v", c, err)
	}
}

// toolArgs is a tool's arguments with the connection argument every tool
// takes.
type toolArgs struct {
	Connection string `json:"connection,omitempty" jsonschema:"which connection"`
	Query      string `json:"query" jsonschema:"what to find"`
}

func TestConnectionSchema(t *testing.T) {
	cases := []struct {
		name string
		set  func(*testing.T) *connections.Set[*widgetProvider, *widget]
		want string
	}{
		{"one connection: nothing to choose", one,
			`{"type":"object","required":["query"],"properties":{"query":{"type":"string","description":"what to find"}},"additionalProperties":false}`},
		{"several: a required enum", three,
			`{"type":"object","required":["query","connection"],"properties":{"connection":{"type":"string","description":"which connection","enum":["eu","files","us"]},"query":{"type":"string","description":"what to find"}},"additionalProperties":false}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			js, err := jsonschema.For[toolArgs](nil)
			if err != nil {
				t.Fatal(err)
			}
			c.set(t).ConnectionSchema(js)
			got, err := json.Marshal(js)
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.want), &wantV); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantV, gotV); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClose(t *testing.T) {
	s := three(t)
	all := s.All()
	all[0].Backend.closeErr = errors.New("socket already gone")
	all[2].Backend.closeErr = errors.New("pool busy")
	err := s.Close()
	want := "connection \"eu\": socket already gone\nconnection \"us\": pool busy"
	if err == nil || err.Error() != want {
		t.Errorf("Close() = %v, want %q", err, want)
	}
	for _, c := range all {
		if !c.Backend.closed {
			t.Errorf("%s was not closed", c.Name)
		}
	}
}

func TestCloseOfSubsetLeavesConnectionsOpen(t *testing.T) {
	s := three(t)
	if err := s.Of("acme").Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.All() {
		if c.Backend.closed {
			t.Errorf("%s was closed through a sub-set", c.Name)
		}
	}
}

func TestCloseWhenDone(t *testing.T) {
	s := three(t)
	s.All()[1].Backend.closeErr = errors.New("file busy")
	logged := make(records, 3)
	ctx, cancel := context.WithCancel(context.Background())
	s.CloseWhenDone(ctx, slog.New(logged))
	for _, c := range s.All() {
		if c.Backend.closed {
			t.Fatalf("%s closed before the context was done", c.Name)
		}
	}
	cancel()
	select {
	case r := <-logged:
		got := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
		want := map[string]string{"msg": "closing connection", "connection": "files", "err": "file busy"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("log record (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no warning about the failed close")
	}
}

// records is a slog handler that passes each record on, for a test to
// wait for the goroutine that logs it.
type records chan slog.Record

func (h records) Enabled(context.Context, slog.Level) bool { return true }

func (h records) Handle(_ context.Context, r slog.Record) error {
	h <- r
	return nil
}

func (h records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h records) WithGroup(string) slog.Handler      { return h }
