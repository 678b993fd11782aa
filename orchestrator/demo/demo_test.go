package demo

import (
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBuild checks the story is in the data: EUR payments fail only after
// the incident, the log has the errors, and the repository's last commit is
// the culprit.
func TestBuild(t *testing.T) {
	now := time.Date(2026, 3, 14, 18, 0, 0, 0, time.UTC)
	w, err := Build(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", w.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	incident := w.Incident.Format(sqliteTime)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count(*) FROM orders"); n < 1000 {
		t.Errorf("only %d orders", n)
	}
	before := count("SELECT count(*) FROM payments WHERE error_code = 'invalid_currency' AND created_at < ?", incident)
	after := count("SELECT count(*) FROM payments WHERE error_code = 'invalid_currency' AND created_at >= ?", incident)
	if before != 0 || after < 20 {
		t.Errorf("invalid_currency failures: %d before the incident, %d after; want 0 and many", before, after)
	}
	if n := count("SELECT count(*) FROM orders WHERE currency = 'EUR' AND status = 'paid' AND created_at >= datetime(?, '+1 minute')", incident); n != 0 {
		t.Errorf("%d EUR orders were paid after the incident", n)
	}
	data, err := os.ReadFile(w.Log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `invalid currency \"eur\"`) || !strings.Contains(string(data), `"msg":"deploy finished"`) {
		t.Error("the log lacks the deploy or the payment errors")
	}
	if w.Repo == "" {
		if _, err := exec.LookPath("git"); err == nil {
			t.Fatal("git is installed but the repository was not built")
		}
		t.Skip("git not installed")
	}
	out, err := exec.Command("git", "-C", w.Repo, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), w.Culprit[:7]) || !strings.Contains(string(out), "v2 charges API") {
		t.Errorf("last commit %q is not the culprit %s", out, w.Culprit)
	}
	if !strings.Contains(string(data), w.Culprit) {
		t.Error("the deploy log line does not name the culprit commit")
	}
}
