package logs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/opstower/opstower/servers/logs/internal/logstest"
	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/timebucket"
)

// The benchmarks read a 1 GB JSON-lines file generated once and kept in
// the OS temp directory (the name carries a version: change it when the
// generator changes). `make test` never builds it; only -bench does.

const (
	benchFileName = "opstower-bench-logs-v2.jsonl"
	benchSize     = 1 << 30
	// benchRare occurs on 8 lines spread through the file.
	benchRare = "ZX81-4471-QUASAR"
)

var benchErrors = []string{
	`payment failed for order %d: timeout after %ds talking to 10.0.%d.%d:5432`,
	`user \"u%d\" not found`,
	`upstream returned 502 for /api/v1/carts/%d`,
	`cache miss storm: %d keys expired in %dms`,
	`could not parse request body: unexpected token at offset %d`,
	`deadline exceeded calling inventory (attempt %d of 3) after %dms`,
	`session 5f0c%04x-1b2c-4d3e-8f9a-0b1c2d3e4f5a expired`,
	`disk usage at %d%% on /var/lib/data%d`,
}

// benchFile returns the path of the 1 GB file, writing it if needed.
func benchFile(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), benchFileName)
	if st, err := os.Stat(path); err == nil && st.Size() >= benchSize {
		return path
	}
	start := time.Now()
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	logstest.Must(b, err)
	w := bufio.NewWriterSize(f, 4<<20)
	ts := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var line []byte
	written, rare := 0, 0
	approxLines := benchSize / 210
	for i := 0; written < benchSize; i++ {
		ts = ts.Add(16 * time.Millisecond)
		line = append(line[:0], `{"time":"`...)
		line = ts.AppendFormat(line, "2006-01-02T15:04:05.000Z")
		switch {
		case i%50 == 7:
			line = append(line, `","level":"error","msg":"`...)
			tmpl := benchErrors[(i/50)%len(benchErrors)]
			line = fmt.Appendf(line, tmpl, i%9973, i%60, i%4, i%250)
		case i%13 == 0:
			line = append(line, `","level":"warn","msg":"slow query took `...)
			line = strconv.AppendInt(line, int64(200+i%900), 10)
			line = append(line, `ms`...)
		default:
			line = append(line, `","level":"info","msg":"GET /api/v1/orders/`...)
			line = strconv.AppendInt(line, int64(i%100000), 10)
			line = append(line, ` 200`...)
		}
		line = append(line, `","service":"checkout","host":"web-`...)
		line = strconv.AppendInt(line, int64(i%12), 10)
		line = append(line, `","trace_id":"`...)
		line = strconv.AppendUint(line, uint64(i)*0x9e3779b97f4a7c15, 16)
		line = append(line, `","duration_ms":`...)
		line = strconv.AppendInt(line, int64(3+i%97), 10)
		if i%(approxLines/8) == approxLines/16 && rare < 8 {
			rare++
			line = append(line, `,"order_ref":"`+benchRare+`"`...)
		}
		line = append(line, "}\n"...)
		n, err := w.Write(line)
		logstest.Must(b, err)
		written += n
	}
	logstest.Must(b, w.Flush())
	logstest.Must(b, f.Close())
	logstest.Must(b, os.Rename(tmp, path))
	b.Logf("generated %s (%d MB) in %s", path, written>>20, time.Since(start).Round(time.Millisecond))
	return path
}

func benchBackend(b *testing.B, workers int) (*localFiles, int64) {
	path := benchFile(b)
	st, err := os.Stat(path)
	logstest.Must(b, err)
	lf := newLocalFiles([]string{path})
	lf.workers = workers
	if _, err := lf.meta(path); err != nil {
		b.Fatal(err)
	}
	return lf, st.Size()
}

// BenchmarkSearchRare1GB searches the file for a rare string on one core:
// the figure to compare with grep -F.
func BenchmarkSearchRare1GB(b *testing.B) {
	for _, c := range []struct {
		name, text string
		workers    int
	}{
		{"exact/1core", benchRare, 1},
		{"anycase/1core", "zx81-4471-quasar", 1},
		{"exact/allcores", benchRare, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			lf, size := benchBackend(b, c.workers)
			f := &filter{}
			f.setText(c.text)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				res, err := lf.search(context.Background(), f, 50)
				if err != nil {
					b.Fatal(err)
				}
				if res.Total != 8 {
					b.Fatalf("found %d lines, want 8", res.Total)
				}
			}
		})
	}
}

// BenchmarkSignatures1GB computes the top error signatures of the file.
func BenchmarkSignatures1GB(b *testing.B) {
	for _, c := range []struct {
		name    string
		workers int
	}{{"allcores", 0}, {"1core", 1}} {
		b.Run(c.name, func(b *testing.B) {
			lf, size := benchBackend(b, c.workers)
			f := &filter{MinLevel: LevelError}
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				t, _, err := lf.signatures(context.Background(), f)
				if err != nil {
					b.Fatal(err)
				}
				if top := t.top(20); len(top) < len(benchErrors) {
					b.Fatalf("found %d signatures, want at least %d", len(top), len(benchErrors))
				}
			}
		})
	}
}

// BenchmarkCountByLevel1GB counts every line per hour and level.
func BenchmarkCountByLevel1GB(b *testing.B) {
	lf, size := benchBackend(b, 0)
	f := &filter{}
	r, ok := lf.extent(context.Background(), "")
	if !ok {
		b.Fatal("no extent")
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		c := timebucket.New(r.Start, r.End, time.Hour)
		if _, err := lf.count(context.Background(), f, c, "level"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGrepBaseline runs grep -F (and rg when installed) on the same
// file for the same string, for comparison with BenchmarkSearchRare1GB.
func BenchmarkGrepBaseline(b *testing.B) {
	for _, tool := range []struct {
		name string
		args []string
	}{
		{"grep-F", []string{"grep", "-F", "-c", benchRare}},
		{"grep-F-i", []string{"grep", "-F", "-i", "-c", benchRare}},
		{"rg-1thread", []string{"rg", "-F", "-c", "-j1", "--mmap", benchRare}},
	} {
		b.Run(tool.name, func(b *testing.B) {
			if _, err := exec.LookPath(tool.args[0]); err != nil {
				b.Skipf("%s not installed", tool.args[0])
			}
			path := benchFile(b)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			b.ResetTimer()
			for range b.N {
				out, err := exec.Command(tool.args[0], append(tool.args[1:], path)...).Output()
				if err != nil {
					b.Fatalf("%s: %v", tool.name, err)
				}
				if string(out) != "8\n" {
					b.Fatalf("%s counted %q", tool.name, out)
				}
			}
		})
	}
}

// BenchmarkToolsListBytes reports the size of tools/list for a local-files
// server, the cost of the tool definitions on every model turn.
func BenchmarkToolsListBytes(b *testing.B) {
	cs := serveFiles(b, config.Limits{}, filepath.Join(b.TempDir(), "*.log"))
	var n int
	for range b.N {
		n = mcptest.ListBytes(b, mcptest.Tools(b, cs))
	}
	b.ReportMetric(float64(n), "bytes")
}
