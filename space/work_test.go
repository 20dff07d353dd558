package space

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/lang"
)

// visible is a page's text as a reader sees it: no tags, entities read.
func visible(page string) string {
	page = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`).ReplaceAllString(page, " ")
	page = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")
	// Runs of ASCII blanks only: the narrow no-break space of French
	// amounts ("180,00\u202f€") is kept.
	return strings.TrimSpace(regexp.MustCompile(`[ \t\r\n]+`).ReplaceAllString(html.UnescapeString(page), " "))
}

// TestWorkAndStatement: the work technicians log through the ledger (as
// the technicians' pages and the CLI do) is on the customer's ticket page
// entry by entry, and /client/statements/2026-11 (page and API) shows the
// very cents of Ledger.Statement for that month, work of December left
// out; another month has its own statement.
func TestWorkAndStatement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.richTicket(t, "C001")
	other := f.tkts["C001"]
	for _, w := range []struct {
		tk   int // 0: r.T, 1: other
		at   time.Time
		d    time.Duration
		note string
	}{
		{0, time.Date(2026, 11, 24, 11, 0, 0, 0, f.now.Location()), 40 * time.Minute, "quota restored"},
		{0, time.Date(2026, 11, 25, 9, 0, 0, 0, f.now.Location()), 25 * time.Minute, "backup checked"},
		{1, time.Date(2026, 11, 26, 15, 0, 0, 0, f.now.Location()), 10 * time.Minute, "password reset"},
		{1, time.Date(2026, 12, 1, 9, 30, 0, 0, f.now.Location()), 50 * time.Minute, "december work"},
	} {
		*f.now = w.at
		tk := r.T
		if w.tk == 1 {
			tk = other
		}
		if _, err := f.ledger.AddWork(ctx, tk, w.d, "alice", w.note); err != nil {
			t.Fatal(err)
		}
	}
	c := f.signIn(t, "admin@heberge.test")

	_, page := get(t, c, f.srv.URL+"/client/tickets/"+r.T.Number)
	text := visible(page)
	for _, want := range []string{"mar. 24 nov. 2026 à 11:00 40 min — quota restored", "mer. 25 nov. 2026 à 09:00 25 min — backup checked",
		"Total : 1 h 05 (3 × 30 min)"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "password reset") {
		t.Error("another ticket's work on the ticket page")
	}

	loc := f.now.Location()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, loc)
	st, err := f.ledger.Statement(ctx, "C001", from, from.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	// 65 min is three started half-hours, 10 min one: 4 × 45.00 € HT.
	if st.HT != 4*4500 || st.TTC != st.HT+st.VAT || len(st.Lines) != 2 {
		t.Fatalf("the ledger's statement: %+v", st)
	}
	code, page := get(t, c, f.srv.URL+"/client/statements/2026-11")
	text = visible(page)
	if code != 200 {
		t.Fatalf("statement: %d", code)
	}
	fr := lang.FR
	for _, want := range []string{"Relevé — novembre 2026", "Total 1 h 15 " + fr.Money(st.HT) + " " + fr.Money(st.VAT) + " " + fr.Money(st.TTC),
		"180,00\u202f€", "216,00\u202f€"} {
		if !strings.Contains(text, want) {
			t.Errorf("statement page lacks %q:\n%s", want, text)
		}
	}
	for _, ln := range st.Lines {
		if want := ln.Ticket.Number + " " + fr.Duration(ln.Worked); !strings.Contains(text, want) || !strings.Contains(text, fr.Money(ln.TTC)) {
			t.Errorf("statement page lacks the line %q %s:\n%s", want, fr.Money(ln.TTC), text)
		}
	}
	if strings.Contains(text, "50 min") {
		t.Errorf("December's work on November's statement:\n%s", text)
	}

	resp, b := getRaw(t, c, f.srv.URL+"/client/api/statements/2026-11")
	var out struct {
		Lines []struct {
			Ticket string
			Worked int64 `json:"worked_seconds"`
			HTc    int64 `json:"ht_cents"`
			VATc   int64 `json:"vat_cents"`
			TTCc   int64 `json:"ttc_cents"`
			Units  int64 `json:"units"`
		}
		HT  int64 `json:"ht_cents"`
		VAT int64 `json:"vat_cents"`
		TTC int64 `json:"ttc_cents"`
	}
	if err := json.Unmarshal(b, &out); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("API statement: %d %v\n%s", resp.StatusCode, err, b)
	}
	if out.HT != st.HT || out.VAT != st.VAT || out.TTC != st.TTC || len(out.Lines) != len(st.Lines) {
		t.Fatalf("API statement %+v, ledger %+v", out, st)
	}
	for i, ln := range st.Lines {
		o := out.Lines[i]
		if o.Ticket != ln.Ticket.Number || o.HTc != ln.HT || o.VATc != ln.VAT || o.TTCc != ln.TTC || o.Worked != int64(ln.Worked/time.Second) {
			t.Errorf("API line %d %+v, ledger %+v", i, o, ln)
		}
	}

	// December: its own statement, listed with November's.
	dec, _ := f.ledger.Statement(ctx, "C001", from.AddDate(0, 1, 0), from.AddDate(0, 2, 0))
	if _, page := get(t, c, f.srv.URL+"/client/statements/2026-12"); dec.HT != 4500 || !strings.Contains(visible(page), "Total 50 min "+fr.Money(dec.HT)) {
		t.Errorf("December: %+v\n%s", dec, visible(page))
	}
	if _, page := get(t, c, f.srv.URL+"/client/statements"); !strings.Contains(page, `href="/client/statements/2026-12"`) ||
		!strings.Contains(page, `href="/client/statements/2026-11"`) {
		t.Errorf("statements list:\n%s", visible(page))
	}
}
