package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// cutFooter starts the footer ours appends when it drops rows.
const cutFooter = "[cut]"

// measureBytes records what each server sends for the same requests: the
// tools/list result, 100 rows, and the whole table.
func measureBytes(servers []*server, procs []*process, r *report) error {
	n := len(procs)
	list, hundred, hundredWire := make([]float64, n), make([]float64, n), make([]float64, n)
	all, allWire := make([]float64, n), make([]float64, n)
	footer := false
	for i, p := range procs {
		raw, _, err := p.call("tools/list", nil)
		if err != nil {
			return fmt.Errorf("%s: %w", servers[i].name, err)
		}
		list[i] = float64(len(raw))

		res, wire, err := p.query(hundredQuery)
		if err != nil {
			return fmt.Errorf("%s: %w", servers[i].name, err)
		}
		if err := checkHundred(servers[i].name, res); err != nil {
			return err
		}
		hundred[i], hundredWire[i] = float64(len(res.text())), float64(wire)

		res, wire, err = p.query(allQuery)
		if err != nil {
			return fmt.Errorf("%s: %w", servers[i].name, err)
		}
		all[i], allWire[i] = float64(len(res.text())), float64(wire)
		if i == 0 {
			footer = strings.Contains(res.text(), cutFooter)
		}
	}
	r.add(metric{Key: "tools_list_bytes", Name: "tools/list result", Unit: "B", Values: list, Lower: true,
		Target: "≤ 3 KB", Pass: passIf(list[0] <= 3<<10)})
	r.add(metric{Key: "rows100_text_bytes", Name: "100-row SELECT *, result text", Unit: "B", Values: hundred, Lower: true,
		Target: "≤ 7 KB", Pass: passIf(hundred[0] <= 7<<10)})
	r.add(metric{Key: "rows100_wire_bytes", Name: "  the same, JSON-RPC message on the wire", Unit: "B", Values: hundredWire, Lower: true})
	r.add(metric{Key: "select_all_text_bytes", Name: "SELECT * FROM bench_orders (no limit), text", Unit: "B", Values: all, Lower: true,
		Target: "capped, [cut] footer", Pass: passIf(footer && all[0] <= 64<<10)})
	r.add(metric{Key: "select_all_wire_bytes", Name: "  the same, JSON-RPC message on the wire", Unit: "B", Values: allWire, Lower: true})
	return nil
}

// checkHundred makes sure a server really returned the 100 rows, so that the
// byte counts compare like with like.
func checkHundred(name string, res *toolResult) error {
	text := res.text()
	if res.IsError {
		return fmt.Errorf("%s: 100-row query failed: %s", name, text)
	}
	if name == "peer" {
		var rows []map[string]any
		if err := json.Unmarshal([]byte(text), &rows); err != nil || len(rows) != 100 {
			return fmt.Errorf("peer: 100-row query: want a JSON array of 100 rows, got %d (%v)", len(rows), err)
		}
		return nil
	}
	if !strings.HasPrefix(text, "100 rows;") || strings.Contains(text, cutFooter) {
		return fmt.Errorf("%s: 100-row query: want 100 rows and no footer, got: %.200s", name, text)
	}
	return nil
}

// measureEscape sends COMMIT; CREATE TABLE through each server and checks in
// the database whether the table exists afterwards. A table that a server
// did create is dropped at once.
func measureEscape(ctx context.Context, data *benchData, servers []*server, procs []*process, r *report) error {
	stamp := fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	texts := make([]string, len(procs))
	created := make([]float64, len(procs))
	for i, p := range procs {
		table := "bench_escape_" + stamp + "_" + servers[i].name
		defer dropTable(data.dsn, table)
		answer, err := escapeAnswer(p, "COMMIT; CREATE TABLE "+table+" (a int)")
		if err != nil {
			return fmt.Errorf("%s: %w", servers[i].name, err)
		}
		exists, err := tableExists(ctx, data.conn, table)
		if err != nil {
			return err
		}
		texts[i] = "rejected, no table"
		if exists {
			texts[i], created[i] = "ESCAPED: table created", 1
		}
		logf("escape, %s answered: %.120s", servers[i].name, answer)
	}
	r.add(metric{Key: "escape_table_created", Name: "COMMIT; CREATE TABLE ... (read-only escape)", Values: created, Texts: texts,
		Target: "rejected, no table", Pass: passIf(created[0] == 0)})
	return nil
}

// escapeAnswer sends the escape attempt and describes the answer: a tool
// error, a JSON-RPC error, or a result.
func escapeAnswer(p *process, sql string) (string, error) {
	res, _, err := p.query(sql)
	var rpcErr *rpcError
	switch {
	case errors.As(err, &rpcErr):
		return "JSON-RPC error: " + rpcErr.Message, nil
	case err != nil:
		return "", err
	case res.IsError:
		return "tool error: " + res.text(), nil
	}
	if res.text() == "" {
		return "a result with no text", nil
	}
	return "result: " + res.text(), nil
}

func tableExists(ctx context.Context, conn *pgx.Conn, table string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", "public."+table).Scan(&exists)
	return exists, err
}

// dropTable removes a table the escape created. It uses its own connection
// and deadline so that it still runs after the bench was interrupted.
func dropTable(dsn, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		_, err = conn.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
		_ = conn.Close(ctx)
	}
	if err != nil {
		logf("could not drop %s: %v", table, err)
	}
}
