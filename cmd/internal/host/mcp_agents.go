package host

import (
	"context"
	"flag"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/shared/config"
)

// agentsCategory is `opstower mcp agents`: the host's agents as tools for
// outside MCP clients (Claude Desktop can ask our Debugger).
const agentsCategory = "agents"

func init() {
	var wf workspaceFlags
	var only cli.ListFlag
	cli.Categories[agentsCategory] = cli.Category{
		Progress: true, // each ask_<agent> call reports the agent's steps
		Summary:  "OpsTower agents as tools: each ask_<agent> tool runs that agent (its own model, connections and knowledge) on a question",
		Flags: func(fs *flag.FlagSet) func() ([]config.Connection, error) {
			wf.registerState(fs)
			wf.registerModel(fs)
			fs.Var(&only, "agent", "serve only this agent (repeatable; default every agent you can see)")
			return func() ([]config.Connection, error) { return nil, nil }
		},
		Build: func(ctx context.Context, o cli.ServerOptions) (*mcp.Server, error) {
			ws, err := openWorkspace(ctx, wf, o.File, nil, os.Stderr)
			if err != nil {
				return nil, err
			}
			go func() {
				<-ctx.Done()
				ws.Close()
			}()
			all, err := ws.store.Agents(ctx, ws.org, ws.user)
			if err != nil {
				return nil, err
			}
			var chosen []*agent.Agent
			if len(only) == 0 {
				chosen = all
			}
			for _, name := range only {
				a, err := ws.store.AgentByName(ctx, ws.org, ws.user, name)
				if err != nil {
					return nil, err
				}
				chosen = append(chosen, a)
			}
			if len(chosen) == 0 {
				return nil, fmt.Errorf("no agents to serve: declare agents in the config file (agents:) or create one with `opstower agents create`")
			}
			// Fail now, not on the first question, when no model is set.
			for _, a := range chosen {
				if _, err := ws.host.Models.Resolve(a); err != nil {
					return nil, fmt.Errorf("agent %q: %w", a.Name, err)
				}
			}
			names := make([]string, len(chosen))
			for i, a := range chosen {
				names[i] = a.Name
			}
			ws.logger.Info("serving agents", "agents", strings.Join(names, ", "))
			return agent.AgentsServer(ws.host, ws.user, chosen), nil
		},
	}
}
