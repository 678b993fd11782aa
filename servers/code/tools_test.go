package code

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// toolsListBudget bounds the tools/list bytes of a server with every
// provider loaded (every tool, and the connection argument): what a
// client sends the model on every turn.
const toolsListBudget = 11000

func TestToolsAnnotationsSnapshotsAndBudget(t *testing.T) {
	r := newTestRepo(t)
	gh := newGitHubFake(t, canaryToken)
	gl := newGitLabFake(t, glCanary)
	bb := newBitbucketFake(t, bbCanary)
	cs := serve(t, config.Limits{}, localConn(t, "shop="+r.dir), githubConn(gh, nil), gitlabConn(gl, nil), bitbucketConn(bb, nil))
	tools := mcptest.Tools(t, cs)
	mcptest.CheckAnnotations(t, tools)
	mcptest.Snapshot(t, tools)
	names := map[string]bool{}
	for _, tl := range tools {
		names[tl.Name] = true
		raw, _ := json.Marshal(tl.Annotations)
		var ann map[string]any
		_ = json.Unmarshal(raw, &ann)
		if ann["readOnlyHint"] != true || ann["destructiveHint"] != false {
			t.Errorf("%s must be read-only and not destructive: %s", tl.Name, raw)
		}
	}
	for _, want := range []string{"list_repos", "list_files", "read_file", "search_code", "list_commits", "get_commit", "compare", "blame", "list_pull_requests", "list_pipelines"} {
		if !names[want] {
			t.Errorf("tool %s is missing", want)
		}
	}
	n := mcptest.ListBytes(t, tools)
	t.Logf("tools/list with every provider: %d tools, %d bytes", len(tools), n)
	if n > toolsListBudget {
		t.Errorf("tools/list is %d bytes, over the %d-byte budget; shorten descriptions or merge tools", n, toolsListBudget)
	}
}

// TestOnlyLoadedProvidersTools: a local repository alone lists no pull
// request or pipeline tools, and hosts alone list no blame.
func TestOnlyLoadedProvidersTools(t *testing.T) {
	r := newTestRepo(t)
	cs := serve(t, config.Limits{}, localConn(t, r.dir))
	local := mcptest.Tools(t, cs)
	for _, tl := range local {
		if tl.Name == "list_pull_requests" || tl.Name == "list_pipelines" {
			t.Errorf("%s listed without a hosted provider", tl.Name)
		}
		if tl.Annotations.OpenWorldHint == nil || *tl.Annotations.OpenWorldHint {
			t.Errorf("%s: a local repository is not an open world", tl.Name)
		}
	}
	t.Logf("tools/list for one local repository: %d tools, %d bytes", len(local), mcptest.ListBytes(t, local))

	gh := newGitHubFake(t, canaryToken)
	cs = serve(t, config.Limits{}, githubConn(gh, nil))
	for _, tl := range mcptest.Tools(t, cs) {
		if tl.Name == "blame" {
			t.Errorf("blame listed without a local repository")
		}
	}
}

// TestSecretsNeverLeave drives every hosted provider into its error paths
// (expired tokens, 404s, 5xx, rate limits) and checks that no token shows
// up in a result, an error or the server log.
func TestSecretsNeverLeave(t *testing.T) {
	gh := newGitHubFake(t, canaryToken)
	gl := newGitLabFake(t, glCanary)
	bb := newBitbucketFake(t, bbCanary)
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := New(ctx, Config{Connections: []config.Connection{githubConn(gh, nil), gitlabConn(gl, nil), bitbucketConn(bb, nil)}, Logger: logger,
		Lookup: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	cs := mcptest.Connect(t, s)
	var seen []string
	call := func(args map[string]any, tool string) {
		text, _ := mcptest.Call(t, cs, tool, args)
		seen = append(seen, text)
	}
	for _, c := range []struct{ conn, repo string }{{"github", "acme/shop"}, {"gitlab", "acme/platform/shop"}, {"bitbucket", "acme/shop"}} {
		call(map[string]any{"connection": c.conn, "repo": c.repo}, "list_commits")
		call(map[string]any{"connection": c.conn, "repo": "acme/missing", "path": "x"}, "read_file")
	}
	gh.fail(http.StatusInternalServerError, nil, `{"message":"token `+canaryToken+` broke"}`)
	gh.fail(http.StatusInternalServerError, nil, `{"message":"token `+canaryToken+` broke"}`)
	gh.fail(http.StatusInternalServerError, nil, `{"message":"token `+canaryToken+` broke"}`)
	call(map[string]any{"connection": "github", "repo": "acme/shop"}, "list_commits")
	for _, f := range []func(){
		func() { gh.mu.Lock(); gh.token = "other"; gh.mu.Unlock() },
		func() { gl.mu.Lock(); gl.token = "other"; gl.mu.Unlock() },
		func() { bb.mu.Lock(); bb.token = "other"; bb.mu.Unlock() },
	} {
		f()
	}
	for _, c := range []struct{ conn, repo string }{{"github", "acme/shop"}, {"gitlab", "acme/platform/shop"}, {"bitbucket", "acme/shop"}} {
		call(map[string]any{"connection": c.conn, "repo": c.repo}, "get_commit")
		call(map[string]any{"connection": c.conn, "repo": c.repo, "sha": "6c95d140"}, "get_commit")
	}
	all := strings.Join(seen, "\n") + logs.String()
	for _, canary := range []string{canaryToken, glCanary, bbCanary} {
		if strings.Contains(all, canary) {
			t.Errorf("a token leaked into results or logs")
		}
	}
	if !strings.Contains(all, "rejected the credentials") {
		t.Errorf("expected the 401 path to run:\n%s", all)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
