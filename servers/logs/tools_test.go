//go:build !nocloudsdk

package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// allProviders returns one connection of every provider, each pointed at
// its fake, the environment holding their (canary) secrets, and a func
// that makes every fake reject the credentials it is sent.
func allProviders(t *testing.T) ([]config.Connection, map[string]string, func()) {
	dir := writeLogs(t)
	ax := newAxiomFake(t, axiomCanary)
	cf := newCloudflareFake(t)
	cw := newCloudWatchFake(t)
	gc := newLoggingFake(t)
	files, err := ParseFiles("app=" + filepath.Join(dir, "app.log"))
	must(t, err)
	conns := []config.Connection{
		files,
		{Name: "axiom", Category: Category, Provider: "axiom", Settings: map[string]string{"base_url": ax.srv.URL, "dataset": "app-logs"}},
		{Name: "aws", Category: Category, Provider: "cloudwatch", Settings: map[string]string{"endpoint": cw.srv.URL, "log_group": "/aws/lambda/checkout"}},
		{Name: "gcp", Category: Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject, "endpoint": gc.addr}},
		{Name: "workers", Category: Category, Provider: "cloudflare", Settings: map[string]string{"base_url": cf.srv.URL + "/client/v4", "account_id": cfTestAccount}},
	}
	env := map[string]string{
		"AXIOM_TOKEN":           axiomCanary,
		"CLOUDFLARE_API_TOKEN":  cfCanary,
		"AWS_ACCESS_KEY_ID":     cwAccessKey,
		"AWS_SECRET_ACCESS_KEY": cwCanary,
		"AWS_REGION":            "us-east-1",
	}
	reject := func() {
		ax.mu.Lock()
		ax.token = "xaat-other"
		ax.mu.Unlock()
		cf.mu.Lock()
		cf.token = "other"
		cf.mu.Unlock()
		cw.mu.Lock()
		cw.badKey = true
		cw.mu.Unlock()
		gc.mu.Lock()
		gc.denied = codes.Unauthenticated
		gc.mu.Unlock()
	}
	return conns, env, reject
}

func TestToolsLocalOnly(t *testing.T) {
	t.Parallel()
	cs := serveFiles(t, config.Limits{}, filepath.Join(t.TempDir(), "*.log"))
	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
		if !tl.Annotations.ReadOnlyHint || *tl.Annotations.OpenWorldHint || *tl.Annotations.DestructiveHint {
			t.Errorf("tool %s on local files must be read-only, closed-world, non-destructive: %+v", tl.Name, tl.Annotations)
		}
		raw := string(mustJSON(t, tl.InputSchema))
		if strings.Contains(raw, `"connection"`) || strings.Contains(raw, `"filter"`) {
			t.Errorf("tool %s: one local connection needs neither connection nor filter: %s", tl.Name, raw)
		}
	}
	if got := strings.Join(names, ","); got != "count_logs,error_signatures,list_log_sources,log_fields,search_logs" {
		t.Errorf("tools = %s", got)
	}
	if n := mcptest.ListBytes(t, tools); n > 4500 {
		t.Errorf("tools/list is %d bytes, over the 4.5 KB budget for local files", n)
	} else {
		t.Logf("tools/list: %d bytes (local files)", n)
	}
}

func TestToolsSnapshotAllProviders(t *testing.T) {
	t.Parallel()
	conns, env, _ := allProviders(t)
	cs := serveConns(t, conns, env)
	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	for _, tl := range tools {
		if !tl.Annotations.ReadOnlyHint || !*tl.Annotations.OpenWorldHint || *tl.Annotations.DestructiveHint {
			t.Errorf("tool %s with hosted providers must be read-only, open-world, non-destructive", tl.Name)
		}
	}
	t.Run("Snapshot", func(t *testing.T) { mcptest.Snapshot(t, tools) })
	if n := mcptest.ListBytes(t, tools); n > 7000 {
		t.Errorf("tools/list is %d bytes, over the 7 KB budget with every provider", n)
	} else {
		t.Logf("tools/list: %d bytes (all providers)", n)
	}
}

// TestCanarySecretsNeverLeave calls every tool on every provider, first
// with working credentials and then with rejected ones (the fakes echo
// what they were sent, as careless servers do), and checks that no secret
// appears in a result, an error or the server's log.
func TestCanarySecretsNeverLeave(t *testing.T) {
	t.Parallel()
	conns, env, reject := allProviders(t)
	var logBuf syncBuffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, Config{Connections: conns, Logger: logger, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	must(t, err)
	cs := mcptest.Connect(t, s)
	var seen strings.Builder
	callAll := func() {
		for _, c := range []string{"app", "axiom", "aws", "gcp", "workers"} {
			for _, tool := range []string{"list_log_sources", "search_logs", "count_logs", "error_signatures", "log_fields"} {
				args := map[string]any{"connection": c}
				if tool != "list_log_sources" {
					args["since"] = "2h"
				}
				text, _ := mcptest.Call(t, cs, tool, args)
				seen.WriteString(text + "\n")
			}
		}
		text, _ := mcptest.Call(t, cs, "axiom_query", map[string]any{"apl": "['app-logs'] | take 1"})
		seen.WriteString(text)
		text, _ = mcptest.Call(t, cs, "cloudwatch_insights_query", map[string]any{"query": "fields @message | limit 1"})
		seen.WriteString(text)
	}
	callAll()
	reject()
	callAll()
	all := seen.String() + logBuf.String()
	for _, canary := range []string{axiomCanary, cfCanary, cwCanary} {
		if strings.Contains(all, canary) || strings.Contains(all, canary[:20]) {
			t.Errorf("secret %s… leaked into results or logs", canary[:8])
		}
	}
	if !strings.Contains(all, "[redacted]") {
		t.Log("note: no scrubbed echo seen; the fakes may not have echoed a token this run")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	must(t, json.NewEncoder(&b).Encode(v))
	return b.Bytes()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
