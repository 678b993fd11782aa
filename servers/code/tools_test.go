package code

import (
	"encoding/json"
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
