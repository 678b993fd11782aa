package hostapi_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/hostapi"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/secret"
)

const token = "host-token-4e1d9a"

type api struct {
	url    string
	fake   *llmtest.Server
	shop   string
	builds *atomic.Int32 // database servers built
}

func start(t *testing.T, script llmtest.Script) *api {
	t.Helper()
	dir := t.TempDir()
	shop := filepath.Join(dir, "shop.db")
	db, _ := sql.Open("sqlite", shop)
	if _, err := db.Exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('failed'), ('paid')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	keys, err := store.ParseKeyring(store.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "state.db"), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := llmtest.Start(t, llm.KindAnthropic, script)
	builds := &atomic.Int32{}
	host := &agent.Host{
		Models: agent.Models{Default: "anthropic:test", Open: func(llm.Spec) (llm.Provider, error) { return llm.Open(fake.Endpoint()) }},
		Categories: map[string]agent.CategoryServer{agent.Databases: func(ctx context.Context, conns []config.Connection) (*mcp.Server, error) {
			builds.Add(1)
			return databases.New(ctx, databases.Config{Connections: conns})
		}},
		Testers: map[string]agent.ConnectionTester{agent.Databases: func(ctx context.Context, conns []config.Connection) ([]connections.TestResult, error) {
			return databases.Test(ctx, databases.Config{Connections: conns})
		}},
		Directory: st,
	}
	srv := &hostapi.Server{Host: host, Store: st, Org: "acme", User: "ann", Token: secret.New(token)}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &api{url: hs.URL, fake: fake, shop: shop, builds: builds}
}

func (a *api) do(t *testing.T, method, path, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestTokenRequired(t *testing.T) {
	a := start(t, llmtest.Sequence(llmtest.Reply{Text: "x"}))
	res, err := http.Get(a.url + "/api/agents")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", res.StatusCode)
	}
	if res, _ := http.Get(a.url + "/healthz"); res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
}

func TestAgentsAndConnectionsAPI(t *testing.T) {
	a := start(t, llmtest.Sequence(llmtest.Reply{Text: "x"}))
	const canary = "pw-9f2c71-api"
	if code, body := a.do(t, "PUT", "/api/connections/prod", `{"provider":"postgres","settings":{"url":"postgres://app:`+canary+`@db.internal/prod"}}`); code != 204 {
		t.Fatalf("put connection: %d %s", code, body)
	}
	if code, body := a.do(t, "PUT", "/api/connections/shop", `{"settings":{"url":"sqlite://`+a.shop+`"}}`); code != 204 {
		t.Fatalf("put connection: %d %s", code, body)
	}
	code, body := a.do(t, "GET", "/api/connections", "")
	if code != 200 || strings.Contains(body, canary) || !strings.Contains(body, "db.internal") {
		t.Errorf("list connections: %d %s", code, body)
	}
	cases := []struct {
		body string
		code int
		want string
	}{
		{`{"name":"D","type":"debuger"}`, 400, "did you mean"},
		{`{"name":"D","type":"debugger","conections":[]}`, 400, "unknown field"},
		{`{"name":"D","type":"analyst","connections":["nope"]}`, 422, `connection \"nope\": not found`},
		{`{"name":"D","type":"debugger","knowledge":"` + strings.Repeat("k", 60<<10) + `"}`, 422, "the limit is 50 KB"},
		{`{"name":"Dbg","type":"debugger","connections":["shop"]}`, 201, `"type":"debugger"`},
		{`{"name":"Ana","type":"analyst","connected_agents":["Dbg"]}`, 201, `"connected_agents":["agt_`},
	}
	for _, c := range cases {
		code, body := a.do(t, "POST", "/api/agents", c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("POST %.60s: %d %.200s; want %d %q", c.body, code, body, c.code, c.want)
		}
	}
	if code, body := a.do(t, "PUT", "/api/agents/Dbg", `{"connected_agents":["Ana"]}`); code != 422 || !strings.Contains(body, "no cycles") {
		t.Errorf("cycle via API: %d %s", code, body)
	}
	if code, _ := a.do(t, "DELETE", "/api/agents/Ana", ""); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := a.do(t, "GET", "/api/agents/Ana", ""); code != 404 {
		t.Errorf("deleted agent: %d", code)
	}
}

func TestChatStreamsAndPersists(t *testing.T) {
	a := start(t, func(s llmtest.Seen) llmtest.Reply {
		if r := s.LastResults(); r != nil {
			m := regexp.MustCompile(`(?m)^\s*(\d+)\s*$`).FindStringSubmatch(r[0].Content)
			if m == nil {
				return llmtest.Reply{Text: "no number in " + r[0].Content}
			}
			return llmtest.Reply{Text: "Found it: " + m[1]}
		}
		if len(s.Messages) > 1 {
			return llmtest.Reply{Text: "follow-up with history"}
		}
		return llmtest.Reply{Calls: []llmtest.Call{{Name: "databases__query", Args: `{"sql":"SELECT count(*) AS n FROM orders WHERE status='failed'"}`}}}
	})
	a.do(t, "PUT", "/api/connections/shop", `{"settings":{"url":"sqlite://`+a.shop+`"}}`)
	a.do(t, "POST", "/api/agents", `{"name":"Dbg","type":"debugger","connections":["shop"]}`)
	code, body := a.do(t, "POST", "/api/chat", `{"agent":"Dbg","question":"How many failed orders?"}`, "Accept", "text/event-stream")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var kinds []string
	var done struct {
		ConversationID string `json:"conversation_id"`
		Answer         string `json:"answer"`
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
			if len(kinds) == 0 || kinds[len(kinds)-1] != e {
				kinds = append(kinds, e)
			}
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && event == "done" {
			_ = json.Unmarshal([]byte(d), &done)
		}
	}
	if got := strings.Join(kinds, ","); got != "tool_start,tool_end,text,done" {
		t.Errorf("events = %s\n%s", got, body)
	}
	if done.Answer != "Found it: 1" || done.ConversationID == "" {
		t.Fatalf("done = %+v", done)
	}
	code, body = a.do(t, "GET", "/api/conversations/"+done.ConversationID, "")
	if code != 200 || strings.Count(body, `"seq"`) != 4 || strings.Contains(body, `"native"`) {
		t.Errorf("conversation: %d %s", code, body)
	}
	code, body = a.do(t, "POST", "/api/chat", `{"agent":"Dbg","question":"And now?","conversation_id":"`+done.ConversationID+`"}`)
	if code != 200 || !strings.Contains(body, "follow-up with history") {
		t.Errorf("follow-up: %d %s", code, body)
	}
	if code, _ := a.do(t, "POST", "/api/chat", `{"agent":"Dbg","question":"x","conversation_id":"cnv_nope"}`); code != 404 {
		t.Errorf("unknown conversation: %d", code)
	}
	// The agent's session stayed open between the questions; an edit
	// opens a new one with the new settings.
	if n := a.builds.Load(); n != 1 {
		t.Errorf("the agent's servers were built %d times for two questions", n)
	}
	a.do(t, "PUT", "/api/agents/Dbg", `{"knowledge":"Orders are in cents."}`)
	a.do(t, "POST", "/api/chat", `{"agent":"Dbg","question":"Once more?"}`)
	if n := a.builds.Load(); n != 2 {
		t.Errorf("after an edit: %d builds", n)
	}
	if last := a.fake.Requests()[len(a.fake.Requests())-1]; !strings.Contains(last.System, "Orders are in cents.") {
		t.Errorf("the edited knowledge is not in the prompt")
	}
}

// The "Test Connection" button: a stored connection is reached with its
// credentials; a failure is reported (200, ok false) without its secret.
func TestConnectionTestAPI(t *testing.T) {
	a := start(t, llmtest.Sequence(llmtest.Reply{Text: "x"}))
	const canary = "pw-5d02e8-test"
	a.do(t, "PUT", "/api/connections/shop", `{"settings":{"url":"sqlite://`+a.shop+`"}}`)
	a.do(t, "PUT", "/api/connections/gone", `{"provider":"postgres","settings":{"url":"postgres://app:`+canary+`@127.0.0.1:1/prod?sslmode=disable"}}`)
	a.do(t, "PUT", "/api/connections/repo", `{"category":"code","provider":"local","settings":{"path":"/srv/repo"}}`)
	cases := []struct {
		name string
		code int
		want []string
	}{
		{"shop", 200, []string{`"ok":true`, `"provider":"SQLite"`, `"elapsed_ms":`}},
		{"gone", 200, []string{`"ok":false`, `"error":"cannot reach PostgreSQL`}},
		{"nope", 404, []string{`not found`}},
		{"repo", 422, []string{`connections of category \"code\" cannot be tested here`}},
	}
	for _, c := range cases {
		code, body := a.do(t, "POST", "/api/connections/"+c.name+"/test", "")
		if code != c.code || strings.Contains(body, canary) {
			t.Errorf("test %s: %d %s", c.name, code, body)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("test %s: %s lacks %s", c.name, body, w)
			}
		}
	}
}
