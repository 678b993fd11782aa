package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opstower/opstower/orchestrator/agent"
)

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

const agentCols = `id, org, owner, name, type, model, visibility, connections, mcp_servers, knowledge, connected_agents, web_search, max_steps, source, created, updated`

// SaveAgent creates a (when a.ID is empty) or replaces it, after checking
// every rule: the agent's own (agent.Validate) and those between agents
// (agent.CheckLinks), inside one transaction so two saves cannot create a
// cycle together.
func (s *Store) SaveAgent(ctx context.Context, a *agent.Agent, limits agent.Limits) error {
	if err := a.Validate(limits); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7061707)`); err != nil {
			return err
		}
	}
	creating := a.ID == ""
	if creating {
		a.ID = newID("agt_")
		a.Created = time.Now().UTC()
	} else {
		old, err := s.agentTx(ctx, tx, a.Org, a.ID)
		if err != nil {
			return err
		}
		a.Created, a.Owner = old.Created, old.Owner
	}
	a.Updated = time.Now().UTC()
	cache := map[string]*agent.Agent{}
	lookup := func(id string) (*agent.Agent, bool) {
		if b, ok := cache[id]; ok {
			return b, true
		}
		b, err := s.agentByID(ctx, tx, id)
		if err != nil {
			return nil, false
		}
		cache[id] = b
		return b, true
	}
	if err := agent.CheckLinks(a, lookup); err != nil {
		return err
	}
	conns, _ := json.Marshal(nonNil(a.Connections))
	servers, _ := json.Marshal(nonNil(a.MCPServers))
	linked, _ := json.Marshal(nonNil(a.ConnectedAgents))
	args := []any{a.ID, a.Org, a.Owner, a.Name, string(a.Type), a.Model, string(a.Visibility), string(conns), string(servers), a.Knowledge, string(linked), boolInt(a.WebSearch), a.MaxSteps, a.Source, a.Created.Format(time.RFC3339Nano), a.Updated.Format(time.RFC3339Nano)}
	if creating {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO agents (`+agentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), args...)
	} else {
		_, err = tx.ExecContext(ctx, s.q(`UPDATE agents SET id = ?, org = ?, owner = ?, name = ?, type = ?, model = ?, visibility = ?, connections = ?, mcp_servers = ?, knowledge = ?, connected_agents = ?, web_search = ?, max_steps = ?, source = ?, created = ?, updated = ? WHERE id = ?`), append(args, a.ID)...)
	}
	if isUnique(err) {
		if creating {
			a.ID = ""
		}
		return fmt.Errorf("an agent named %q already exists; pick another name", a.Name)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteAgent removes an agent and unlinks it from every agent that was
// connected to it.
func (s *Store) DeleteAgent(ctx context.Context, org, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM agents WHERE org = ? AND id = ?`), org, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	rows, err := s.scanAgents(ctx, tx, `WHERE org = ? AND connected_agents LIKE ?`, org, `%"`+id+`"%`)
	if err != nil {
		return err
	}
	for _, b := range rows {
		var keep []string
		for _, x := range b.ConnectedAgents {
			if x != id {
				keep = append(keep, x)
			}
		}
		linked, _ := json.Marshal(nonNil(keep))
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE agents SET connected_agents = ? WHERE id = ?`), string(linked), b.ID); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Agent returns an agent of org by ID (agent.Directory).
func (s *Store) Agent(ctx context.Context, org, id string) (*agent.Agent, error) {
	return s.agentTx(ctx, s.db, org, id)
}

// AgentByName finds an agent of org by name, case-insensitively, visible
// to user.
func (s *Store) AgentByName(ctx context.Context, org, user, name string) (*agent.Agent, error) {
	all, err := s.Agents(ctx, org, user)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range all {
		if strings.EqualFold(a.Name, name) || a.ID == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("there is no agent named %q, and no agents yet; create one with `opstower agents create` or declare agents in the config file", name)
	}
	return nil, fmt.Errorf("there is no agent named %q; agents are: %s", name, strings.Join(names, ", "))
}

// Agents lists org's agents visible to user, by name.
func (s *Store) Agents(ctx context.Context, org, user string) ([]*agent.Agent, error) {
	all, err := s.scanAgents(ctx, s.db, `WHERE org = ? ORDER BY name`, org)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if a.VisibleTo(user) {
			out = append(out, a)
		}
	}
	return out, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) agentTx(ctx context.Context, q querier, org, id string) (*agent.Agent, error) {
	rows, err := s.scanAgents(ctx, q, `WHERE org = ? AND id = ?`, org, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("agent %q: %w", id, ErrNotFound)
	}
	return rows[0], nil
}

func (s *Store) agentByID(ctx context.Context, q querier, id string) (*agent.Agent, error) {
	rows, err := s.scanAgents(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return rows[0], nil
}

func (s *Store) scanAgents(ctx context.Context, q querier, where string, args ...any) ([]*agent.Agent, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+agentCols+` FROM agents `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*agent.Agent
	for rows.Next() {
		var a agent.Agent
		var typ, vis, conns, servers, linked, created, updated string
		var web int
		if err := rows.Scan(&a.ID, &a.Org, &a.Owner, &a.Name, &typ, &a.Model, &vis, &conns, &servers, &a.Knowledge, &linked, &web, &a.MaxSteps, &a.Source, &created, &updated); err != nil {
			return nil, err
		}
		a.Type, a.Visibility, a.WebSearch = agent.Type(typ), agent.Visibility(vis), web != 0
		if err := errors.Join(json.Unmarshal([]byte(conns), &a.Connections), json.Unmarshal([]byte(servers), &a.MCPServers), json.Unmarshal([]byte(linked), &a.ConnectedAgents)); err != nil {
			return nil, fmt.Errorf("agent %s: corrupt row: %w", a.ID, err)
		}
		a.Created, a.Updated = parseTime(created), parseTime(updated)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
