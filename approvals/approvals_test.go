package approvals

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailer/mailertest"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// fixture: a real SQLite file, a real SMTP server, two customers under the
// "tickets" contract (units of one hour, the customer's confirmation
// needed past 2 units): C001 writes in French (the desk's default), C002
// in English (its record says so).
type fixture struct {
	db   *store.DB
	sink *mailertest.Sink
	svc  *Service
	led  *tickets.Ledger
	fr   astreinte.Ticket // C001's
	en   astreinte.Ticket // C002's
	now  time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, sink: mailertest.Start(t), now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return f.now }
	for _, c := range []customers.Customer{
		{Number: "C001", Name: "Mairie", Contract: "tickets", Emails: []string{"dsi@mairie.test", "maire@mairie.test"}},
		{Number: "C002", Name: "Polls Ltd", Contract: "tickets", Emails: []string{"it@polls.test"}, Language: lang.EN},
	} {
		if err := db.AddCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dir := &customers.Directory{Store: db, Region: "FR", Contracts: map[string]customers.Contract{
		"tickets": {Name: "tickets", ConfirmAbove: 2, Billing: billing.Policy{Mode: billing.Units, Rate: 9000, Unit: time.Hour, VAT: 2000}}}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := tickets.New(db, cal, tickets.Options{DefaultLine: "support", Now: func() time.Time { return f.now }, Customers: dir, Log: log})
	f.led = tickets.NewLedger(ts, db)
	f.svc = &Service{Ledger: f.led, Store: db, Quotes: db, Customers: db, BaseURL: "https://support.test",
		Mail: &mailer.Config{Addr: f.sink.Addr, From: "Support <support@desk.test>", TLS: mailer.TLSNone}, Log: log}
	for _, c := range []string{"C001", "C002"} {
		tk, err := ts.FromSpace(ctx, db, tickets.Request{Customer: c, Contact: "x@test", Subject: "Migration"}, "", astreinte.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		if c == "C001" {
			f.fr = tk
		} else {
			f.en = tk
		}
	}
	return f
}

// mail waits for the n-th message and decodes it.
func (f *fixture) mail(t *testing.T, n int) (mailin.Message, mailertest.Received) {
	t.Helper()
	ms := f.sink.Wait(n, 5*time.Second)
	if len(ms) < n {
		t.Fatalf("%d mail(s), want %d", len(ms), n)
	}
	m, err := mailin.Parse(strings.NewReader(string(ms[n-1].Data)))
	if err != nil {
		t.Fatal(err)
	}
	return m, ms[n-1]
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: no %q in:\n%s", what, sub, s)
		}
	}
}

// TestProposeAndAccept: the quote reaches every contact of the customer in
// its language with the link to the ticket in the space; a contact's
// acceptance is recorded with who and when, on the timeline too; a second
// answer is refused.
func TestProposeAndAccept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.ProposeQuote(ctx, f.fr, store.Quote{AmountHT: 48000, Description: "  Migration du serveur de messagerie  ", SetBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	m, raw := f.mail(t, 1)
	if got := strings.Join(raw.To, ","); got != "dsi@mairie.test,maire@mairie.test" {
		t.Errorf("quote mailed to %s", got)
	}
	if m.Subject != "["+f.fr.Number+"] Devis à accepter" || m.Language != "fr" {
		t.Errorf("French quote: subject %q, language %q", m.Subject, m.Language)
	}
	mustContain(t, "French quote", m.Text, "au plus 480,00\u202f€ HT", "Migration du serveur de messagerie",
		"https://support.test/client/tickets/"+f.fr.Number)

	p, err := f.svc.Of(ctx, f.fr.ID)
	if err != nil || p.Quote == nil || p.Quote.State != store.QuoteProposed || p.Quote.SetBy != "alice" ||
		p.Quote.Description != "Migration du serveur de messagerie" || p.Confirmation != nil {
		t.Fatalf("pending: %+v %v", p.Quote, err)
	}

	f.now = f.now.Add(time.Hour)
	if err := f.svc.DecideQuote(ctx, f.fr, true, "maire@mairie.test"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Of(ctx, f.fr.ID)
	if q := p.Quote; q.State != store.QuoteAccepted || q.DecidedBy != "maire@mairie.test" || !q.DecidedAt.Equal(f.now) {
		t.Fatalf("accepted: %+v", q)
	}
	evs, err := f.db.Timeline(ctx, f.fr.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != astreinte.EventQuote || last.Actor != "maire@mairie.test" || !strings.Contains(last.Detail, "accepted") {
		t.Errorf("timeline: %+v", last)
	}

	// Answered already: neither a second acceptance nor a refusal.
	for _, accept := range []bool{true, false} {
		if err := f.svc.DecideQuote(ctx, f.fr, accept, "dsi@mairie.test"); !errors.Is(err, astreinte.ErrNotFound) {
			t.Errorf("second answer (accept %v): %v", accept, err)
		}
	}
	// An accepted quote does not change.
	if err := f.svc.ProposeQuote(ctx, f.fr, store.Quote{AmountHT: 100, SetBy: "alice"}); !errors.Is(err, store.ErrQuoteAccepted) {
		t.Errorf("new quote over an accepted one: %v", err)
	}
}

// TestRefuseInEnglish: a customer whose record says English gets the
// quote and the confirmation in English; a refusal is recorded with who
// and when, and a refused quote may be proposed again.
func TestRefuseInEnglish(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.ProposeQuote(ctx, f.en, store.Quote{Duration: 3 * time.Hour, SetBy: "bob"}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.mail(t, 1)
	if m.Subject != "["+f.en.Number+"] Quote to accept" || m.Language != "en" {
		t.Errorf("English quote: subject %q, language %q", m.Subject, m.Language)
	}
	mustContain(t, "English quote", m.Text, "A quote is proposed for ticket "+f.en.Number, "estimated time: 3 h", "Accept or refuse it")

	if err := f.svc.DecideQuote(ctx, f.en, false, "IT@polls.test"); err != nil {
		t.Fatal(err)
	}
	p, _ := f.svc.Of(ctx, f.en.ID)
	if p.Quote.State != store.QuoteRefused || p.Quote.DecidedBy != "IT@polls.test" {
		t.Fatalf("refused: %+v", p.Quote)
	}
	if err := f.svc.ProposeQuote(ctx, f.en, store.Quote{AmountHT: 20000, Flat: true, SetBy: "bob"}); err != nil {
		t.Fatalf("a new quote after a refusal: %v", err)
	}
	m, _ = f.mail(t, 2)
	mustContain(t, "second quote", m.Text, "€200.00 excl. VAT, fixed price")

	if err := f.svc.AskConfirmation(ctx, f.en, 4, "Rebuild the RAID array", "bob"); err != nil {
		t.Fatal(err)
	}
	m, _ = f.mail(t, 3)
	if m.Subject != "["+f.en.Number+"] Intervention to confirm" {
		t.Errorf("English confirmation: %q", m.Subject)
	}
	mustContain(t, "English confirmation", m.Text, "up to 4 ticket(s)", "Rebuild the RAID array", "It starts only once you confirm it")
	if err := f.svc.DecideConfirmation(ctx, f.en, false, "it@polls.test"); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Of(ctx, f.en.ID)
	if c := p.Confirmation; c.State != store.ConfirmationRefused || c.DecidedBy != "it@polls.test" || c.Units != 4 {
		t.Fatalf("confirmation refused: %+v", c)
	}
	if u, _ := f.led.Usage(ctx, f.en); !u.Confirmed.At.IsZero() {
		t.Error("a refusal confirmed the ticket")
	}
}

// TestConfirmationBeforeWork: past the contract's threshold the work log
// refuses the work until the customer confirms in the space; the ask is
// mailed in French; confirmed, the work is logged; a second answer and a
// new ask are refused.
func TestConfirmationBeforeWork(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.led.AddWork(ctx, f.fr, 2*time.Hour, "alice", "diagnostic"); err != nil {
		t.Fatalf("work within the threshold: %v", err)
	}
	if _, err := f.led.AddWork(ctx, f.fr, 30*time.Minute, "alice", "migration"); !errors.Is(err, tickets.ErrNeedsConfirmation) {
		t.Fatalf("work past the threshold before confirmation: %v", err)
	}
	for _, bad := range []struct {
		units int64
		what  string
	}{{0, "migration"}, {3, "   "}} {
		if err := f.svc.AskConfirmation(ctx, f.fr, bad.units, bad.what, "alice"); !errors.Is(err, ErrBadConfirmation) {
			t.Errorf("ask %d %q: %v", bad.units, bad.what, err)
		}
	}
	if err := f.svc.AskConfirmation(ctx, f.fr, 4, "Migration des boîtes aux lettres", "alice"); err != nil {
		t.Fatal(err)
	}
	m, _ := f.mail(t, 1)
	if m.Subject != "["+f.fr.Number+"] Intervention à confirmer" {
		t.Errorf("French confirmation: %q", m.Subject)
	}
	mustContain(t, "French confirmation", m.Text, "jusqu'à 4 ticket(s)", "Migration des boîtes aux lettres",
		"qu'après votre confirmation", "https://support.test/client/tickets/"+f.fr.Number)
	// Asked is not confirmed: the work log still refuses.
	if _, err := f.led.AddWork(ctx, f.fr, 30*time.Minute, "alice", "migration"); !errors.Is(err, tickets.ErrNeedsConfirmation) {
		t.Fatalf("work past the threshold while the confirmation waits: %v", err)
	}

	f.now = f.now.Add(20 * time.Minute)
	if err := f.svc.DecideConfirmation(ctx, f.fr, true, "dsi@mairie.test"); err != nil {
		t.Fatal(err)
	}
	p, _ := f.svc.Of(ctx, f.fr.ID)
	if c := p.Confirmation; c.State != store.ConfirmationConfirmed || c.DecidedBy != "dsi@mairie.test" || !c.DecidedAt.Equal(f.now) || c.AskedBy != "alice" {
		t.Fatalf("confirmed: %+v", c)
	}
	if _, err := f.led.AddWork(ctx, f.fr, 30*time.Minute, "alice", "migration"); err != nil {
		t.Fatalf("work after the confirmation: %v", err)
	}
	if err := f.svc.DecideConfirmation(ctx, f.fr, false, "dsi@mairie.test"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("second answer: %v", err)
	}
	if err := f.svc.AskConfirmation(ctx, f.fr, 6, "more", "alice"); !errors.Is(err, store.ErrAlreadyConfirmed) {
		t.Errorf("ask again once confirmed: %v", err)
	}
	evs, _ := f.db.Timeline(ctx, f.fr.ID)
	var confirmed bool
	for _, e := range evs {
		if e.Kind == astreinte.EventConfirmed && e.Actor == "dsi@mairie.test" && strings.Contains(e.Detail, "confirmed the intervention (up to 4 unit(s))") {
			confirmed = true
		}
	}
	if !confirmed {
		t.Errorf("no confirmation on the timeline: %+v", evs)
	}
}

// TestAnotherCustomersContact: an address of another customer, or of
// nobody, cannot answer; nothing is recorded.
func TestAnotherCustomersContact(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.ProposeQuote(ctx, f.fr, store.Quote{AmountHT: 1000, SetBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AskConfirmation(ctx, f.fr, 3, "migration", "alice"); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"it@polls.test", "stranger@example.org", ""} {
		if err := f.svc.DecideQuote(ctx, f.fr, true, by); !errors.Is(err, ErrNotContact) {
			t.Errorf("quote accepted by %q: %v", by, err)
		}
		if err := f.svc.DecideConfirmation(ctx, f.fr, true, by); !errors.Is(err, ErrNotContact) {
			t.Errorf("confirmation by %q: %v", by, err)
		}
	}
	p, _ := f.svc.Of(ctx, f.fr.ID)
	if p.Quote.State != store.QuoteProposed || p.Confirmation.State != store.ConfirmationAsked {
		t.Fatalf("another customer's answer was recorded: %+v %+v", p.Quote, p.Confirmation)
	}
}

// TestNobodyToAsk: a ticket without a customer asks nobody; a customer
// without an address has the ask recorded but not mailed; an SMTP server
// that is down leaves the ask recorded with ErrNotSent.
func TestNobodyToAsk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.ProposeQuote(ctx, astreinte.Ticket{ID: f.fr.ID, Number: f.fr.Number}, store.Quote{AmountHT: 100}); !errors.Is(err, ErrNoCustomer) {
		t.Errorf("no customer: %v", err)
	}
	if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C002", Name: "Polls Ltd", Contract: "tickets"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AskConfirmation(ctx, f.en, 3, "migration", "bob"); !errors.Is(err, ErrNoContact) || !errors.Is(err, ErrNotSent) {
		t.Errorf("no address: %v", err)
	}
	if p, _ := f.svc.Of(ctx, f.en.ID); p.Confirmation == nil || p.Confirmation.State != store.ConfirmationAsked {
		t.Errorf("ask without an address not recorded: %+v", p.Confirmation)
	}
	f.svc.Mail = &mailer.Config{Addr: "127.0.0.1:1", From: "support@desk.test", TLS: mailer.TLSNone, Timeout: 2 * time.Second}
	if err := f.svc.ProposeQuote(ctx, f.fr, store.Quote{AmountHT: 100, SetBy: "alice"}); !errors.Is(err, ErrNotSent) {
		t.Errorf("SMTP down: %v", err)
	}
	if p, _ := f.svc.Of(ctx, f.fr.ID); p.Quote == nil || p.Quote.State != store.QuoteProposed {
		t.Errorf("quote not recorded when the mail failed: %+v", p.Quote)
	}
	if n := len(f.sink.Messages()); n != 0 {
		t.Errorf("%d mail(s) sent", n)
	}
}
