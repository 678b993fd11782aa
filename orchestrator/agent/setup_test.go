package agent_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/orchestrator/mcpclient/mcpclienttest"
	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
)

func TestMain(m *testing.M) {
	mcpclienttest.ServeIfChild()
	os.Exit(m.Run())
}

var kinds = []llm.Kind{llm.KindAnthropic, llm.KindOpenAI, llm.KindGemini}

// shopDB writes a small shop database with an incident in it: card
// payments started failing with a gateway timeout on one day.
func shopDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, created_at TEXT, status TEXT, total_cents INTEGER)`,
		`CREATE TABLE payment_errors (id INTEGER PRIMARY KEY, order_id INTEGER, created_at TEXT, code TEXT, message TEXT)`,
		`INSERT INTO orders (created_at, status, total_cents) VALUES
		  ('2026-11-20 09:00', 'paid', 1200), ('2026-11-20 10:00', 'paid', 800),
		  ('2026-11-21 09:10', 'failed', 900), ('2026-11-21 09:20', 'failed', 450), ('2026-11-21 09:30', 'failed', 1500)`,
		`INSERT INTO payment_errors (order_id, created_at, code, message) VALUES
		  (3, '2026-11-21 09:10', 'gateway_timeout', 'card gateway timed out after 30s'),
		  (4, '2026-11-21 09:20', 'gateway_timeout', 'card gateway timed out after 30s'),
		  (5, '2026-11-21 09:30', 'gateway_timeout', 'card gateway timed out after 30s')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// categories are the bundled category servers the tests run in-process.
var categories = map[string]agent.CategoryServer{
	agent.Databases: func(ctx context.Context, conns []config.Connection) (*mcp.Server, error) {
		return databases.New(ctx, databases.Config{Connections: conns})
	},
}

// world is a host with a fake model, a shop database connection and the
// fixture server as an external MCP server.
type world struct {
	host  *agent.Host
	fake  *llmtest.Server
	dir   agent.StaticDirectory
	agent *agent.Agent
}

func newWorld(t testing.TB, kind llm.Kind, script llmtest.Script) *world {
	t.Helper()
	fake := llmtest.Start(t, kind, script)
	name, args, env := mcpclienttest.Command()
	dir := agent.StaticDirectory{
		Agents: map[string]*agent.Agent{},
		Connections: map[string]agent.Connection{
			"shop": agent.SplitInstructions(config.Connection{Name: "shop", Provider: "sqlite", Settings: map[string]string{
				"url":          "sqlite://" + shopDB(t),
				"instructions": "Amounts are in cents. Orders with status failed never charged the customer.",
			}}),
		},
	}
	w := &world{fake: fake, dir: dir}
	cats := map[string]agent.CategoryServer{}
	for k, v := range categories {
		cats[k] = v
	}
	w.host = &agent.Host{
		Models: agent.Models{Default: string(kind) + ":test-model", Open: func(llm.Spec) (llm.Provider, error) {
			return llm.Open(fake.Endpoint())
		}},
		Categories: cats,
		MCPServers: map[string]mcpclient.Server{"fixture": {Command: name, Args: args, Env: env}},
		Directory:  dir,
	}
	w.agent = w.add(&agent.Agent{ID: "a1", Org: "acme", Owner: "ann", Name: "Backend Debugger", Type: agent.Debugger, Connections: []string{"shop"}})
	return w
}

func (w *world) add(a *agent.Agent) *agent.Agent {
	w.dir.Agents[a.ID] = a
	return a
}

func (w *world) open(t testing.TB, a *agent.Agent) *agent.Session {
	t.Helper()
	s, err := w.host.Open(context.Background(), a, agent.OpenOptions{User: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
