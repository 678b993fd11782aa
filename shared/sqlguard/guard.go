// Package sqlguard rejects SQL that is not a single read-only statement
// before it reaches a database, with a message that tells the model what to
// do instead.
//
// It is the first of two locks: every engine also runs the statement in a
// read-only transaction or session (see servers/databases), so a statement
// the guard misjudges still cannot write. The guard exists to fail early and
// clearly, and to stop what a read-only transaction allows but we do not:
// several statements in one call, locking reads, writing files (INTO
// OUTFILE), reading server files, advisory locks, and functions that reach
// other servers.
//
// It works on tokens, not a full grammar: no maintained Go parser covers the
// PostgreSQL, MySQL, SQLite and ClickHouse dialects, and tokens are enough to
// see statement boundaries and keywords once comments, strings and quoted
// identifiers are lexed exactly as each engine lexes them.
package sqlguard

import (
	"errors"
	"fmt"
	"strings"
)

// Dialect is an SQL engine family.
type Dialect int

// Dialects.
const (
	Postgres Dialect = iota
	MySQL
	SQLite
	ClickHouse
)

func (d Dialect) String() string {
	return [...]string{"PostgreSQL", "MySQL", "SQLite", "ClickHouse"}[d]
}

// Kind is the sort of statement accepted.
type Kind int

// Kinds of accepted statement.
const (
	Select   Kind = iota // SELECT, WITH, VALUES, TABLE: a row source
	Show                 // SHOW ...
	Explain              // EXPLAIN ...
	Describe             // DESCRIBE / DESC / EXISTS
	Pragma               // SQLite PRAGMA that only reads
)

// Statement is an accepted statement.
type Statement struct {
	SQL  string // the statement without surrounding comments or semicolons
	Kind Kind
}

// Rejection explains why a statement was refused. Its message is meant for
// the model.
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return r.Reason }

func reject(format string, args ...any) error {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// Check accepts sql if it is one read-only statement in dialect d.
func Check(d Dialect, sql string) (Statement, error) {
	st, err := check(d, sql, true)
	if err != nil || d != MySQL {
		return st, err
	}
	// MySQL lexes backslashes in strings unless NO_BACKSLASH_ESCAPES is set:
	// the statement must be safe read either way.
	if _, err := check(d, sql, false); err != nil {
		return Statement{}, err
	}
	return st, nil
}

func check(d Dialect, sql string, backslash bool) (Statement, error) {
	toks, err := lex(d, sql, backslash)
	switch {
	case errors.Is(err, errExecutableComment):
		return Statement{}, reject("MySQL executable comments (/*! ... */, /*+ ... */) are not allowed; remove them")
	case errors.Is(err, errNestedComment):
		return Statement{}, reject("a /* inside a /* comment */ is not allowed: ClickHouse versions disagree on where such a comment ends; remove the inner /*")
	case errors.Is(err, errUnterminated):
		return Statement{}, reject("the SQL has an unterminated string, quoted name or comment")
	case err != nil:
		return Statement{}, reject("cannot read the SQL: %v", err)
	}
	stmts := split(toks)
	switch len(stmts) {
	case 0:
		return Statement{}, reject("the SQL is empty; write one SELECT statement")
	case 1:
	default:
		return Statement{}, reject("only one statement per call is allowed, and this SQL has %d; send them one at a time, without COMMIT, BEGIN or SET", len(stmts))
	}
	s := stmts[0]
	kind, err := checkStatement(d, s)
	if err != nil {
		return Statement{}, err
	}
	return Statement{SQL: sql[s[0].pos:s[len(s)-1].end], Kind: kind}, nil
}

// split groups tokens into non-empty statements.
func split(toks []token) [][]token {
	var out [][]token
	start := 0
	for i, t := range toks {
		if t.kind == tSemi {
			if i > start {
				out = append(out, toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

func upper(t token) string {
	if t.kind != tWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

// starters lists the statement keywords accepted in each dialect.
var starters = map[Dialect]map[string]Kind{
	Postgres:   {"SELECT": Select, "WITH": Select, "VALUES": Select, "TABLE": Select, "SHOW": Show, "EXPLAIN": Explain},
	MySQL:      {"SELECT": Select, "WITH": Select, "VALUES": Select, "TABLE": Select, "SHOW": Show, "EXPLAIN": Explain, "DESCRIBE": Describe, "DESC": Describe},
	SQLite:     {"SELECT": Select, "WITH": Select, "VALUES": Select, "EXPLAIN": Explain, "PRAGMA": Pragma},
	ClickHouse: {"SELECT": Select, "WITH": Select, "SHOW": Show, "EXPLAIN": Explain, "DESCRIBE": Describe, "DESC": Describe, "EXISTS": Describe},
}

func startersList(d Dialect) string {
	order := []string{"SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESCRIBE", "PRAGMA", "EXISTS"}
	var out []string
	for _, k := range order {
		if _, ok := starters[d][k]; ok {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

func checkStatement(d Dialect, s []token) (Kind, error) {
	i := 0
	for i < len(s) && s[i].kind == tSymbol && s[i].text == "(" {
		i++ // (SELECT ...) UNION (SELECT ...)
	}
	if i == len(s) {
		return 0, reject("the SQL has no statement; write one SELECT statement")
	}
	first := upper(s[i])
	kind, ok := starters[d][first]
	if !ok {
		word := first
		if word == "" {
			word = s[i].text
		}
		return 0, reject("%s statements are not allowed: this connection is read-only. Allowed: %s", word, startersList(d))
	}
	switch kind {
	case Explain:
		if err := checkExplained(d, s[i+1:]); err != nil {
			return 0, err
		}
	case Pragma:
		if err := checkPragma(s[i+1:]); err != nil {
			return 0, err
		}
	}
	return kind, checkTokens(d, s, kind)
}

// checkExplained makes sure EXPLAIN wraps a read-only statement (EXPLAIN
// ANALYZE runs it).
func checkExplained(d Dialect, s []token) error {
	for _, t := range s {
		w := upper(t)
		if _, ok := starters[d][w]; ok && w != "EXPLAIN" && w != "SHOW" && w != "PRAGMA" && w != "DESCRIBE" && w != "DESC" && w != "EXISTS" {
			return nil
		}
		if writeWords[w] {
			return reject("EXPLAIN of %s is not allowed: EXPLAIN ANALYZE would run it. Explain a SELECT instead", w)
		}
	}
	return nil
}

// readPragmas are the SQLite pragmas that only report.
var readPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "database_list": true, "collation_list": true,
	"function_list": true, "module_list": true, "pragma_list": true, "compile_options": true,
	"page_count": true, "page_size": true, "freelist_count": true, "user_version": true,
	"application_id": true, "encoding": true, "journal_mode": true, "foreign_keys": true,
	"integrity_check": true, "quick_check": true, "foreign_key_check": true, "schema_version": true,
}

// ReadPragma reports whether a SQLite pragma only reports when read.
func ReadPragma(name string) bool { return readPragmas[name] }

func checkPragma(s []token) error {
	name := ""
	for i, t := range s {
		if t.kind == tSymbol && t.text == "=" {
			return reject("PRAGMA assignments change the database; only reading pragmas such as PRAGMA table_info(t) are allowed")
		}
		if t.kind == tWord && name == "" && (i+1 >= len(s) || s[i+1].text != ".") {
			name = strings.ToLower(t.text)
		}
	}
	if !readPragmas[name] {
		return reject("PRAGMA %s is not allowed; allowed pragmas only report, such as table_info, index_list and foreign_key_list", name)
	}
	return nil
}

// writeWords are keywords that only appear in statements that change data
// or schema: the DML that PostgreSQL allows inside WITH, and reserved DDL
// words, which also catch a second statement should one ever slip past the
// splitter. A word immediately followed by "(" is a function call instead
// (MySQL's INSERT() and REPLACE() string functions).
var writeWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "UPSERT": true, "REPLACE": true,
	"CREATE": true, "DROP": true, "ALTER": true, "GRANT": true, "REVOKE": true,
}

// checkTokens applies the rules that hold anywhere in a statement.
func checkTokens(d Dialect, s []token, kind Kind) error {
	// SHOW and DESCRIBE only report: SHOW CREATE TABLE names a write word.
	reports := kind == Show || kind == Describe
	for i, t := range s {
		w := upper(t)
		next := token{}
		if i+1 < len(s) {
			next = s[i+1]
		}
		call := next.kind == tSymbol && next.text == "("
		switch {
		case w == "INTO":
			return reject("SELECT ... INTO is not allowed: it creates a table, writes a file or sets variables. Remove the INTO clause")
		case w == "FOR" && isLockClause(s[i+1:]):
			return reject("locking reads (FOR UPDATE / FOR SHARE) are not allowed on a read-only connection; remove the FOR ... clause")
		case w == "LOCK" && upper(next) == "IN":
			return reject("locking reads (LOCK IN SHARE MODE) are not allowed on a read-only connection; remove that clause")
		case w == "NEXT" && upper(next) == "VALUE":
			return reject("NEXT VALUE FOR advances a sequence, which is a write; read the sequence's current state from its catalog instead")
		case writeWords[w] && !call && !reports:
			return reject("%s changes data or schema, and this connection is read-only. Only read with SELECT; to use a column named %q, quote it", w, strings.ToLower(t.text))
		case d == ClickHouse && w == "READONLY":
			return reject("changing the readonly setting is not allowed")
		case call && (t.kind == tWord || t.kind == tQuoted):
			if reason, bad := deniedFuncs[d][strings.ToLower(t.text)]; bad {
				return reject("%s() is not allowed: %s", t.text, reason)
			}
		}
	}
	return nil
}

func isLockClause(rest []token) bool {
	if len(rest) == 0 {
		return false
	}
	switch upper(rest[0]) {
	case "UPDATE", "SHARE":
		return true
	case "NO", "KEY":
		return len(rest) > 1 && (upper(rest[1]) == "KEY" || upper(rest[1]) == "SHARE" || upper(rest[1]) == "UPDATE")
	}
	return false
}
