package host

import (
	"slices"
	"sort"
	"testing"

	"github.com/opstower/opstower/cmd/internal/cli"
)

// opstower hands over to opstower-full exactly what this package adds:
// a command or category registered here but missing from cli's lists
// would be "unknown" in opstower instead of running in opstower-full.
func TestFullOnlyListsMatchRegistrations(t *testing.T) {
	commands, categories := cli.FullOnly()
	var registered []string
	for name := range cli.Commands {
		registered = append(registered, name)
	}
	sort.Strings(registered)
	sort.Strings(commands)
	if !slices.Equal(registered, commands) {
		t.Errorf("commands registered by the host package %v, handed over by opstower %v", registered, commands)
	}
	for _, name := range categories {
		if _, ok := cli.Categories[name]; !ok {
			t.Errorf("opstower hands over `mcp %s`, which the host package does not register", name)
		}
	}
	if _, ok := cli.Categories[agentsCategory]; !ok || !slices.Contains(categories, agentsCategory) {
		t.Errorf("the agents category must be registered here and handed over by opstower")
	}
}
