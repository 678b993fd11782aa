package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/secret"
)

// ErrNoKey is returned when a connection must be stored or read and no
// operator key is configured.
var ErrNoKey = fmt.Errorf("connections are stored encrypted, and no key is set: set %s (generate one with `opstower host keygen`), or declare the connection in opstower.yaml with ${ENV} references instead", KeyEnv)

// ConnectionInfo is what may be shown about a stored connection: never a
// secret value.
type ConnectionInfo struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Category string            `json:"category"`
	Provider string            `json:"provider"`
	Settings map[string]string `json:"settings"` // secret values redacted
	KeyID    string            `json:"key_id"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
}

// SaveConnection stores c for org, encrypting all its settings (URLs embed
// passwords, so every value is sealed, not only those named like secrets).
// A connection with the same name is replaced.
func (s *Store) SaveConnection(ctx context.Context, org string, c config.Connection) error {
	if s.keys == nil {
		return ErrNoKey
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return errors.New("a connection needs a name")
	}
	cat, err := agent.CategoryOf(c.Category, c.Provider, c.Settings["url"])
	if err != nil {
		return fmt.Errorf("connection %q: %w", c.Name, err)
	}
	plain, err := json.Marshal(c.Settings)
	if err != nil {
		return err
	}
	id := newID("con_")
	var existing string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT id FROM connections WHERE org = ? AND name = ?`), org, c.Name).Scan(&existing)
	if err == nil {
		id = existing
	}
	keyID, sealed := s.keys.Seal(plain, []byte(id))
	t := now()
	if existing != "" {
		_, err = s.db.ExecContext(ctx, s.q(`UPDATE connections SET category = ?, provider = ?, key_id = ?, sealed = ?, updated = ? WHERE id = ?`), cat, c.Provider, keyID, sealed, t, id)
	} else {
		_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO connections (id, org, name, category, provider, key_id, sealed, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, org, c.Name, cat, c.Provider, keyID, sealed, t, t)
	}
	if err != nil {
		return fmt.Errorf("saving connection %q: %s", c.Name, secret.Scrub(err.Error()))
	}
	return nil
}

// Connection returns a stored connection with its settings decrypted
// (agent.Directory). Secret values are registered with the scrubber as
// they are read.
func (s *Store) Connection(ctx context.Context, org, name string) (agent.Connection, error) {
	var id, cat, provider, keyID string
	var sealed []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, category, provider, key_id, sealed FROM connections WHERE org = ? AND name = ?`), org, name).
		Scan(&id, &cat, &provider, &keyID, &sealed)
	if err != nil {
		return agent.Connection{}, fmt.Errorf("connection %q: %w", name, ErrNotFound)
	}
	if s.keys == nil {
		return agent.Connection{}, ErrNoKey
	}
	plain, err := s.keys.Open(keyID, sealed, []byte(id))
	if err != nil {
		return agent.Connection{}, fmt.Errorf("connection %q: %w", name, err)
	}
	settings := map[string]string{}
	if err := json.Unmarshal(plain, &settings); err != nil {
		return agent.Connection{}, fmt.Errorf("connection %q: corrupt settings", name)
	}
	for k, v := range settings {
		if secret.IsSecretKey(k) {
			secret.New(v)
		}
		if p := passwordOf(v); p != "" {
			secret.New(p)
		}
	}
	return agent.SplitInstructions(config.Connection{Name: name, Category: cat, Provider: provider, Settings: settings}), nil
}

// Connections lists org's connections without secret values.
func (s *Store) Connections(ctx context.Context, org string) ([]ConnectionInfo, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, name, category, provider, key_id, created, updated FROM connections WHERE org = ? ORDER BY name`), org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConnectionInfo
	for rows.Next() {
		var c ConnectionInfo
		var created, updated string
		if err := rows.Scan(&c.ID, &c.Name, &c.Category, &c.Provider, &c.KeyID, &created, &updated); err != nil {
			return nil, err
		}
		c.Created, c.Updated = parseTime(created), parseTime(updated)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		full, err := s.Connection(ctx, org, out[i].Name)
		if err != nil {
			continue // listed without settings; the error shows on use
		}
		out[i].Settings = redacted(full)
	}
	return out, nil
}

// redacted shows setting names with non-secret values only.
func redacted(c agent.Connection) map[string]string {
	out := map[string]string{}
	keys := make([]string, 0, len(c.Settings))
	for k := range c.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.Settings[k]
		switch {
		case secret.IsSecretKey(k):
			out[k] = secret.Redacted
		case strings.Contains(v, "://"):
			out[k] = secret.RedactURL(v)
		default:
			out[k] = secret.Scrub(v)
		}
	}
	if c.Instructions != "" {
		out["instructions"] = c.Instructions
	}
	return out
}

// DeleteConnection removes a stored connection.
func (s *Store) DeleteConnection(ctx context.Context, org, name string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM connections WHERE org = ? AND name = ?`), org, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("connection %q: %w", name, ErrNotFound)
	}
	return nil
}

// Reseal re-encrypts every connection under the current key, after a key
// rotation. It returns how many it rewrote.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	if s.keys == nil {
		return 0, ErrNoKey
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, key_id, sealed FROM connections WHERE key_id <> ?`), s.keys.CurrentID())
	if err != nil {
		return 0, err
	}
	type row struct {
		id, key string
		sealed  []byte
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.key, &r.sealed); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	for i, r := range todo {
		plain, err := s.keys.Open(r.key, r.sealed, []byte(r.id))
		if err != nil {
			return i, err
		}
		keyID, sealed := s.keys.Seal(plain, []byte(r.id))
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE connections SET key_id = ?, sealed = ? WHERE id = ?`), keyID, sealed, r.id); err != nil {
			return i, err
		}
	}
	return len(todo), nil
}
