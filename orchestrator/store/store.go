// Package store keeps the host's state — agents, connections,
// conversations and their messages — in an embedded SQLite file by default
// or in PostgreSQL, behind one API that both pass the same tests with.
//
// Connection settings are encrypted at rest with AES-256-GCM under the
// operator's key (Keyring); the id of the key is stored beside each
// ciphertext so keys can rotate.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite", pure Go

	"github.com/opstower/opstower/shared/secret"
)

// ErrNotFound is returned when a row does not exist (or is not visible to
// the caller).
var ErrNotFound = errors.New("not found")

// Store is the host's database.
type Store struct {
	db       *sql.DB
	postgres bool
	keys     *Keyring
	where    string // redacted location, for messages
	dsn      string
}

// DefaultPath is where the SQLite file lives when no database is given.
func DefaultPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "opstower", "opstower.db")
	}
	return "opstower.db"
}

// Open opens (and migrates) the store at dsn: postgres://... for
// PostgreSQL; a file path, sqlite://path or "" (DefaultPath) for SQLite.
// keys may be nil; storing a connection then fails with a message saying
// how to set a key.
func Open(ctx context.Context, dsn string, keys *Keyring) (*Store, error) {
	s := &Store{keys: keys, dsn: dsn}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		secret.New(passwordOf(dsn))
		s.postgres = true
		s.where = secret.RedactURL(dsn)
		s.db, err = sql.Open("pgx", dsn)
		if err == nil {
			s.db.SetMaxOpenConns(20)
		}
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
		if path == "" {
			path = DefaultPath()
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the state directory: %w", err)
		}
		s.where = path
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		s.db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	}
	if err != nil {
		return nil, fmt.Errorf("opening the state database %s: %w", s.where, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("cannot reach the state database %s: %s", s.where, secret.Scrub(err.Error()))
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("preparing the state database %s: %s", s.where, secret.Scrub(err.Error()))
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DSN is what the store was opened with.
func (s *Store) DSN() string { return s.dsn }

// Where describes the database for messages (no password).
func (s *Store) Where() string { return s.where }

func passwordOf(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		p, _ := u.User.Password()
		return p
	}
	return ""
}

// migrations are applied in order, once each. Types are chosen to mean the
// same in SQLite and PostgreSQL: times are RFC 3339 text (sortable), JSON
// is text, booleans are integers; only binary columns differ.
var migrations = []string{
	`CREATE TABLE agents (
		id TEXT PRIMARY KEY,
		org TEXT NOT NULL,
		owner TEXT NOT NULL,
		name TEXT NOT NULL,
		type TEXT NOT NULL,
		model TEXT NOT NULL DEFAULT '',
		visibility TEXT NOT NULL,
		connections TEXT NOT NULL DEFAULT '[]',
		mcp_servers TEXT NOT NULL DEFAULT '[]',
		knowledge TEXT NOT NULL DEFAULT '',
		connected_agents TEXT NOT NULL DEFAULT '[]',
		web_search INTEGER NOT NULL DEFAULT 0,
		max_steps INTEGER NOT NULL DEFAULT 0,
		source TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		UNIQUE (org, name)
	)`,
	`CREATE TABLE connections (
		id TEXT PRIMARY KEY,
		org TEXT NOT NULL,
		name TEXT NOT NULL,
		category TEXT NOT NULL,
		provider TEXT NOT NULL,
		key_id TEXT NOT NULL,
		sealed BLOB NOT NULL,
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		UNIQUE (org, name)
	)`,
	`CREATE TABLE conversations (
		id TEXT PRIMARY KEY,
		org TEXT NOT NULL,
		user_id TEXT NOT NULL,
		agent_id TEXT NOT NULL,
		title TEXT NOT NULL,
		created TEXT NOT NULL,
		updated TEXT NOT NULL
	)`,
	`CREATE INDEX conversations_by_user ON conversations (org, user_id, agent_id, updated)`,
	`CREATE TABLE messages (
		conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
		seq INTEGER NOT NULL,
		role TEXT NOT NULL,
		content TEXT NOT NULL,
		model TEXT NOT NULL DEFAULT '',
		input_tokens INTEGER NOT NULL DEFAULT 0,
		output_tokens INTEGER NOT NULL DEFAULT 0,
		created TEXT NOT NULL,
		PRIMARY KEY (conversation_id, seq)
	)`,
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)`); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		// Replicas starting together migrate one at a time.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7061706)`); err != nil {
			return err
		}
	}
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&done); err != nil {
		return err
	}
	if done > len(migrations) {
		return fmt.Errorf("the database was written by a newer OpsTower (schema %d, this one knows %d); upgrade OpsTower", done, len(migrations))
	}
	for i := done; i < len(migrations); i++ {
		ddl := migrations[i]
		if s.postgres {
			ddl = strings.ReplaceAll(ddl, " BLOB ", " BYTEA ")
		}
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`), i+1, now()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// q rewrites ? placeholders as $n for PostgreSQL.
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// isUnique reports a unique-constraint violation in either database.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505") || strings.Contains(m, "duplicate key")
}
