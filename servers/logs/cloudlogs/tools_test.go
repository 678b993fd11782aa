package cloudlogs

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"

	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// serveConns starts a logs server, with this package's providers linked,
// on conns; env stands in for the environment.
func serveConns(t testing.TB, conns []config.Connection, env map[string]string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := logs.New(ctx, logs.Config{Connections: conns, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	logstest.Must(t, err)
	return mcptest.Connect(t, s)
}

// cloudProviders returns a CloudWatch and a Cloud Logging connection, each
// pointed at its fake, the environment holding the (canary) AWS secret,
// and a func that makes both fakes reject the credentials they are sent.
func cloudProviders(t *testing.T) ([]config.Connection, map[string]string, func()) {
	cw := newCloudWatchFake(t)
	gc := newLoggingFake(t)
	conns := []config.Connection{
		{Name: "aws", Category: logs.Category, Provider: "cloudwatch", Settings: map[string]string{"endpoint": cw.srv.URL, "log_group": "/aws/lambda/checkout"}},
		{Name: "gcp", Category: logs.Category, Provider: "gcloud", Settings: map[string]string{"project_id": gcpProject, "endpoint": gc.addr}},
	}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     cwAccessKey,
		"AWS_SECRET_ACCESS_KEY": cwCanary,
		"AWS_REGION":            "us-east-1",
	}
	reject := func() {
		cw.mu.Lock()
		cw.badKey = true
		cw.mu.Unlock()
		gc.mu.Lock()
		gc.denied = codes.Unauthenticated
		gc.mu.Unlock()
	}
	return conns, env, reject
}

// TestToolsSnapshotAllProviders lists the tools with one connection of
// every provider, this package's and those of package logs. Listing
// contacts no backend, so the Axiom and Cloudflare connections point
// nowhere.
func TestToolsSnapshotAllProviders(t *testing.T) {
	t.Parallel()
	cloud, env, _ := cloudProviders(t)
	files, err := logs.ParseFiles("app=" + filepath.Join(t.TempDir(), "app.log"))
	logstest.Must(t, err)
	conns := []config.Connection{
		files,
		{Name: "axiom", Category: logs.Category, Provider: "axiom", Settings: map[string]string{"base_url": "http://127.0.0.1:9", "dataset": "app-logs"}},
		cloud[0],
		cloud[1],
		{Name: "workers", Category: logs.Category, Provider: "cloudflare", Settings: map[string]string{"base_url": "http://127.0.0.1:9/client/v4", "account_id": "0123456789abcdef0123456789abcdef"}},
	}
	env["AXIOM_TOKEN"], env["CLOUDFLARE_API_TOKEN"] = "xaat-unused", "unused"
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

// TestCanarySecretsNeverLeave calls every tool on both providers, first
// with working credentials and then with rejected ones (the fakes echo
// what they were sent, as careless servers do), and checks that no secret
// appears in a result, an error or the server's log.
func TestCanarySecretsNeverLeave(t *testing.T) {
	t.Parallel()
	conns, env, reject := cloudProviders(t)
	var logBuf mcptest.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := logs.New(ctx, logs.Config{Connections: conns, Logger: logger, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	logstest.Must(t, err)
	cs := mcptest.Connect(t, s)
	var seen strings.Builder
	callAll := func() {
		for _, c := range []string{"aws", "gcp"} {
			for _, tool := range []string{"list_log_sources", "search_logs", "count_logs", "error_signatures", "log_fields"} {
				args := map[string]any{"connection": c}
				if tool != "list_log_sources" {
					args["since"] = "2h"
				}
				text, _ := mcptest.Call(t, cs, tool, args)
				seen.WriteString(text + "\n")
			}
		}
		text, _ := mcptest.Call(t, cs, "cloudwatch_insights_query", map[string]any{"query": "fields @message | limit 1"})
		seen.WriteString(text)
	}
	callAll()
	reject()
	callAll()
	all := seen.String() + logBuf.String()
	if strings.Contains(all, cwCanary) || strings.Contains(all, cwCanary[:20]) {
		t.Errorf("secret %s… leaked into results or logs", cwCanary[:8])
	}
}
