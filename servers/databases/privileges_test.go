package databases

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// privilegeLog connects to dsn, makes one call, and returns the server's
// log once the role check has reported (a warning or "can only read").
func privilegeLog(t *testing.T, dsn string) string {
	t.Helper()
	conn, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var log mcptest.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(t.Context(), Config{Connections: []config.Connection{conn}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cs := mcptest.Connect(t, s)
	mcptest.MustText(t, cs, "list_tables", map[string]any{})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if out := log.String(); strings.Contains(out, "can write") || strings.Contains(out, "can only read") {
			mcptest.MustText(t, cs, "list_tables", map[string]any{}) // checked once: no second report
			time.Sleep(50 * time.Millisecond)
			if again := log.String(); reports(again) != 1 {
				t.Errorf("the check ran twice:\n%s", again)
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no privilege report in the log:\n%s", log.String())
	return ""
}

// reports counts the privilege reports in a log.
func reports(log string) int {
	return strings.Count(log, "can write") + strings.Count(log, "can only read")
}

// A role that can write is named in a warning with what it may do; a
// role with SELECT only is not.
func TestWriteAccessWarning(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		db := newPostgresDB(t)
		super := privilegeLog(t, db.dsn)
		containsAll(t, "superuser", super, "level=WARN", "can write", "privileges=", "superuser", "connection=")

		for _, r := range []struct{ role, grant, want string }{
			{uniqueName("opstower_ro"), "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %s", "can only read"},
			{uniqueName("opstower_rw"), "GRANT SELECT, INSERT ON orders TO %s", "INSERT, UPDATE, DELETE or TRUNCATE on 1 table"},
		} {
			db.adminExec(t, "CREATE ROLE "+r.role+" LOGIN", strings.ReplaceAll(r.grant, "%s", r.role))
			t.Cleanup(func() { _, _ = db.admin.Exec("DROP OWNED BY " + r.role); _, _ = db.admin.Exec("DROP ROLE " + r.role) })
			out := privilegeLog(t, strings.Replace(db.dsn, "postgres@", r.role+"@", 1))
			if !strings.Contains(out, r.want) {
				t.Errorf("role %s: want %q in the log:\n%s", r.role, r.want, out)
			}
			if r.want == "can only read" && strings.Contains(out, "WARN") {
				t.Errorf("a read-only role was warned about:\n%s", out)
			}
		}
	})
	t.Run("mysql", func(t *testing.T) {
		db := newMySQLDB(t)
		root := privilegeLog(t, db.dsn)
		containsAll(t, "root", root, "level=WARN", "can write", "ALL PRIVILEGES ON *.*")

		user := uniqueName("ro")
		dbName := db.dsn[strings.LastIndex(db.dsn, "/")+1:]
		db.adminExec(t, "CREATE USER '"+user+"'@'%'", "GRANT SELECT, SHOW VIEW ON "+dbName+".* TO '"+user+"'@'%'")
		t.Cleanup(func() { _, _ = db.admin.ExecContext(context.Background(), "DROP USER '"+user+"'@'%'") })
		out := privilegeLog(t, strings.Replace(db.dsn, "root@", user+"@", 1))
		if !strings.Contains(out, "can only read") || strings.Contains(out, "WARN") {
			t.Errorf("a SELECT-only user: want no warning:\n%s", out)
		}
	})
}
