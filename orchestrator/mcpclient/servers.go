package mcpclient

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/suggest"
)

// serverEntry is one server in Claude Desktop's mcpServers format (also
// used by Claude Code, Cursor and VS Code): command/args/env for stdio,
// url/headers for HTTP.
type serverEntry struct {
	Command  string            `json:"command"`
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`
	Cwd      string            `json:"cwd"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Type     string            `json:"type"`
	Disabled bool              `json:"disabled"`
}

var entryKeys = []string{"args", "command", "cwd", "disabled", "env", "headers", "type", "url"}

// ParseServers reads MCP servers in Claude Desktop's format, as is: either
// a whole claude_desktop_config.json (other top-level keys are ignored) or
// just the object under "mcpServers". Credential-like env and header values
// are treated as secrets: they never appear in logs, errors or tool results.
func ParseServers(data []byte) ([]Server, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("MCP servers: not a JSON object: %v", err)
	}
	raw := top
	if inner, ok := top["mcpServers"]; ok {
		raw = nil
		if err := json.Unmarshal(inner, &raw); err != nil {
			return nil, fmt.Errorf("mcpServers must be an object of servers by name: %v", err)
		}
	}
	return fromEntries(raw)
}

func fromEntries(raw map[string]json.RawMessage) ([]Server, error) {
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Server
	for _, name := range names {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw[name], &keys); err != nil {
			return nil, fmt.Errorf("MCP server %q: must be an object with command or url", name)
		}
		for k := range keys {
			if !contains(entryKeys, k) {
				hint := "known keys: " + strings.Join(entryKeys, ", ")
				if m := suggest.Closest(k, entryKeys, 1); len(m) > 0 {
					hint = fmt.Sprintf("did you mean %q?", m[0])
				}
				return nil, fmt.Errorf("MCP server %q: unknown key %q; %s", name, k, hint)
			}
		}
		var e serverEntry
		if err := json.Unmarshal(raw[name], &e); err != nil {
			return nil, fmt.Errorf("MCP server %q: %v", name, err)
		}
		if e.Disabled {
			continue
		}
		s, err := e.server(name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Entry is the config-file form of one external server (the same keys as
// Claude Desktop's).
type Entry struct {
	Command  string
	Args     []string
	Env      map[string]string
	Cwd      string
	URL      string
	Headers  map[string]string
	Type     string
	Disabled bool
}

// FromEntries turns config-file entries into servers, checking each.
func FromEntries(entries map[string]Entry) ([]Server, error) {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Server
	for _, n := range names {
		e := entries[n]
		if e.Disabled {
			continue
		}
		s, err := serverEntry(e).server(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (e serverEntry) server(name string) (Server, error) {
	if toolName(name) != name {
		return Server{}, fmt.Errorf("MCP server %q: use only letters, digits, - and _ in its name (it prefixes the tool names)", name)
	}
	switch strings.ToLower(e.Type) {
	case "", "stdio", "http", "streamable-http", "streamablehttp":
	case "sse":
		return Server{}, fmt.Errorf("MCP server %q: the legacy SSE transport is not supported; most servers also serve streamable HTTP (often at /mcp): set type: http and that url", name)
	default:
		return Server{}, fmt.Errorf("MCP server %q: unknown type %q; use stdio or http", name, e.Type)
	}
	if (e.Command == "") == (e.URL == "") {
		return Server{}, fmt.Errorf("MCP server %q: give either command (a program to run over stdio) or url (streamable HTTP), not both or neither", name)
	}
	return Server{Name: name, Command: e.Command, Args: e.Args, Env: e.Env, Dir: e.Cwd, URL: e.URL, Headers: e.Headers}, nil
}

// registerSecrets hands credential-like env and header values (API_KEY,
// *_TOKEN, Authorization) to the scrubber. Registering every value would
// scrub words such as "info" from all output.
func (s Server) registerSecrets() {
	for k, v := range s.Env {
		if secret.IsSecretKey(k) {
			secret.New(v)
		}
	}
	for k, v := range s.Headers {
		if secret.IsSecretKey(k) {
			secret.New(v)
			if _, tok, ok := strings.Cut(v, " "); ok {
				secret.New(tok) // the token of "Bearer TOKEN"
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
