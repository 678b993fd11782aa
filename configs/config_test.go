// Package configs holds example configuration; these tests keep the
// examples valid as the code changes.
package configs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opstower/opstower/orchestrator/demo"
	codesrv "github.com/opstower/opstower/servers/code"
	"github.com/opstower/opstower/servers/databases"
	errorsrv "github.com/opstower/opstower/servers/errors"
	logsrv "github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/config"
)

// TestExampleConfigOpens builds every category server from
// opstower.example.yaml (no backend is contacted: servers connect lazily).
func TestExampleConfigOpens(t *testing.T) {
	env := map[string]string{
		"APP_DATABASE_URL": "postgres://u:p@127.0.0.1:5432/app", "CLICKHOUSE_PASSWORD": "x",
		"CLOUDFLARE_API_TOKEN": "t", "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_x", "OPSTOWER_HTTP_TOKEN": "tok",
		"GITHUB_TOKEN": "ghp_x", "SENTRY_AUTH_TOKEN": "sntrys_x",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	data, err := os.ReadFile("opstower.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example's local paths point into the demo workspace, relative to
	// where opstower runs.
	dir := t.TempDir()
	t.Chdir(dir)
	if _, err := demo.Build(filepath.Join(dir, "opstower-demo"), time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(data, lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	none := func(string) (string, bool) { return "", false }
	if _, err := databases.New(ctx, databases.Config{Connections: f.Connections, Limits: f.Limits, Lookup: none}); err != nil {
		t.Errorf("databases: %v", err)
	}
	if _, err := codesrv.New(ctx, codesrv.Config{Connections: f.Connections, Limits: f.Limits}); err != nil {
		t.Errorf("code: %v", err)
	}
	if _, err := logsrv.New(ctx, logsrv.Config{Connections: f.Connections, Limits: f.Limits, Lookup: none}); err != nil {
		t.Errorf("logs: %v", err)
	}
	if _, err := errorsrv.New(ctx, errorsrv.Config{Connections: f.Connections, Limits: f.Limits, Lookup: none}); err != nil {
		t.Errorf("errors: %v", err)
	}
}

func TestSnippetsAreJSON(t *testing.T) {
	for _, name := range []string{"claude_desktop_config.json", "vscode-mcp.json", "cursor-mcp.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
