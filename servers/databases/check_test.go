package databases

import (
	"context"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
)

// Test reaches every connection at once and reports each by name: a
// working SQLite file, PostgreSQL as a superuser (noted), and a server
// that is not there (failed, without its password).
func TestConnectionTest(t *testing.T) {
	lite, pg := newSQLiteDB(t), newPostgresDB(t)
	var conns []config.Connection
	for _, dsn := range []string{"lite=" + lite.dsn, "pg=" + pg.dsn, "gone=postgres://u:check-secret-pw@127.0.0.1:1/x?sslmode=disable"} {
		c, err := ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	results, err := Test(context.Background(), Config{Connections: conns})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("results: %+v", results)
	}
	if r := results[0]; r.Name != "lite" || r.Provider != "SQLite" || r.Err != nil {
		t.Errorf("SQLite: %+v", r)
	}
	if r := results[1]; r.Name != "pg" || r.Err != nil || !strings.Contains(r.Note, "the role can write (superuser") {
		t.Errorf("PostgreSQL as a superuser: %+v", r)
	}
	if r := results[2]; r.Name != "gone" || r.Err == nil || !strings.Contains(r.Err.Error(), "cannot reach PostgreSQL") || strings.Contains(r.Err.Error(), "check-secret-pw") {
		t.Errorf("an unreachable server: %+v", r)
	}
}
