package errors_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	errorsrv "github.com/opstower/opstower/servers/errors"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// listBudget is the most tools/list may weigh for this server: it is sent
// to the model on every turn.
const listBudget = 6 << 10

func TestToolsSnapshot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	tools := mcptest.Tools(t, h.cs)
	mcptest.CheckAnnotations(t, tools)
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
		a := tl.Annotations
		if !a.ReadOnlyHint || *a.DestructiveHint || !a.IdempotentHint || !*a.OpenWorldHint {
			t.Errorf("tool %s: want read-only, not destructive, idempotent, open world: %+v", tl.Name, a)
		}
		raw, _ := json.Marshal(tl.InputSchema)
		if strings.Contains(string(raw), "connection") {
			t.Errorf("tool %s: with one connection there is no connection argument: %s", tl.Name, raw)
		}
		structured := tl.Name == "list_issues" || tl.Name == "error_stats"
		if (tl.OutputSchema != nil) != structured {
			t.Errorf("tool %s: output schema %v, want one only on list_issues and error_stats", tl.Name, tl.OutputSchema != nil)
		}
	}
	if got := strings.Join(names, " "); got != "error_stats get_issue list_issue_events list_issues list_projects list_releases" {
		t.Errorf("tools: %s", got)
	}
	t.Run("Snapshot", func(t *testing.T) { mcptest.Snapshot(t, tools) })
	if n := mcptest.ListBytes(t, tools); n > listBudget {
		t.Errorf("tools/list is %d bytes, over the %d-byte budget", n, listBudget)
	}
	if reqs := h.fake.requests(); len(reqs) != 0 {
		t.Errorf("initialize and tools/list must not call Sentry; made %d requests", len(reqs))
	}
}

func TestConnectionArgumentWithSeveralConnections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{connections: func(base string) []config.Connection {
		return []config.Connection{
			{Name: "prod", Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": base}},
			{Name: "eu", Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": base}},
		}
	}})
	for _, tl := range mcptest.Tools(t, h.cs) {
		raw, _ := json.Marshal(tl.InputSchema)
		s := string(raw)
		if !strings.Contains(s, `"connection":{"description":"which connection","enum":["prod","eu"],"type":"string"}`) || !strings.Contains(s, `"connection"]`) {
			t.Errorf("tool %s: want a required connection enum: %s", tl.Name, s)
		}
	}
	if got := h.cs.InitializeResult().Instructions; !strings.Contains(got, "prod: Sentry organization acme; eu: Sentry organization acme") {
		t.Errorf("instructions: %s", got)
	}
}

func TestInstructions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{settings: map[string]string{"projects": "web, api"}})
	got := h.cs.InitializeResult().Instructions
	has(t, "instructions", got, "Sentry organization acme (projects web, api)", "Start with list_issues", "<untrusted-data-")
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	token := canary(t)
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	cases := []struct {
		name string
		conn config.Connection
		env  map[string]string
		want string
	}{
		{"no token", config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "acme"}}, nil,
			`provider sentry needs "auth_token" (an Internal Integration token with Read on Organization, Project, and Issue & Event) or the environment variable SENTRY_AUTH_TOKEN`},
		{"no organization", config.Connection{Provider: "sentry", Settings: map[string]string{}}, map[string]string{"SENTRY_AUTH_TOKEN": token},
			`needs "organization" (the organization slug, as in https://SLUG.sentry.io) or the environment variable SENTRY_ORG`},
		{"organization URL", config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "https://acme.sentry.io"}}, map[string]string{"SENTRY_AUTH_TOKEN": token},
			`organization "https://acme.sentry.io" is not a Sentry organization slug`},
		{"plain http", config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "acme", "url": "http://sentry.example.com"}}, map[string]string{"SENTRY_AUTH_TOKEN": token},
			"uses plain http, which would send the credential unencrypted"},
		{"misspelt setting", config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "acme", "project": "web"}}, map[string]string{"SENTRY_AUTH_TOKEN": token},
			`unknown setting "project" for provider sentry; did you mean "projects"?`},
		{"bad show_pii", config.Connection{Provider: "sentry", Settings: map[string]string{"organization": "acme", "show_pii": "sometimes"}}, map[string]string{"SENTRY_AUTH_TOKEN": token},
			`show_pii "sometimes" is not true or false`},
		{"unknown provider", config.Connection{Category: "errors", Provider: "rollbar", Settings: map[string]string{}}, nil,
			`unknown error-tracking provider "rollbar"; known: sentry`},
		{"only other categories", config.Connection{Provider: "postgres", Settings: map[string]string{"url": "postgres://x"}}, nil,
			"no error-tracking connections: set SENTRY_AUTH_TOKEN and SENTRY_ORG"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := errorsrv.New(context.Background(), errorsrv.Config{Connections: []config.Connection{c.conn}, Lookup: lookup(c.env)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want %q, got %v", c.want, err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the token leaked into %v", err)
			}
		})
	}
}

func TestSentryFlagsAndSelfHostedURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{connections: func(base string) []config.Connection {
		c := errorsrv.SentryFlags{Org: "acme", URL: base + "/api/0/", Projects: []string{"web", "api, billing-worker"}}.Connection()
		return []config.Connection{c}
	}})
	text := h.ok("list_issues", map[string]any{"limit": 1})
	has(t, "flags", text, "in acme/web,api,billing-worker")
	if p := h.fake.requests()[0].Path; p != "/api/0/organizations/acme/projects/" {
		t.Errorf("a URL ending in /api/0/ must not double it: %s", p)
	}
	if (errorsrv.SentryFlags{}).Set() || !(errorsrv.SentryFlags{URL: "https://sentry.example.com"}).Set() {
		t.Errorf("Set reports whether a flag was given")
	}
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	cfg := func(settings map[string]string) errorsrv.Config {
		s := map[string]string{"organization": "acme", "url": h.fake.srv.URL, "auth_token": h.token}
		for k, v := range settings {
			s[k] = v
		}
		return errorsrv.Config{Connections: []config.Connection{{Name: "prod", Provider: "sentry", Settings: s}}}
	}
	test := func(settings map[string]string) error {
		t.Helper()
		results, err := errorsrv.Test(context.Background(), cfg(settings))
		if err != nil {
			t.Fatalf("the config should open: %v", err)
		}
		if len(results) != 1 || results[0].Name != "prod" || results[0].Provider != "Sentry" {
			t.Fatalf("results: %+v", results)
		}
		return results[0].Err
	}
	if err := test(nil); err != nil {
		t.Fatalf("a good connection fails its test: %v", err)
	}
	err := test(map[string]string{"organization": "acme-corp"})
	if err == nil || !strings.Contains(err.Error(), `Sentry found no organization acme-corp (404)`) {
		t.Errorf("unknown organization: %v", err)
	}
	err = test(map[string]string{"projects": "wbe"})
	if err == nil || !strings.Contains(err.Error(), `projects setting names "wbe"`) || !strings.Contains(err.Error(), "did you mean web?") {
		t.Errorf("unknown project in scope: %v", err)
	}
	err = test(map[string]string{"auth_token": "sntryu_revoked"})
	if err == nil || !strings.Contains(err.Error(), "(401)") {
		t.Errorf("bad token: %v", err)
	}
	if strings.Contains(err.Error(), "sntryu_revoked") {
		t.Errorf("the test's error shows the token: %v", err)
	}
}

// TestStructuredErrorsCarryNoContent checks a failing structured tool: a
// tool error, with no structuredContent that would fail output validation.
func TestStructuredErrorsCarryNoContent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{settings: map[string]string{"organization": "nobody"}})
	res := h.call("list_issues", nil)
	if !res.IsError || res.StructuredContent != nil {
		t.Errorf("want a plain tool error, got %+v", res)
	}
	var _ *mcp.CallToolResult = res
}
