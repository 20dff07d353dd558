package customers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// RowError is a bad row of an import file.
type RowError struct {
	Line int
	Msg  string
}

// ImportErrors lists every bad row of an import file.
type ImportErrors []RowError

func (e ImportErrors) Error() string {
	var b strings.Builder
	for i, r := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "line %d: %s", r.Line, r.Msg)
	}
	return b.String()
}

// ParseCSV reads customers from CSV with the header
// number,name,phones,contract and, optionally, emails, notes and language
// columns (in any order; language is fr or en, empty for the desk's
// default). Phones and emails are separated by ';'. Every bad row is
// reported, with its line, in an ImportErrors; then no customer is
// returned, so that nothing is half-imported. known says whether a
// contract exists.
func ParseCSV(r io.Reader, region string, known func(contract string) bool) ([]Customer, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	col, err := readHeader(cr)
	if err != nil {
		return nil, err
	}
	var (
		out []Customer
		bad ImportErrors
		rs  = rowChecker{region: region, known: known, seen: map[string]int{}, phones: map[string]int{}, emails: map[string]int{}}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{pe.Line, pe.Err.Error()})
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					continue
				}
				break
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0) // only after a record was read
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c, msgs := rs.check(line, get)
		if len(msgs) > 0 {
			bad = append(bad, RowError{line, strings.Join(msgs, "; ")})
			continue
		}
		out = append(out, c)
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return out, nil
}

// readHeader reads the header line: the column of each name, lower case;
// the four required columns must be there.
func readHeader(cr *csv.Reader) (map[string]int, error) {
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"number", "name", "phones", "contract"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("line 1: the header must name the columns number,name,phones,contract (optional: emails,notes,language); %q is missing", need)
		}
	}
	return col, nil
}

// rowChecker checks rows one after the other: what each row says, and
// that no customer number, phone or email is on two lines.
type rowChecker struct {
	region               string
	known                func(contract string) bool
	seen, phones, emails map[string]int // customer number, phone, email → line
}

// check reads the row on line (get gives a column's value) into a
// customer; msgs says everything wrong with it.
func (rs *rowChecker) check(line int, get func(string) string) (c Customer, msgs []string) {
	c = Customer{Number: get("number"), Name: get("name"), Contract: get("contract"), Notes: get("notes")}
	if c.Number == "" {
		msgs = append(msgs, "no customer number")
	} else if l, dup := rs.seen[c.Number]; dup {
		msgs = append(msgs, fmt.Sprintf("customer %s is already on line %d", c.Number, l))
	}
	rs.seen[c.Number] = line
	if c.Name == "" {
		msgs = append(msgs, "no name")
	}
	if l := get("language"); l != "" {
		var err error
		if c.Language, err = ParseLanguage(l); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if c.Contract == "" || !rs.known(c.Contract) {
		msgs = append(msgs, fmt.Sprintf("contract %q is not in the configuration", c.Contract))
	}
	for _, p := range splitList(get("phones")) {
		e, err := NormalizePhone(p, rs.region)
		if err != nil {
			msgs = append(msgs, err.Error())
			continue
		}
		if l, dup := rs.phones[e]; dup {
			msgs = append(msgs, fmt.Sprintf("phone %s is already on line %d", e, l))
		}
		rs.phones[e] = line
		c.Phones = append(c.Phones, e)
	}
	for _, a := range splitList(get("emails")) {
		e, err := NormalizeEmail(a)
		if err != nil {
			msgs = append(msgs, err.Error())
			continue
		}
		if l, dup := rs.emails[e]; dup {
			msgs = append(msgs, fmt.Sprintf("email %s is already on line %d", e, l))
		}
		rs.emails[e] = line
		c.Emails = append(c.Emails, e)
	}
	return c, msgs
}

// splitList splits "a; b;;c" into a, b, c.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
