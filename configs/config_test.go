// Package configs holds example configuration; this test keeps the
// examples valid as the code changes.
package configs

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
)

func TestExampleConfigLoads(t *testing.T) {
	env := map[string]string{
		"APP_DATABASE_URL": "postgres://u:p@127.0.0.1:5432/app", "CLICKHOUSE_PASSWORD": "x",
		"CLOUDFLARE_API_TOKEN": "t", "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_x", "OPSTOWER_HTTP_TOKEN": "tok",
	}
	data, err := os.ReadFile("opstower.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(data, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := databases.New(ctx, databases.Config{Connections: f.Connections, Limits: f.Limits, Lookup: func(string) (string, bool) { return "", false }}); err != nil {
		t.Fatalf("the example's database connections do not open: %v", err)
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
