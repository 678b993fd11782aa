package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/mcpclient"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/logging"
	"github.com/opstower/opstower/shared/secret"
)

// The host commands (host, chat, agents, mcp agents) act for one
// organization and one user until tenancy arrives.
const (
	defaultOrg = "default"
)

func currentUser() string {
	for _, k := range []string{"OPSTOWER_USER", "USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "local"
}

// workspaceFlags are the flags every host command shares.
type workspaceFlags struct {
	config, database, model, mcpConfig, logLevel string
}

func (w *workspaceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&w.config, "config", "", "YAML config file (models, connections, agents, mcp_servers, host); values may use ${ENV}")
	fs.StringVar(&w.logLevel, "log-level", "", "debug, info, warn or error (default warn); logs go to stderr")
	w.registerState(fs)
}

// registerState registers the flags `opstower mcp agents` adds to those
// every `opstower mcp` command has (--config, --log-level).
func (w *workspaceFlags) registerState(fs *flag.FlagSet) {
	fs.StringVar(&w.database, "database", "", "state database: a SQLite file path (default "+store.DefaultPath()+") or postgres://...")
	fs.StringVar(&w.mcpConfig, "mcp-config", "", "JSON file of extra MCP servers in Claude Desktop's mcpServers format (claude_desktop_config.json works as is)")
}

// registerModel registers --model, the model every agent of the command
// uses (agents create/edit use --model for the agent's own override).
func (w *workspaceFlags) registerModel(fs *flag.FlagSet) {
	fs.StringVar(&w.model, "model", "", "model as PROVIDER:MODEL (anthropic:claude-sonnet-4-6, openai:gpt-5-mini, gemini:gemini-2.5-flash, ollama:llama3.2); overrides the configured defaults")
}

// workspace is what the host commands share: the config file, the state
// store and an agent host wired to the bundled category servers.
type workspace struct {
	file   *config.File
	store  *store.Store
	host   *agent.Host
	conns  map[string]agent.Connection // declared in the config file or by flags, by category/name
	org    string
	user   string
	limits agent.Limits
	logger *slog.Logger
}

// openWorkspace loads the config file named by f (unless file is given),
// opens the state store and wires the host. extra connections come from
// quick-start flags.
func openWorkspace(ctx context.Context, f workspaceFlags, file *config.File, extra []config.Connection, stderr io.Writer) (*workspace, error) {
	if file == nil {
		file = &config.File{}
	}
	if f.config != "" {
		loaded, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		file = loaded
	}
	level := cli.First(f.logLevel, file.Log.Level, "warn")
	logger, err := logging.New(stderr, logging.Options{Level: level, Format: file.Log.Format})
	if err != nil {
		return nil, err
	}
	ws := &workspace{file: file, org: defaultOrg, user: currentUser(), logger: logger,
		limits: agent.Limits{KnowledgeBytes: file.Host.KnowledgeBytes}, conns: map[string]agent.Connection{}}

	providers := map[string]llm.ProviderSettings{}
	for name, p := range file.Models.Providers {
		providers[name] = llm.ProviderSettings{Kind: p.Kind, BaseURL: p.BaseURL, APIKey: p.APIKey}
	}
	registry, err := llm.NewRegistry(providers, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	models := agent.Models{Registry: registry, Default: cli.First(f.model, file.Models.Default), Scopes: map[agent.Type]string{
		agent.Debugger: file.Models.Debugger, agent.Analyst: file.Models.Analyst,
		agent.ProductManager: file.Models.ProductManager, agent.Custom: file.Models.Custom,
	}}
	if f.model != "" {
		// An explicit --model wins over the scope defaults too.
		models.Scopes = nil
	}
	for _, s := range []string{models.Default, file.Models.Debugger, file.Models.Analyst, file.Models.ProductManager, file.Models.Custom} {
		if s == "" {
			continue
		}
		spec, err := llm.ParseSpec(s)
		if err != nil {
			return nil, err
		}
		if _, err := registry.Endpoint(spec.Provider); err != nil {
			return nil, err
		}
	}

	for _, c := range append(append([]config.Connection(nil), file.Connections...), extra...) {
		if c.Name == "" {
			c.Name = defaultConnName(c)
		}
		cat, err := agent.CategoryOf(c.Category, c.Provider, c.Settings["url"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(c), err)
		}
		c.Category = cat
		key := cat + "/" + c.Name
		if _, dup := ws.conns[key]; dup {
			return nil, fmt.Errorf("two %s connections are named %q; give each a name (name: in the config file, NAME=... on the command line)", cat, c.Name)
		}
		ws.conns[key] = agent.SplitInstructions(c)
	}

	external, err := mcpServers(file, cli.First(f.mcpConfig, file.Host.MCPConfig))
	if err != nil {
		return nil, err
	}

	var keys *store.Keyring
	if k := cli.First(file.Host.SecretKey, os.Getenv(store.KeyEnv)); k != "" {
		if keys, err = store.ParseKeyring(k); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, cli.First(f.database, os.Getenv("OPSTOWER_DATABASE"), file.Host.Database), keys)
	if err != nil {
		return nil, err
	}
	ws.store = st

	steps := file.Models.MaxSteps
	ws.host = &agent.Host{
		Models:      models,
		Categories:  bundledCategories(file.Limits.WithDefaults(), logger),
		Testers:     bundledTesters(file.Limits.WithDefaults(), logger),
		MCPServers:  external,
		Directory:   directory{store: st, conns: ws.conns},
		Limits:      ws.limits,
		MaxSteps:    steps,
		ResultBytes: file.Limits.WithDefaults().Bytes,
		Logger:      logger,
		Version:     cli.Version(),
	}
	if err := ws.syncConfigAgents(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return ws, nil
}

func (ws *workspace) Close() error { return ws.store.Close() }

func where(c config.Connection) string {
	if c.Line > 0 {
		return fmt.Sprintf("connection %q (line %d)", c.Name, c.Line)
	}
	return fmt.Sprintf("connection %q", c.Name)
}

// defaultConnName names an unnamed connection after its provider, as the
// category servers do.
func defaultConnName(c config.Connection) string {
	if c.Provider != "" {
		return c.Provider
	}
	if scheme, _, ok := strings.Cut(c.Settings["url"], "://"); ok {
		return scheme
	}
	return c.Category
}

// bundledCategories are the category servers agents use in-process: every
// `opstower mcp` category except the agents server itself.
func bundledCategories(limits config.Limits, logger *slog.Logger) map[string]agent.CategoryServer {
	out := map[string]agent.CategoryServer{}
	for name, cat := range cli.Categories {
		if name == agentsCategory {
			continue
		}
		build := cat.Build
		out[name] = func(ctx context.Context, conns []config.Connection) (*mcp.Server, error) {
			return build(ctx, cli.ServerOptions{Connections: conns, Limits: limits, Logger: logger, Version: cli.Version()})
		}
	}
	return out
}

// bundledTesters test connections of the categories that can be tested
// (--check), for the host API's "Test Connection".
func bundledTesters(limits config.Limits, logger *slog.Logger) map[string]agent.ConnectionTester {
	out := map[string]agent.ConnectionTester{}
	for name, cat := range cli.Categories {
		if test := cat.Test; test != nil {
			out[name] = func(ctx context.Context, conns []config.Connection) ([]connections.TestResult, error) {
				return test(ctx, cli.ServerOptions{Connections: conns, Limits: limits, Logger: logger, Version: cli.Version()})
			}
		}
	}
	return out
}

// mcpServers reads external MCP servers from the config file and from a
// Claude Desktop JSON file.
func mcpServers(file *config.File, jsonPath string) (map[string]mcpclient.Server, error) {
	entries := map[string]mcpclient.Entry{}
	for name, s := range file.MCPServers {
		entries[name] = mcpclient.Entry{Command: s.Command, Args: s.Args, Env: s.Env, Cwd: s.Cwd, URL: s.URL, Headers: s.Headers, Type: s.Type, Disabled: s.Disabled}
	}
	list, err := mcpclient.FromEntries(entries)
	if err != nil {
		return nil, fmt.Errorf("mcp_servers: %w", err)
	}
	if jsonPath != "" {
		data, err := os.ReadFile(jsonPath)
		if err != nil {
			return nil, fmt.Errorf("reading MCP servers: %w", err)
		}
		more, err := mcpclient.ParseServers(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", jsonPath, err)
		}
		list = append(list, more...)
	}
	out := map[string]mcpclient.Server{}
	for _, s := range list {
		if _, dup := out[s.Name]; dup {
			return nil, fmt.Errorf("two MCP servers are named %q", s.Name)
		}
		out[s.Name] = s
	}
	return out, nil
}

// directory finds connections declared in the config file (or by flags)
// first, then those stored by the host; agents come from the store.
// Config names are unique within a category, so an agent names a
// connection by its name, or as category/name when two categories share
// it.
type directory struct {
	store *store.Store
	conns map[string]agent.Connection // by category/name
}

func (d directory) Agent(ctx context.Context, org, id string) (*agent.Agent, error) {
	return d.store.Agent(ctx, org, id)
}

func (d directory) Connection(ctx context.Context, org, name string) (agent.Connection, error) {
	if c, ok := d.conns[name]; ok {
		return c, nil
	}
	var matches []string
	for key := range d.conns {
		if _, n, _ := strings.Cut(key, "/"); n == name {
			matches = append(matches, key)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 1:
		return d.conns[matches[0]], nil
	case 0:
	default:
		return agent.Connection{}, notFound(fmt.Sprintf("connection name %q is used in several categories; write one of %s", name, strings.Join(matches, ", ")))
	}
	c, err := d.store.Connection(ctx, org, name)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	names := d.names()
	if stored, err := d.store.Connections(ctx, org); err == nil {
		for _, s := range stored {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return agent.Connection{}, notFound(fmt.Sprintf("no connection named %q; none are configured: add connections to opstower.yaml, or pass --dsn, --repo or --files", name))
	}
	return agent.Connection{}, notFound(fmt.Sprintf("no connection named %q; connections are: %s", name, strings.Join(names, ", ")))
}

// notFound is a lookup that found no single connection: its message says
// what exists, and it matches store.ErrNotFound (an API answers 404).
type notFound string

func (e notFound) Error() string        { return string(e) }
func (e notFound) Is(target error) bool { return target == store.ErrNotFound }

// names are the shortest unambiguous references to the config's
// connections.
func (d directory) names() []string {
	count := map[string]int{}
	for key := range d.conns {
		_, n, _ := strings.Cut(key, "/")
		count[n]++
	}
	var out []string
	for key := range d.conns {
		if _, n, _ := strings.Cut(key, "/"); count[n] == 1 {
			out = append(out, n)
		} else {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// saveAgent checks an agent against the connections and servers it names
// and saves it with every rule enforced.
func (ws *workspace) saveAgent(ctx context.Context, a *agent.Agent) error {
	if err := a.Validate(ws.limits); err != nil {
		return err
	}
	if err := ws.host.CheckConnections(ctx, a); err != nil {
		return err
	}
	return ws.store.SaveAgent(ctx, a, ws.limits)
}

// syncConfigAgents makes the store hold exactly the agents the config
// file declares (marked as such, so the CLI and API send edits to the
// file): create or update each, then link connected agents by name, then
// remove config agents the file no longer declares.
func (ws *workspace) syncConfigAgents(ctx context.Context) error {
	existing, err := ws.store.Agents(ctx, ws.org, ws.user)
	if err != nil {
		return err
	}
	byName := map[string]*agent.Agent{}
	for _, a := range existing {
		byName[strings.ToLower(a.Name)] = a
	}
	declared := map[string]*agent.Agent{}
	for _, ca := range ws.file.Agents {
		a := &agent.Agent{Org: ws.org, Owner: ws.user, Name: ca.Name, Type: agent.Type(ca.Type), Model: ca.Model,
			Visibility: agent.Visibility(ca.Visibility), Connections: ca.Connections, MCPServers: ca.MCPServers,
			Knowledge: ca.Knowledge, WebSearch: ca.WebSearch || ws.file.Models.WebSearch, MaxSteps: ca.MaxSteps, Source: "config"}
		if old, ok := byName[strings.ToLower(ca.Name)]; ok {
			if old.Source != "config" {
				return fmt.Errorf("config line %d: agent %q also exists in the state database (created with the CLI or API); rename one of them", ca.Line, ca.Name)
			}
			a.ID = old.ID
		}
		if _, dup := declared[strings.ToLower(ca.Name)]; dup {
			return fmt.Errorf("config line %d: two agents are named %q", ca.Line, ca.Name)
		}
		if err := ws.saveAgent(ctx, a); err != nil {
			return fmt.Errorf("config line %d: %w", ca.Line, err)
		}
		declared[strings.ToLower(ca.Name)] = a
		byName[strings.ToLower(ca.Name)] = a
	}
	for _, ca := range ws.file.Agents {
		if len(ca.ConnectedAgents) == 0 {
			continue
		}
		a := declared[strings.ToLower(ca.Name)]
		a.ConnectedAgents = nil
		for _, n := range ca.ConnectedAgents {
			b, ok := byName[strings.ToLower(n)]
			if !ok {
				return fmt.Errorf("config line %d: agent %q connects to %q, which does not exist", ca.Line, ca.Name, n)
			}
			a.ConnectedAgents = append(a.ConnectedAgents, b.ID)
		}
		if err := ws.store.SaveAgent(ctx, a, ws.limits); err != nil {
			return fmt.Errorf("config line %d: %w", ca.Line, err)
		}
	}
	for _, a := range existing {
		if a.Source == "config" && declared[strings.ToLower(a.Name)] == nil {
			if err := ws.store.DeleteAgent(ctx, ws.org, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// scrubbed returns err with registered secrets removed, for printing.
func scrubbed(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(secret.Scrub(err.Error()))
}
