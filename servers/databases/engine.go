package databases

import (
	"context"
	"errors"
	"fmt"

	"github.com/opstower/opstower/shared/render"
	"github.com/opstower/opstower/shared/sqlguard"
)

// engine is what every SQL provider implements. Implementations connect
// lazily, are safe for concurrent use, and enforce read-only at the backend
// (a read-only transaction or session): the guard in front of them is a
// second lock, not the only one.
type engine interface {
	dialect() sqlguard.Dialect
	// query runs an accepted statement and streams its rows into sink until
	// the sink is full, then stops the backend's work.
	query(ctx context.Context, st sqlguard.Statement, sink *sink) error
	// tables lists tables and views, optionally in one schema.
	tables(ctx context.Context, schema string) ([]tableInfo, error)
	// describe returns a table's columns, keys and indexes, or a
	// *notFoundError.
	describe(ctx context.Context, name string) (*tableDesc, error)
	// explain returns the plan of an accepted SELECT; analyze runs it.
	explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error)
	// ping checks that the backend answers ("Test Connection").
	ping(ctx context.Context) error
	close() error
}

// sink receives a result: columns once, then rows until it is full.
type sink struct {
	maxRows, maxBytes int
	table             *render.Table
	cols              []render.Column
	// note is added to the summary line: what the backend reports beside
	// the rows, such as the total a REST API counted.
	note string
}

func newSink(maxRows, maxBytes int) *sink { return &sink{maxRows: maxRows, maxBytes: maxBytes} }

// columns starts the table. It is called once, before any row.
func (s *sink) columns(cols []render.Column) {
	s.cols = cols
	s.table = render.NewTable(cols, s.maxRows, s.maxBytes)
}

// add appends a row (nil cells are NULL) and reports whether more fit.
func (s *sink) add(cells [][]byte) bool { return s.table.Add(cells) }

// full reports whether the sink refused a row.
func (s *sink) full() bool { return s.table != nil && s.table.Full() }

// tableInfo is one entry of list_tables.
type tableInfo struct {
	Schema  string
	Name    string
	Kind    string // table, view, materialized view, ...
	Rows    int64  // estimate; -1 when unknown
	Bytes   int64  // on-disk size; -1 when unknown
	Comment string
}

// qualified is schema.name, or name when there is no schema.
func (t tableInfo) qualified() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// tableDesc is what describe_table shows.
type tableDesc struct {
	Name        string
	Kind        string
	Comment     string
	Rows        int64 // estimate; -1 when unknown
	Columns     []columnDesc
	Indexes     []string // one definition per entry
	Constraints []string // primary key, unique, foreign keys, checks
}

type columnDesc struct {
	Name     string
	Type     string
	Nullable bool
	Default  string
	Comment  string
}

// notFoundError reports an unknown table; the tool adds the closest names.
type notFoundError struct{ name string }

func (e *notFoundError) Error() string { return fmt.Sprintf("table %q does not exist", e.name) }

// queryError is an error from the backend that the model can act on, such
// as a syntax error. table is set when the backend named a missing table.
type queryError struct {
	msg   string
	table string
}

func (e *queryError) Error() string { return e.msg }

var errNoExplain = errors.New("this database cannot show query plans")
