package sqlguard

import (
	"errors"
	"strings"
)

// tokKind classifies a token.
type tokKind int

const (
	tWord   tokKind = iota // identifier or keyword (text kept as written)
	tQuoted                // quoted identifier ("x", `x`, [x]); text is the inside
	tString                // string literal of any form
	tNumber
	tSymbol // one punctuation character, or a two-character operator
	tSemi   // statement separator
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset of the token's start
	end  int // byte offset just past the token
}

// lexer splits SQL into tokens the way the engine of one dialect does. It
// must never treat as comment or string literal something the engine treats
// as code; where engines differ by configuration (MySQL backslash escapes),
// the caller lexes both ways.
type lexer struct {
	d              Dialect
	src            string
	i              int
	toks           []token
	backslashQuote bool // backslash escapes a quote inside '...' and "..."
}

var errUnterminated = errors.New("unterminated")

func lex(d Dialect, src string, backslashQuote bool) ([]token, error) {
	l := &lexer{d: d, src: src, backslashQuote: backslashQuote}
	for l.i < len(src) {
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	return l.toks, nil
}

func (l *lexer) emit(k tokKind, text string, pos int) {
	l.toks = append(l.toks, token{kind: k, text: text, pos: pos, end: l.i})
}

func (l *lexer) peek(off int) byte {
	if l.i+off < len(l.src) {
		return l.src[l.i+off]
	}
	return 0
}

func (l *lexer) next() error {
	c := l.src[l.i]
	start := l.i
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		l.i++
	case c == '-' && l.peek(1) == '-' && l.dashComment():
		l.skipLine()
	case c == '#' && l.d == MySQL:
		l.skipLine()
	case c == '#' && l.d == ClickHouse && (l.peek(1) == ' ' || l.peek(1) == '!'):
		// Newer ClickHouse reads "# " and "#!" as line comments; 18.x
		// refuses any "#", so reading a comment is right for both.
		l.skipLine()
	case c == '/' && l.peek(1) == '/' && l.d == ClickHouse:
		l.skipLine() // ClickHouse line comment, since 18.x
	case c == '/' && l.peek(1) == '*':
		return l.blockComment()
	case c == ';':
		l.i++
		l.emit(tSemi, ";", start)
	case c == '\'':
		return l.quoted('\'', tString, (l.d == MySQL && l.backslashQuote) || l.d == ClickHouse)
	case c == '"':
		if l.d == MySQL {
			return l.quoted('"', tString, l.backslashQuote)
		}
		return l.quoted('"', tQuoted, l.d == ClickHouse)
	case c == '`' && l.d != Postgres:
		return l.quoted('`', tQuoted, l.d == ClickHouse)
	case c == '[' && l.d == SQLite:
		end := strings.IndexByte(l.src[l.i+1:], ']')
		if end < 0 {
			return errUnterminated
		}
		l.i += end + 2
		l.emit(tQuoted, l.src[start+1:start+1+end], start)
	case c == '$' && l.d == Postgres:
		ok, err := l.dollarQuote()
		if !ok {
			l.i++
			l.emit(tSymbol, "$", start)
		}
		return err
	case c == '$' && l.d == ClickHouse:
		l.heredoc()
	case isIdentStart(c):
		l.word()
	case c >= '0' && c <= '9' || (c == '.' && l.peek(1) >= '0' && l.peek(1) <= '9'):
		l.number()
	default:
		l.i++
		l.emit(tSymbol, string(c), start)
	}
	return nil
}

// dashComment reports whether "--" at l.i starts a comment. MySQL needs a
// space or control character after the dashes; "1--1" is arithmetic there.
func (l *lexer) dashComment() bool {
	if l.d != MySQL {
		return true
	}
	c := l.peek(2)
	return c == 0 || c <= ' '
}

// skipLine skips a line comment. PostgreSQL ends it at \n or \r; the
// others only at \n, so for them a \r inside the comment does not end it.
func (l *lexer) skipLine() {
	stops := "\n"
	if l.d == Postgres {
		stops = "\n\r"
	}
	end := strings.IndexAny(l.src[l.i:], stops)
	if end < 0 {
		l.i = len(l.src)
		return
	}
	l.i += end + 1
}

// blockComment skips /* ... */. PostgreSQL nests them; MySQL runs the
// inside of /*! ... */ and /*M! ... */ as code, which we refuse. ClickHouse
// 18.x ends a comment at the first */ while newer versions nest, so "/*"
// inside a ClickHouse comment is refused: either reading could be the
// engine's, and they disagree on where code starts again.
func (l *lexer) blockComment() error {
	if l.d == MySQL && (l.peek(2) == '!' || (l.peek(2) == 'M' && l.peek(3) == '!') || l.peek(2) == '+') {
		return errExecutableComment
	}
	nest := l.d == Postgres
	depth := 0
	for l.i < len(l.src) {
		switch {
		case l.src[l.i] == '/' && l.peek(1) == '*':
			if depth > 0 && l.d == ClickHouse {
				return errNestedComment
			}
			if depth > 0 && !nest {
				l.i += 2
				continue
			}
			depth++
			l.i += 2
		case l.src[l.i] == '*' && l.peek(1) == '/':
			depth--
			l.i += 2
			if depth == 0 {
				return nil
			}
		default:
			l.i++
		}
	}
	return errUnterminated
}

var (
	errExecutableComment = errors.New("executable comment")
	errNestedComment     = errors.New("nested comment")
)

// quoted reads a literal or identifier delimited by q, where a doubled q
// stands for itself and, if backslash is set, \x escapes x.
func (l *lexer) quoted(q byte, k tokKind, backslash bool) error {
	start := l.i
	// A PostgreSQL E'...' string takes backslash escapes.
	if l.d == Postgres && q == '\'' && len(l.toks) > 0 {
		last := l.toks[len(l.toks)-1]
		if last.kind == tWord && last.pos+len(last.text) == start && strings.EqualFold(last.text, "e") {
			backslash = true
		}
	}
	var b strings.Builder
	l.i++
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\\' && backslash && l.i+1 < len(l.src):
			b.WriteByte(l.src[l.i+1])
			l.i += 2
		case c == q && l.peek(1) == q:
			b.WriteByte(q)
			l.i += 2
		case c == q:
			l.i++
			l.emit(k, b.String(), start)
			return nil
		default:
			b.WriteByte(c)
			l.i++
		}
	}
	return errUnterminated
}

// dollarQuote reads a PostgreSQL $tag$...$tag$ string if one starts at l.i.
func (l *lexer) dollarQuote() (bool, error) {
	start := l.i
	j := l.i + 1
	for j < len(l.src) && (isIdentStart(l.src[j]) || (j > l.i+1 && isDigit(l.src[j]))) {
		j++
	}
	if j >= len(l.src) || l.src[j] != '$' {
		return false, nil // $1 parameters and stray dollars are symbols
	}
	tag := l.src[l.i : j+1]
	end := strings.Index(l.src[j+1:], tag)
	if end < 0 {
		return true, errUnterminated
	}
	l.i = j + 1 + end + len(tag)
	l.emit(tString, l.src[j+1:j+1+end], start)
	return true, nil
}

// heredoc reads what newer ClickHouse reads at a "$": a heredoc string
// $tag$...$tag$, where the tag is anything up to the next "$" (even empty),
// else a word such as $x (ClickHouse 18.x refuses "$" outside strings, so
// reading it as newer versions do is safe for both).
func (l *lexer) heredoc() {
	start := l.i
	if j := strings.IndexByte(l.src[start+1:], '$'); j >= 0 {
		tag := l.src[start : start+j+2]
		if end := strings.Index(l.src[start+len(tag):], tag); end >= 0 {
			l.i = start + len(tag) + end + len(tag)
			l.emit(tString, l.src[start+len(tag):start+len(tag)+end], start)
			return
		}
	}
	if c := l.peek(1); isIdentStart(c) || isDigit(c) || c == '$' {
		l.word()
		return
	}
	l.i++
	l.emit(tSymbol, "$", start)
}

func (l *lexer) word() {
	start := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		if isIdentStart(c) || isDigit(c) || (c == '$' && l.d != SQLite) {
			l.i++
			continue
		}
		break
	}
	l.emit(tWord, l.src[start:l.i], start)
}

func (l *lexer) number() {
	start := l.i
	digits := func(hex bool) {
		for l.i < len(l.src) {
			c := l.src[l.i]
			if isDigit(c) || (c == '_' && l.i > start) || (hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
				l.i++
				continue
			}
			return
		}
	}
	if l.src[l.i] == '0' && (l.peek(1) == 'x' || l.peek(1) == 'X') {
		l.i += 2
		digits(true)
	} else {
		digits(false)
		if l.peek(0) == '.' {
			l.i++
			digits(false)
		}
		// An exponent only when digits follow; "1e" leaves "e" to be a word.
		if c := l.peek(0); c == 'e' || c == 'E' {
			off := 1
			if s := l.peek(1); s == '+' || s == '-' {
				off = 2
			}
			if isDigit(l.peek(off)) {
				l.i += off
				digits(false)
			}
		}
	}
	l.emit(tNumber, l.src[start:l.i], start)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
