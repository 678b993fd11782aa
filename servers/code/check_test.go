package code

import (
	"context"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

// Test reads each local repository with git and reports the one that is
// not a repository, by name, without failing the others.
func TestConnectionTest(t *testing.T) {
	r := newTestRepo(t)
	good, err := ParseRepo("shop=" + r.dir)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := ParseRepo("empty=" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	results, err := Test(context.Background(), Config{Connections: []config.Connection{good, bad}})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Name != "shop" || results[0].Err != nil || results[0].Note != "serves shop" {
		t.Errorf("the repository: %+v", results[0])
	}
	if results[1].Name != "empty" || results[1].Err == nil {
		t.Errorf("a folder that is no repository: %+v", results[1])
	}
	if _, err := Test(context.Background(), Config{}); err == nil || !strings.Contains(err.Error(), "--repo") {
		t.Errorf("no connections: %v", err)
	}
}
