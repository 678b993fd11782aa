package databases

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/render"
)

// Read-only is enforced twice (the guard, then the engine), but some
// statements only the guard stops on a role that may write: a PostgreSQL
// superuser's COPY ... TO PROGRAM, MariaDB's GRANT inside a read-only
// transaction. So the first time a connection is used, engines that can
// tell check what the role may do, and the server warns in its log when it
// could write: the setup to aim for is a role with SELECT only.

// writeAccessChecker is implemented by engines that can tell whether the
// connection's role holds privileges beyond reading.
type writeAccessChecker interface {
	// writeAccess describes those privileges, or returns "" when the role
	// can only read.
	writeAccess(ctx context.Context) (string, error)
}

// checkWriteAccess runs the check once per connection, in the background
// so that the call that triggered it does not wait; a check that fails
// (the database is down) is tried again on the next call.
func (h *handlers) checkWriteAccess(c *conn) {
	checker, ok := c.Backend.(writeAccessChecker)
	if !ok {
		return
	}
	// Load first: every tool call comes here, and only the first stores.
	if _, done := h.accessChecked.Load(c.Name); done {
		return
	}
	if _, done := h.accessChecked.LoadOrStore(c.Name, true); done {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		what, err := checker.writeAccess(ctx)
		switch {
		case err != nil:
			h.accessChecked.Delete(c.Name)
			h.logger.Debug("could not check the role's privileges", "connection", c.Name, "error", err)
		case what != "":
			h.logger.Warn("this connection's role can write: OpsTower keeps every statement read-only, "+
				"but connect with a role that has SELECT only, so that the database itself refuses writes too",
				"connection", c.Name, "privileges", what)
		default:
			h.logger.Debug("the connection's role can only read", "connection", c.Name)
		}
	}()
}

// pgWriteAccessSQL names a superuser, or counts the tables (outside the
// system schemas) the role may change, owned or granted.
const pgWriteAccessSQL = `
SELECT CASE WHEN r.rolsuper THEN 'superuser' ELSE '' END,
       (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\_toast%'
           AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
FROM pg_roles r WHERE r.rolname = current_user`

func (p *pgEngine) writeAccess(ctx context.Context) (string, error) {
	var super string
	var tables int64
	if err := p.pool.QueryRow(ctx, pgWriteAccessSQL).Scan(&super, &tables); err != nil {
		return "", p.connErr(err)
	}
	var parts []string
	if super != "" {
		parts = append(parts, super)
	}
	if tables > 0 {
		noun := " tables"
		if tables == 1 {
			noun = " table"
		}
		parts = append(parts, "INSERT, UPDATE, DELETE or TRUNCATE on "+render.Count(int(tables))+noun)
	}
	return strings.Join(parts, "; "), nil
}

// mysqlGrant is one line of SHOW GRANTS: the privileges and where.
var mysqlGrant = regexp.MustCompile(`^GRANT (.+?) ON (\S+) TO `)

// mysqlReadPrivileges are the privileges that only read (or only look).
var mysqlReadPrivileges = map[string]bool{
	"SELECT": true, "USAGE": true, "SHOW VIEW": true, "SHOW DATABASES": true, "PROCESS": true,
	"REPLICATION CLIENT": true, "BINLOG MONITOR": true, "SLAVE MONITOR": true, "REPLICA MONITOR": true,
}

func (e *mysqlEngine) writeAccess(ctx context.Context) (string, error) {
	rows, err := e.db.QueryContext(ctx, "SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return "", e.connErr(err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		m := mysqlGrant.FindStringSubmatch(line)
		if m == nil {
			continue // a role granted to the user: its own grants are listed by SHOW GRANTS FOR it
		}
		for _, priv := range strings.Split(m[1], ",") {
			priv = strings.TrimSpace(priv)
			if i := strings.IndexByte(priv, '('); i > 0 { // column privileges: UPDATE (col)
				priv = strings.TrimSpace(priv[:i])
			}
			if !mysqlReadPrivileges[strings.ToUpper(priv)] {
				found = append(found, priv+" ON "+m[2])
			}
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(found) > 3 {
		found = append(found[:3], "…")
	}
	return strings.Join(found, ", "), nil
}
