package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// allProviders returns one connection of every provider this package has,
// each pointed at its fake, the environment holding their (canary)
// secrets, and a func that makes every fake reject the credentials it is
// sent. Package cloudlogs tests its providers, and the tools with every
// provider linked, the same way.
func allProviders(t *testing.T) ([]config.Connection, map[string]string, func()) {
	dir := writeLogs(t)
	ax := newAxiomFake(t, axiomCanary)
	cf := newCloudflareFake(t)
	files, err := ParseFiles("app=" + filepath.Join(dir, "app.log"))
	logstest.Must(t, err)
	conns := []config.Connection{
		files,
		{Name: "axiom", Category: Category, Provider: "axiom", Settings: map[string]string{"base_url": ax.srv.URL, "dataset": "app-logs"}},
		{Name: "workers", Category: Category, Provider: "cloudflare", Settings: map[string]string{"base_url": cf.srv.URL + "/client/v4", "account_id": cfTestAccount}},
	}
	env := map[string]string{
		"AXIOM_TOKEN":          axiomCanary,
		"CLOUDFLARE_API_TOKEN": cfCanary,
	}
	reject := func() {
		ax.mu.Lock()
		ax.token = "xaat-other"
		ax.mu.Unlock()
		cf.mu.Lock()
		cf.token = "other"
		cf.mu.Unlock()
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

// TestCanarySecretsNeverLeave calls every tool on every provider, first
// with working credentials and then with rejected ones (the fakes echo
// what they were sent, as careless servers do), and checks that no secret
// appears in a result, an error or the server's log.
func TestCanarySecretsNeverLeave(t *testing.T) {
	t.Parallel()
	conns, env, reject := allProviders(t)
	var logBuf mcptest.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, Config{Connections: conns, Logger: logger, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	logstest.Must(t, err)
	cs := mcptest.Connect(t, s)
	var seen strings.Builder
	callAll := func() {
		for _, c := range []string{"app", "axiom", "workers"} {
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
	}
	callAll()
	reject()
	callAll()
	all := seen.String() + logBuf.String()
	for _, canary := range []string{axiomCanary, cfCanary} {
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
	logstest.Must(t, json.NewEncoder(&b).Encode(v))
	return b.Bytes()
}
