package sqlguard

import "strings"

// deniedFuncs are functions that a read-only transaction still lets through
// but that act outside the query: signal or lock other sessions, touch the
// server's files, reach other servers, advance sequences, or run SQL given
// as a string (which the guard cannot see). Keys are lower case.
var deniedFuncs = map[Dialect]map[string]string{
	Postgres:   postgresFuncs(),
	MySQL:      mysqlFuncs,
	SQLite:     sqliteFuncs,
	ClickHouse: clickhouseFuncs,
}

// DeniedFunction reports whether a function is refused in dialect d, and
// why. Engines with a hook at compile time (SQLite's authorizer) use it too.
func DeniedFunction(d Dialect, name string) (reason string, denied bool) {
	reason, denied = deniedFuncs[d][strings.ToLower(name)]
	return reason, denied
}

func postgresFuncs() map[string]string {
	m := map[string]string{}
	add := func(reason string, names ...string) {
		for _, n := range names {
			m[n] = reason
		}
	}
	add("it signals or controls the server or other sessions",
		"pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
		"pg_switch_wal", "pg_switch_xlog", "pg_create_restore_point", "pg_promote",
		"pg_start_backup", "pg_stop_backup", "pg_backup_start", "pg_backup_stop",
		"pg_wal_replay_pause", "pg_wal_replay_resume", "pg_log_backend_memory_contexts",
		"pg_stat_reset", "pg_stat_reset_shared", "pg_stat_reset_single_table_counters",
		"pg_stat_reset_single_function_counters", "pg_stat_reset_slru", "pg_stat_reset_replication_slot",
		"pg_stat_statements_reset", "pg_import_system_collations", "pg_notify")
	add("advisory locks outlive the query and block other sessions",
		"pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_shared",
		"pg_advisory_unlock_all", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
		"pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock",
		"pg_try_advisory_xact_lock_shared")
	add("it reads or writes files on the database server",
		"lo_import", "lo_export", "lo_create", "lo_creat", "lo_unlink", "lo_put", "lo_from_bytea",
		"lo_open", "lo_write", "lowrite", "lo_truncate", "pg_read_file", "pg_read_binary_file",
		"pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir",
		"pg_ls_archive_statusdir", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_logdir_ls")
	add("it connects to another server",
		"dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open")
	add("it changes session settings (the session stays read-only either way)", "set_config")
	add("it advances a sequence, which is a write", "nextval", "setval")
	add("it runs SQL passed as a string; write that SQL directly instead",
		"query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml", "cursor_to_xmlschema")
	add("it changes replication state",
		"pg_logical_emit_message", "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
		"pg_drop_replication_slot", "pg_replication_origin_create", "pg_replication_origin_drop",
		"pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot",
		"pg_logical_slot_get_changes", "pg_logical_slot_get_binary_changes", "pg_replication_slot_advance")
	add("it assigns a transaction id, which a read-only transaction cannot do", "txid_current", "pg_current_xact_id")
	return m
}

var mysqlFuncs = map[string]string{
	"benchmark":                         "it burns server CPU on purpose",
	"get_lock":                          "named locks outlive the query and block other sessions",
	"release_lock":                      "named locks outlive the query and block other sessions",
	"release_all_locks":                 "named locks outlive the query and block other sessions",
	"load_file":                         "it reads files on the database server",
	"sys_exec":                          "it runs programs on the database server",
	"sys_eval":                          "it runs programs on the database server",
	"master_pos_wait":                   "it waits on replication",
	"source_pos_wait":                   "it waits on replication",
	"master_gtid_wait":                  "it waits on replication",
	"wait_for_executed_gtid_set":        "it waits on replication",
	"wait_until_sql_thread_after_gtids": "it waits on replication",
	"nextval":                           "it advances a sequence, which is a write",
	"setval":                            "it changes a sequence, which is a write",
}

var sqliteFuncs = map[string]string{
	"load_extension": "it loads native code into the database engine",
	"writefile":      "it writes files",
	"readfile":       "it reads files outside the database",
	"edit":           "it starts an editor",
	"fsdir":          "it lists files outside the database",
	"zipfile":        "it reads files outside the database",
	"fts3_tokenizer": "it can load native code",
}

var clickhouseFuncs = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"file", "url", "urlcluster", "remote", "remotesecure", "cluster", "clusterallreplicas",
		"mysql", "postgresql", "mongodb", "redis", "sqlite", "odbc", "jdbc", "hdfs", "hdfscluster", "s3", "s3cluster",
		"gcs", "azureblobstorage", "azureblobstoragecluster", "executable", "input", "deltalake", "hudi", "iceberg"} {
		m[n] = "table functions that read files, URLs or other servers are not allowed; query tables of this database"
	}
	return m
}()
