package logs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

// Test lists each connection's sources (app.log and its two rotated files
// here): files found are reported, a glob that matches nothing fails with
// the reason, by its own name.
func TestConnectionTest(t *testing.T) {
	dir := writeLogs(t)
	var conns []config.Connection
	for _, arg := range []string{"app=" + filepath.Join(dir, "app.log"), "none=" + filepath.Join(dir, "nope", "*.log")} {
		c, err := ParseFiles(arg)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	results, err := Test(context.Background(), Config{Connections: conns})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Name != "app" || results[0].Err != nil || results[0].Note != "3 sources" {
		t.Errorf("a file that exists: %+v", results[0])
	}
	if results[1].Name != "none" || results[1].Err == nil || !strings.Contains(results[1].Err.Error(), "matches no files") {
		t.Errorf("a glob that matches nothing: %+v", results[1])
	}
}
