package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// metric is one row of the results: a value per server, in the order the
// servers were given (ours first).
type metric struct {
	Key    string
	Name   string
	Unit   string    // ms, MB, B, /s; empty for text results
	Values []float64 // per server
	Texts  []string  // per server, for results that are words, not numbers
	Lower  bool      // lower is better; the ratio is then peer/ours
	Target string    // ours's target, as the issue states it
	Pass   *bool     // nil when the metric has no target
}

// report collects the metrics of one run.
type report struct {
	started time.Time
	servers []string
	metrics []metric
	notes   []string
	extra   map[string]float64 // figures kept in the JSON only
	env     map[string]string
}

func newReport(cfg config, servers []*server) *report {
	r := &report{started: time.Now(), extra: map[string]float64{}, env: map[string]string{
		"go":      runtime.Version(),
		"cpus":    strconv.Itoa(runtime.NumCPU()),
		"os":      runtime.GOOS + "/" + runtime.GOARCH,
		"ours":    commandOutput(servers[0].argv[0], "version"),
		"loadavg": loadAvg(),
	}}
	for _, s := range servers {
		r.servers = append(r.servers, s.name)
	}
	r.env["runs"] = fmt.Sprintf("database %s; %d cold starts; %d+%d warm-up latency calls in %d rounds; %d RSS calls; %d HTTP clients for %s (go-sdk: %s)",
		cfg.database, cfg.coldRuns, cfg.calls, cfg.warmup, cfg.rounds, cfg.rssCalls, cfg.httpClients, cfg.httpDuration, cfg.sdkDuration)
	if len(cfg.oursEnv) > 0 {
		r.env["ours_env"] = cfg.oursEnv.String()
	}
	r.addNote("KB and MB are binary (1,024 and 1,048,576 bytes), as in OpsTower's own output.")
	if strings.Contains(cfg.adminDSN, "sslmode=disable") {
		r.addNote("Both servers and the pgx baseline connect without TLS, as node-postgres does by default.")
	}
	if len(servers) > 1 {
		r.env["peer"] = "@modelcontextprotocol/server-postgres " + peerVersion(cfg.peerDir)
		r.env["node"] = commandOutput(cfg.node, "--version")
	}
	return r
}

func (r *report) add(m metric)        { r.metrics = append(r.metrics, m) }
func (r *report) addNote(note string) { r.notes = append(r.notes, note) }

// print writes the table and the notes.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nopstower mcp databases vs %s, %s\n", r.envOr("peer", "no peer"), r.started.Format(time.RFC3339))
	fmt.Fprintf(w, "%s, %s CPUs, load %s; ours %s; node %s\n", r.env["go"], r.env["cpus"], r.env["loadavg"], r.env["ours"], r.envOr("node", "-"))
	if e := r.env["ours_env"]; e != "" {
		fmt.Fprintf(w, "ours runs with %s\n", e)
	}
	fmt.Fprintln(w)
	rows := [][]string{{"metric", "ours", "peer", "peer/ours", "target (ours)", "result"}}
	for _, m := range r.metrics {
		rows = append(rows, []string{m.Name, m.cell(0), m.cell(1), m.ratioCell(), m.Target, m.result()})
	}
	writeTable(w, rows)
	fmt.Fprintln(w, "\npeer/ours: how many times more the peer takes (time, memory, bytes); above 1 means ours is smaller or faster.")
	for _, n := range r.notes {
		fmt.Fprintln(w, "- "+n)
	}
	pass, fail := r.tally()
	fmt.Fprintf(w, "\nTargets: %d passed, %d failed\n", pass, fail)
}

func (r *report) envOr(key, def string) string {
	if v := r.env[key]; v != "" {
		return v
	}
	return def
}

func (r *report) tally() (pass, fail int) {
	for _, m := range r.metrics {
		switch {
		case m.Pass == nil:
		case *m.Pass:
			pass++
		default:
			fail++
		}
	}
	return pass, fail
}

// writeTable prints rows as aligned columns: the first (names) and the last
// two (target, result) left-aligned, the figures right-aligned.
func writeTable(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for n, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString(" | ")
			}
			if i == 0 || i >= len(row)-2 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			sep := make([]string, len(widths))
			for i, wd := range widths {
				sep[i] = strings.Repeat("-", wd)
			}
			fmt.Fprintln(w, strings.Join(sep, "-+-"))
		}
	}
}

// cell formats server i's value.
func (m metric) cell(i int) string {
	if i < len(m.Texts) {
		return m.Texts[i]
	}
	if i >= len(m.Values) {
		if i == 1 && len(m.Values) == 1 && m.Unit == "/s" {
			return "n/a (stdio only)"
		}
		return "-"
	}
	return formatValue(m.Values[i], m.Unit)
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ms":
		return strconv.FormatFloat(v, 'f', 3, 64) + " ms"
	case "MB":
		return strconv.FormatFloat(v, 'f', 1, 64) + " MB"
	case "B":
		return thousands(int64(v)) + " B"
	case "/s":
		return thousands(int64(math.Round(v))) + "/s"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// ratio is peer/ours for lower-is-better figures, when both are positive.
func (m metric) ratio() (float64, bool) {
	if !m.Lower || len(m.Values) < 2 || m.Texts != nil || m.Values[0] <= 0 || m.Values[1] <= 0 {
		return 0, false
	}
	return m.Values[1] / m.Values[0], true
}

func (m metric) ratioCell() string {
	if x, ok := m.ratio(); ok {
		prec := 1
		if x < 1 {
			prec = 2
		}
		return strconv.FormatFloat(x, 'f', prec, 64) + "×"
	}
	return "-"
}

func (m metric) result() string {
	switch {
	case m.Pass == nil:
		return ""
	case *m.Pass:
		return "pass"
	}
	return "FAIL"
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// jsonMetric is a metric as written to the results file.
type jsonMetric struct {
	Key    string             `json:"key"`
	Name   string             `json:"name"`
	Unit   string             `json:"unit,omitempty"`
	Values map[string]float64 `json:"values,omitempty"`
	Texts  map[string]string  `json:"texts,omitempty"`
	Ratio  *float64           `json:"ratio_peer_over_ours,omitempty"`
	Target string             `json:"target,omitempty"`
	Pass   *bool              `json:"pass,omitempty"`
}

// writeJSON writes the run's figures for later comparison.
func (r *report) writeJSON(path string) error {
	out := struct {
		Started time.Time          `json:"started"`
		Env     map[string]string  `json:"env"`
		Metrics []jsonMetric       `json:"metrics"`
		Extra   map[string]float64 `json:"extra"`
		Notes   []string           `json:"notes"`
	}{r.started, r.env, nil, r.extra, r.notes}
	for _, m := range r.metrics {
		jm := jsonMetric{Key: m.Key, Name: strings.TrimSpace(m.Name), Unit: m.Unit, Target: m.Target, Pass: m.Pass}
		for i, name := range r.servers {
			if i < len(m.Values) {
				if jm.Values == nil {
					jm.Values = map[string]float64{}
				}
				jm.Values[name] = m.Values[i]
			}
			if i < len(m.Texts) {
				if jm.Texts == nil {
					jm.Texts = map[string]string{}
				}
				jm.Texts[name] = m.Texts[i]
			}
		}
		if x, ok := m.ratio(); ok {
			jm.Ratio = &x
		}
		out.Metrics = append(out.Metrics, jm)
	}
	raw, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// commandOutput runs a short command and returns its first line.
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// peerVersion reads the installed peer's version from its package.json.
func peerVersion(dir string) string {
	raw, err := os.ReadFile(strings.TrimSuffix(dir+"/"+peerEntry, "dist/index.js") + "package.json")
	if err != nil {
		return "?"
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(raw, &pkg) != nil {
		return "?"
	}
	return pkg.Version
}
