// Package hostapi is the agent host's HTTP API: agents, stored
// connections, conversations, and chat with answers streamed as
// server-sent events. The web UI will be built on it.
//
// Every route but /healthz requires the bearer token when one is
// configured. Errors are JSON {"error": "..."} with a status that says
// whose fault it was; secrets never appear in a response.
package hostapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/secret"
)

// Server serves the API for one organization and user (tenancy comes
// later: then both will come from the token).
type Server struct {
	Host   *agent.Host
	Store  *store.Store
	Org    string
	User   string
	Token  secret.String
	Limits agent.Limits
	Logger *slog.Logger

	sessions sessions
}

// Close closes the agents' sessions kept open between questions.
func (s *Server) Close() { s.sessions.closeAll() }

// maxBody bounds request bodies (an agent with 50 KB of knowledge fits).
const maxBody = 1 << 20

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	api := http.NewServeMux()
	api.HandleFunc("GET /api/agents", s.listAgents)
	api.HandleFunc("POST /api/agents", s.createAgent)
	api.HandleFunc("GET /api/agents/{id}", s.getAgent)
	api.HandleFunc("PUT /api/agents/{id}", s.updateAgent)
	api.HandleFunc("DELETE /api/agents/{id}", s.deleteAgent)
	api.HandleFunc("GET /api/connections", s.listConnections)
	api.HandleFunc("PUT /api/connections/{name}", s.putConnection)
	api.HandleFunc("DELETE /api/connections/{name}", s.deleteConnection)
	api.HandleFunc("POST /api/connections/{name}/test", s.testConnection)
	api.HandleFunc("GET /api/conversations", s.listConversations)
	api.HandleFunc("GET /api/conversations/{id}", s.getConversation)
	api.HandleFunc("POST /api/chat", s.chat)
	mux.Handle("/api/", s.auth(api))
	return http.NewCrossOriginProtection().Handler(mux)
}

func (s *Server) auth(next http.Handler) http.Handler {
	if s.Token.IsZero() {
		return next
	}
	want := sha256.Sum256([]byte(s.Token.Reveal()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="opstower"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": secret.Scrub(err.Error())})
}

// lookupStatus is the status for a failed lookup of a stored record: not
// found, no key to decrypt it, or the store failing.
func lookupStatus(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrNoKey):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// decode reads a JSON body strictly: unknown fields are errors, so a typo
// never silently drops a setting.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

// agentBody is an agent as the API reads it; connected agents may be
// given by id or by name.
type agentBody struct {
	Name            *string   `json:"name"`
	Type            *string   `json:"type"`
	Model           *string   `json:"model"`
	Visibility      *string   `json:"visibility"`
	Connections     *[]string `json:"connections"`
	MCPServers      *[]string `json:"mcp_servers"`
	Knowledge       *string   `json:"knowledge"`
	ConnectedAgents *[]string `json:"connected_agents"`
	WebSearch       *bool     `json:"web_search"`
	MaxSteps        *int      `json:"max_steps"`
}

func (s *Server) apply(ctx context.Context, b agentBody, a *agent.Agent) error {
	if b.Name != nil {
		a.Name = *b.Name
	}
	if b.Type != nil {
		t, err := agent.ParseType(*b.Type)
		if err != nil {
			return err
		}
		a.Type = t
	}
	if b.Model != nil {
		a.Model = *b.Model
	}
	if b.Visibility != nil {
		v, err := agent.ParseVisibility(*b.Visibility)
		if err != nil {
			return err
		}
		a.Visibility = v
	}
	if b.Connections != nil {
		a.Connections = *b.Connections
	}
	if b.MCPServers != nil {
		a.MCPServers = *b.MCPServers
	}
	if b.Knowledge != nil {
		a.Knowledge = *b.Knowledge
	}
	if b.ConnectedAgents != nil {
		a.ConnectedAgents = nil
		for _, ref := range *b.ConnectedAgents {
			other, err := s.Store.AgentByName(ctx, s.Org, s.User, ref)
			if err != nil {
				return err
			}
			a.ConnectedAgents = append(a.ConnectedAgents, other.ID)
		}
	}
	if b.WebSearch != nil {
		a.WebSearch = *b.WebSearch
	}
	if b.MaxSteps != nil {
		a.MaxSteps = *b.MaxSteps
	}
	return nil
}

func (s *Server) save(ctx context.Context, a *agent.Agent) error {
	if err := a.Validate(s.Limits); err != nil {
		return err
	}
	if err := s.Host.CheckConnections(ctx, a); err != nil {
		return err
	}
	return s.Store.SaveAgent(ctx, a, s.Limits)
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Agents(r.Context(), s.Org, s.User)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []*agent.Agent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": list})
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var b agentBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if b.Name == nil || b.Type == nil {
		writeError(w, http.StatusBadRequest, errors.New("an agent needs a name and a type (debugger, analyst, product_manager or custom)"))
		return
	}
	a := &agent.Agent{Org: s.Org, Owner: s.User}
	if err := s.apply(r.Context(), b, a); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.save(r.Context(), a); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// visibleAgent finds an agent the user may see.
func (s *Server) visibleAgent(w http.ResponseWriter, r *http.Request, id string) *agent.Agent {
	a, err := s.Store.Agent(r.Context(), s.Org, id)
	if err != nil || !a.VisibleTo(s.User) {
		if a2, err2 := s.Store.AgentByName(r.Context(), s.Org, s.User, id); err2 == nil {
			return a2
		}
		writeError(w, http.StatusNotFound, fmt.Errorf("no agent %q", id))
		return nil
	}
	return a
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	if a := s.visibleAgent(w, r, r.PathValue("id")); a != nil {
		writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request) {
	a := s.visibleAgent(w, r, r.PathValue("id"))
	if a == nil {
		return
	}
	if a.Source == "config" {
		writeError(w, http.StatusConflict, fmt.Errorf("agent %q is declared in the config file; edit it there", a.Name))
		return
	}
	var b agentBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.apply(r.Context(), b, a); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.save(r.Context(), a); err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) {
	a := s.visibleAgent(w, r, r.PathValue("id"))
	if a == nil {
		return
	}
	if a.Source == "config" {
		writeError(w, http.StatusConflict, fmt.Errorf("agent %q is declared in the config file; remove it there", a.Name))
		return
	}
	if err := s.Store.DeleteAgent(r.Context(), s.Org, a.ID); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Connections(r.Context(), s.Org)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []store.ConnectionInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": list})
}

type connectionBody struct {
	Category string            `json:"category"`
	Provider string            `json:"provider"`
	Settings map[string]string `json:"settings"`
}

func (s *Server) putConnection(w http.ResponseWriter, r *http.Request) {
	var b connectionBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	c := config.Connection{Name: r.PathValue("name"), Category: b.Category, Provider: b.Provider, Settings: b.Settings}
	if c.Settings == nil {
		c.Settings = map[string]string{}
	}
	for k, v := range c.Settings {
		if secret.IsSecretKey(k) {
			secret.New(v)
		}
	}
	if err := s.Store.SaveConnection(r.Context(), s.Org, c); err != nil {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, store.ErrNoKey) {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.DeleteConnection(r.Context(), s.Org, r.PathValue("name")); err != nil {
		writeError(w, lookupStatus(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// testResult is one connection's test, as the API answers it.
type testResult struct {
	Name      string  `json:"name"`
	Provider  string  `json:"provider"`
	OK        bool    `json:"ok"`
	ElapsedMS float64 `json:"elapsed_ms"`
	Note      string  `json:"note,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// testConnection is the "Test Connection" button: it reaches the stored
// connection with its credentials, the way the category's tools would.
// A connection that fails its test is still a 200: the test ran.
func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) {
	c, err := s.Host.Directory.Connection(r.Context(), s.Org, r.PathValue("name"))
	if err != nil {
		writeError(w, lookupStatus(err), err)
		return
	}
	test := s.Host.Testers[c.Category]
	if test == nil {
		writeError(w, http.StatusUnprocessableEntity, fmt.Errorf("connections of category %q cannot be tested here", c.Category))
		return
	}
	results, err := test(r.Context(), []config.Connection{c.Connection})
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	if len(results) != 1 {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("the %s category tested %d connections for one", c.Category, len(results)))
		return
	}
	res := results[0]
	out := testResult{Name: c.Name, Provider: res.Provider, OK: res.Err == nil, ElapsedMS: float64(res.Elapsed.Microseconds()) / 1000, Note: res.Note}
	if res.Err != nil {
		out.Error = secret.Scrub(res.Err.Error())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	list, err := s.Store.Conversations(r.Context(), s.Org, s.User, r.URL.Query().Get("agent"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []*store.Conversation{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
}

// shownMessage is a persisted message without the provider's native
// encoding, which only the provider reads.
type shownMessage struct {
	Seq         int              `json:"seq"`
	Role        llm.Role         `json:"role"`
	Text        string           `json:"text,omitempty"`
	ToolCalls   []llm.ToolCall   `json:"tool_calls,omitempty"`
	ToolResults []llm.ToolResult `json:"tool_results,omitempty"`
	Model       string           `json:"model,omitempty"`
	Usage       llm.Usage        `json:"usage"`
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Conversation(r.Context(), s.Org, s.User, r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	msgs, err := s.Store.Messages(r.Context(), c.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	shown := make([]shownMessage, len(msgs))
	for i, m := range msgs {
		shown[i] = shownMessage{Seq: m.Seq, Role: m.Message.Role, Text: m.Message.Text, ToolCalls: m.Message.ToolCalls, ToolResults: m.Message.ToolResults, Model: m.Model, Usage: m.Usage}
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": c, "messages": shown})
}

type chatBody struct {
	Agent          string `json:"agent"` // id or name
	Question       string `json:"question"`
	ConversationID string `json:"conversation_id"`
}

// chat answers a question. With Accept: text/event-stream the answer
// streams as events (text, tool_start, progress, tool_end, then done or
// error);
// otherwise one JSON object arrives at the end.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var b chatBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if strings.TrimSpace(b.Question) == "" || b.Agent == "" {
		writeError(w, http.StatusBadRequest, errors.New("give an agent (id or name) and a question"))
		return
	}
	ctx := r.Context()
	a := s.visibleAgent(w, r, b.Agent)
	if a == nil {
		return
	}
	var conv *store.Conversation
	var history []llm.Message
	if b.ConversationID != "" {
		c, err := s.Store.Conversation(ctx, s.Org, s.User, b.ConversationID)
		if err != nil {
			writeError(w, http.StatusNotFound, err)
			return
		}
		if c.AgentID != a.ID {
			writeError(w, http.StatusBadRequest, errors.New("that conversation is with another agent"))
			return
		}
		conv = c
		if history, err = s.Store.History(ctx, c.ID); err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
	}
	sess, release, err := s.sessions.get(ctx, s.Host, a, s.User)
	if err != nil {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, llm.ErrNoModel) {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, err)
		return
	}
	defer release()

	stream := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	var send func(event string, v any)
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		flusher, _ := w.(http.Flusher)
		send = func(event string, v any) {
			data, _ := json.Marshal(v)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	res, err := sess.Ask(ctx, history, b.Question, func(e agent.Event) {
		if send == nil {
			return
		}
		switch e.Kind {
		case agent.EventText:
			send("text", map[string]any{"text": e.Text})
		case agent.EventToolStart:
			send("tool_start", map[string]any{"id": e.CallID, "tool": e.Tool, "args": e.Args, "step": e.Step})
		case agent.EventProgress:
			send("progress", map[string]any{"id": e.CallID, "tool": e.Tool, "message": e.Text})
		case agent.EventToolEnd:
			send("tool_end", map[string]any{"id": e.CallID, "tool": e.Tool, "is_error": e.IsError, "elapsed_ms": e.Elapsed.Milliseconds(), "result": e.Result})
		}
	})
	// Save what was done, even when the answer failed half-way: the
	// question and completed steps are not lost.
	saveCtx := context.WithoutCancel(ctx)
	if res != nil && len(res.Turns) > 1 {
		if conv == nil {
			conv, _ = s.Store.CreateConversation(saveCtx, s.Org, s.User, a.ID, b.Question)
		}
		if conv != nil {
			if serr := s.Store.AppendTurns(saveCtx, conv.ID, res.Turns); serr != nil && s.Logger != nil {
				s.Logger.Error("saving a conversation", "err", serr)
			}
		}
	}
	convID := ""
	if conv != nil {
		convID = conv.ID
	}
	if err != nil {
		if send != nil {
			send("error", map[string]any{"error": secret.Scrub(err.Error()), "conversation_id": convID})
			return
		}
		writeError(w, http.StatusBadGateway, err)
		return
	}
	done := map[string]any{"conversation_id": convID, "answer": res.Answer, "usage": res.Usage, "steps": res.Steps, "step_limit": res.StepLimit, "model": sess.Spec.String()}
	if send != nil {
		send("done", done)
		return
	}
	writeJSON(w, http.StatusOK, done)
}
