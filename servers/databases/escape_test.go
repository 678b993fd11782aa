package databases

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/shared/sqlguard"
)

// escape is one attempt to write through a read-only connection.
type escape struct {
	sql string
	// engineAllows, when set, says why the engine's read-only mode would
	// not stop this statement (a superuser's COPY TO PROGRAM, SELECT INTO
	// OUTFILE, table locks that outlive the statement): only the guard
	// does, so it is never sent to the engine in the bypass run.
	engineAllows string
}

// fileTarget is a path escape attempts try to create; the fingerprint
// checks it does not exist.
var fileTarget = filepath.Join(os.TempDir(), "opstower_escape_target")

// TestEscapes sends every escape attempt through the query tool (the guard
// must reject it) and then straight to the engine, bypassing the guard (the
// engine's read-only mode must stop it), and checks after each that the
// database is unchanged.
func TestEscapes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *testDB) {
		cases := escapes[db.dialect]
		if len(cases) < 40 {
			t.Fatalf("%s corpus has %d cases; keep at least 40", db.name, len(cases))
		}
		_ = os.Remove(fileTarget)
		cs := serverFor(t, db, config.Limits{})
		c, _ := ParseDSN(db.dsn)
		conns, err := open(Config{Connections: []config.Connection{c}})
		if err != nil {
			t.Fatal(err)
		}
		e := conns.All()[0].Backend
		defer e.close()
		before := fingerprint(t, db)
		for i, esc := range cases {
			msg, isErr := mcptest.Call(t, cs, "query", map[string]any{"sql": esc.sql})
			if !isErr {
				t.Errorf("case %d accepted by the tool: %s\n%s", i, esc.sql, msg)
			}
			if got := fingerprint(t, db); got != before {
				t.Fatalf("case %d changed the database through the tool: %s\nbefore: %s\nafter:  %s", i, esc.sql, before, got)
			}
			if esc.engineAllows != "" {
				continue
			}
			st := sqlguard.Statement{SQL: esc.sql, Kind: sqlguard.Show} // run as sent, no cursor
			err := e.query(context.Background(), st, newSink(10, 4096))
			if db.dialect == "clickhouse" && err == nil {
				// readonly=1 refuses every one of these; a SET or SETTINGS
				// that went through would leave no trace in the fingerprint.
				t.Errorf("case %d ran with the guard bypassed: ClickHouse's readonly=1 did not refuse it: %s", i, esc.sql)
			}
			if got := fingerprint(t, db); got != before {
				t.Fatalf("case %d changed the database with the guard bypassed: the engine is not read-only: %s\nbefore: %s\nafter:  %s", i, esc.sql, before, got)
			}
		}
	})
}

// fingerprint summarises what an escape could change: the schema, the
// canary row, sequences, roles, and the target file.
func fingerprint(t *testing.T, db *testDB) string {
	t.Helper()
	var parts []string
	switch db.dialect {
	case "postgres":
		parts = append(parts,
			db.adminString(t, `SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`),
			db.adminString(t, `SELECT string_agg(id || '=' || secret, ',') FROM canary`),
			db.adminString(t, `SELECT last_value || ':' || is_called FROM canary_seq`),
			db.adminString(t, `SELECT count(*) FROM pg_roles`),
			db.adminString(t, `SELECT count(*) FROM pg_largeobject_metadata`),
			db.adminString(t, `SELECT count(*) FROM orders`),
			db.adminString(t, `SELECT string_agg(proname, ',') FROM pg_proc WHERE pronamespace = 'public'::regnamespace`),
			db.adminString(t, `SELECT count(*) FROM pg_extension`),
		)
	case "mysql":
		parts = append(parts,
			db.adminString(t, `SELECT GROUP_CONCAT(table_name, ':', table_type ORDER BY table_name) FROM information_schema.tables WHERE table_schema = DATABASE()`),
			db.adminString(t, `SELECT GROUP_CONCAT(id, '=', secret) FROM canary`),
			db.adminString(t, `SELECT COUNT(*) FROM orders`),
			db.adminString(t, `SELECT COUNT(*) FROM mysql.user`),
			db.adminString(t, `SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = DATABASE()`),
			db.adminString(t, `SELECT @@GLOBAL.max_connections`),
		)
	case "sqlite":
		parts = append(parts,
			db.adminString(t, `SELECT group_concat(type || ':' || name, ',') FROM (SELECT * FROM sqlite_schema ORDER BY name)`),
			db.adminString(t, `SELECT group_concat(id || '=' || secret) FROM canary`),
			db.adminString(t, `SELECT count(*) FROM orders`),
			db.adminString(t, `PRAGMA user_version`),
			db.adminString(t, `PRAGMA journal_mode`),
		)
		entries, _ := os.ReadDir(filepath.Dir(strings.TrimPrefix(db.dsn, "sqlite://")))
		var files []string
		for _, e := range entries {
			files = append(files, e.Name())
		}
		parts = append(parts, strings.Join(files, ","))
	case "clickhouse":
		parts = append(parts,
			db.adminString(t, `SELECT arrayStringConcat(groupArray(concat(name, ':', engine)), ',') FROM (SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name)`),
			db.adminString(t, `SELECT arrayStringConcat(groupArray(concat(table, '.', name, ':', type)), ',') FROM (SELECT table, name, type FROM system.columns WHERE database = currentDatabase() ORDER BY table, name)`),
			db.adminString(t, `SELECT arrayStringConcat(groupArray(concat(toString(id), '=', secret)), ',') FROM (SELECT id, secret FROM canary ORDER BY id)`),
			db.adminString(t, `SELECT count() FROM orders`),
			// ALTER ... DELETE/UPDATE apply later, in the background.
			db.adminString(t, `SELECT count() FROM system.mutations WHERE database = currentDatabase()`),
			db.adminString(t, `SELECT count() FROM system.databases WHERE name LIKE 'pwned%'`),
		)
	}
	_, err := os.Stat(fileTarget)
	parts = append(parts, fmt.Sprintf("file exists: %v", err == nil))
	return strings.Join(parts, " | ")
}

var escapes = map[string][]escape{
	"postgres": {
		{sql: "COMMIT; CREATE TABLE pwned (a int)"},
		{sql: "ROLLBACK; DROP TABLE canary"},
		{sql: "SELECT 1; DELETE FROM canary"},
		{sql: "DELETE FROM canary"},
		{sql: "UPDATE canary SET secret = 'pwned'"},
		{sql: "INSERT INTO canary VALUES (2, 'pwned')"},
		{sql: "DROP TABLE canary"},
		{sql: "TRUNCATE canary"},
		{sql: "ALTER TABLE canary ADD COLUMN pwned int"},
		{sql: "CREATE TABLE pwned AS SELECT 1"},
		{sql: "SELECT * INTO pwned FROM canary"},
		{sql: "WITH d AS (DELETE FROM canary RETURNING *) SELECT * FROM d"},
		{sql: "WITH u AS (UPDATE canary SET secret = 'x' RETURNING *) SELECT * FROM u"},
		{sql: "WITH i AS (INSERT INTO canary VALUES (3, 'x') RETURNING *) SELECT * FROM i"},
		{sql: "WITH x AS (SELECT 1) DELETE FROM canary"},
		{sql: "SET TRANSACTION READ WRITE; DELETE FROM canary"},
		{sql: "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"},
		{sql: "SET default_transaction_read_only = off"},
		{sql: "SELECT set_config('default_transaction_read_only', 'off', false)"},
		{sql: "SELECT pg_catalog.set_config('transaction_read_only', 'off', true)"},
		{sql: "COPY canary FROM STDIN"},
		{sql: "COPY (SELECT 1) TO PROGRAM 'touch " + fileTarget + "'", engineAllows: "a superuser's COPY TO PROGRAM runs in a read-only transaction"},
		{sql: "COPY canary TO '" + fileTarget + "'", engineAllows: "a superuser's COPY TO a server file runs in a read-only transaction"},
		{sql: "SELECT lo_export(lo_from_bytea(0, 'x'), '" + fileTarget + "')", engineAllows: "lo_export writes a server file in a read-only transaction"},
		{sql: "SELECT lo_import('/etc/hostname')"},
		{sql: "SELECT pg_read_file('/etc/hostname')", engineAllows: "reading server files is allowed in a read-only transaction"},
		{sql: "SELECT nextval('canary_seq')"},
		{sql: "SELECT setval('canary_seq', 100)"},
		{sql: "DO $$ BEGIN DELETE FROM canary; END $$"},
		{sql: "CREATE FUNCTION pwn() RETURNS int LANGUAGE sql AS 'DELETE FROM canary RETURNING 1'"},
		{sql: "SELECT * FROM canary FOR UPDATE"},
		{sql: "LOCK TABLE canary IN ACCESS EXCLUSIVE MODE"},
		{sql: "GRANT ALL ON canary TO PUBLIC"},
		{sql: "CREATE ROLE pwned LOGIN"},
		{sql: "ALTER SYSTEM SET work_mem = '1GB'", engineAllows: "ALTER SYSTEM writes postgresql.auto.conf outside any transaction"},
		{sql: "VACUUM canary", engineAllows: "VACUUM cannot run inside the transaction block, so it fails before reaching the engine's checks"},
		{sql: "/* comment */ DELETE FROM canary"},
		{sql: "SELECT 1 /* ; */ ; DELETE FROM canary -- "},
		{sql: "select 1;\n-- only a comment\ndelete from canary"},
		{sql: "SELECT $$;$$; DELETE FROM canary"},
		{sql: "SELECT E'\\';'; DELETE FROM canary; --'"},
		{sql: `SELECT "set_config"('default_transaction_read_only', 'off', false)`},
		{sql: "EXPLAIN ANALYZE DELETE FROM canary"},
		{sql: "PREPARE p AS DELETE FROM canary"},
		{sql: "SELECT query_to_xml('DELETE FROM canary RETURNING 1', true, true, '')"},
		{sql: "CREATE EXTENSION IF NOT EXISTS dblink"},
		{sql: "SELECT pg_advisory_lock(42)"},
		{sql: "REFRESH MATERIALIZED VIEW big_orders"},
		{sql: "MERGE INTO canary c USING (SELECT 1 AS id) s ON c.id = s.id WHEN MATCHED THEN DELETE"},
		{sql: "SELECT 1INTO pwned"},
	},
	"mysql": {
		{sql: "COMMIT; CREATE TABLE pwned (a int)"},
		{sql: "SELECT 1; DELETE FROM canary"},
		{sql: "DELETE FROM canary"},
		{sql: "UPDATE canary SET secret = 'pwned'"},
		{sql: "INSERT INTO canary VALUES (2, 'pwned')"},
		{sql: "REPLACE INTO canary VALUES (1, 'pwned')"},
		{sql: "DROP TABLE canary"},
		{sql: "TRUNCATE canary"},
		{sql: "ALTER TABLE canary ADD COLUMN pwned int"},
		{sql: "CREATE TABLE pwned AS SELECT 1"},
		{sql: "CREATE TEMPORARY TABLE pwned (a int)"},
		{sql: "RENAME TABLE canary TO pwned"},
		{sql: "SET SESSION TRANSACTION READ WRITE"},
		{sql: "SET tx_read_only = 0"},
		{sql: "SET GLOBAL max_connections = 7", engineAllows: "SET GLOBAL changes server settings in a read-only session"},
		{sql: "SET STATEMENT max_statement_time = 0 FOR DELETE FROM canary"},
		{sql: "START TRANSACTION READ WRITE; DELETE FROM canary"},
		{sql: "SELECT * FROM canary INTO OUTFILE '" + fileTarget + "'", engineAllows: "SELECT INTO OUTFILE writes a server file in a read-only transaction"},
		{sql: "SELECT 'x' INTO DUMPFILE '" + fileTarget + "'", engineAllows: "SELECT INTO DUMPFILE writes a server file in a read-only transaction"},
		{sql: "SELECT secret INTO @v FROM canary"},
		{sql: "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE canary"},
		{sql: "SELECT LOAD_FILE('/etc/hostname')", engineAllows: "reading server files is allowed in a read-only transaction"},
		{sql: "SELECT GET_LOCK('opstower', 1)"},
		{sql: "SELECT BENCHMARK(1000, MD5('x'))"},
		{sql: "SELECT * FROM canary FOR UPDATE"},
		{sql: "SELECT * FROM canary LOCK IN SHARE MODE"},
		{sql: "LOCK TABLES canary WRITE", engineAllows: "MariaDB takes table locks in a read-only session, and they outlive the statement"},
		{sql: "HANDLER canary OPEN"},
		{sql: "CALL pwn()"},
		{sql: "DO (SELECT 1)"},
		{sql: "CREATE PROCEDURE pwn() DELETE FROM canary", engineAllows: "MariaDB creates stored routines in a read-only transaction"},
		{sql: "GRANT ALL ON *.* TO 'pwned'@'%' IDENTIFIED BY 'x'", engineAllows: "account statements (GRANT, CREATE USER) run in a read-only transaction"},
		{sql: "CREATE USER pwned", engineAllows: "account statements (GRANT, CREATE USER) run in a read-only transaction"},
		{sql: "PREPARE s FROM 'DELETE FROM canary'"},
		{sql: "SELECT 1 /*!; DELETE FROM canary */"},
		{sql: "SELECT /*+ SET_VAR(sql_select_limit=1) */ 1"},
		{sql: "SELECT 1--1; DELETE FROM canary"},
		{sql: "SELECT '\\'; DELETE FROM canary; -- '"},
		{sql: "SELECT 1 # ; \n; DELETE FROM canary"},
		{sql: "WITH x AS (SELECT 1) DELETE FROM canary"},
		{sql: "EXPLAIN DELETE FROM canary"},
		{sql: "FLUSH TABLES"},
		{sql: "KILL 1"},
		{sql: "INSTALL SONAME 'ha_blackhole'"},
		{sql: "OPTIMIZE TABLE canary"},
		{sql: "SELECT NEXT VALUE FOR s"},
	},
	"sqlite": {
		{sql: "SELECT 1; DELETE FROM canary"},
		{sql: "DELETE FROM canary"},
		{sql: "UPDATE canary SET secret = 'pwned'"},
		{sql: "INSERT INTO canary VALUES (2, 'pwned')"},
		{sql: "INSERT OR REPLACE INTO canary VALUES (1, 'pwned')"},
		{sql: "REPLACE INTO canary VALUES (1, 'pwned')"},
		{sql: "DROP TABLE canary"},
		{sql: "ALTER TABLE canary ADD COLUMN pwned int"},
		{sql: "ALTER TABLE canary RENAME TO pwned"},
		{sql: "CREATE TABLE pwned (a)"},
		{sql: "CREATE TEMP TABLE pwned (a)"},
		{sql: "CREATE VIEW pwned AS SELECT 1"},
		{sql: "CREATE TRIGGER pwned AFTER INSERT ON canary BEGIN DELETE FROM canary; END"},
		{sql: "CREATE INDEX pwned ON canary (secret)"},
		{sql: "WITH x AS (SELECT 1) DELETE FROM canary"},
		{sql: "WITH x AS (SELECT 1) INSERT INTO canary SELECT 5, 'x' FROM x"},
		{sql: "ATTACH DATABASE '" + fileTarget + "' AS pwned"},
		{sql: "ATTACH 'file:" + fileTarget + "?mode=rwc' AS pwned"},
		{sql: "DETACH DATABASE main"},
		{sql: "VACUUM"},
		{sql: "VACUUM INTO '" + fileTarget + "'"},
		{sql: "REINDEX"},
		{sql: "ANALYZE"},
		{sql: "PRAGMA user_version = 7"},
		{sql: "PRAGMA journal_mode = WAL"},
		{sql: "PRAGMA writable_schema = ON"},
		{sql: "PRAGMA query_only = 0"},
		{sql: "PRAGMA query_only = 0; DELETE FROM canary"},
		{sql: "BEGIN; DELETE FROM canary; COMMIT"},
		{sql: "SAVEPOINT s"},
		{sql: "SELECT load_extension('/tmp/pwn.so')"},
		{sql: "SELECT writefile('" + fileTarget + "', 'x')"},
		{sql: "SELECT 1 /* ; */ ; DELETE FROM canary"},
		{sql: "SELECT '--'; DELETE FROM canary"},
		{sql: "SELECT [a;b] FROM canary; DELETE FROM canary"},
		{sql: "SELECT \"x\"\"\"; DELETE FROM canary"},
		{sql: "EXPLAIN DELETE FROM canary"},
		{sql: "EXPLAIN QUERY PLAN DELETE FROM canary"},
		{sql: "INSERT INTO canary DEFAULT VALUES"},
		{sql: "UPSERT INTO canary VALUES (1, 'x')"},
		{sql: "SELECT * FROM canary; UPDATE canary SET secret = 'pwned'"},
		{sql: "select 1\n;\ndelete from canary"},
	},
	"clickhouse": {
		{sql: "SET readonly = 0"},
		{sql: "SET readonly = 2"},
		{sql: "SET max_execution_time = 0"},
		{sql: "SET allow_ddl = 1", engineAllows: "ClickHouse 18.16 lets a readonly=1 session SET allow_ddl, which does not lift readonly"},
		{sql: "SELECT 1 SETTINGS readonly = 0"},
		{sql: "SELECT * FROM canary SETTINGS max_threads = 1, readonly = 0"},
		{sql: "SELECT 1 SETTINGS max_execution_time = 0"}, // the guard lets it through; readonly=1 refuses it
		{sql: "INSERT INTO canary SELECT 2, 'pwned'"},
		{sql: "INSERT INTO canary VALUES (2, 'pwned')"},
		{sql: "INSERT INTO canary FORMAT Values (2, 'pwned')"},
		{sql: "INSERT INTO FUNCTION file('" + fileTarget + "', 'TSV', 'a String') SELECT 'x'"},
		{sql: "WITH (SELECT 2) AS x INSERT INTO canary SELECT x, 'pwned'"},
		{sql: "ALTER TABLE canary DELETE WHERE 1"},
		{sql: "ALTER TABLE canary UPDATE secret = 'pwned' WHERE 1"},
		{sql: "ALTER TABLE canary ADD COLUMN pwned UInt8"},
		{sql: "ALTER TABLE orders DROP PARTITION 202601"},
		{sql: "ALTER TABLE orders DETACH PARTITION 202601"},
		{sql: "ALTER TABLE canary FREEZE"},
		{sql: "DROP TABLE canary"},
		{sql: "TRUNCATE TABLE canary"},
		{sql: "RENAME TABLE canary TO pwned"},
		{sql: "DETACH TABLE canary"},
		{sql: "ATTACH TABLE canary"},
		{sql: "CREATE TABLE pwned AS canary"},
		{sql: "CREATE TABLE pwned ENGINE = Memory AS SELECT * FROM canary"},
		{sql: "CREATE VIEW pwned AS SELECT 1"},
		{sql: "CREATE MATERIALIZED VIEW pwned ENGINE = Memory AS SELECT * FROM canary"},
		{sql: "CREATE DATABASE pwned_db"},
		{sql: "CREATE TEMPORARY TABLE pwned (a UInt8)"},
		{sql: "OPTIMIZE TABLE orders FINAL"},
		{sql: "SYSTEM STOP MERGES"},
		{sql: "SYSTEM DROP DNS CACHE"},
		{sql: "KILL QUERY WHERE 1", engineAllows: "ClickHouse 18.16 runs KILL QUERY in a readonly=1 session: it would cancel every session's queries"},
		{sql: "USE system", engineAllows: "USE only switches the session's database, which readonly=1 allows"},
		{sql: "SELECT * FROM canary INTO OUTFILE '" + fileTarget + "'", engineAllows: "over the native protocol INTO OUTFILE is the client's to write: the server only returns the rows"},
		{sql: "SELECT * FROM file('/etc/passwd', 'TSV', 'a String')"},
		{sql: "SELECT * FROM `file`('/etc/passwd', 'TSV', 'a String')"},
		{sql: "SELECT * FROM url('http://127.0.0.1:8123/?query=DROP+TABLE+canary', TSV, 'a String')"},
		{sql: "SELECT * FROM remote('127.0.0.1:9000', system.one)"},
		{sql: "SELECT * FROM mysql('127.0.0.1:3306', 'test', 'canary', 'root', '')"},
		{sql: "SELECT * FROM executable('id', 'TSV', 'a String')"},
		{sql: "DESCRIBE TABLE file('/etc/passwd', 'TSV', 'a String')"},
		{sql: "(SELECT 1) UNION ALL (SELECT * FROM file('/etc/passwd', 'TSV', 'a String'))"},
		{sql: "EXPLAIN SYNTAX INSERT INTO canary SELECT 1, 'x'"},
		{sql: "SELECT 1; DROP TABLE canary"},
		{sql: "SELECT 1;\nDROP TABLE canary;"},
		{sql: "SHOW TABLES; DROP TABLE canary"},
		{sql: "SELECT 'a\\\\'; DROP TABLE canary; --'"},
		{sql: "SELECT `a\\\\`; DROP TABLE canary; --`"},
		{sql: "SELECT \"a\\\\\"; DROP TABLE canary; --\""},
		{sql: "SELECT 1 // '\nSETTINGS readonly = 0 --'"},
		{sql: "SELECT * FROM // '\nfile('/etc/passwd', 'TSV', 'a String') --'"},
		{sql: "SELECT 1 -- \r'\nSETTINGS readonly = 0 --'"},
		{sql: "SELECT 1 /* /* */ SETTINGS readonly = 0 -- */"},
		{sql: "SELECT 1 # '\nSETTINGS readonly = 0 --'"},
		{sql: "SELECT $$ ' $$ SETTINGS readonly = 0 -- '"},
	},
}
