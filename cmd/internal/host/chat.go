package host

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm"
	"github.com/opstower/opstower/orchestrator/store"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/secret"
)

const chatUsage = `Usage:
  opstower chat --agent NAME                 chat interactively with an agent
  opstower chat --agent NAME -p "question"   answer once and exit (for scripts)
  opstower chat --model PROVIDER:MODEL --dsn URL --repo PATH --files GLOB
                                             quick start: a Custom agent over these connections

Answers stream to stdout; each tool call is shown on stderr as it happens.
In a chat, Ctrl-C stops the current answer; /new starts a new conversation,
/exit (or Ctrl-D) leaves. Conversations are saved: --continue resumes the
last one with the agent, --resume ID a given one.

Flags:
`

func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opstower chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		wf                workspaceFlags
		agentName, prompt string
		resume            string
		cont, webSearch   bool
		maxSteps          int
	)
	wf.register(fs)
	wf.registerModel(fs)
	fs.StringVar(&agentName, "agent", "", "the agent to chat with, by name (opstower agents lists them); without it, a Custom agent over the connections given here and in the config file")
	fs.StringVar(&prompt, "p", "", "answer this question, print the answer and exit")
	fs.StringVar(&resume, "resume", "", "continue the conversation with this id")
	fs.BoolVar(&cont, "continue", false, "continue your last conversation with the agent")
	fs.BoolVar(&webSearch, "web-search", false, "let the model search the web with its provider's own tool (quick-start agent)")
	fs.IntVar(&maxSteps, "max-steps", 0, "steps (model calls) allowed per answer (default 15)")
	// The category servers' connection flags (--dsn, --repo, --files...).
	var conns []func() ([]config.Connection, error)
	names := make([]string, 0, len(cli.Categories))
	for n := range cli.Categories {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n != agentsCategory {
			conns = append(conns, cli.Categories[n].Flags(fs))
		}
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, chatUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; ask a one-off question with -p %q", fs.Arg(0), strings.Join(fs.Args(), " "))
	}
	if err := cli.EnvDefaults(fs); err != nil {
		return err
	}
	var extra []config.Connection
	for _, f := range conns {
		cs, err := f()
		if err != nil {
			return err
		}
		extra = append(extra, cs...)
	}
	if agentName != "" && len(extra) > 0 {
		return errors.New("connection flags (--dsn, --repo, --files...) build a quick-start agent; leave out --agent, or give the agent these connections in the config file")
	}
	if resume != "" && cont {
		return errors.New("give either --resume ID or --continue")
	}

	ws, err := openWorkspace(ctx, wf, nil, extra, stderr)
	if err != nil {
		return err
	}
	defer ws.Close()

	var a *agent.Agent
	if agentName != "" {
		if a, err = ws.store.AgentByName(ctx, ws.org, ws.user, agentName); err != nil {
			return err
		}
		if wf.model != "" {
			a.Model = wf.model
		}
	} else {
		a = ws.quickStartAgent(webSearch)
	}
	if maxSteps > 0 {
		a.MaxSteps = maxSteps
	}
	if _, err := ws.host.Models.Resolve(a); err != nil {
		return err
	}

	// The chat outlives a first Ctrl-C: it stops the answer, not the chat.
	sessCtx := context.WithoutCancel(ctx)
	sess, err := ws.host.Open(sessCtx, a, agent.OpenOptions{User: ws.user})
	if err != nil {
		return scrubbed(err)
	}
	defer sess.Close()

	c := &chat{ws: ws, sess: sess, agent: a, stdout: stdout, stderr: stderr}
	if err := c.load(ctx, resume, cont); err != nil {
		return err
	}
	if prompt != "" {
		actx, cancel := signal.NotifyContext(sessCtx, os.Interrupt)
		defer cancel()
		return c.ask(actx, prompt)
	}
	return c.interactive(sessCtx, stdin)
}

// quickStartAgent is the Custom agent of `opstower chat` without --agent:
// every connection and MCP server the command line and config file give.
func (ws *workspace) quickStartAgent(webSearch bool) *agent.Agent {
	a := &agent.Agent{ID: "quickstart", Org: ws.org, Owner: ws.user, Name: "OpsTower", Type: agent.Custom,
		Visibility: agent.OnlyMe, WebSearch: webSearch || ws.file.Models.WebSearch}
	a.Connections = directory{conns: ws.conns}.names()
	for name := range ws.host.MCPServers {
		a.MCPServers = append(a.MCPServers, name)
	}
	sort.Strings(a.MCPServers)
	return a
}

// chat is one terminal conversation.
type chat struct {
	ws      *workspace
	sess    *agent.Session
	agent   *agent.Agent
	conv    *store.Conversation
	history []llm.Message
	stdout  io.Writer
	stderr  io.Writer
}

func (c *chat) load(ctx context.Context, resume string, cont bool) error {
	switch {
	case resume != "":
		conv, err := c.ws.store.Conversation(ctx, c.ws.org, c.ws.user, resume)
		if err != nil {
			return fmt.Errorf("no conversation %q of yours; list them with `opstower agents show %s`", resume, c.agent.Name)
		}
		c.conv = conv
	case cont:
		list, err := c.ws.store.Conversations(ctx, c.ws.org, c.ws.user, c.agent.ID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stderr, "No earlier conversation with this agent; starting a new one.")
			return nil
		}
		c.conv = list[0]
	default:
		return nil
	}
	hist, err := c.ws.store.History(ctx, c.conv.ID)
	if err != nil {
		return err
	}
	c.history = hist
	fmt.Fprintf(c.stderr, "Resuming %q (%d messages).\n", c.conv.Title, len(hist))
	return nil
}

// ask answers one question, streaming, and saves the exchange.
func (c *chat) ask(ctx context.Context, question string) error {
	wroteText := false
	res, err := c.sess.Ask(ctx, c.history, question, func(e agent.Event) {
		switch e.Kind {
		case agent.EventText:
			fmt.Fprint(c.stdout, e.Text)
			wroteText = true
		case agent.EventToolStart:
			if wroteText {
				fmt.Fprintln(c.stdout)
				wroteText = false
			}
			fmt.Fprintf(c.stderr, "  -> %s %s\n", e.Tool, clip(string(e.Args), 160))
		case agent.EventProgress:
			fmt.Fprintf(c.stderr, "     %s: %s\n", e.Tool, clip(e.Text, 140))
		case agent.EventToolEnd:
			mark := "ok"
			if e.IsError {
				mark = "error"
			}
			fmt.Fprintf(c.stderr, "  <- %s %s (%s): %s\n", e.Tool, mark, e.Elapsed.Round(time.Millisecond), clip(firstLine(e.Result), 120))
		}
	})
	if wroteText {
		fmt.Fprintln(c.stdout)
	}
	if res != nil && len(res.Turns) > 1 {
		if serr := c.save(ctx, question, res.Turns); serr != nil {
			fmt.Fprintln(c.stderr, "opstower: the conversation could not be saved:", scrubbed(serr))
		}
		for _, t := range res.Turns {
			c.history = append(c.history, t.Message)
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("stopped")
		}
		return scrubbed(err)
	}
	fmt.Fprintf(c.stderr, "[%s, %d step(s), %d tokens in, %d out]\n", c.sess.Spec, res.Steps, res.Usage.InputTokens, res.Usage.OutputTokens)
	return nil
}

func (c *chat) save(ctx context.Context, question string, turns []agent.Turn) error {
	ctx = context.WithoutCancel(ctx)
	if c.conv == nil {
		conv, err := c.ws.store.CreateConversation(ctx, c.ws.org, c.ws.user, c.agent.ID, question)
		if err != nil {
			return err
		}
		c.conv = conv
	}
	return c.ws.store.AppendTurns(ctx, c.conv.ID, turns)
}

func (c *chat) interactive(ctx context.Context, stdin io.Reader) error {
	fmt.Fprintf(c.stderr, "Chatting with %s (%s agent, %s). Ctrl-C stops an answer, /new starts over, /exit leaves.\n", c.agent.Name, c.agent.Type.Title(), c.sess.Spec)
	if tools := c.sess.Tools(); len(tools) > 0 {
		fmt.Fprintf(c.stderr, "%d tools from: %s\n", len(tools), strings.Join(servers(tools), ", "))
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)
	lines := make(chan string)
	go func() {
		defer close(lines)
		for in.Scan() {
			lines <- in.Text()
		}
	}()
	for {
		fmt.Fprint(c.stderr, "\nyou> ")
		var line string
		select {
		case <-interrupts:
			fmt.Fprintln(c.stderr)
			return nil
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(c.stderr)
				return nil
			}
			line = strings.TrimSpace(l)
		}
		switch line {
		case "":
			continue
		case "/exit", "/quit":
			return nil
		case "/new":
			c.conv, c.history = nil, nil
			fmt.Fprintln(c.stderr, "New conversation.")
			continue
		}
		actx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			select {
			case <-interrupts:
				cancel()
			case <-done:
			}
		}()
		err := c.ask(actx, line)
		close(done)
		cancel()
		if err != nil {
			fmt.Fprintln(c.stderr, "opstower:", err)
		}
	}
}

func servers(tools []llm.Tool) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tools {
		s, _, _ := strings.Cut(t.Name, "__")
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func clip(s string, n int) string {
	s = secret.Scrub(strings.Join(strings.Fields(s), " "))
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
