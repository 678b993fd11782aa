package databases

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/sqlguard"
)

// The prepared path runs a statement the way the driver runs a repeated
// query: as a named prepared statement whose plan the server keeps, so a
// statement that comes again (scheduled reports, agents re-running a
// query) is neither parsed nor planned again. Each call is still one
// round trip and one read-only transaction:
//
//	Close     evicted statements, if any
//	Parse     BEGIN READ ONLY, the settings, ROLLBACK (once per connection)
//	Bind+Execute  BEGIN READ ONLY
//	Bind+Execute  the settings, local to the transaction: the deadlines, and
//	              the output formats unless the session has them already
//	Parse     the statement (the first time on this connection)
//	Bind+Describe+Execute  the statement, at most limit+1 rows
//	Bind+Execute  ROLLBACK
//	Sync
//
// The statement is parsed and bound inside the read-only transaction, the
// extended protocol's Parse takes exactly one statement, and the
// transaction is always rolled back, as on the unprepared path. Execute's
// row limit stops the portal after limit+1 rows (PortalSuspended: more
// exist), so the server produces no more rows than a cursor would. Unlike
// a cursor, the plan is made for the whole result (as any driver's is)
// rather than for its first rows.
//
// pgconn has no row limit in its own calls, so the messages go out through
// its Frontend and come back through ReceiveMessage, which takes the
// connection's lock and watches ctx (a cancel request, then a deadline on
// the socket) for each message, and keeps TxStatus and ParameterStatus up
// to date. Any failure to read or write leaves the exchange half done, so
// the connection is closed and the pool replaces it.
//
// A transaction-mode pooler (PgBouncer without max_prepared_statements)
// hands each transaction whichever server connection is free, where our
// statements do not exist, or exist already because another of our
// connections made them there. Such an error, or any error on one of our
// own statements, switches the engine to the unprepared path for good, and
// the call is run again there: it was read-only and rolled back.

// pgStmtCacheSize is how many of the user's statements each connection
// keeps prepared; the least recently used is closed to make room.
const pgStmtCacheSize = 32

// pgStmtName names a prepared statement by its text, so that a name
// always means the same SQL, whichever connection (or, behind a pooler,
// whichever server connection) it is found on. kind keeps the user's
// statements apart from the engine's own, even if the text is the same.
func pgStmtName(kind, sql string) string {
	h := sha256.Sum256([]byte(sql))
	return "opstower_" + kind + "_" + hex.EncodeToString(h[:12])
}

// pgStatement is SQL with its prepared statement name.
type pgStatement struct{ name, sql string }

// pgOwnStatement is one of the engine's statements; pgUserStatement the
// user's.
func pgOwnStatement(sql string) pgStatement {
	return pgStatement{name: pgStmtName("tx", sql), sql: sql}
}
func pgUserStatement(sql string) pgStatement {
	return pgStatement{name: pgStmtName("q", sql), sql: sql}
}

// pgConnStmts is what one connection has prepared. It lives in the
// connection's CustomData, so it goes away with the connection.
type pgConnStmts struct {
	ready   bool // the engine's own statements are prepared
	byText  map[string]*list.Element
	recent  *list.List // of pgStatement, most recently used first
	closing []string   // evicted, to close in the next exchange
	ops     []pgOp
}

const pgConnStmtsKey = "opstower.prepared"

func pgStmtsOf(pc *pgconn.PgConn) *pgConnStmts {
	if cs, ok := pc.CustomData()[pgConnStmtsKey].(*pgConnStmts); ok {
		return cs
	}
	cs := &pgConnStmts{byText: map[string]*list.Element{}, recent: list.New()}
	pc.CustomData()[pgConnStmtsKey] = cs
	return cs
}

// add records a statement the server has prepared, evicting the least
// recently used beyond capacity.
func (cs *pgConnStmts) add(st pgStatement, capacity int) {
	cs.byText[st.sql] = cs.recent.PushFront(st)
	for cs.recent.Len() > capacity {
		cs.drop(cs.recent.Back().Value.(pgStatement).sql)
	}
}

// drop forgets a statement and closes it in the next exchange.
func (cs *pgConnStmts) drop(sql string) {
	if e, ok := cs.byText[sql]; ok {
		cs.closing = append(cs.closing, e.Value.(pgStatement).name)
		cs.recent.Remove(e)
		delete(cs.byText, sql)
	}
}

// pgOp is one message the server answers, in the order sent.
type pgOp struct {
	msg  byte // 'C' Close, 'P' Parse, 'B' Bind, 'D' Describe, 'E' Execute, 'S' Sync
	role byte // 'c' an eviction, 'o' one of our statements, 'u' the user's
}

// pgPooled reports an error that means our prepared statements are not
// where we made them: a transaction-mode pooler.
func pgPooled(pe *pgconn.PgError, op pgOp) bool {
	switch {
	case pe.Code == "26000" || pe.Code == "42P05": // prepared statement does not exist / already exists
		return true
	case op.role == 'o' && (op.msg == 'P' || op.msg == 'B'):
		// Our own statements cannot fail to parse or bind on a server
		// connection of ours: some poolers refuse named statements.
		return true
	}
	return false
}

// queryPrepared runs st on c through prepared statements. retry is true
// when the call should run again because nothing reached the sink and
// either the engine has just switched to the unprepared path or the
// statement's cached plan went stale; err is then the reason.
func (p *pgEngine) queryPrepared(ctx context.Context, c *pgx.Conn, st sqlguard.Statement, s *sink) (retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	pc := c.PgConn()
	cs := pgStmtsOf(pc)
	ops := cs.ops[:0]
	fe := pc.Frontend()

	for _, name := range cs.closing {
		fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: name})
		ops = append(ops, pgOp{'C', 'c'})
	}
	own := []pgStatement{p.begin, p.settings, p.timeouts, p.end}
	if !cs.ready {
		for _, o := range own {
			fe.SendParse(&pgproto3.Parse{Name: o.name, Query: o.sql})
			ops = append(ops, pgOp{'P', 'o'})
		}
	}
	settings := p.settings
	if pgOutputFormatsSet(pc) {
		settings = p.timeouts
	}
	for _, o := range []pgStatement{p.begin, settings} {
		fe.SendBind(&pgproto3.Bind{PreparedStatement: o.name})
		fe.SendExecute(&pgproto3.Execute{})
		ops = append(ops, pgOp{'B', 'o'}, pgOp{'E', 'o'})
	}
	var user pgStatement
	e, cached := cs.byText[st.SQL]
	if cached {
		user = e.Value.(pgStatement)
		cs.recent.MoveToFront(e)
	} else {
		user = pgUserStatement(st.SQL)
		fe.SendParse(&pgproto3.Parse{Name: user.name, Query: user.sql})
		ops = append(ops, pgOp{'P', 'u'})
	}
	fe.SendBind(&pgproto3.Bind{PreparedStatement: user.name})
	fe.SendDescribe(&pgproto3.Describe{ObjectType: 'P'})
	fe.SendExecute(&pgproto3.Execute{MaxRows: uint32(s.maxRows + 1)})
	ops = append(ops, pgOp{'B', 'u'}, pgOp{'D', 'u'}, pgOp{'E', 'u'})
	fe.SendBind(&pgproto3.Bind{PreparedStatement: p.end.name})
	fe.SendExecute(&pgproto3.Execute{})
	fe.SendSync(&pgproto3.Sync{})
	ops = append(ops, pgOp{'B', 'o'}, pgOp{'E', 'o'}, pgOp{'S', 0})
	cs.ops = ops

	// The messages are small and the server answers only after reading
	// them, so the write does not wait on the server; ctx still bounds it.
	stop := context.AfterFunc(ctx, func() { _ = pc.Conn().SetWriteDeadline(time.Now()) })
	err = fe.Flush()
	if !stop() || err != nil {
		pgAbandon(ctx, pc)
		return false, p.connErr(errors.Join(ctx.Err(), err))
	}

	var (
		failed   *pgconn.PgError
		failedAt pgOp
		rows     *pgRows
		parsed   int // of our own statements
	)
	for i := 0; ; {
		msg, err := pc.ReceiveMessage(ctx)
		if err != nil {
			pgAbandon(ctx, pc)
			return false, p.queryErr(err, st.SQL, 0)
		}
		want := ops[i].msg
		switch m := msg.(type) {
		case *pgproto3.CloseComplete:
			if want != 'C' {
				break
			}
			cs.closing = cs.closing[1:]
			i++
			continue
		case *pgproto3.ParseComplete:
			if want != 'P' {
				break
			}
			if ops[i].role == 'u' {
				cs.add(user, p.stmtCacheSize)
			} else if parsed++; parsed == len(own) {
				cs.ready = true
			}
			i++
			continue
		case *pgproto3.BindComplete:
			if want != 'B' {
				break
			}
			i++
			continue
		case *pgproto3.NoData:
			if want != 'D' {
				break
			}
			i++
			continue
		case *pgproto3.RowDescription:
			if want != 'D' {
				break
			}
			if len(m.Fields) > 0 {
				rows = p.pgRowsFor(ctx, c, m.Fields, s)
			}
			i++
			continue
		case *pgproto3.DataRow:
			if want != 'E' {
				break
			}
			if rows != nil && ops[i].role == 'u' {
				rows.add(m.Values)
			}
			continue
		case *pgproto3.CommandComplete, *pgproto3.PortalSuspended, *pgproto3.EmptyQueryResponse:
			if want != 'E' {
				break
			}
			i++
			continue
		case *pgproto3.ErrorResponse:
			// The server skips to Sync.
			failed, failedAt = pgconn.ErrorResponseToPgError(m), ops[i]
			i = len(ops) - 1
			continue
		case *pgproto3.ReadyForQuery:
			if want != 'S' {
				break
			}
			return p.concludePrepared(ctx, pc, st, s, cs, cached, failed, failedAt)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			continue // handled by pgconn
		}
		pgAbandon(ctx, pc)
		return false, p.connErr(fmt.Errorf("unexpected %T from the server while awaiting the answer to %q", msg, want))
	}
}

// concludePrepared ends the transaction if the statement failed inside it
// and says what the caller does next.
func (p *pgEngine) concludePrepared(ctx context.Context, pc *pgconn.PgConn, st sqlguard.Statement, s *sink, cs *pgConnStmts, cached bool, failed *pgconn.PgError, at pgOp) (bool, error) {
	if pc.TxStatus() != 'I' {
		_ = pc.Exec(ctx, "ROLLBACK").Close()
	}
	if failed == nil {
		return false, nil
	}
	err := p.queryErr(failed, st.SQL, 0)
	if s.table != nil || ctx.Err() != nil {
		return false, err
	}
	if pgPooled(failed, at) {
		p.unprepared.Store(true)
		return true, err
	}
	if cached && at.role == 'u' && at.msg == 'B' && failed.Code == "0A000" {
		// "cached plan must not change result type": the table changed
		// under a SELECT *. Prepare it anew.
		cs.drop(st.SQL)
		return true, err
	}
	return false, err
}

// pgOutputFormatsSet reports whether the session already has the output
// formats the settings would set: the server reports both parameters
// whenever they change (and PgBouncer keeps them as the client asked), so
// the transaction then only needs its deadlines, which saves setting two
// parameters on every call.
func pgOutputFormatsSet(pc *pgconn.PgConn) bool {
	return pc.ParameterStatus("standard_conforming_strings") == "on" && strings.HasPrefix(pc.ParameterStatus("DateStyle"), "ISO")
}

// pgAbandon closes a connection whose exchange could not finish, first
// asking the server to stop the statement if ctx ended it.
func pgAbandon(ctx context.Context, pc *pgconn.PgConn) {
	if ctx.Err() != nil {
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = pc.CancelRequest(cctx)
		}()
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = pc.Close(cctx)
}

// pgRows turns rows in PostgreSQL's text format into what the renderer
// shows and adds them to the sink until it is full.
type pgRows struct {
	s       *sink
	oids    []uint32
	cells   [][]byte
	scratch []byte
	full    bool
}

// pgRowsFor starts the sink's table from a row description.
func (p *pgEngine) pgRowsFor(ctx context.Context, c *pgx.Conn, fields []pgproto3.FieldDescription, s *sink) *pgRows {
	cols := make([]render.Column, len(fields))
	oids := make([]uint32, len(fields))
	for i, fd := range fields {
		oids[i] = fd.DataTypeOID
		cols[i] = render.Column{Name: string(fd.Name), Type: p.typeName(ctx, c, fd.DataTypeOID)}
	}
	s.columns(cols)
	return &pgRows{s: s, oids: oids}
}

// add converts one row; the values are only valid until the next message.
func (r *pgRows) add(vals [][]byte) {
	if r.full {
		return
	}
	r.cells = append(r.cells[:0], vals...)
	r.scratch = r.scratch[:0]
	for i, v := range r.cells {
		if v == nil || i >= len(r.oids) {
			continue
		}
		switch r.oids[i] {
		case pgBoolOID:
			r.cells[i] = boolText(v)
		case pgTimestampOID, pgTimestamptzOID:
			start := len(r.scratch)
			r.scratch = appendRFC3339(r.scratch, v)
			r.cells[i] = r.scratch[start:len(r.scratch):len(r.scratch)]
		}
	}
	r.full = !r.s.add(r.cells)
}
