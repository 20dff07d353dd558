package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The store's SQL is written once, in SQLite's dialect; on PostgreSQL every
// statement goes through pgStatement (queries, at run time, cached) or
// pgMigration (schema migrations). The translation is small and works on
// tokens, so string literals, quoted names and comments are never touched:
//
//   - placeholders: ? becomes $1, $2, …;
//   - INSERT OR IGNORE becomes INSERT … ON CONFLICT DO NOTHING;
//   - LIKE becomes ILIKE (SQLite's LIKE ignores ASCII case), IFNULL
//     COALESCE, two-argument MAX/MIN GREATEST/LEAST, == =, LIMIT -1
//     LIMIT ALL (and LIMIT ? no limit when negative), IS ? IS NOT
//     DISTINCT FROM;
//   - in CREATE TABLE and ALTER TABLE … ADD COLUMN: INTEGER is BIGINT, an
//     INTEGER PRIMARY KEY (SQLite's rowid alias) an identity column, REAL
//     DOUBLE PRECISION, BLOB BYTEA, BOOLEAN BIGINT (0 or 1, as SQLite stores
//     it; the driver sends Go booleans as 0 or 1); times stay fixed-width
//     text, which both compare alike;
//   - a CREATE TABLE's foreign keys are added after the whole migration
//     (ALTER TABLE … ADD FOREIGN KEY), since SQLite lets a table name one
//     that a later statement creates; every foreign key is DEFERRABLE
//     INITIALLY IMMEDIATE (checked at each statement, as in SQLite, unless
//     a transaction defers them: store copy);
//   - PRAGMA statements are dropped.
//
// Whatever has no faithful translation (INSERT OR REPLACE, which needs a
// conflict target; triggers; date functions; rowid) is an error naming it,
// so a new query or migration that would behave differently fails loudly in
// the PostgreSQL run of the store's tests instead of in production.

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokSpace  tokKind = iota // white space and comments
	tokWord                  // keyword or bare name
	tokNumber                // numeric literal
	tokString                // '…' literal
	tokQuoted                // "…", `…` or […] name
	tokParam                 // ?, ?NNN
	tokPunct                 // anything else, one or two characters
)

type token struct {
	kind tokKind
	text string
}

// upper returns the token's text in upper case when it is a word.
func (t token) upper() string {
	if t.kind != tokWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

// lex splits SQL into tokens. Concatenating their texts gives back src.
func lex(src string) ([]token, error) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			for i < len(src) && strings.IndexByte(" \t\n\r\f", src[i]) >= 0 {
				i++
			}
			out = append(out, token{tokSpace, src[start:i]})
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				i = len(src)
			} else {
				i += j
			}
			out = append(out, token{tokSpace, src[start:i]})
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += 2 + j + 2
			out = append(out, token{tokSpace, src[start:i]})
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closer := c
			if c == '[' {
				closer = ']'
			}
			i++
			for {
				j := strings.IndexByte(src[i:], closer)
				if j < 0 {
					return nil, fmt.Errorf("unterminated %c at offset %d", c, start)
				}
				i += j + 1
				// A doubled quote is a quote inside the literal.
				if closer != ']' && i < len(src) && src[i] == closer {
					i++
					continue
				}
				break
			}
			kind := tokQuoted
			if c == '\'' {
				kind = tokString
			}
			out = append(out, token{kind, src[start:i]})
		case c == '?':
			i++
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			out = append(out, token{tokParam, src[start:i]})
		case isWordStart(c):
			for i < len(src) && isWordPart(src[i]) {
				i++
			}
			out = append(out, token{tokWord, src[start:i]})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			for i < len(src) && (isWordPart(src[i]) || src[i] == '.') {
				i++
			}
			out = append(out, token{tokNumber, src[start:i]})
		default:
			i++
			if i < len(src) {
				switch src[start : i+1] {
				case "==", "!=", "<>", "<=", ">=", "||", "<<", ">>":
					i++
				}
			}
			out = append(out, token{tokPunct, src[start:i]})
		}
	}
	return out, nil
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isWordPart(c byte) bool { return isWordStart(c) || c >= '0' && c <= '9' || c == '$' }

// stmt is a token list with helpers to look around a position, skipping
// white space.
type stmt []token

// next returns the index of the first non-space token at or after i, or
// len(s).
func (s stmt) next(i int) int {
	for i < len(s) && s[i].kind == tokSpace {
		i++
	}
	return i
}

// prev returns the index of the last non-space token before i, or -1.
func (s stmt) prev(i int) int {
	i--
	for i >= 0 && s[i].kind == tokSpace {
		i--
	}
	return i
}

// word reports whether the token at i is the keyword w (upper case).
func (s stmt) word(i int, w string) bool { return i >= 0 && i < len(s) && s[i].upper() == w }

// punct reports whether the token at i is the punctuation p.
func (s stmt) punct(i int, p string) bool {
	return i >= 0 && i < len(s) && s[i].kind == tokPunct && s[i].text == p
}

// closing returns the index of the ')' matching the '(' at i, or -1.
func (s stmt) closing(i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch {
		case s.punct(j, "("):
			depth++
		case s.punct(j, ")"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// args counts the top-level, comma-separated arguments between the '(' at
// open and the ')' at end.
func (s stmt) args(open, end int) int {
	if s.next(open+1) == end {
		return 0
	}
	n, depth := 1, 0
	for j := open + 1; j < end; j++ {
		switch {
		case s.punct(j, "("):
			depth++
		case s.punct(j, ")"):
			depth--
		case s.punct(j, ",") && depth == 0:
			n++
		}
	}
	return n
}

func (s stmt) String() string {
	var b strings.Builder
	for _, t := range s {
		b.WriteString(t.text)
	}
	return b.String()
}

// unsupported names the SQLite features that have no faithful translation,
// with what to write instead.
var unsupported = map[string]string{
	"GLOB":              "use LIKE",
	"REGEXP":            "use LIKE",
	"ROWID":             "name the INTEGER PRIMARY KEY column",
	"_ROWID_":           "name the INTEGER PRIMARY KEY column",
	"OID":               "name the INTEGER PRIMARY KEY column",
	"LAST_INSERT_ROWID": "use RETURNING id",
	"CHANGES":           "use the statement's RowsAffected",
	"TOTAL_CHANGES":     "use the statement's RowsAffected",
	"DATETIME":          "compute times in Go and store them with ts()",
	"DATE":              "compute times in Go and store them with ts()",
	"TIME":              "compute times in Go and store them with ts()",
	"JULIANDAY":         "compute times in Go and store them with ts()",
	"STRFTIME":          "compute times in Go and store them with ts()",
	"UNIXEPOCH":         "compute times in Go and store them with ts()",
	"PRINTF":            "format in Go",
	"FORMAT":            "format in Go",
	"GROUP_CONCAT":      "collect the rows in Go",
	"JSON_EXTRACT":      "decode the JSON in Go",
	"JSON_EACH":         "decode the JSON in Go",
	"TYPEOF":            "scan the column in Go",
	"NOCASE":            "compare lower(x) = lower(?)",
	"TRIGGER":           "do it in the store method's transaction",
	"AUTOINCREMENT":     "", // handled in CREATE TABLE; an error anywhere else
}

// pgStatement translates one statement (a query of the store's code) from
// SQLite's dialect to PostgreSQL's.
func pgStatement(q string) (string, error) {
	toks, err := lex(q)
	if err != nil {
		return "", err
	}
	s := stmt(toks)
	if s.word(s.next(0), "PRAGMA") {
		return "", errors.New("PRAGMA: SQLite only")
	}
	s, err = pgDML(s)
	if err != nil {
		return "", err
	}
	return s.String(), nil
}

// pgDML rewrites the parts of a statement that differ between the dialects
// outside of column definitions, numbering placeholders from $1.
func pgDML(s stmt) (stmt, error) {
	out := make(stmt, 0, len(s)+4)
	n := 0
	ignore := false  // INSERT OR IGNORE: add ON CONFLICT DO NOTHING
	limitParam := -1 // the placeholder of LIMIT ?
	for i := 0; i < len(s); i++ {
		t := s[i]
		u := t.upper()
		// A word followed by '.' or preceded by '.' is a name (t.date), not
		// a function or keyword.
		qualified := s.punct(s.next(i+1), ".") || s.punct(s.prev(i), ".")
		switch {
		case t.kind == tokParam:
			// As SQLite numbers them: ?N is N, ? is one more than the
			// largest number given so far.
			if len(t.text) > 1 {
				k, err := strconv.Atoi(t.text[1:])
				if err != nil || k < 1 || k > 32766 {
					return nil, errors.New("placeholder " + t.text + ": bad number")
				}
				n = max(n, k)
				t = token{tokParam, "$" + t.text[1:]}
				break
			}
			n++
			t = token{tokParam, "$" + strconv.Itoa(n)}
			if i == limitParam {
				t.text += ", -1), -1)"
			}
		case t.kind == tokPunct && t.text == "==":
			t.text = "="
		case u == "INSERT" && s.word(s.next(i+1), "OR"):
			j := s.next(s.next(i+1) + 1)
			switch {
			case s.word(j, "IGNORE"):
				ignore = true
				out = append(out, t)
				i = j // drop OR IGNORE
				continue
			default:
				what := "INSERT OR ?"
				if j < len(s) {
					what = "INSERT OR " + strings.ToUpper(s[j].text)
				}
				return nil, errors.New(what + ": no PostgreSQL equivalent without a conflict target: " +
					"write INSERT … ON CONFLICT (key) DO UPDATE SET … = excluded.…")
			}
		case u == "REPLACE" && s.prev(i) < 0:
			return nil, errors.New("REPLACE INTO: write INSERT … ON CONFLICT (key) DO UPDATE SET … = excluded.…")
		case u == "PRAGMA" && s.prev(i) < 0:
			return nil, nil
		case u == "LIKE" && !qualified:
			t.text = "ILIKE"
		case (u == "IFNULL") && s.punct(s.next(i+1), "(") && !qualified:
			t.text = "COALESCE"
		case (u == "MAX" || u == "MIN") && s.punct(s.next(i+1), "(") && !qualified:
			open := s.next(i + 1)
			if end := s.closing(open); end > 0 && s.args(open, end) >= 2 {
				t.text = map[string]string{"MAX": "GREATEST", "MIN": "LEAST"}[u]
			}
		case u == "LIMIT":
			j := s.next(i + 1)
			if s.punct(j, "-") && j+1 < len(s) && s[j+1].kind == tokNumber {
				out = append(out, t, token{tokSpace, " "}, token{tokWord, "ALL"})
				i = j + 1
				continue
			}
			if j < len(s) && s[j].kind == tokParam {
				// A negative limit is none, as in SQLite (LIMIT NULL).
				out = append(out, t, token{tokWord, " NULLIF(GREATEST("})
				limitParam = j
				i = j - 1
				continue
			}
		case u == "IS":
			j := s.next(i + 1)
			not := s.word(j, "NOT")
			if not {
				j = s.next(j + 1)
			}
			if j < len(s) && s[j].kind == tokParam {
				if not {
					t.text = "IS DISTINCT FROM"
				} else {
					t.text = "IS NOT DISTINCT FROM"
				}
				out = append(out, t, token{tokSpace, " "})
				i = j - 1 // the placeholder comes next
				continue
			}
		case u == "BEGIN" && s.prev(i) < 0, u == "COMMIT" && s.prev(i) < 0:
			return nil, errors.New(u + ": transactions are begun and ended by database/sql")
		}
		if hint, bad := unsupported[u]; bad && !qualified && u != "AUTOINCREMENT" {
			// DATE, TIME, FORMAT and OID are also plain names: only their
			// use as a function (or, for the rest, anywhere) is refused.
			call := s.punct(s.next(i+1), "(")
			switch u {
			case "DATE", "TIME", "FORMAT", "OID", "DATETIME":
				if !call {
					out = append(out, t)
					continue
				}
			}
			return nil, fmt.Errorf("%s: not portable to PostgreSQL: %s", t.text, hint)
		}
		if u == "AUTOINCREMENT" {
			return nil, errors.New("AUTOINCREMENT outside CREATE TABLE")
		}
		out = append(out, t)
	}
	if ignore {
		out = insertBeforeReturning(out, " ON CONFLICT DO NOTHING")
	}
	out = qualifyUpsert(out)
	return aliasSubqueries(out), nil
}

// qualifyUpsert qualifies, in an INSERT … ON CONFLICT … DO UPDATE SET,
// the columns assigned that the right-hand sides name bare ("last = last +
// 1"): PostgreSQL finds them ambiguous (the table's or excluded's), SQLite
// takes the table's.
func qualifyUpsert(s stmt) stmt {
	ins := s.next(0)
	if !s.word(ins, "INSERT") {
		return s
	}
	into := s.next(ins + 1)
	if !s.word(into, "INTO") {
		return s
	}
	table := s.next(into + 1)
	if table >= len(s) {
		return s
	}
	set := -1
	for j := range s {
		if s.word(j, "DO") && s.word(s.next(j+1), "UPDATE") && s.word(s.next(s.next(j+1)+1), "SET") {
			set = s.next(s.next(j+1) + 1)
		}
	}
	if set < 0 {
		return s
	}
	// The assigned columns: a name right after SET or a top-level ',',
	// followed by '='.
	assigned := map[string]bool{}
	lhs := map[int]bool{}
	depth := 0
	for j := set; j < len(s); j++ {
		switch {
		case s.punct(j, "("):
			depth++
		case s.punct(j, ")"):
			depth--
		case depth == 0 && (j == set || s.punct(j, ",")):
			c := s.next(j + 1)
			if c < len(s) && s[c].kind == tokWord && s.punct(s.next(c+1), "=") {
				assigned[strings.ToLower(s[c].text)] = true
				lhs[c] = true
			}
		case depth == 0 && (s.word(j, "WHERE") || s.word(j, "RETURNING")):
			j = len(s)
		}
	}
	out := append(stmt{}, s...)
	for j := set + 1; j < len(s) && !s.word(j, "RETURNING"); j++ {
		t := s[j]
		if t.kind != tokWord || lhs[j] || !assigned[strings.ToLower(t.text)] ||
			s.punct(s.prev(j), ".") || s.punct(s.next(j+1), ".") || s.punct(s.next(j+1), "(") {
			continue
		}
		out[j] = token{tokWord, s[table].text + "." + t.text}
	}
	return out
}

// aliasSubqueries names each subquery in FROM or JOIN that has no alias:
// PostgreSQL before 16 requires one, SQLite does not.
func aliasSubqueries(s stmt) stmt {
	var out stmt
	n := 0
	for j := 0; j < len(s); j++ {
		out = append(out, s[j])
		if !s.word(j, "FROM") && !s.word(j, "JOIN") {
			continue
		}
		open := s.next(j + 1)
		if !s.punct(open, "(") || !s.word(s.next(open+1), "SELECT") {
			continue
		}
		end := s.closing(open)
		if end < 0 {
			continue
		}
		inner := aliasSubqueries(s[j+1 : end+1])
		out = append(out, inner...)
		j = end
		a := s.next(end + 1)
		if a < len(s) && (s[a].kind == tokWord && !clauseWords[s[a].upper()] || s[a].kind == tokQuoted) {
			continue
		}
		n++
		out = append(out, token{tokWord, " AS _sub" + strconv.Itoa(n)})
	}
	return out
}

// clauseWords may follow a FROM item: they are not its alias.
var clauseWords = map[string]bool{"WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "OFFSET": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "JOIN": true, "LEFT": true, "RIGHT": true, "INNER": true,
	"CROSS": true, "FULL": true, "NATURAL": true, "ON": true, "USING": true, "HAVING": true, "WINDOW": true,
	"RETURNING": true}

// insertBeforeReturning adds text before the statement's top-level
// RETURNING clause, or at its end (before a final ';').
func insertBeforeReturning(s stmt, text string) stmt {
	at := len(s)
	depth := 0
	for j, t := range s {
		switch {
		case s.punct(j, "("):
			depth++
		case s.punct(j, ")"):
			depth--
		case depth == 0 && t.upper() == "RETURNING":
			at = j
		}
		if at != len(s) {
			break
		}
	}
	if at == len(s) {
		if k := s.prev(len(s)); s.punct(k, ";") {
			at = k
		} else {
			at = s.prev(len(s)) + 1
		}
	}
	ins := token{tokWord, text}
	if at < len(s) {
		ins.text += " "
		if at > 0 && s[at-1].kind == tokSpace {
			ins.text = strings.TrimPrefix(ins.text, " ")
		}
	}
	out := make(stmt, 0, len(s)+1)
	out = append(out, s[:at]...)
	out = append(out, ins)
	return append(out, s[at:]...)
}

// splitStatements splits a migration at its top-level ';'. Statements that
// are only space and comments are dropped.
func splitStatements(toks []token) []stmt {
	var out []stmt
	start := 0
	flush := func(end int) {
		s := stmt(toks[start:end])
		if s.next(0) < len(s) {
			out = append(out, s)
		}
	}
	for i, t := range toks {
		if t.kind == tokPunct && t.text == ";" {
			flush(i)
			start = i + 1
		}
	}
	flush(len(toks))
	return out
}

// pgMigration translates a migration written for SQLite into PostgreSQL
// statements, to run in order in one transaction.
func pgMigration(src string) ([]string, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	var out, fks []string
	for _, s := range splitStatements(toks) {
		i := s.next(0)
		var (
			r   stmt
			fk  []string
			err error
		)
		switch {
		case s.word(i, "CREATE") && s.word(s.next(i+1), "TABLE"):
			r, fk, err = pgCreateTable(s)
		case s.word(i, "CREATE") && (s.word(s.next(i+1), "TRIGGER") || s.word(s.next(i+1), "VIEW") ||
			s.word(s.next(i+1), "VIRTUAL")) ||
			s.word(i, "CREATE") && s.word(s.next(i+1), "TEMP") || s.word(i, "CREATE") && s.word(s.next(i+1), "TEMPORARY"):
			err = fmt.Errorf("CREATE %s: not portable to PostgreSQL", strings.ToUpper(s[s.next(i+1)].text))
		case s.word(i, "ALTER") && s.word(s.next(i+1), "TABLE"):
			r, err = pgAlterTable(s)
		default:
			r, err = pgDML(s)
		}
		if err != nil {
			return nil, fmt.Errorf("statement %q: %w", summary(s), err)
		}
		if r != nil {
			out = append(out, strings.TrimSpace(r.String()))
		}
		fks = append(fks, fk...)
	}
	return append(out, fks...), nil
}

// summary is the start of a statement, for errors.
func summary(s stmt) string {
	str := strings.Join(strings.Fields(s.String()), " ")
	if len(str) > 60 {
		str = str[:60] + "…"
	}
	return str
}

// pgType maps a SQLite column type (its first word, upper case) to the
// PostgreSQL type the store uses for it.
var pgType = map[string]string{
	"INTEGER":  "BIGINT",
	"INT":      "BIGINT",
	"BIGINT":   "BIGINT",
	"BOOLEAN":  "BIGINT",
	"BOOL":     "BIGINT",
	"REAL":     "DOUBLE PRECISION",
	"FLOAT":    "DOUBLE PRECISION",
	"DOUBLE":   "DOUBLE PRECISION",
	"BLOB":     "BYTEA",
	"TEXT":     "TEXT",
	"DATETIME": "TEXT",
	"NUMERIC":  "NUMERIC",
}

// pgCreateTable translates a CREATE TABLE: column types, the rowid alias,
// table options; its foreign keys are returned apart, as ALTER TABLE
// statements to run after the migration.
func pgCreateTable(s stmt) (stmt, []string, error) {
	open := -1
	for j := range s {
		if s.punct(j, "(") {
			open = j
			break
		}
	}
	if open < 0 {
		return nil, nil, errors.New("CREATE TABLE … AS SELECT: not portable: list the columns")
	}
	end := s.closing(open)
	if end < 0 {
		return nil, nil, errors.New("unbalanced parentheses")
	}
	name := s[s.prev(open)].text
	head, err := pgDML(s[:open+1])
	if err != nil {
		return nil, nil, err
	}
	// Table options after ')': WITHOUT ROWID, STRICT.
	for j := s.next(end + 1); j < len(s); j = s.next(j + 1) {
		if w := s[j].upper(); w != "WITHOUT" && w != "ROWID" && w != "STRICT" && !s.punct(j, ",") {
			return nil, nil, fmt.Errorf("table option %s: not portable", s[j].text)
		}
	}
	// Split the definitions at top-level commas.
	var defs []stmt
	depth, start := 0, open+1
	for j := open + 1; j <= end; j++ {
		switch {
		case s.punct(j, "("):
			depth++
		case s.punct(j, ")") && j < end:
			depth--
		case depth == 0 && (s.punct(j, ",") || j == end):
			defs = append(defs, s[start:j])
			start = j + 1
		}
	}
	var body []string
	var fks []string
	for _, d := range defs {
		i := d.next(0)
		if i == len(d) {
			continue
		}
		switch d[i].upper() {
		case "FOREIGN":
			r, err := pgDML(d)
			if err != nil {
				return nil, nil, err
			}
			fks = append(fks, fmt.Sprintf("ALTER TABLE %s ADD %s", name, deferrable(strings.TrimSpace(r.String()))))
			continue
		case "PRIMARY", "UNIQUE", "CHECK", "CONSTRAINT":
			r, err := pgDML(d)
			if err != nil {
				return nil, nil, err
			}
			body = append(body, r.String())
			continue
		}
		col, fk, err := pgColumn(d)
		if err != nil {
			return nil, nil, err
		}
		if fk != "" {
			fks = append(fks, fmt.Sprintf("ALTER TABLE %s ADD FOREIGN KEY (%s) %s", name, d[i].text, fk))
		}
		body = append(body, col)
	}
	out := append(stmt{}, head...)
	out = append(out, token{tokWord, strings.Join(body, ",")}, token{tokPunct, ")"})
	return out, fks, nil
}

// pgColumn translates one column definition. A REFERENCES clause is
// removed from it and returned, to be added once every table exists.
func pgColumn(d stmt) (col, fk string, err error) {
	i := d.next(0)
	out := stmt{d[i]}
	rest := d[i+1:]
	intPK := false
	if j := d.next(i + 1); j < len(d) && d[j].kind == tokWord {
		typ := d[j].upper()
		if mapped, ok := pgType[typ]; ok {
			intPK = typ == "INTEGER" && d.word(d.next(j+1), "PRIMARY")
			out = append(out, d[i+1:j]...)
			out = append(out, token{tokWord, mapped})
			if typ == "DOUBLE" && d.word(d.next(j+1), "PRECISION") {
				j = d.next(j + 1)
			}
			rest = d[j+1:]
		}
	}
	if k := indexWord(rest, "REFERENCES"); k >= 0 {
		e := fkEnd(rest, k)
		fkTok, err := pgDML(rest[k:e])
		if err != nil {
			return "", "", err
		}
		fk = deferrable(strings.TrimSpace(fkTok.String()))
		intPK = false // a key that is also a reference is given, never generated
		rest = append(append(stmt{}, rest[:k]...), rest[e:]...)
	}
	if k := indexWord(rest, "AUTOINCREMENT"); k >= 0 {
		rest = append(append(stmt{}, rest[:k]...), rest[k+1:]...)
	}
	r, err := pgDML(rest)
	if err != nil {
		return "", "", err
	}
	if intPK {
		out = append(out, token{tokWord, " GENERATED BY DEFAULT AS IDENTITY"})
	}
	out = append(out, r...)
	return out.String(), fk, nil
}

// fkEnd returns the index just past the foreign key clause starting with
// REFERENCES at k: the table, its columns, and any ON DELETE / ON UPDATE
// actions, MATCH and [NOT] DEFERRABLE [INITIALLY …].
func fkEnd(s stmt, k int) int {
	e := s.next(k+1) + 1 // the table
	if n := s.next(e); s.punct(n, "(") {
		e = s.closing(n) + 1
	}
	for {
		n := s.next(e)
		switch {
		case s.word(n, "ON") && (s.word(s.next(n+1), "DELETE") || s.word(s.next(n+1), "UPDATE")):
			a := s.next(s.next(n+1) + 1)
			switch {
			case s.word(a, "SET") || s.word(a, "NO"): // SET NULL, SET DEFAULT, NO ACTION
				e = s.next(a+1) + 1
			default: // CASCADE, RESTRICT
				e = a + 1
			}
		case s.word(n, "MATCH"):
			e = s.next(n+1) + 1
		case s.word(n, "NOT") && s.word(s.next(n+1), "DEFERRABLE"):
			e = s.next(n+1) + 1
		case s.word(n, "DEFERRABLE"):
			e = n + 1
		case s.word(n, "INITIALLY"):
			e = s.next(n+1) + 1
		default:
			return min(e, len(s))
		}
	}
}

// deferrable makes a foreign key clause DEFERRABLE INITIALLY IMMEDIATE
// unless it says otherwise: checked at each statement as SQLite does, and
// at commit in a transaction that asks (store copy inserts tables in any
// order).
func deferrable(fk string) string {
	if strings.Contains(strings.ToUpper(fk), "DEFERRABLE") {
		return fk
	}
	return fk + " DEFERRABLE INITIALLY IMMEDIATE"
}

// indexWord returns the index of the first token that is the keyword w.
func indexWord(s stmt, w string) int {
	for j := range s {
		if s.word(j, w) {
			return j
		}
	}
	return -1
}

// pgAlterTable translates ALTER TABLE: the type of an added column (its
// REFERENCES clause is kept: the table it names exists by then).
func pgAlterTable(s stmt) (stmt, error) {
	k := indexWord(s, "ADD")
	if k < 0 {
		return pgDML(s) // RENAME, DROP COLUMN: the same in both
	}
	c := s.next(k + 1)
	if s.word(c, "COLUMN") {
		c = s.next(c + 1)
	}
	if s.word(c, "CONSTRAINT") || s.word(c, "FOREIGN") || s.word(c, "PRIMARY") || s.word(c, "UNIQUE") || s.word(c, "CHECK") {
		return pgDML(s)
	}
	head, err := pgDML(s[:c])
	if err != nil {
		return nil, err
	}
	def := s[c:]
	col, fk, err := pgColumn(def)
	if err != nil {
		return nil, err
	}
	out := append(stmt{}, head...)
	out = append(out, token{tokWord, col})
	if fk != "" {
		out = append(out, token{tokWord, " " + fk})
	}
	return out, nil
}

// statementCache keeps the translation of each query text: the store's
// queries are constants, so it holds a few hundred entries at most.
var statementCache sync.Map // string → pgResult

type pgResult struct {
	q   string
	err error
}

// pgCached is pgStatement, remembered.
func pgCached(q string) (string, error) {
	if r, ok := statementCache.Load(q); ok {
		r := r.(pgResult)
		return r.q, r.err
	}
	t, err := pgStatement(q)
	if err != nil {
		err = fmt.Errorf("store: postgres: %w (in %q)", err, summary(mustLex(q)))
	}
	statementCache.Store(q, pgResult{t, err})
	return t, err
}

func mustLex(q string) stmt {
	t, err := lex(q)
	if err != nil {
		return stmt{{tokWord, q}}
	}
	return t
}
