package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

const pgAdmin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// backends opens an empty store on each backend: a SQLite file, and a
// PostgreSQL database created for this run and dropped after it.
func backends(t *testing.T) map[string]func(t *testing.T, keys *store.Keyring) *store.Store {
	return map[string]func(t *testing.T, keys *store.Keyring) *store.Store{
		"sqlite": func(t *testing.T, keys *store.Keyring) *store.Store {
			path := filepath.Join(t.TempDir(), "state.db")
			s, err := store.Open(context.Background(), path, keys)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T, keys *store.Keyring) *store.Store {
			dsn := tempPostgres(t)
			s, err := store.Open(context.Background(), dsn, keys)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func tempPostgres(t *testing.T) string {
	t.Helper()
	admin, err := sql.Open("pgx", pgAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Ping(); err != nil {
		admin.Close()
		mcptest.SkipOrFail(t, "PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "opstower_store_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	return strings.Replace(pgAdmin, "/postgres?", "/"+name+"?", 1)
}

func keyring(t *testing.T, spec string) *store.Keyring {
	t.Helper()
	k, err := store.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func forEachBackend(t *testing.T, f func(t *testing.T, open func(t *testing.T, keys *store.Keyring) *store.Store)) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, open)
		})
	}
}

func TestAgentsCRUDAndRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, *store.Keyring) *store.Store) {
		s := open(t, nil)
		ctx := context.Background()
		save := func(a *agent.Agent) error { return s.SaveAgent(ctx, a, agent.Limits{}) }
		dbg := &agent.Agent{Org: "acme", Owner: "ann", Name: "Backend Debugger", Type: agent.Debugger, Connections: []string{"shop"}, Knowledge: "Payments go through Acme Pay."}
		if err := save(dbg); err != nil || dbg.ID == "" {
			t.Fatalf("create: %v", err)
		}
		ana := &agent.Agent{Org: "acme", Owner: "ann", Name: "Growth Analyst", Type: agent.Analyst, ConnectedAgents: []string{dbg.ID}}
		if err := save(ana); err != nil {
			t.Fatal(err)
		}
		// Every rule, enforced on save.
		dbg.ConnectedAgents = []string{ana.ID}
		if err := save(dbg); err == nil || !strings.Contains(err.Error(), "no cycles") {
			t.Errorf("cycle: %v", err)
		}
		dbg.ConnectedAgents = []string{dbg.ID}
		if err := save(dbg); err == nil || !strings.Contains(err.Error(), "itself") {
			t.Errorf("self: %v", err)
		}
		dup := &agent.Agent{Org: "acme", Owner: "bob", Name: "Backend Debugger", Type: agent.Custom}
		if err := save(dup); err == nil || !strings.Contains(err.Error(), "already exists") || dup.ID != "" {
			t.Errorf("duplicate name: %v (id %q)", err, dup.ID)
		}
		other := &agent.Agent{Org: "globex", Owner: "ann", Name: "Elsewhere", Type: agent.Custom, ConnectedAgents: []string{dbg.ID}}
		if err := save(other); err == nil || !strings.Contains(err.Error(), "another organization") {
			t.Errorf("cross-org: %v", err)
		}
		secretAgent := &agent.Agent{Org: "acme", Owner: "bob", Name: "Bob Private", Type: agent.Custom, Visibility: agent.OnlyMe}
		if err := save(secretAgent); err != nil {
			t.Fatal(err)
		}
		dbg.ConnectedAgents = []string{secretAgent.ID}
		if err := save(dbg); err == nil || !strings.Contains(err.Error(), "private") {
			t.Errorf("other user's private agent: %v", err)
		}
		var eleven []string
		for i := range 11 {
			a := &agent.Agent{Org: "acme", Owner: "ann", Name: fmt.Sprint("Helper ", i), Type: agent.Custom}
			if err := save(a); err != nil {
				t.Fatal(err)
			}
			eleven = append(eleven, a.ID)
		}
		dbg.ConnectedAgents = eleven
		if err := save(dbg); err == nil || !strings.Contains(err.Error(), "at most 10") {
			t.Errorf("eleven: %v", err)
		}
		dbg.ConnectedAgents = eleven[:10]
		if err := save(dbg); err != nil {
			t.Errorf("ten: %v", err)
		}
		// A rejected save changed nothing.
		got, err := s.Agent(ctx, "acme", dbg.ID)
		if err != nil || len(got.ConnectedAgents) != 10 || got.Knowledge != "Payments go through Acme Pay." || got.Owner != "ann" {
			t.Fatalf("stored: %+v %v", got, err)
		}
		// Visibility: bob's private agent is hidden from ann.
		list, _ := s.Agents(ctx, "acme", "ann")
		for _, a := range list {
			if a.Name == "Bob Private" {
				t.Error("ann sees bob's private agent")
			}
		}
		if _, err := s.AgentByName(ctx, "acme", "ann", "bob private"); err == nil {
			t.Error("ann found bob's private agent by name")
		}
		if a, err := s.AgentByName(ctx, "acme", "bob", "bob private"); err != nil || a.ID != secretAgent.ID {
			t.Errorf("bob: %v", err)
		}
		if _, err := s.AgentByName(ctx, "acme", "ann", "Backend Debuger"); err == nil || !strings.Contains(err.Error(), "agents are:") {
			t.Errorf("unknown name: %v", err)
		}
		// Deleting an agent unlinks it.
		if err := s.DeleteAgent(ctx, "acme", dbg.ID); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Agent(ctx, "acme", ana.ID); len(a.ConnectedAgents) != 0 {
			t.Errorf("analyst still linked to the deleted agent: %v", a.ConnectedAgents)
		}
		if err := s.DeleteAgent(ctx, "acme", dbg.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

// Two saves that would together create a cycle: at most one succeeds.
func TestConcurrentSavesCannotCreateACycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, *store.Keyring) *store.Store) {
		s := open(t, nil)
		ctx := context.Background()
		a := &agent.Agent{Org: "o", Owner: "u", Name: "A", Type: agent.Custom}
		b := &agent.Agent{Org: "o", Owner: "u", Name: "B", Type: agent.Custom}
		for _, x := range []*agent.Agent{a, b} {
			if err := s.SaveAgent(ctx, x, agent.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
		a.ConnectedAgents, b.ConnectedAgents = []string{b.ID}, []string{a.ID}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, x := range []*agent.Agent{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = s.SaveAgent(ctx, x, agent.Limits{}) }()
		}
		wg.Wait()
		if errs[0] == nil && errs[1] == nil {
			t.Fatal("both saves succeeded: A and B are connected to each other")
		}
	})
}

func TestConnectionsEncryptedAtRest(t *testing.T) {
	const canary = "pw-canary-71c3e0"
	forEachBackend(t, func(t *testing.T, open func(*testing.T, *store.Keyring) *store.Store) {
		ctx := context.Background()
		old := store.GenerateKey()
		s := open(t, keyring(t, old))
		c := config.Connection{Name: "prod", Provider: "postgres", Settings: map[string]string{
			"url": "postgres://app:" + canary + "@db.internal/prod", "instructions": "Use the replica.",
		}}
		if err := s.SaveConnection(ctx, "acme", c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Connection(ctx, "acme", "prod")
		if err != nil || got.Settings["url"] != c.Settings["url"] || got.Instructions != "Use the replica." || got.Category != agent.Databases {
			t.Fatalf("read back: %+v %v", got, err)
		}
		if _, present := got.Settings["instructions"]; present {
			t.Error("instructions were passed on as a server setting")
		}
		// At rest, the row holds only ciphertext and the key id.
		driver := "sqlite"
		if strings.HasPrefix(s.DSN(), "postgres") {
			driver = "pgx"
		}
		raw, err := sql.Open(driver, s.DSN())
		if err != nil {
			t.Fatal(err)
		}
		var keyID string
		var sealed []byte
		if err := raw.QueryRow(`SELECT key_id, sealed FROM connections`).Scan(&keyID, &sealed); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		if strings.Contains(string(sealed), canary) || strings.Contains(string(sealed), "db.internal") || keyID == "" || !strings.HasPrefix(old, keyID+":") {
			t.Errorf("stored row: key %q, sealed %q", keyID, sealed)
		}
		list, err := s.Connections(ctx, "acme")
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		if strings.Contains(fmt.Sprint(list), canary) || !strings.Contains(list[0].Settings["url"], "db.internal") {
			t.Errorf("listing shows %v", list[0].Settings)
		}
		// Rotation: a new key first, the old one after; reseal moves
		// everything to the new key.
		newKey := store.GenerateKey()
		s2 := reopen(t, s, keyring(t, newKey+","+old))
		if _, err := s2.Connection(ctx, "acme", "prod"); err != nil {
			t.Fatalf("old ciphertext with the rotated keyring: %v", err)
		}
		if n, err := s2.Reseal(ctx); err != nil || n != 1 {
			t.Fatalf("reseal: %d %v", n, err)
		}
		s3 := reopen(t, s, keyring(t, newKey))
		if got, err := s3.Connection(ctx, "acme", "prod"); err != nil || got.Settings["url"] != c.Settings["url"] {
			t.Fatalf("after reseal, the new key alone: %v", err)
		}
		s4 := reopen(t, s, keyring(t, old))
		if _, err := s4.Connection(ctx, "acme", "prod"); err == nil || !strings.Contains(err.Error(), "not in OPSTOWER_SECRET_KEY") {
			t.Errorf("wrong key: %v", err)
		}
		if err := reopen(t, s, nil).SaveConnection(ctx, "acme", c); !errors.Is(err, store.ErrNoKey) || !strings.Contains(err.Error(), "keygen") {
			t.Errorf("no key: %v", err)
		}
	})
}

// reopen opens the same database with other keys.
func reopen(t *testing.T, s *store.Store, keys *store.Keyring) *store.Store {
	t.Helper()
	s2, err := store.Open(context.Background(), s.DSN(), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func TestConversationsPersistAndResume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, *store.Keyring) *store.Store) {
		s := open(t, nil)
		ctx := context.Background()
		c, err := s.CreateConversation(ctx, "acme", "ann", "agt_1", "Why are checkouts failing since yesterday at 09:10?")
		if err != nil {
			t.Fatal(err)
		}
		turns := []agent.Turn{
			{Message: llm.Message{Role: llm.RoleUser, Text: "Why are checkouts failing?"}},
			{Message: llm.Message{Role: llm.RoleAssistant, Provider: "gemini", Native: []byte(`{"parts":[{"thoughtSignature":"c2ln"}]}`), ToolCalls: []llm.ToolCall{{ID: "c1", Name: "databases__query", Args: []byte(`{"sql":"SELECT 1"}`)}}}, Usage: llm.Usage{InputTokens: 120, OutputTokens: 9}, Model: "gemini:g"},
			{Message: llm.Message{Role: llm.RoleTool, ToolResults: []llm.ToolResult{{CallID: "c1", Name: "databases__query", Content: "1", IsError: false}}}},
			{Message: llm.Message{Role: llm.RoleAssistant, Text: "**Gateway timeouts.**"}, Usage: llm.Usage{InputTokens: 150, OutputTokens: 30}, Model: "gemini:g"},
		}
		if err := s.AppendTurns(ctx, c.ID, turns[:2]); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendTurns(ctx, c.ID, turns[2:]); err != nil {
			t.Fatal(err)
		}
		msgs, err := s.Messages(ctx, c.ID)
		if err != nil || len(msgs) != 4 {
			t.Fatalf("%d messages, %v", len(msgs), err)
		}
		if msgs[1].Usage.InputTokens != 120 || msgs[1].Model != "gemini:g" || string(msgs[1].Message.Native) != `{"parts":[{"thoughtSignature":"c2ln"}]}` || msgs[3].Seq != 4 {
			t.Errorf("message 2 = %+v, 4 = %+v", msgs[1], msgs[3])
		}
		hist, _ := s.History(ctx, c.ID)
		if hist[3].Text != "**Gateway timeouts.**" || hist[2].ToolResults[0].CallID != "c1" {
			t.Errorf("history = %+v", hist)
		}
		// Per user: bob cannot open ann's conversation.
		if _, err := s.Conversation(ctx, "acme", "bob", c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("bob opened ann's conversation: %v", err)
		}
		if list, _ := s.Conversations(ctx, "acme", "bob", ""); len(list) != 0 {
			t.Errorf("bob lists %d conversations", len(list))
		}
		if list, _ := s.Conversations(ctx, "acme", "ann", "agt_1"); len(list) != 1 || list[0].Title != "Why are checkouts failing since yesterday at 09:10?" {
			t.Errorf("ann's list: %+v", list)
		}
		if err := s.AppendTurns(ctx, "cnv_missing", turns); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("append to a missing conversation: %v", err)
		}
		// Concurrent appends keep every turn, numbered without gaps.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.AppendTurns(ctx, c.ID, []agent.Turn{{Message: llm.Message{Role: llm.RoleUser, Text: fmt.Sprint("q", i)}}}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		msgs, _ = s.Messages(ctx, c.ID)
		if len(msgs) != 12 || msgs[11].Seq != 12 {
			t.Errorf("after concurrent appends: %d messages, last seq %d", len(msgs), msgs[len(msgs)-1].Seq)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://u:hunter2-canary@127.0.0.1:1/x?connect_timeout=1", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2-canary") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("unreachable postgres: %v", err)
	}
	if _, err := store.ParseKeyring("not-base64!"); err == nil || !strings.Contains(err.Error(), "keygen") {
		t.Errorf("bad key: %v", err)
	}
}
