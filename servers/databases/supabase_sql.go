package databases

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// restQuery is a SELECT that PostgREST can answer: one table, a column
// list, AND-ed comparisons, ordering and a row window. It is what the
// Supabase REST form can run, since Supabase's public APIs accept no
// arbitrary SQL with a service-role key.
type restQuery struct {
	schema, table string
	alias         string       // the table's alias in the SQL, if any
	columns       []restColumn // empty means *
	count         string       // the output name when the query is SELECT count(*)
	filters       [][2]string  // column, PostgREST operator and value ("gt.5")
	order         []string     // "col.desc.nullslast"
	limit, offset int          // -1 when absent
}

// restColumn is one entry of the select list.
type restColumn struct{ name, alias string }

// output is the column's name in the result.
func (c restColumn) output() string {
	if c.alias != "" {
		return c.alias
	}
	return c.name
}

// restSupported says what the REST form runs; every rejection repeats it.
const restSupported = "Over the Supabase REST API (project URL + service-role key) this connection runs only: " +
	"SELECT with column names, * or count(*) FROM one table " +
	"[WHERE conditions joined by AND: column = <> != < <= > >= value, LIKE, ILIKE, IS [NOT] NULL, [NOT] IN (...), BETWEEN] " +
	"[ORDER BY column [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]. " +
	"For full SQL (joins, GROUP BY, functions, EXPLAIN), configure the connection with url: the database connection string from the Supabase dashboard (Project Settings → Database, or Connect)."

// restUnsupported is the error for SQL outside the subset.
func restUnsupported(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...) + ". " + restSupported}
}

type sqlTokKind int

const (
	tokWord   sqlTokKind = iota // keyword or unquoted name
	tokName                     // "quoted name"
	tokString                   // 'string'
	tokNumber
	tokSymbol
	tokEnd
)

type sqlTok struct {
	kind sqlTokKind
	text string // for tokWord, as written; for tokName and tokString, unquoted
}

// is reports whether t is the keyword or symbol s.
func (t sqlTok) is(s string) bool {
	return (t.kind == tokWord && strings.EqualFold(t.text, s)) || (t.kind == tokSymbol && t.text == s)
}

func (t sqlTok) String() string {
	switch t.kind {
	case tokEnd:
		return "the end"
	case tokString:
		return "'" + t.text + "'"
	case tokName:
		return `"` + t.text + `"`
	}
	return t.text
}

// lexRestSQL splits PostgreSQL text into tokens, skipping comments.
func lexRestSQL(src string) ([]sqlTok, error) {
	var out []sqlTok
	r := []rune(src)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			end := strings.Index(string(r[i+2:]), "*/")
			if end < 0 {
				return nil, restUnsupported("the SQL has an unterminated comment")
			}
			i += 2 + len([]rune(string(r[i+2:])[:end])) + 2
		case c == '\'' || c == '"':
			text, n, ok := quotedText(r[i:], c)
			if !ok {
				return nil, restUnsupported("the SQL has an unterminated quoted value")
			}
			kind := tokString
			if c == '"' {
				kind = tokName
			}
			out = append(out, sqlTok{kind: kind, text: text})
			i += n
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(r) && (unicode.IsLetter(r[j]) || unicode.IsDigit(r[j]) || r[j] == '_' || r[j] == '$') {
				j++
			}
			out = append(out, sqlTok{kind: tokWord, text: string(r[i:j])})
			i = j
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			j := i
			for j < len(r) && (unicode.IsDigit(r[j]) || r[j] == '.' || r[j] == 'e' || r[j] == 'E' ||
				((r[j] == '+' || r[j] == '-') && (r[j-1] == 'e' || r[j-1] == 'E'))) {
				j++
			}
			out = append(out, sqlTok{kind: tokNumber, text: string(r[i:j])})
			i = j
		default:
			sym := string(c)
			if i+1 < len(r) {
				if two := string(r[i : i+2]); two == "<=" || two == ">=" || two == "<>" || two == "!=" || two == "::" {
					sym = two
				}
			}
			out = append(out, sqlTok{kind: tokSymbol, text: sym})
			i += len([]rune(sym))
		}
	}
	return append(out, sqlTok{kind: tokEnd}), nil
}

// quotedText reads a quoted token starting at r[0], where a doubled quote
// stands for one. It returns the text and the runes consumed.
func quotedText(r []rune, q rune) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(r); i++ {
		if r[i] != q {
			b.WriteRune(r[i])
			continue
		}
		if i+1 < len(r) && r[i+1] == q {
			b.WriteRune(q)
			i++
			continue
		}
		return b.String(), i + 1, true
	}
	return "", 0, false
}

// restParser reads one SELECT into a restQuery.
type restParser struct {
	toks       []sqlTok
	pos        int
	q          *restQuery
	qualifiers []string // table qualifiers of column references
}

// parseRestSQL translates a read-only SELECT into a PostgREST request, or
// explains which part of it the REST API cannot run.
func parseRestSQL(sql string) (*restQuery, error) {
	toks, err := lexRestSQL(sql)
	if err != nil {
		return nil, err
	}
	p := &restParser{toks: toks, q: &restQuery{limit: -1, offset: -1}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.q, nil
}

func (p *restParser) peek() sqlTok { return p.toks[p.pos] }

func (p *restParser) next() sqlTok {
	t := p.toks[p.pos]
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

// accept consumes the next token if it is s.
func (p *restParser) accept(s string) bool {
	if p.peek().is(s) {
		p.pos++
		return true
	}
	return false
}

func (p *restParser) parse() error {
	first := p.peek()
	if !first.is("SELECT") {
		return restUnsupported("%s statements are not supported", strings.ToUpper(first.String()))
	}
	p.next()
	if p.peek().is("DISTINCT") {
		return restUnsupported("SELECT DISTINCT is not supported")
	}
	if err := p.selectList(); err != nil {
		return err
	}
	if !p.accept("FROM") {
		return restUnsupported("a SELECT without FROM (or with expressions before FROM) is not supported")
	}
	if err := p.from(); err != nil {
		return err
	}
	for _, clause := range []struct {
		word string
		read func() error
	}{{"WHERE", p.where}, {"ORDER", p.orderBy}} {
		if p.accept(clause.word) {
			if err := clause.read(); err != nil {
				return err
			}
		}
	}
	if err := p.window(); err != nil {
		return err
	}
	p.accept(";")
	if t := p.peek(); t.kind != tokEnd {
		return restUnsupported("%s here is not supported", describeTok(t))
	}
	return p.checkQualifiers()
}

// describeTok names a token for an error: keywords by name, the rest quoted.
func describeTok(t sqlTok) string {
	if t.kind == tokWord {
		return strings.ToUpper(t.text)
	}
	return fmt.Sprintf("%q", t.String())
}

func (p *restParser) selectList() error {
	if p.accept("*") {
		return nil
	}
	if p.peek().is("count") && p.toks[p.pos+1].is("(") {
		return p.countStar()
	}
	for {
		if p.peek().is("count") && p.toks[p.pos+1].is("(") {
			return restUnsupported("count(*) together with other columns (GROUP BY) is not supported")
		}
		ref, err := p.columnRef("the select list")
		if err != nil {
			return err
		}
		col := restColumn{name: ref}
		if p.accept("AS") || p.peek().kind == tokName || (p.peek().kind == tokWord && !p.peek().is("FROM")) {
			if col.alias, err = p.identifier("an alias after AS"); err != nil {
				return err
			}
		}
		p.q.columns = append(p.q.columns, col)
		if !p.accept(",") {
			return nil
		}
	}
}

// countStar reads count(*) [AS name], which the REST form answers from
// PostgREST's exact count.
func (p *restParser) countStar() error {
	p.next()
	p.next()
	if !p.accept("*") || !p.accept(")") {
		return restUnsupported("only count(*) is supported among aggregates")
	}
	p.q.count = "count"
	if p.accept("AS") || p.peek().kind == tokName || (p.peek().kind == tokWord && !p.peek().is("FROM")) {
		name, err := p.identifier("an alias after AS")
		if err != nil {
			return err
		}
		p.q.count = name
	}
	if p.peek().is(",") {
		return restUnsupported("count(*) together with other columns (GROUP BY) is not supported")
	}
	return nil
}

// identifier reads a name: unquoted names fold to lower case, as in
// PostgreSQL; quoted names are kept as written.
func (p *restParser) identifier(what string) (string, error) {
	t := p.next()
	var name string
	switch t.kind {
	case tokWord:
		name = strings.ToLower(t.text)
	case tokName:
		name = t.text
	default:
		return "", restUnsupported("expected %s, found %s", what, describeTok(t))
	}
	if strings.ContainsAny(name, `.,:()"'*!&=<>%?#\`) || strings.TrimSpace(name) != name || name == "" {
		return "", restUnsupported("the name %q has characters the REST API cannot take in a query", name)
	}
	if p.peek().is("(") {
		return "", restUnsupported("functions and expressions such as %s(...) are not supported; use plain column names and literal values", t.text)
	}
	return name, nil
}

// columnRef reads column or qualifier.column; qualifiers are checked once
// the table is known.
func (p *restParser) columnRef(where string) (string, error) {
	if p.peek().kind != tokWord && p.peek().kind != tokName {
		return "", restUnsupported("%s in %s is not supported; use plain column names", describeTok(p.peek()), where)
	}
	name, err := p.identifier("a column name")
	if err != nil {
		return "", err
	}
	if p.accept(".") {
		if p.peek().is("*") {
			return "", restUnsupported("qualified * (%s.*) is not supported; write * or list the columns", name)
		}
		col, err := p.identifier("a column name")
		if err != nil {
			return "", err
		}
		p.qualifiers = append(p.qualifiers, name)
		return col, nil
	}
	if isOperatorWord(strings.ToUpper(name)) {
		return "", restUnsupported("%s is not supported where a column name belongs", strings.ToUpper(name))
	}
	return name, nil
}

func isOperatorWord(w string) bool {
	switch w {
	case "CASE", "CAST", "EXISTS", "NOT", "SELECT", "NULL", "TRUE", "FALSE", "INTERVAL":
		return true
	}
	return false
}

func (p *restParser) from() error {
	name, err := p.identifier("a table name")
	if err != nil {
		return err
	}
	if p.accept(".") {
		p.q.schema = name
		if name, err = p.identifier("a table name"); err != nil {
			return err
		}
	}
	p.q.table = name
	if p.accept("AS") || (p.peek().kind == tokWord && !isClauseWord(p.peek())) || p.peek().kind == tokName {
		if p.q.alias, err = p.identifier("a table alias"); err != nil {
			return err
		}
	}
	switch t := p.peek(); {
	case t.is(",") || t.is("JOIN") || t.is("INNER") || t.is("LEFT") || t.is("RIGHT") || t.is("FULL") || t.is("CROSS") || t.is("NATURAL"):
		return restUnsupported("joins are not supported; query one table at a time")
	case t.is("GROUP") || t.is("HAVING"):
		return restUnsupported("GROUP BY and HAVING are not supported")
	case t.is("UNION") || t.is("INTERSECT") || t.is("EXCEPT"):
		return restUnsupported("%s is not supported", strings.ToUpper(t.text))
	}
	return nil
}

func isClauseWord(t sqlTok) bool {
	for _, w := range []string{"WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "UNION", "INTERSECT", "EXCEPT", "WINDOW", "FOR", "FETCH"} {
		if t.is(w) {
			return true
		}
	}
	return false
}

func (p *restParser) where() error {
	for {
		if p.peek().is("(") || p.peek().is("NOT") {
			return restUnsupported("parentheses and NOT before a condition are not supported; write conditions like col <> value, col NOT IN (...), col IS NOT NULL")
		}
		if err := p.condition(); err != nil {
			return err
		}
		if p.peek().is("OR") {
			return restUnsupported("OR is not supported; use IN (...) for alternatives on one column, or run one query per alternative")
		}
		if !p.accept("AND") {
			return nil
		}
	}
}

// restOps maps SQL comparison operators to PostgREST's.
var restOps = map[string]string{"=": "eq", "<>": "neq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}

func (p *restParser) condition() error {
	col, err := p.columnRef("a WHERE condition")
	if err != nil {
		return err
	}
	if op, ok := restOps[p.peek().text]; ok && p.peek().kind == tokSymbol {
		p.next()
		return p.comparison(col, op)
	}
	not := p.accept("NOT")
	prefix := ""
	if not {
		prefix = "not."
	}
	switch t := p.next(); {
	case t.is("IS"):
		return p.isTest(col)
	case t.is("IN"):
		return p.inList(col, prefix)
	case t.is("LIKE") || t.is("ILIKE"):
		return p.pattern(col, prefix+strings.ToLower(t.text))
	case t.is("BETWEEN") && !not:
		return p.between(col)
	default:
		return restUnsupported("the condition on %s (%s) is not supported", col, describeTok(t))
	}
}

// restReserved are query parameter names PostgREST keeps for itself, so a
// column of that name cannot be filtered with a plain parameter.
var restReserved = map[string]bool{"select": true, "order": true, "limit": true, "offset": true, "and": true, "or": true, "not": true, "columns": true, "on_conflict": true}

func (p *restParser) addFilter(col string, ops ...string) error {
	if restReserved[col] {
		return restUnsupported("a condition on a column named %q cannot be sent, because the REST API reserves that parameter name", col)
	}
	for _, op := range ops {
		p.q.filters = append(p.q.filters, [2]string{col, op})
	}
	return nil
}

func (p *restParser) comparison(col, op string) error {
	v, err := p.value()
	if err != nil {
		return err
	}
	if v.null {
		return restUnsupported("comparing with NULL is never true; write %s IS NULL or %s IS NOT NULL", col, col)
	}
	return p.addFilter(col, op+"."+v.text)
}

func (p *restParser) isTest(col string) error {
	prefix := ""
	if p.accept("NOT") {
		prefix = "not."
	}
	switch t := p.next(); {
	case t.is("NULL"), t.is("TRUE"), t.is("FALSE"), t.is("UNKNOWN"):
		return p.addFilter(col, prefix+"is."+strings.ToLower(t.text))
	default:
		return restUnsupported("IS %s is not supported; use IS [NOT] NULL, TRUE or FALSE", describeTok(t))
	}
}

func (p *restParser) inList(col, prefix string) error {
	if !p.accept("(") {
		return restUnsupported("IN needs a list of values in parentheses")
	}
	if p.peek().is("SELECT") {
		return restUnsupported("subqueries are not supported")
	}
	var items []string
	for {
		v, err := p.value()
		if err != nil {
			return err
		}
		if v.null {
			return restUnsupported("NULL in an IN list matches nothing; add AND %s IS NULL separately", col)
		}
		items = append(items, restListItem(v))
		if p.accept(")") {
			break
		}
		if !p.accept(",") {
			return restUnsupported("expected , or ) in the IN list, found %s", describeTok(p.peek()))
		}
	}
	return p.addFilter(col, prefix+"in.("+strings.Join(items, ",")+")")
}

// restListItem writes a value for a PostgREST list, quoting text so commas
// and parentheses inside it stay part of the value.
func restListItem(v restValue) string {
	if !v.quoted {
		return v.text
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v.text) + `"`
}

func (p *restParser) pattern(col, op string) error {
	v, err := p.value()
	if err != nil {
		return err
	}
	if !v.quoted {
		return restUnsupported("%s needs a quoted pattern such as '%%text%%'", strings.ToUpper(op))
	}
	if strings.Contains(v.text, "*") {
		// PostgREST reads * in a pattern as %, so a literal * cannot be sent.
		return restUnsupported("a %s pattern containing * is not supported (the REST API reads * as %%)", strings.ToUpper(strings.TrimPrefix(op, "not.")))
	}
	if p.peek().is("ESCAPE") {
		return restUnsupported("LIKE ... ESCAPE is not supported")
	}
	return p.addFilter(col, op+"."+v.text)
}

func (p *restParser) between(col string) error {
	lo, err := p.value()
	if err != nil {
		return err
	}
	if !p.accept("AND") {
		return restUnsupported("BETWEEN needs AND between its bounds")
	}
	hi, err := p.value()
	if err != nil {
		return err
	}
	if lo.null || hi.null {
		return restUnsupported("BETWEEN with NULL matches nothing")
	}
	return p.addFilter(col, "gte."+lo.text, "lte."+hi.text)
}

// restValue is a literal from the SQL.
type restValue struct {
	text   string
	quoted bool // a string literal
	null   bool
}

// value reads a literal: a string, a number (optionally signed), TRUE,
// FALSE or NULL, optionally typed (DATE '2024-01-31', '5'::int), since
// PostgREST converts the value to the column's type itself.
func (p *restParser) value() (restValue, error) {
	if t := p.peek(); t.kind == tokWord && p.toks[p.pos+1].kind == tokString {
		switch strings.ToUpper(t.text) {
		case "DATE", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "UUID", "NUMERIC", "JSONB":
			p.next()
		}
	}
	sign := ""
	if p.peek().is("-") || p.peek().is("+") {
		sign = strings.TrimPrefix(p.next().text, "+")
	}
	t := p.next()
	var v restValue
	switch {
	case t.kind == tokString && sign == "":
		v = restValue{text: t.text, quoted: true}
	case t.kind == tokNumber:
		if _, err := strconv.ParseFloat(t.text, 64); err != nil {
			return v, restUnsupported("%s is not a number", t.text)
		}
		v = restValue{text: sign + t.text}
	case t.is("TRUE") || t.is("FALSE"):
		v = restValue{text: strings.ToLower(t.text)}
	case t.is("NULL"):
		v = restValue{null: true}
	case t.kind == tokWord && p.peek().is("("):
		return v, restUnsupported("functions such as %s() are not supported in conditions; write the literal value (for example '2024-05-01')", t.text)
	default:
		return v, restUnsupported("%s is not supported as a value; compare columns with literal values only", describeTok(t))
	}
	if p.accept("::") {
		if _, err := p.identifier("a type name after ::"); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (p *restParser) orderBy() error {
	if !p.accept("BY") {
		return restUnsupported("ORDER needs BY")
	}
	for {
		var col string
		if t := p.peek(); t.kind == tokNumber {
			p.next()
			n, err := strconv.Atoi(t.text)
			if err != nil || n < 1 || n > len(p.q.columns) {
				return restUnsupported("ORDER BY %s does not name a column of the select list; order by column name", t.text)
			}
			col = p.q.columns[n-1].name
		} else {
			var err error
			if col, err = p.columnRef("ORDER BY"); err != nil {
				return err
			}
			col = p.sourceOf(col)
		}
		item := col
		switch {
		case p.accept("DESC"):
			item += ".desc"
		case p.accept("ASC"):
			item += ".asc"
		}
		if p.accept("NULLS") {
			switch t := p.next(); {
			case t.is("FIRST"):
				item += ".nullsfirst"
			case t.is("LAST"):
				item += ".nullslast"
			default:
				return restUnsupported("NULLS must be followed by FIRST or LAST")
			}
		}
		p.q.order = append(p.q.order, item)
		if !p.accept(",") {
			return nil
		}
	}
}

// sourceOf maps an output alias used in ORDER BY back to its column.
func (p *restParser) sourceOf(name string) string {
	for _, c := range p.q.columns {
		if c.alias == name {
			return c.name
		}
	}
	return name
}

// window reads LIMIT and OFFSET, in either order.
func (p *restParser) window() error {
	for {
		var err error
		switch {
		case p.accept("LIMIT"):
			err = p.limitClause()
		case p.accept("OFFSET"):
			err = p.offsetClause()
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (p *restParser) limitClause() error {
	if p.accept("ALL") {
		return nil
	}
	n, err := p.count("LIMIT")
	p.q.limit = n
	return err
}

func (p *restParser) offsetClause() error {
	n, err := p.count("OFFSET")
	p.q.offset = n
	p.accept("ROWS")
	return err
}

func (p *restParser) count(clause string) (int, error) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokNumber || err != nil || n < 0 {
		return 0, restUnsupported("%s takes a whole number, not %s", clause, describeTok(t))
	}
	return n, nil
}

// checkQualifiers makes sure every qualified column names the table.
func (p *restParser) checkQualifiers() error {
	for _, q := range p.qualifiers {
		if q != p.q.table && q != p.q.alias {
			return restUnsupported("the qualifier %s does not name the table %s; only one table can be queried", q, p.q.table)
		}
	}
	return nil
}

// params writes the PostgREST query string. fetch is how many rows to ask
// for: the SQL's LIMIT, but never more than the caller can show plus one,
// which tells it that more exist.
func (q *restQuery) params(fetch int) url.Values {
	v := url.Values{}
	if q.count == "" {
		v.Set("select", q.selectParam())
	}
	for _, f := range q.filters {
		v.Add(f[0], f[1])
	}
	if len(q.order) > 0 {
		v.Set("order", strings.Join(q.order, ","))
	}
	if q.count != "" {
		return v
	}
	limit := fetch
	if q.limit >= 0 && q.limit < fetch {
		limit = q.limit
	}
	v.Set("limit", strconv.Itoa(limit))
	if q.offset > 0 {
		v.Set("offset", strconv.Itoa(q.offset))
	}
	return v
}

func (q *restQuery) selectParam() string {
	if len(q.columns) == 0 {
		return "*"
	}
	parts := make([]string, len(q.columns))
	for i, c := range q.columns {
		parts[i] = c.name
		if c.alias != "" && c.alias != c.name {
			parts[i] = c.alias + ":" + c.name
		}
	}
	return strings.Join(parts, ",")
}
