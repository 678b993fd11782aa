package logs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

func TestListSourcesShowsFormatsAndRotatedFiles(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, "app="+filepath.Join(dir, "app.log"), filepath.Join(dir, "*.log"))
	out := mcptest.MustText(t, cs, "list_log_sources", map[string]any{"connection": "app"})
	logstest.ContainsAll(t, "rotated siblings", out, "app.log.2.gz", "json+gzip", "app.log.1", "2026-03-01T10:30:00Z", "2026-03-01T11:59:59Z")
	out = mcptest.MustText(t, cs, "list_log_sources", map[string]any{"connection": "files"})
	logstest.ContainsAll(t, "formats and the rotated siblings of glob matches", out, "worker.log", "logfmt", "java.log", "plain", "app.log.2.gz")
}

func TestSearchAcrossRotatedAndCompressedFiles(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))

	// A line only the gzip file holds.
	out := mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "GET /api/orders/17 200"})
	logstest.ContainsAll(t, "gzip search", out, "1 lines matched", "10:00:17.000 INFO GET /api/orders/17 200", "untrusted")

	// The incident: exact count, newest lines, compact fields.
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "payment failed", "limit": 5})
	logstest.ContainsAll(t, "incident", out, itoaT(incidentErrors())+" lines matched", "Showing the newest 5", "11:09:", "ERROR payment failed for order",
		"every line has: service=checkout", "[cut]")
	if strings.Contains(out, "service=checkout host") && strings.Count(out, "service=checkout") > 1 {
		t.Errorf("a field with one value should be said once, not per line:\n%s", out)
	}
	if !regexp.MustCompile(`trace_id=[0-9a-f]{16}`).MatchString(out) {
		t.Errorf("varying fields should be shown per line:\n%s", out)
	}

	// Smart case: upper case is exact.
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "PAYMENT FAILED"})
	logstest.ContainsAll(t, "exact case", out, "No lines matched", "lower case")

	// Time window and level and fields.
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"since": "2026-03-01T10:59:00Z", "until": "2026-03-01T11:01:00Z", "level": "warn", "limit": 100})
	logstest.ContainsAll(t, "window", out, "lines matched", "10:59:", "11:00:")
	if strings.Contains(out, "INFO") {
		t.Errorf("level=warn returned info lines:\n%s", out)
	}
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"fields": []string{"duration_ms>44"}})
	logstest.ContainsAll(t, "numeric field", out, "No lines matched", "duration_ms>44")
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"fields": []string{"duration_ms>=43", "host=web-1"}, "limit": 3})
	logstest.ContainsAll(t, "numeric field", out, "duration_ms=", "every line has: service=checkout host=web-1")

	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"regex": `order 1[0-9]{4}: timeout`, "limit": 2})
	logstest.ContainsAll(t, "regex", out, "lines matched", "payment failed for order 1")
}

func TestCountOverTimeFindsTheIncident(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))
	out := mcptest.MustText(t, cs, "count_logs", map[string]any{"level": "error", "bucket": "10m"})
	logstest.ContainsAll(t, "incident bucket", out, "at 2026-03-01T11:00Z.", "bucket,count,bar", "2026-03-01T10:50Z,3,#\n")
	if !regexp.MustCompile(`2026-03-01T11:00Z,20\d,#{20}`).MatchString(out) {
		t.Errorf("the incident bucket should hold the ~200 errors and the full bar:\n%s", out)
	}

	out = mcptest.MustText(t, cs, "count_logs", map[string]any{"group_by": "level", "since": "2026-03-01T11:00:00Z", "until": "2026-03-01T11:20:00Z", "bucket": "10m"})
	logstest.ContainsAll(t, "grouped", out, "bucket,count,info,error,warn", "2026-03-01T11:00Z,600,")

	cs = serveFiles(t, config.Limits{}, filepath.Join(dir, "worker.log"))
	out = mcptest.MustText(t, cs, "count_logs", map[string]any{"text": "job failed", "bucket": "5m"})
	logstest.ContainsAll(t, "logfmt", out, "60 lines matched", "2026-03-01T11:00Z,30", "2026-03-01T11:05Z,30")
}

func TestErrorSignaturesGroupVariableParts(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))
	out := mcptest.MustText(t, cs, "error_signatures", nil)
	logstest.ContainsAll(t, "signatures", out,
		itoaT(incidentErrors())+",error,2026-03-01T11:00:00Z,2026-03-01T11:09:",
		"payment failed for order <n>: timeout after <n>s talking to <ip>",
		`user ""*"" not found: record not found in <path>`,
		"<n> <hex> <uuid>",
	)
	out = mcptest.MustText(t, cs, "error_signatures", map[string]any{"level": "warn", "text": "slow", "top": 1})
	logstest.ContainsAll(t, "warn signatures", out, "slow query took <n>ms", "warn,")

	// Plain text with a stack trace.
	cs = serveFiles(t, config.Limits{}, filepath.Join(dir, "java.log"))
	out = mcptest.MustText(t, cs, "error_signatures", nil)
	logstest.ContainsAll(t, "plain", out, "[pool-<n>] c.e.Db - connection refused to db-primary")
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "Db.java"})
	logstest.ContainsAll(t, "stack line inherits its entry's time", out, "11:02:03.456 - at com.example.Db.open")
}

func TestLogFields(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))
	out := mcptest.MustText(t, cs, "log_fields", nil)
	logstest.ContainsAll(t, "keys", out, "host,2000,", "table,", "duration_ms,")
	out = mcptest.MustText(t, cs, "log_fields", map[string]any{"field": "host"})
	logstest.ContainsAll(t, "values", out, "web-0,", "web-1,", "web-2,")
	out = mcptest.MustText(t, cs, "log_fields", map[string]any{"field": "nope"})
	logstest.ContainsAll(t, "unknown field", out, "has the field \"nope\"")
}

func TestLocalBadInputsAreClearToolErrors(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	logstest.Must(t, os.WriteFile(filepath.Join(dir, "broken.log.gz"), []byte{0x1f, 0x8b, 1, 2, 3}, 0o644))
	logstest.Must(t, os.Symlink(filepath.Join(dir, "gone.log"), filepath.Join(dir, "dangling.log")))
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))

	msg := mcptest.MustError(t, cs, "search_logs", map[string]any{"regex": "order (\\d+"})
	logstest.ContainsAll(t, "regex", msg, "not valid RE2", "missing closing )")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"since": "1h", "until": "2h"})
	logstest.ContainsAll(t, "backwards", msg, "runs backwards", "swap")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"since": "yesterday-ish"})
	logstest.ContainsAll(t, "bad time", msg, "cannot read")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"level": "loud"})
	logstest.ContainsAll(t, "level", msg, "not a level")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"fields": []string{"status>>500"}})
	logstest.ContainsAll(t, "field", msg, "status>>500")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"source": "ap.log"})
	logstest.ContainsAll(t, "source", msg, "matches none", "app.log.1")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"filter": "x"})
	logstest.ContainsAll(t, "native", msg, "validating")

	cs = serveFiles(t, config.Limits{}, filepath.Join(dir, "nothing-*.log"))
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"text": "x"})
	logstest.ContainsAll(t, "glob matches nothing", msg, "no readable log files", "matches no files", "--files")

	cs = serveFiles(t, config.Limits{}, filepath.Join(dir, "broken.log.gz"), filepath.Join(dir, "dangling.log"))
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"connection": "broken.log", "text": "x"})
	logstest.ContainsAll(t, "broken gzip", msg, "gzip")
	msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"connection": "dangling", "text": "x"})
	logstest.ContainsAll(t, "dangling", msg, "no such file")

	if os.Geteuid() != 0 {
		locked := filepath.Join(dir, "locked.log")
		logstest.Must(t, os.WriteFile(locked, []byte("x\n"), 0o000))
		cs = serveFiles(t, config.Limits{}, locked)
		msg = mcptest.MustError(t, cs, "search_logs", map[string]any{"text": "x"})
		logstest.ContainsAll(t, "unreadable", msg, "permission denied")
	}

	// Readable files are still searched when one of the glob's files is
	// broken, and the note says which.
	cs = serveFiles(t, config.Limits{}, filepath.Join(dir, "*.gz"))
	out := mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "GET /api/orders/17 "})
	logstest.ContainsAll(t, "partial", out, "1 lines matched", "Note: ", "broken.log.gz")
}

func TestEmptyResultsSayWhy(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{}, filepath.Join(dir, "app.log"))
	out := mcptest.MustText(t, cs, "search_logs", map[string]any{"since": "15m", "level": "error"})
	logstest.ContainsAll(t, "empty", out, "No lines matched", "Searched:", "app.log", "The data spans 2026-03-01T10:00:00Z", "wider since/until", "lower level")
	out = mcptest.MustText(t, cs, "error_signatures", map[string]any{"since": "15m"})
	logstest.ContainsAll(t, "empty signatures", out, "No lines matched", "level error+")
}

func TestOutputStaysWithinTheByteCap(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	cs := serveFiles(t, config.Limits{Bytes: 4096}, filepath.Join(dir, "app.log"))
	out := mcptest.MustText(t, cs, "search_logs", map[string]any{"limit": 1000})
	if len(out) > 4096+1024 {
		t.Errorf("result is %d bytes, over the cap", len(out))
	}
	logstest.ContainsAll(t, "cap footer", out, "[cut]", "text cap", "Narrow")
}

// TestBinarySearchAgreesWithFullScan checks that skipping to a window in
// a time-ordered file finds exactly what reading the whole file finds.
func TestBinarySearchAgreesWithFullScan(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	path := filepath.Join(dir, "app.log")
	lf := newLocalFiles([]string{path})
	m, err := lf.meta(path)
	logstest.Must(t, err)
	if !m.ordered || m.lay.format != formatJSON || m.lay.timeKey != "time" || m.lay.levelKey != "level" {
		t.Fatalf("detection: ordered=%v layout=%+v", m.ordered, m.lay)
	}
	cs := serveFiles(t, config.Limits{}, path)
	out := mcptest.MustText(t, cs, "count_logs", map[string]any{"since": "2026-03-01T11:30:00Z", "until": "2026-03-01T11:31:00Z", "bucket": "1m"})
	logstest.ContainsAll(t, "window count", out, "60 lines matched")
	info := out[strings.Index(out, "scanned"):]
	if strings.Contains(info, "MB in") {
		t.Errorf("a one-minute window should not read the whole file: %s", info)
	}
}

// TestOtherCategoriesConnectionsAreLeftAlone checks that a config file
// mixing categories without naming them gives the logs server only its own.
func TestOtherCategoriesConnectionsAreLeftAlone(t *testing.T) {
	t.Parallel()
	dir := writeLogs(t)
	conns := []config.Connection{
		{Name: "repo", Provider: "local", Settings: map[string]string{"path": dir}},
		{Name: "db", Provider: "postgres", Settings: map[string]string{"url": "postgres://x"}},
		{Name: "app", Provider: "files", Settings: map[string]string{"path": filepath.Join(dir, "app.log")}},
	}
	cs := serveConns(t, conns, nil)
	tools := mcptest.Tools(t, cs)
	for _, tl := range tools {
		if _, ok := tl.InputSchema.(map[string]any)["properties"].(map[string]any)["connection"]; ok {
			t.Errorf("tool %s offers a connection choice: only app belongs to logs", tl.Name)
		}
	}
}

// TestFileWithoutTimestamps: lines with no time are still searched and
// grouped; counting over time says what it needs.
func TestFileWithoutTimestamps(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "plain.log")
	var b strings.Builder
	for i := 0; i < 500; i++ {
		b.WriteString("ERROR could not open /data/part-" + itoaT(i) + ".bin: permission denied\n")
		b.WriteString("INFO processed batch " + itoaT(i) + "\n")
	}
	logstest.Must(t, os.WriteFile(path, []byte(b.String()), 0o644))
	cs := serveFiles(t, config.Limits{}, path)
	out := mcptest.MustText(t, cs, "error_signatures", nil)
	logstest.ContainsAll(t, "signatures", out, "500,error,-,-,plain.log,could not open <path>: permission denied")
	out = mcptest.MustText(t, cs, "search_logs", map[string]any{"text": "batch 499"})
	logstest.ContainsAll(t, "search", out, "1 lines matched", "- INFO processed batch 499")
	msg := mcptest.MustError(t, cs, "count_logs", nil)
	logstest.ContainsAll(t, "count", msg, "no timestamps", "since and until")
}
