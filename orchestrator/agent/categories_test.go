package agent

import (
	"testing"

	codesrv "github.com/opstower/opstower/servers/code"
	"github.com/opstower/opstower/servers/databases"
	errorsrv "github.com/opstower/opstower/servers/errors"
	logsrv "github.com/opstower/opstower/servers/logs"
)

// TestCategoryOfKnowsEveryServerProvider keeps the host's provider table in
// step with the category servers: every provider name and alias a server
// accepts maps to that server's category.
func TestCategoryOfKnowsEveryServerProvider(t *testing.T) {
	seen := map[string]string{}
	for cat, names := range map[string][]string{
		Databases: databases.ProviderNames(),
		Code:      codesrv.ProviderNames(),
		Logs:      logsrv.ProviderNames(),
		Errors:    errorsrv.ProviderNames(),
	} {
		for _, n := range names {
			if other, dup := seen[n]; dup {
				t.Errorf("provider name %q is used by both %s and %s", n, other, cat)
			}
			seen[n] = cat
			got, err := CategoryOf("", n, "")
			if err != nil || got != cat {
				t.Errorf("provider %q: got %q, %v; want %s", n, got, err, cat)
			}
		}
	}
}
