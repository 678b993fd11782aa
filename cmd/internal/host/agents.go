package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/shared/render"
)

const agentsUsage = `Usage:
  opstower agents [list]                   list the agents you can see
  opstower agents show NAME                an agent's settings and conversations
  opstower agents create --name NAME --type TYPE [settings]
  opstower agents edit NAME [settings]     change only the settings given
  opstower agents delete NAME

Types: debugger, analyst, product_manager, custom. Agents declared in the
config file (agents:) are listed too, and are edited in the file.

Settings:
`

// agentSettings are the flags of create and edit.
type agentSettings struct {
	name, typ, model, visibility, knowledge, knowledgeFile string
	connections, mcpServers, connected                     string
	webSearch                                              bool
	maxSteps                                               int
}

func (s *agentSettings) register(fs *flag.FlagSet) {
	fs.StringVar(&s.name, "name", "", "the agent's name (edit: a new name)")
	fs.StringVar(&s.typ, "type", "", "debugger, analyst, product_manager or custom")
	fs.StringVar(&s.model, "model", "", "model override as PROVIDER:MODEL; empty uses the default for the type")
	fs.StringVar(&s.visibility, "visibility", "", "everyone (default) or only_me")
	fs.StringVar(&s.knowledge, "knowledge", "", "custom knowledge text added to the system prompt")
	fs.StringVar(&s.knowledgeFile, "knowledge-file", "", "read custom knowledge from this file")
	fs.StringVar(&s.connections, "connections", "", "comma-separated connection names (replaces the list; empty clears it)")
	fs.StringVar(&s.mcpServers, "mcp-servers", "", "comma-separated external MCP server names")
	fs.StringVar(&s.connected, "connected-agents", "", "comma-separated names of agents this one may ask (at most 10)")
	fs.BoolVar(&s.webSearch, "web-search", false, "let the model search the web with its provider's own tool")
	fs.IntVar(&s.maxSteps, "max-steps", 0, "steps allowed per answer (0: the host default, 15)")
}

// apply sets the fields whose flags were given.
func (s *agentSettings) apply(ctx context.Context, ws *workspace, a *agent.Agent, set map[string]bool) error {
	if set["name"] {
		a.Name = s.name
	}
	if set["type"] {
		t, err := agent.ParseType(s.typ)
		if err != nil {
			return err
		}
		a.Type = t
	}
	if set["model"] {
		a.Model = s.model
	}
	if set["visibility"] {
		v, err := agent.ParseVisibility(s.visibility)
		if err != nil {
			return err
		}
		a.Visibility = v
	}
	if set["knowledge"] && set["knowledge-file"] {
		return errors.New("give --knowledge or --knowledge-file, not both")
	}
	if set["knowledge"] {
		a.Knowledge = s.knowledge
	}
	if set["knowledge-file"] {
		data, err := os.ReadFile(s.knowledgeFile)
		if err != nil {
			return fmt.Errorf("reading knowledge: %w", err)
		}
		a.Knowledge = string(data)
	}
	if set["connections"] {
		a.Connections = splitList(s.connections)
	}
	if set["mcp-servers"] {
		a.MCPServers = splitList(s.mcpServers)
	}
	if set["connected-agents"] {
		a.ConnectedAgents = nil
		for _, n := range splitList(s.connected) {
			b, err := ws.store.AgentByName(ctx, ws.org, ws.user, n)
			if err != nil {
				return err
			}
			a.ConnectedAgents = append(a.ConnectedAgents, b.ID)
		}
	}
	if set["web-search"] {
		a.WebSearch = s.webSearch
	}
	if set["max-steps"] {
		a.MaxSteps = s.maxSteps
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func runAgents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("opstower agents "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var wf workspaceFlags
	wf.register(fs)
	var s agentSettings
	if verb == "create" || verb == "edit" {
		s.register(fs)
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, agentsUsage)
		fs.PrintDefaults()
	}
	// A name may come before the flags (edit NAME --model ...).
	var target string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		target, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if target == "" && fs.NArg() > 0 {
		target = fs.Arg(0)
	}
	if err := cli.EnvDefaults(fs); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	switch verb {
	case "list", "show", "create", "edit", "delete":
	default:
		fs.Usage()
		return fmt.Errorf("unknown agents command %q; use list, show, create, edit or delete", verb)
	}
	if (verb == "show" || verb == "edit" || verb == "delete") && target == "" {
		return fmt.Errorf("name the agent: opstower agents %s NAME", verb)
	}

	ws, err := openWorkspace(ctx, wf, nil, nil, stderr)
	if err != nil {
		return err
	}
	defer ws.Close()

	switch verb {
	case "list":
		return ws.listAgents(ctx, stdout)
	case "show":
		return ws.showAgent(ctx, stdout, target)
	case "create":
		if !set["name"] || !set["type"] {
			return errors.New("create needs --name and --type (debugger, analyst, product_manager or custom)")
		}
		a := &agent.Agent{Org: ws.org, Owner: ws.user}
		if err := s.apply(ctx, ws, a, set); err != nil {
			return err
		}
		if err := ws.saveAgent(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created %s (%s agent). Chat with it: opstower chat --agent %q\n", a.Name, a.Type.Title(), a.Name)
		return nil
	case "edit":
		a, err := ws.store.AgentByName(ctx, ws.org, ws.user, target)
		if err != nil {
			return err
		}
		if a.Source == "config" {
			return fmt.Errorf("agent %q is declared in the config file; edit it there", a.Name)
		}
		if len(set) == 0 {
			return errors.New("nothing to change; give the settings to change (see opstower agents edit --help)")
		}
		if err := s.apply(ctx, ws, a, set); err != nil {
			return err
		}
		if err := ws.saveAgent(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Saved %s.\n", a.Name)
		return nil
	default: // delete
		a, err := ws.store.AgentByName(ctx, ws.org, ws.user, target)
		if err != nil {
			return err
		}
		if a.Source == "config" {
			return fmt.Errorf("agent %q is declared in the config file; remove it there", a.Name)
		}
		if err := ws.store.DeleteAgent(ctx, ws.org, a.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Deleted %s.\n", a.Name)
		return nil
	}
}

func (ws *workspace) listAgents(ctx context.Context, stdout io.Writer) error {
	all, err := ws.store.Agents(ctx, ws.org, ws.user)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "No agents yet. Create one:\n  opstower agents create --name \"Backend Debugger\" --type debugger --connections shop\nor declare agents in the config file, or chat without one: opstower chat --dsn URL")
		return nil
	}
	names := map[string]string{}
	for _, a := range all {
		names[a.ID] = a.Name
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tMODEL\tVISIBILITY\tCONNECTIONS\tCONNECTED AGENTS\tSOURCE")
	for _, a := range all {
		model := a.Model
		if model == "" {
			if spec, err := ws.host.Models.Resolve(a); err == nil {
				model = "(default) " + spec.String()
			} else {
				model = "(none configured)"
			}
		}
		var linked []string
		for _, id := range a.ConnectedAgents {
			linked = append(linked, names[id])
		}
		src := a.Source
		if src == "" {
			src = "store"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Type.Title(), model, a.Visibility,
			dash(strings.Join(append(append([]string(nil), a.Connections...), a.MCPServers...), ", ")), dash(strings.Join(linked, ", ")), src)
	}
	return tw.Flush()
}

func (ws *workspace) showAgent(ctx context.Context, stdout io.Writer, name string) error {
	a, err := ws.store.AgentByName(ctx, ws.org, ws.user, name)
	if err != nil {
		return err
	}
	model := a.Model
	if model == "" {
		if spec, err := ws.host.Models.Resolve(a); err == nil {
			model = spec.String() + " (default for " + string(a.Type) + ")"
		} else {
			model = "none configured"
		}
	}
	fmt.Fprintf(stdout, "Name:         %s\nType:         %s (may use: %s)\nModel:        %s\nVisibility:   %s\n", a.Name, a.Type.Title(), strings.Join(a.Type.Categories(), ", "), model, a.Visibility)
	fmt.Fprintf(stdout, "Connections:  %s\nMCP servers:  %s\nWeb search:   %v\n", dash(strings.Join(a.Connections, ", ")), dash(strings.Join(a.MCPServers, ", ")), a.WebSearch)
	var linked []string
	for _, id := range a.ConnectedAgents {
		if b, err := ws.store.Agent(ctx, ws.org, id); err == nil {
			linked = append(linked, b.Name)
		}
	}
	fmt.Fprintf(stdout, "Connected:    %s\nKnowledge:    %s\n", dash(strings.Join(linked, ", ")), render.Bytes(len(a.Knowledge)))
	convs, err := ws.store.Conversations(ctx, ws.org, ws.user, a.ID)
	if err != nil {
		return err
	}
	if len(convs) > 0 {
		fmt.Fprintln(stdout, "\nYour conversations (resume with opstower chat --agent NAME --resume ID):")
		for i, c := range convs {
			if i == 10 {
				fmt.Fprintf(stdout, "  ... and %d more\n", len(convs)-10)
				break
			}
			fmt.Fprintf(stdout, "  %s  %s  %s\n", c.ID, c.Updated.Local().Format("2006-01-02 15:04"), c.Title)
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
