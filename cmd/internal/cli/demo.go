package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/demo"
	"github.com/opstower/opstower/shared/config"
)

// demoSource is one kind of demo data and the category server that reads it.
type demoSource struct {
	category string
	args     func(w *demo.Workspace) []string // the category's connection flags
	// steps are calls an agent investigating the incident would make.
	steps func(w *demo.Workspace) []demoStep
}

type demoStep struct {
	why  string
	tool string
	args map[string]any
}

var demoSources = []demoSource{
	{
		category: "databases",
		args:     func(w *demo.Workspace) []string { return []string{"--dsn", "shop=sqlite://" + w.Database} },
		steps: func(w *demo.Workspace) []demoStep {
			return []demoStep{
				{"What data is there?", "list_tables", nil},
				{"Did payments change in the last day?", "query", map[string]any{"sql": `SELECT strftime('%Y-%m-%d %H:00', created_at) AS hour, currency,
       count(*) AS payments, sum(status = 'failed') AS failed
FROM payments WHERE created_at >= datetime('now', '-14 hours')
GROUP BY 1, 2 ORDER BY 1 DESC, 2 LIMIT 18`}},
				{"Why do they fail?", "query", map[string]any{"sql": `SELECT currency, error_code, count(*) AS failures, min(created_at) AS first_seen
FROM payments WHERE status = 'failed' AND created_at >= datetime('now', '-1 day')
GROUP BY 1, 2 ORDER BY failures DESC`}},
			}
		},
	},
	{
		category: "logs",
		args:     func(w *demo.Workspace) []string { return []string{"--files", "app=" + w.Log} },
		steps: func(w *demo.Workspace) []demoStep {
			return []demoStep{
				{"When did errors start?", "count_logs", map[string]any{"level": "error", "since": "16h", "bucket": "1h"}},
				{"Which errors are they?", "error_signatures", map[string]any{"since": "16h", "top": 5}},
			}
		},
	},
	{
		category: "code",
		args: func(w *demo.Workspace) []string {
			if w.Repo == "" {
				return nil
			}
			return []string{"--repo", "shop-backend=" + w.Repo}
		},
		steps: func(w *demo.Workspace) []demoStep {
			return []demoStep{
				{"What changed in the backend recently?", "list_commits", map[string]any{"since": "7d"}},
				{"What did the last change do to payments?", "get_commit", map[string]any{"sha": "HEAD", "path": "internal/payments/currency.go"}},
			}
		},
	},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opstower demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: opstower demo [dir]\n\nBuilds a demo workspace in dir (default ./opstower-demo): a shop database with analytics\nevents, an application log and a git repository, with an incident in them; then shows what\nan agent sees when it investigates, through the same MCP servers you would run.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := "opstower-demo"
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	w, err := demo.Build(dir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo workspace in %s:\n  shop.db            SQLite: customers, products, orders, payments, analytics events\n  logs/app.jsonl     the backend's JSON-lines log\n", w.Dir)
	if w.Repo != "" {
		fmt.Fprintf(stdout, "  shop-backend/      the backend's git repository\n")
	}
	for _, n := range w.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", n)
	}
	ago := strings.TrimSuffix(time.Since(w.Incident).Round(time.Minute).String(), "0s")
	fmt.Fprintf(stdout, "\nSomething broke about %s ago. Here is what an agent sees through OpsTower's MCP servers:\n", ago)
	for _, src := range demoSources {
		if err := tour(ctx, stdout, src, w); err != nil {
			return err
		}
	}
	printNextSteps(stdout, w)
	return nil
}

// tour starts one category server in process, exactly as `opstower mcp`
// would with the same flags, and makes the source's calls through an MCP
// client. Steps whose tool the server does not offer are left out.
func tour(ctx context.Context, out io.Writer, src demoSource, w *demo.Workspace) error {
	cat, ok := Categories[src.category]
	args := src.args(w)
	if !ok || args == nil || src.steps == nil {
		return nil
	}
	fs := flag.NewFlagSet(src.category, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	parse := cat.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	conns, err := parse()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := cat.Build(ctx, ServerOptions{Connections: conns, Limits: config.Limits{}.WithDefaults(),
		Logger: slog.New(slog.DiscardHandler), Version: Version()})
	if err != nil {
		return err
	}
	cs, err := connectInProcess(ctx, srv)
	if err != nil {
		return err
	}
	defer cs.Close()
	offered := map[string]bool{}
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return err
		}
		offered[t.Name] = true
	}
	for _, st := range src.steps(w) {
		if !offered[st.tool] {
			continue
		}
		fmt.Fprintf(out, "\n── %s\n   %s %s(%s)\n", st.why, src.category, st.tool, showArgs(st.args))
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: st.tool, Arguments: st.args})
		if err != nil {
			return fmt.Errorf("%s %s: %w", src.category, st.tool, err)
		}
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				fmt.Fprintln(out, indent(t.Text, 30))
			}
		}
	}
	return nil
}

// connectInProcess connects an MCP client to srv over in-memory transports.
func connectInProcess(ctx context.Context, srv *mcp.Server) (*mcp.ClientSession, error) {
	st, ct := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(ctx, st, nil); err != nil {
		return nil, err
	}
	return mcp.NewClient(&mcp.Implementation{Name: "opstower-demo", Version: Version()}, nil).Connect(ctx, ct, nil)
}

// showArgs prints tool arguments compactly, SQL on lines of its own.
func showArgs(args map[string]any) string {
	if len(args) == 0 {
		return ""
	}
	var parts []string
	for k, v := range args {
		if s, ok := v.(string); ok && strings.Contains(s, "\n") {
			parts = append(parts, k+":\n      "+strings.ReplaceAll(s, "\n", "\n      ")+"\n   ")
			continue
		}
		raw, _ := json.Marshal(v)
		parts = append(parts, k+": "+string(raw))
	}
	return strings.Join(parts, ", ")
}

// indent shifts text right and keeps at most max lines.
func indent(text string, max int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > max {
		lines = append(lines[:max], fmt.Sprintf("… %d more lines", len(lines)-max))
	}
	return "   " + strings.Join(lines, "\n   ")
}

func printNextSteps(out io.Writer, w *demo.Workspace) {
	exe, err := os.Executable()
	if err != nil {
		exe = "opstower"
	}
	servers := map[string]any{
		"opstower-databases": map[string]any{"command": exe, "args": []string{"mcp", "databases", "--dsn", "shop=sqlite://" + w.Database}},
	}
	for _, src := range demoSources[1:] {
		if _, ok := Categories[src.category]; ok {
			if args := src.args(w); args != nil {
				servers["opstower-"+src.category] = map[string]any{"command": exe, "args": append([]string{"mcp", src.category}, args...)}
			}
		}
	}
	raw, _ := json.MarshalIndent(map[string]any{"mcpServers": servers}, "", "  ")
	fmt.Fprintf(out, "\nNext: ask your own agent. For Claude Desktop, put this in claude_desktop_config.json and restart it:\n%s\n", raw)
	fmt.Fprintf(out, "VS Code and Cursor take the same servers; see configs/ in the OpsTower repository.\n")
	var flags []string
	for _, src := range demoSources {
		if args := src.args(w); args != nil {
			flags = append(flags, fmt.Sprintf("%s %q", args[0], args[1]))
		}
	}
	fmt.Fprintf(out, "\nOr let OpsTower's own agent investigate. It needs a model: set ANTHROPIC_API_KEY, OPENAI_API_KEY or\nGEMINI_API_KEY, or add --model ollama:MODEL for a local one. Then:\n  %s chat %s \\\n    -p \"Payments have been failing since this morning. Why?\"\n", exe, strings.Join(flags, " "))
}
