package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// measureLatency times sequential tools/call of smallQuery through each
// server and the SDK floor, and the same query through pgx in this
// process. The calls are interleaved in rounds (order rotating) so that a
// burst of background load hits all of them alike. Added latency is a
// server's percentile minus the driver's median.
func measureLatency(ctx context.Context, cfg config, data *benchData, servers []*server, procs []*process, floor *process, r *report) error {
	params := json.RawMessage(fmt.Sprintf(`{"name":"query","arguments":{"sql":%q}}`, smallQuery))
	timers := []func() (time.Duration, error){func() (time.Duration, error) { return timeDriver(ctx, data.conn) }}
	for i := range procs {
		p, name := procs[i], servers[i].name
		timers = append(timers, func() (time.Duration, error) { return timeCall(p, name, params) })
	}
	timers = append(timers, func() (time.Duration, error) { return timeCall(floor, "floor", params) })
	samples := make([][]time.Duration, len(timers))
	for i, t := range timers {
		for n := 0; n < cfg.warmup; n++ {
			if _, err := t(); err != nil {
				return err
			}
		}
		samples[i] = make([]time.Duration, 0, cfg.calls)
	}
	per := cfg.calls / cfg.rounds
	for round := 0; round < cfg.rounds; round++ {
		for k := range timers {
			i := (k + round) % len(timers)
			for n := 0; n < per; n++ {
				d, err := timers[i]()
				if err != nil {
					return err
				}
				samples[i] = append(samples[i], d)
			}
		}
	}
	reportLatency(samples, per*cfg.rounds, r)
	return nil
}

// timeDriver runs smallQuery through pgx and reads every value, the least
// any server must do for the same answer.
func timeDriver(ctx context.Context, conn *pgx.Conn) (time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, smallQuery)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		_ = rows.RawValues()
		n++
	}
	rows.Close()
	d := time.Since(start)
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n != 1 {
		return 0, fmt.Errorf("pgx: %q returned %d rows, want 1", smallQuery, n)
	}
	return d, nil
}

// timeCall times one tools/call round trip: from writing the request to
// reading the response line. Decoding and checking happen after the clock
// stops.
func timeCall(p *process, name string, params json.RawMessage) (time.Duration, error) {
	start := time.Now()
	id, err := p.send("tools/call", params)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	line, err := p.readLine(id)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	var resp struct {
		Result *toolResult `json:"result"`
		Error  *rpcError   `json:"error"`
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if resp.Error != nil || resp.Result == nil || resp.Result.IsError {
		return 0, fmt.Errorf("%s: query failed: %s", name, line)
	}
	return d, nil
}

// reportLatency adds the driver's and each server's figures. samples[0] is
// the driver, the last is the floor, and those between follow the servers'
// order.
func reportLatency(samples [][]time.Duration, n int, r *report) {
	base := millis(percentile(samples[0], 50))
	servers, floor := samples[1:len(samples)-1], samples[len(samples)-1]
	pick := func(p float64, minus float64) []float64 {
		out := make([]float64, len(servers))
		for i, s := range servers {
			out[i] = millis(percentile(s, p)) - minus
		}
		return out
	}
	p50, p90 := pick(50, base), pick(90, base)
	r.add(metric{Key: "added_latency_p50_ms", Name: "added latency per query call, p50 (stdio)", Unit: "ms",
		Values: p50, Lower: true, Target: "≤ 0.3 ms", Pass: passIf(p50[0] <= 0.3)})
	r.add(metric{Key: "added_latency_p90_ms", Name: "added latency per query call, p90 (stdio)", Unit: "ms",
		Values: p90, Lower: true})
	r.add(metric{Key: "call_p50_ms", Name: "  whole call through the server, p50", Unit: "ms", Values: pick(50, 0), Lower: true})
	r.add(metric{Key: "call_p90_ms", Name: "  whole call through the server, p90", Unit: "ms", Values: pick(90, 0), Lower: true})
	r.addNote(fmt.Sprintf("Latency: %d timed calls per server after warm-up; the same query through pgx directly: p50 %.3f ms, p90 %.3f ms (subtracted: its p50).",
		n, base, millis(percentile(samples[0], 90))))
	r.extra["driver_p50_ms"] = base
	r.extra["driver_p90_ms"] = millis(percentile(samples[0], 90))
	f50, f90 := millis(percentile(floor, 50)), millis(percentile(floor, 90))
	r.extra["floor_stdio_call_p50_ms"], r.extra["floor_stdio_call_p90_ms"] = f50, f90
	r.addNote(fmt.Sprintf("SDK floor (a go-sdk server whose query tool returns a fixed row, no database), same rounds: whole call p50 %.3f ms, p90 %.3f ms.", f50, f90))
}

// percentile returns the nearest-rank p-th percentile of d (in any order).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p/100*float64(len(s))+0.5) - 1
	k = max(0, min(len(s)-1, k))
	return s[k]
}
