package agent_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/orchestrator/agent"
	"github.com/opstower/opstower/orchestrator/llm/llmtest"
	"github.com/opstower/opstower/servers/code"
	"github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/config"
)

// incident builds the three sources of a realistic incident: application
// logs in JSON lines with gateway timeouts starting 80 minutes ago, and a
// git repository whose latest commit, just before, lowered the payment
// gateway timeout from 30s to 2s. (The shop database comes from shopDB.)
func incident(t *testing.T) (logDir, repo string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	logDir = filepath.Join(root, "logs")
	repo = filepath.Join(root, "shop")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-90 * time.Minute)
	var lines []string
	for i := range 6 {
		lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"info","service":"checkout","msg":"order %d paid"}`, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), 100+i))
	}
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"time":%q,"level":"error","service":"checkout","msg":"charge failed: card gateway timeout after 2s","order_id":%d}`, start.Add(time.Duration(10+i)*time.Minute).Format(time.RFC3339), 200+i))
	}
	if err := os.WriteFile(filepath.Join(logDir, "checkout.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git := func(date string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dana Dev", "GIT_AUTHOR_EMAIL=dana@example.com", "GIT_COMMITTER_NAME=Dana Dev",
			"GIT_COMMITTER_EMAIL=dana@example.com", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date, "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		p := filepath.Join(repo, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git(start.Add(-48*time.Hour).Format(time.RFC3339), "init", "-q", "-b", "main")
	write("config/payments.yaml", "gateway: acme-pay\ngateway_timeout: 30s\n")
	write("README.md", "# shop\n")
	git(start.Add(-48*time.Hour).Format(time.RFC3339), "add", ".")
	git(start.Add(-48*time.Hour).Format(time.RFC3339), "commit", "-q", "-m", "Initial shop")
	write("config/payments.yaml", "gateway: acme-pay\ngateway_timeout: 2s\n")
	git(start.Add(5*time.Minute).Format(time.RFC3339), "commit", "-q", "-am", "Lower payment gateway timeout to 2s")
	return logDir, repo
}

var (
	signatureRE = regexp.MustCompile(`(?m)^(\d+),error,.*gateway timeout`)
	commitRE    = regexp.MustCompile(`(?m)\b([0-9a-f]{7,40})\b.*Lower payment gateway timeout to 2s`)
	failedRE    = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)
)

// TestIncidentAcrossLogsCodeAndDatabase: a Debugger with three real
// in-process servers (local log files, a local git repository, a SQLite
// database) investigates failing checkouts. The scripted model reads the
// error signatures and the failed orders in one step, follows the timeout
// into the repository's history, and names the commit — all from what the
// real servers returned.
func TestIncidentAcrossLogsCodeAndDatabase(t *testing.T) {
	logDir, repo := incident(t)
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, kind, func(s llmtest.Seen) llmtest.Reply {
				switch s.N {
				case 0:
					for _, tool := range []string{"error_signatures", "list_commits", "query"} {
						if s.Tool(tool) == nil {
							t.Errorf("tool %s not offered", tool)
						}
					}
					return llmtest.Reply{Text: "Checking logs and orders.", Calls: []llmtest.Call{
						{Name: "logs__error_signatures", Args: `{"since":"3h"}`},
						{Name: "databases__query", Args: `{"sql":"SELECT count(*) AS failed FROM orders WHERE status = 'failed'"}`},
					}}
				case 1:
					r := s.LastResults()
					if len(r) != 2 || !strings.Contains(r[0].Content, "gateway timeout") {
						t.Errorf("logs result: %+v", r)
						return llmtest.Reply{Text: "broken"}
					}
					return llmtest.Reply{Text: "The timeout looks configured; checking recent changes.", Calls: []llmtest.Call{
						{Name: "code__list_commits", Args: `{"path":"config/payments.yaml"}`},
					}}
				default:
					var sig, failed, sha string
					for _, m := range s.Messages {
						for _, r := range m.Results {
							if x := signatureRE.FindStringSubmatch(r.Content); x != nil {
								sig = x[1]
							}
							if x := commitRE.FindStringSubmatch(r.Content); x != nil {
								sha = x[1]
							}
							if strings.Contains(r.Content, "failed") && !strings.Contains(r.Content, "gateway") {
								if x := failedRE.FindStringSubmatch(r.Content); x != nil {
									failed = x[1]
								}
							}
						}
					}
					if sig == "" || failed == "" || sha == "" {
						t.Errorf("could not read the evidence: signatures %q, failed %q, commit %q\n%+v", sig, failed, sha, s.Messages)
					}
					return llmtest.Reply{Text: fmt.Sprintf("## Root cause\n\nCommit `%s` (\"Lower payment gateway timeout to 2s\") cut the card gateway timeout from 30s to 2s. Since then the logs show **%s** `card gateway timeout after 2s` errors, and **%s** orders failed.\n\n**Fix:** restore `gateway_timeout: 30s`.", sha, sig, failed)}
				}
			})
			for name, c := range map[string]config.Connection{
				"app-logs": mustConn(t, logs.ParseFiles, "app-logs="+filepath.Join(logDir, "*.log")),
				"shop-git": mustConn(t, code.ParseRepo, "shop-git="+repo),
			} {
				w.dir.Connections[name] = agent.SplitInstructions(c)
			}
			w.host.Categories[agent.Logs] = func(ctx context.Context, conns []config.Connection) (*mcp.Server, error) {
				return logs.New(ctx, logs.Config{Connections: conns})
			}
			w.host.Categories[agent.Code] = func(ctx context.Context, conns []config.Connection) (*mcp.Server, error) {
				return code.New(ctx, code.Config{Connections: conns})
			}
			w.agent.Connections = []string{"shop", "app-logs", "shop-git"}
			res, err := w.open(t, w.agent).Ask(context.Background(), nil, "Checkouts have been failing for an hour. Why?", nil)
			if err != nil {
				t.Fatal(err)
			}
			head := gitHead(t, repo)
			for _, want := range []string{head[:7], "**4** `card gateway timeout after 2s` errors", "**3** orders failed"} {
				if !strings.Contains(res.Answer, want) {
					t.Errorf("answer lacks %q:\n%s", want, res.Answer)
				}
			}
		})
	}
}

func mustConn(t *testing.T, parse func(string) (config.Connection, error), arg string) config.Connection {
	t.Helper()
	c, err := parse(arg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gitHead(t *testing.T, repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
