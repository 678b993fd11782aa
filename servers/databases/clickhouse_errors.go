package databases

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/opstower/opstower/shared/secret"
)

// ClickHouse exception codes this file explains.
const (
	chUnknownFunction   = 46
	chUnknownIdentifier = 47
	chUnknownTable      = 60
	chSyntaxError       = 62
	chUnknownDatabase   = 81
	chTimeoutExceeded   = 159
	chReadonly          = 164
	chUnknownUser       = 192
	chWrongPassword     = 193
	chRequiredPassword  = 194
	chMemoryExceeded    = 241
	chQueryCancelled    = 394
	chAuthFailed        = 516
)

func (e *chEngine) queryErr(ctx context.Context, err error, sql string) error {
	return e.queryErrAt(ctx, err, sql, 0)
}

// queryErrAt turns a driver error into one the model can act on. offset is
// how many bytes we put before the user's sql (EXPLAIN ...), for syntax
// error positions.
func (e *chEngine) queryErrAt(ctx context.Context, err error, sql string, offset int) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr // the deadline or the caller ended it; the tool says which
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return e.exception(ex, sql, offset)
	}
	if m := chUnsupportedType.FindStringSubmatch(err.Error()); m != nil {
		return &queryError{msg: fmt.Sprintf("ClickHouse: this client cannot read columns of type %s; convert them in SQL: finalizeAggregation(col) or a -Merge function such as uniqMerge(col) for aggregate states, toString(col) for others", m[1])}
	}
	var oe *clickhouse.OpError
	if errors.As(err, &oe) && oe.ColumnName != "" {
		return &queryError{msg: fmt.Sprintf("ClickHouse: cannot read column %s: %s; convert it in SQL, e.g. with toString()", oe.ColumnName, secret.Scrub(oe.Err.Error()))}
	}
	return e.connErr(err)
}

var (
	chMissingTable    = regexp.MustCompile("(?:Table (\\S+?) (?:doesn't|does not) exist|Unknown table expression identifier '([^']+)')")
	chSyntaxPos       = regexp.MustCompile(`failed at position (\d+)`)
	chRefused         = regexp.MustCompile(`Cannot modify '(\w+)' setting in readonly mode`)
	chUnsupportedType = regexp.MustCompile(`unsupported column type "([^"]+)"`)
)

func (e *chEngine) exception(ex *clickhouse.Exception, sql string, offset int) error {
	msg := chMessage(ex.Message)
	switch ex.Code {
	case chTimeoutExceeded:
		return fmt.Errorf("%w: ClickHouse: %s", context.DeadlineExceeded, msg)
	case chQueryCancelled:
		return context.Canceled
	case chUnknownUser, chWrongPassword, chRequiredPassword, chAuthFailed:
		return fmt.Errorf("ClickHouse at %s refused user %q (error %d: %s); check the username and password settings", e.addr, e.user, ex.Code, msg)
	}
	qe := &queryError{msg: fmt.Sprintf("ClickHouse error %d: %s", ex.Code, msg)}
	switch ex.Code {
	case chUnknownTable:
		if m := chMissingTable.FindStringSubmatch(msg); m != nil {
			qe.table = strings.Trim(m[1]+m[2], "`.")
		}
	case chUnknownIdentifier:
		qe.msg += "\nUse describe_table to see the table's columns."
	case chUnknownDatabase:
		qe.msg += fmt.Sprintf("\nThis connection's database is %q; list_tables shows the databases and tables this user can see.", cmp.Or(e.database, "default"))
	case chSyntaxError:
		if m := chSyntaxPos.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			if p := n - 1 - offset; p >= 0 && p < len(sql) {
				if near := around(sql, utf8.RuneCountInString(sql[:p])); near != "" {
					qe.msg += "\nAt: " + near
				}
			}
		}
	case chReadonly:
		qe.msg += " (this connection is read-only"
		switch {
		case strings.Contains(msg, "Table functions"):
			qe.msg += "; query tables instead, e.g. system.numbers rather than numbers()"
		case strings.Contains(msg, "SET query"):
			qe.msg += ": remove the SETTINGS clause"
		}
		qe.msg += ")"
	case chUnknownFunction:
		qe.msg += "\nClickHouse function names are case-sensitive."
	case chMemoryExceeded:
		qe.msg += "\nFilter or aggregate more, or select fewer columns."
	}
	return qe
}

// chMessage trims an exception message for a model: no "DB::Exception:"
// prefix, none of the debugging context that 18.x appends to unknown
// identifiers, no secrets, and not too long.
func chMessage(msg string) string {
	msg = strings.TrimPrefix(strings.TrimSpace(msg), "DB::Exception: ")
	for _, cut := range []string{", context: ", ", e.what() = "} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = secret.Scrub(msg)
	if len(msg) > 800 {
		msg = strings.ToValidUTF8(msg[:800], "") + "..."
	}
	return msg
}

// refusedSetting reports a setting of ours that the user's profile does
// not allow us to change (see prepare). Over HTTP the refusal can arrive
// as the text of an HTTP error rather than as an exception.
func refusedSetting(err error) (string, bool) {
	m := chRefused.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	switch m[1] {
	case "readonly", "max_execution_time", "cancel_http_readonly_queries_on_client_close":
		return m[1], true
	}
	return "", false
}

// connErr explains failures to reach the server, naming the address,
// protocol, database and user, never the password.
func (e *chEngine) connErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	msg := secret.Scrub(err.Error())
	return fmt.Errorf("cannot reach ClickHouse at %s (%s protocol, database %q, user %q): %s%s",
		e.addr, e.protocol, cmp.Or(e.database, "default"), e.user, msg, e.connHint(msg))
}

// connHint names the usual mistake behind a connection error: a native
// URL pointed at the HTTP port, TLS on a plain port, or the reverse.
func (e *chEngine) connHint(msg string) string {
	port := e.addr[strings.LastIndexByte(e.addr, ':')+1:]
	switch {
	case strings.Contains(msg, "does not look like a TLS handshake"):
		return "; the server does not speak TLS on this port: remove secure=true, or use clickhouse:// or http://"
	case e.protocol == clickhouse.Native && (port == "8123" || port == "8443"):
		return fmt.Sprintf("; port %s is usually ClickHouse's HTTP interface: write the URL as http(s)://host:%s, or use the native port 9000 (9440 with TLS) with clickhouse://", port, port)
	case e.protocol == clickhouse.HTTP && (port == "9000" || port == "9440"):
		return fmt.Sprintf("; port %s is usually ClickHouse's native protocol: write the URL as clickhouse://host:%s, or use the HTTP port 8123 (8443 with TLS)", port, port)
	case strings.Contains(msg, "connection refused"):
		return "; check the host and port, and that ClickHouse is running and reachable from here"
	}
	return ""
}
