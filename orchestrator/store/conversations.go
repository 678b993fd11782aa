package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
)

// Conversation is one chat of a user with an agent. Conversations are
// private to their user.
type Conversation struct {
	ID      string    `json:"id"`
	Org     string    `json:"org"`
	User    string    `json:"user"`
	AgentID string    `json:"agent_id"`
	Title   string    `json:"title"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Message is a persisted turn.
type Message struct {
	Seq     int         `json:"seq"`
	Message llm.Message `json:"message"`
	Model   string      `json:"model,omitempty"`
	Usage   llm.Usage   `json:"usage"`
	Created time.Time   `json:"created"`
}

// CreateConversation starts a conversation; its title is the first
// question, shortened.
func (s *Store) CreateConversation(ctx context.Context, org, user, agentID, firstQuestion string) (*Conversation, error) {
	c := &Conversation{ID: newID("cnv_"), Org: org, User: user, AgentID: agentID, Title: title(firstQuestion), Created: time.Now().UTC()}
	c.Updated = c.Created
	ts := c.Created.Format(time.RFC3339Nano)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO conversations (id, org, user_id, agent_id, title, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		c.ID, org, user, agentID, c.Title, ts, ts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func title(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(q) > 80 {
		r := []rune(q)
		q = string(r[:79]) + "…"
	}
	if q == "" {
		q = "New conversation"
	}
	return q
}

// Conversation returns one of user's conversations.
func (s *Store) Conversation(ctx context.Context, org, user, id string) (*Conversation, error) {
	list, err := s.conversations(ctx, `WHERE org = ? AND user_id = ? AND id = ?`, org, user, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("conversation %q: %w", id, ErrNotFound)
	}
	return list[0], nil
}

// Conversations lists user's conversations, most recent first; agentID
// narrows to one agent when not empty.
func (s *Store) Conversations(ctx context.Context, org, user, agentID string) ([]*Conversation, error) {
	if agentID != "" {
		return s.conversations(ctx, `WHERE org = ? AND user_id = ? AND agent_id = ? ORDER BY updated DESC`, org, user, agentID)
	}
	return s.conversations(ctx, `WHERE org = ? AND user_id = ? ORDER BY updated DESC`, org, user)
}

func (s *Store) conversations(ctx context.Context, where string, args ...any) ([]*Conversation, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, org, user_id, agent_id, title, created, updated FROM conversations `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Conversation
	for rows.Next() {
		var c Conversation
		var created, updated string
		if err := rows.Scan(&c.ID, &c.Org, &c.User, &c.AgentID, &c.Title, &created, &updated); err != nil {
			return nil, err
		}
		c.Created, c.Updated = parseTime(created), parseTime(updated)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// AppendTurns adds a question's turns to a conversation, in one
// transaction: a conversation never holds half an exchange.
func (s *Store) AppendTurns(ctx context.Context, conversationID string, turns []agent.Turn) error {
	if len(turns) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ts := now()
	// Updating the conversation first locks its row (PostgreSQL) or the
	// database (SQLite), so concurrent appends number turns in order.
	res, err := tx.ExecContext(ctx, s.q(`UPDATE conversations SET updated = ? WHERE id = ?`), ts, conversationID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("conversation %q: %w", conversationID, ErrNotFound)
	}
	var seq int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = ?`), conversationID).Scan(&seq); err != nil {
		return err
	}
	for _, t := range turns {
		seq++
		content, err := json.Marshal(t.Message)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO messages (conversation_id, seq, role, content, model, input_tokens, output_tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			conversationID, seq, string(t.Message.Role), string(content), t.Model, t.Usage.InputTokens, t.Usage.OutputTokens, ts); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Messages returns a conversation's turns in order.
func (s *Store) Messages(ctx context.Context, conversationID string) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT seq, content, model, input_tokens, output_tokens, created FROM messages WHERE conversation_id = ? ORDER BY seq`), conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var content, created string
		if err := rows.Scan(&m.Seq, &content, &m.Model, &m.Usage.InputTokens, &m.Usage.OutputTokens, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(content), &m.Message); err != nil {
			return nil, fmt.Errorf("conversation %s, message %d: corrupt content", conversationID, m.Seq)
		}
		m.Created = parseTime(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// History returns a conversation's messages as the model reads them, to
// resume it.
func (s *Store) History(ctx context.Context, conversationID string) ([]llm.Message, error) {
	msgs, err := s.Messages(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m.Message
	}
	return out, nil
}
