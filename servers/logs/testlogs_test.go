package logs

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
)

// The generated logs tell the story of package logstest (a checkout
// service whose database connections time out from 11:00 to 11:10) in
// every format.

// jsonLine writes line i of a JSON-lines log: one line per second.
func jsonLine(w *bufio.Writer, t time.Time, i int) {
	ts := t.Format("2006-01-02T15:04:05.000Z07:00")
	inIncident := !t.Before(logstest.IncidentFrom) && t.Before(logstest.IncidentTo)
	switch {
	case inIncident && i%3 == 0:
		fmt.Fprintf(w, `{"time":"%s","level":"error","msg":"payment failed for order %d: timeout after %ds talking to 10.0.%d.%d:5432","service":"checkout","host":"web-%d","trace_id":"%016x"}`+"\n",
			ts, 8000+i, 30+i%3, i%4, i%250, i%3, uint64(i)*0x9e3779b97f4a7c15)
	case i%97 == 0:
		fmt.Fprintf(w, `{"time":"%s","level":"warn","msg":"slow query took %dms","service":"checkout","host":"web-%d","table":"orders"}`+"\n", ts, 500+i%400, i%3)
	case i%211 == 0:
		fmt.Fprintf(w, `{"time":"%s","level":"error","msg":"user \"u%d\" not found","service":"checkout","host":"web-%d","error":"record not found in /srv/app/users.go"}`+"\n", ts, i, i%3)
	default:
		fmt.Fprintf(w, `{"time":"%s","level":"info","msg":"GET /api/orders/%d 200","service":"checkout","host":"web-%d","status":200,"duration_ms":%d}`+"\n", ts, i, i%3, 5+i%40)
	}
}

// writeLogs writes the fixture directory and returns its path:
//
//	app.log         JSON lines 11:00-12:00 (the incident at its start)
//	app.log.1       JSON lines 10:30-11:00
//	app.log.2.gz    JSON lines 10:00-10:30, gzip
//	worker.log      logfmt 10:00-12:00, every 10 s
//	java.log        plain text with stack traces
func writeLogs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	writeJSON := func(name string, from, to time.Time, gz bool) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var out io.Writer = f
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(f)
			out = zw
		}
		w := bufio.NewWriter(out)
		for ts := from; ts.Before(to); ts = ts.Add(time.Second) {
			jsonLine(w, ts, int(ts.Sub(logstest.Start)/time.Second))
		}
		logstest.Must(t, w.Flush())
		if zw != nil {
			logstest.Must(t, zw.Close())
		}
		logstest.Must(t, f.Close())
	}
	writeJSON("app.log.2.gz", logstest.Start, logstest.Start.Add(30*time.Minute), true)
	writeJSON("app.log.1", logstest.Start.Add(30*time.Minute), logstest.Start.Add(time.Hour), false)
	writeJSON("app.log", logstest.Start.Add(time.Hour), logstest.Start.Add(2*time.Hour), false)

	f, err := os.Create(filepath.Join(dir, "worker.log"))
	logstest.Must(t, err)
	w := bufio.NewWriter(f)
	for i, ts := 0, logstest.Start; ts.Before(logstest.Start.Add(2 * time.Hour)); i, ts = i+1, ts.Add(10*time.Second) {
		lv, msg := "info", "job done"
		if !ts.Before(logstest.IncidentFrom) && ts.Before(logstest.IncidentTo) {
			lv, msg = "error", "job failed"
		}
		fmt.Fprintf(w, "ts=%s level=%s msg=%q job=%d queue=emails\n", ts.Format(time.RFC3339), lv, msg, 100+i)
	}
	logstest.Must(t, w.Flush())
	logstest.Must(t, f.Close())

	java := fmt.Sprintf(`%[1]s 10:00:01,000 INFO  [main] c.e.App - started in 2.5 seconds
%[1]s 11:02:03,456 ERROR [pool-1] c.e.Db - connection refused to db-primary
java.net.ConnectException: Connection refused
	at java.base/sun.nio.ch.Net.connect0(Native Method)
	at com.example.Db.open(Db.java:42)
%[1]s 11:05:00,000 WARN  [pool-2] c.e.Db - retrying in 5s
%[1]s 11:59:59,999 INFO  [main] c.e.App - healthy
`, "2026-03-01")
	logstest.Must(t, os.WriteFile(filepath.Join(dir, "java.log"), []byte(java), 0o644))
	return dir
}

// incidentErrors is how many "payment failed" lines the JSON logs hold.
func incidentErrors() int {
	n := 0
	for ts := logstest.IncidentFrom; ts.Before(logstest.IncidentTo); ts = ts.Add(time.Second) {
		if int(ts.Sub(logstest.Start)/time.Second)%3 == 0 {
			n++
		}
	}
	return n
}

// serveFiles starts a logs server on local file globs.
func serveFiles(t testing.TB, limits config.Limits, globs ...string) *mcp.ClientSession {
	t.Helper()
	var conns []config.Connection
	for _, g := range globs {
		c, err := ParseFiles(g)
		logstest.Must(t, err)
		conns = append(conns, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := New(ctx, Config{Connections: conns, Limits: limits})
	logstest.Must(t, err)
	return mcptest.Connect(t, s)
}

func itoaT(n int) string { return strconv.Itoa(n) }
