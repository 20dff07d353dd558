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
	var (
		out    []Customer
		bad    ImportErrors
		seen   = map[string]int{} // customer number → line
		phones = map[string]int{}
		emails = map[string]int{}
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
		c := Customer{Number: get("number"), Name: get("name"), Contract: get("contract"), Notes: get("notes")}
		var msgs []string
		if c.Number == "" {
			msgs = append(msgs, "no customer number")
		} else if l, dup := seen[c.Number]; dup {
			msgs = append(msgs, fmt.Sprintf("customer %s is already on line %d", c.Number, l))
		}
		seen[c.Number] = line
		if c.Name == "" {
			msgs = append(msgs, "no name")
		}
		if l := get("language"); l != "" {
			if c.Language, err = ParseLanguage(l); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		if c.Contract == "" || !known(c.Contract) {
			msgs = append(msgs, fmt.Sprintf("contract %q is not in the configuration", c.Contract))
		}
		for _, p := range splitList(get("phones")) {
			e, err := NormalizePhone(p, region)
			if err != nil {
				msgs = append(msgs, err.Error())
				continue
			}
			if l, dup := phones[e]; dup {
				msgs = append(msgs, fmt.Sprintf("phone %s is already on line %d", e, l))
			}
			phones[e] = line
			c.Phones = append(c.Phones, e)
		}
		for _, a := range splitList(get("emails")) {
			e, err := NormalizeEmail(a)
			if err != nil {
				msgs = append(msgs, err.Error())
				continue
			}
			if l, dup := emails[e]; dup {
				msgs = append(msgs, fmt.Sprintf("email %s is already on line %d", e, l))
			}
			emails[e] = line
			c.Emails = append(c.Emails, e)
		}
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
