package host

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/opstower/opstower/cmd/internal/cli"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/orchestrator/mcpclient"
)

// mainEnv makes the test binary act as the opstower command: run with the
// JSON argument list it holds, then exit. Tests start it as a child to get
// a real `opstower mcp ...` process.
const mainEnv = "OPSTOWER_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if raw := os.Getenv(mainEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := cli.Run(context.Background(), args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "opstower:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// children lists the pids of this process's child processes.
func children(t *testing.T) []int {
	t.Helper()
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ")".
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) {
			out = append(out, pid)
		}
	}
	return out
}

// An external MCP server — `opstower mcp databases` itself, as a child
// process declared in mcp_servers — is killed in the middle of a slow
// query. The chat does not fail: the model gets a tool error saying the
// server was restarted, asks again, and answers.
func TestChatSurvivesKilledExternalServer(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to find the child process")
	}
	f := newHostFixture(t, func(s llmtest.Seen) llmtest.Reply {
		switch s.N {
		case 0:
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "shopdb__query", Args: `{"sql":"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000000) SELECT count(*) AS n FROM c"}`}}}
		case 1:
			r := s.LastResults()
			if len(r) == 0 || !r[0].IsError || !strings.Contains(r[0].Content, "restarted") {
				return llmtest.Reply{Text: fmt.Sprintf("unexpected: %+v", r)}
			}
			return llmtest.Reply{Calls: []llmtest.Call{{Name: "shopdb__query", Args: `{"sql":"SELECT count(*) AS n FROM orders WHERE status = 'failed'"}`}}}
		default:
			return llmtest.Reply{Text: "After a restart: " + lastNumber(s.LastResults()[0].Content) + " failed orders."}
		}
	}, "")
	args, _ := json.Marshal([]string{"mcp", "databases", "--dsn", "sqlite://" + f.shop})
	yaml, _ := os.ReadFile(f.config)
	yaml = append(yaml, []byte(fmt.Sprintf("mcp_servers:\n  shopdb:\n    command: %q\n    env: {%s: %q}\n", os.Args[0], mainEnv, string(args)))...)
	if err := os.WriteFile(f.config, yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	killed := make(chan int, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if len(f.fake.Requests()) >= 1 {
				time.Sleep(300 * time.Millisecond) // the slow query is running
				for _, pid := range children(t) {
					cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
					if strings.Contains(string(cmdline), mainEnv) {
						if p, err := os.FindProcess(pid); err == nil {
							_ = p.Kill()
						}
						killed <- pid
						return
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		killed <- 0
	}()
	out, errOut, err := f.run(t, "chat", "--config", f.config, "--database", f.state, "-p", "How many orders failed?")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if pid := <-killed; pid == 0 {
		t.Fatal("the server process was never found")
	}
	if strings.TrimSpace(out) != "After a restart: 2 failed orders." {
		t.Errorf("stdout %q\nstderr %s", out, errOut)
	}
	if !strings.Contains(errOut, "restarted") {
		t.Errorf("stderr does not show the restart:\n%s", errOut)
	}
}

// Without any model configured, a command that needs one says how to add
// one: no crash, no stack trace.
func TestNoModelConfigured(t *testing.T) {
	for _, k := range []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	var out, errb strings.Builder
	err := cli.Run(context.Background(), []string{"chat", "--database", filepath.Join(dir, "s.db"), "-p", "hello"}, &out, &errb)
	if err == nil {
		t.Fatal("chat without a model succeeded")
	}
	for _, want := range []string{"no AI model is configured", "ANTHROPIC_API_KEY", "--model PROVIDER:MODEL", "models:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if strings.Contains(errb.String(), "goroutine") {
		t.Errorf("stack trace printed:\n%s", errb.String())
	}
}

// `opstower mcp agents` over stdio, as Claude Desktop runs it: a real child
// process serving the config file's agents, asked through an MCP client.
func TestMCPAgentsOverStdio(t *testing.T) {
	f := newHostFixture(t, func(s llmtest.Seen) llmtest.Reply {
		return llmtest.Reply{Text: "Debugger here: " + s.LastUser()}
	}, "agents:\n  - {name: Backend Debugger, type: debugger}\n")
	args, _ := json.Marshal([]string{"mcp", "agents", "--config", f.config, "--database", f.state})
	hub, err := mcpclient.Connect(context.Background(), []mcpclient.Server{{Name: "opstower", Command: os.Args[0], Env: map[string]string{mainEnv: string(args)}}}, mcpclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	if tools := hub.Tools(); len(tools) != 1 || tools[0].Name != "opstower__ask_backend_debugger" {
		t.Fatalf("tools = %+v", tools)
	}
	res := hub.Call(context.Background(), "opstower__ask_backend_debugger", json.RawMessage(`{"question":"Is the checkout service healthy?"}`))
	if res.IsError || res.Text != "Debugger here: Is the checkout service healthy?" {
		t.Errorf("result = %+v", res)
	}
}
