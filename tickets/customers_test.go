package tickets

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/store"
)

// The two agreements as contracts (the second's price per ticket is ours:
// the agreement states none).
var testContracts = map[string]customers.Contract{
	"isp": {Name: "isp", OnCall: true,
		Billing: billing.Policy{Mode: billing.Hourly, Rate: 6000, Unit: 30 * time.Minute, VAT: 1960, QuoteCap: true, QuoteRequired: true}},
	"tickets": {Name: "tickets", OnCall: false,
		Billing:  billing.Policy{Mode: billing.Units, Rate: 9000, Unit: time.Hour, VAT: 2000},
		Due:      map[astreinte.Channel]int{astreinte.ChannelPhone: 3, astreinte.ChannelEmail: 2},
		Warranty: 7 * 24 * time.Hour, ConfirmAbove: 2},
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newContractService is the service with customers C001 (isp, on-call)
// and C002 (tickets), on a real SQLite file, on Tuesday 1 December 2026
// at 22:00 (out of hours).
func newContractService(t *testing.T, unidentifiedOnCall bool) (*Service, *store.DB, *clock) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{pt("2026-12-01 22:00")}
	db.Now = clk.now
	ctx := context.Background()
	for _, c := range []customers.Customer{
		{Number: "C001", Name: "Hébergé SARL", Contract: "isp", Phones: []string{"+33612345678"}},
		{Number: "C002", Name: "Sondages & Co", Contract: "tickets", Phones: []string{"+33698765432"}, Emails: []string{"client@sondages.test"}},
	} {
		if err := db.AddCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	dir := &customers.Directory{Store: db, Contracts: testContracts, Region: "FR", UnidentifiedOnCall: unidentifiedOnCall}
	svc := New(db, cal, Options{Lines: map[string]Policy{"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent}},
		DefaultLine: "support", Now: clk.now, Customers: dir})
	return svc, db, clk
}

// TestCreateFollowsTheContract: the caller ID (in any national or
// international form) is matched to a customer; only a contract with
// on-call wakes a technician; due times follow the contract and the
// channel.
func TestCreateFollowsTheContract(t *testing.T) {
	for _, tc := range []struct {
		name               string
		unidentifiedOnCall bool
		channel            astreinte.Channel
		from               string
		urgency            astreinte.Urgency
		customer, contract string
		pages              bool
		due                string
	}{
		{"isp customer, urgent at night: pages, due at once", false, astreinte.ChannelPhone, "0612345678", astreinte.Urgent, "C001", "isp", true, "2026-12-01 22:00"},
		{"isp customer in international form", false, astreinte.ChannelPhone, "+33 6 12 34 56 78", astreinte.Urgent, "C001", "isp", true, "2026-12-01 22:00"},
		{"isp customer, not urgent: the line does not page", false, astreinte.ChannelPhone, "0033612345678", astreinte.NotUrgent, "C001", "isp", false, "2026-12-04 18:00"},
		{"tickets customer, urgent at night: no on-call, phone due in 3 business days", false, astreinte.ChannelPhone, "0698765432", astreinte.Urgent, "C002", "tickets", false, "2026-12-04 18:00"},
		{"unidentified, urgent: no page, called back when support opens", false, astreinte.ChannelPhone, "0611111111", astreinte.Urgent, "", "", false, "2026-12-02 09:00"},
		{"hidden number, urgent: unidentified", false, astreinte.ChannelPhone, "anonymous", astreinte.Urgent, "", "", false, "2026-12-02 09:00"},
		{"unidentified with on-call for them: pages", true, astreinte.ChannelPhone, "0611111111", astreinte.Urgent, "", "", true, "2026-12-01 22:00"},
		{"tickets customer by email: due in 2 business days, never pages", false, astreinte.ChannelEmail, "Client@Sondages.test", astreinte.Urgent, "C002", "tickets", false, "2026-12-03 18:00"},
		{"unknown sender by email: the line's normal due time", false, astreinte.ChannelEmail, "x@example.com", astreinte.NotUrgent, "", "", false, "2026-12-04 18:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, db, _ := newContractService(t, tc.unidentifiedOnCall)
			var heard []Change
			svc.Subscribe(func(c Change) { heard = append(heard, c) })
			tk := &astreinte.Ticket{Line: "support", Channel: tc.channel, CallerNumber: tc.from, Urgency: tc.urgency, Case: astreinte.CaseOutOfHours}
			if err := svc.Create(context.Background(), tk); err != nil {
				t.Fatal(err)
			}
			got, err := db.TicketByID(context.Background(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Customer != tc.customer || got.Contract != tc.contract || !got.Unverified || got.Channel != tc.channel {
				t.Errorf("stored ticket: customer %q contract %q unverified %v channel %q; want %q %q true %q",
					got.Customer, got.Contract, got.Unverified, got.Channel, tc.customer, tc.contract, tc.channel)
			}
			if len(heard) != 1 || heard[0].Paging != tc.pages || tk.Paged != tc.pages {
				t.Errorf("paging %+v, want %v", heard, tc.pages)
			}
			_, err = db.PageByTicket(context.Background(), tk.ID)
			if (err == nil) != tc.pages {
				t.Errorf("page row: %v, want one: %v", err, tc.pages)
			}
			if !got.DueAt.Equal(pt(tc.due)) {
				t.Errorf("due %s, want %s", got.DueAt.In(paris).Format("Mon 2006-01-02 15:04"), tc.due)
			}
			// Preview tells the same before anything is stored.
			pre := &astreinte.Ticket{Line: "support", Channel: tc.channel, CallerNumber: tc.from, Urgency: tc.urgency,
				Case: astreinte.CaseOutOfHours, CreatedAt: got.CreatedAt}
			if pages := svc.Preview(context.Background(), pre); pages != tc.pages || !pre.DueAt.Equal(got.DueAt) || pre.Customer != tc.customer {
				t.Errorf("Preview: pages %v due %s customer %q; Create: %v %s %q", pages, pre.DueAt, pre.Customer, tc.pages, got.DueAt, got.Customer)
			}
		})
	}
}

// TestTypedCustomerNumber: a customer number typed on the keypad names the
// customer (and its contract) whatever the caller ID; an unknown one is
// dropped and the caller ID tried.
func TestTypedCustomerNumber(t *testing.T) {
	svc, _, _ := newContractService(t, false)
	ctx := context.Background()
	if c, err := svc.CustomerByNumber(ctx, "C001"); err != nil || c.Contract != "isp" {
		t.Fatalf("CustomerByNumber: %+v, %v", c, err)
	}
	if _, err := svc.CustomerByNumber(ctx, "C999"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("unknown number: %v", err)
	}
	typed := &astreinte.Ticket{Line: "support", Customer: "C001", CallerNumber: "0611111111", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours}
	if err := svc.Create(ctx, typed); err != nil {
		t.Fatal(err)
	}
	if typed.Customer != "C001" || typed.Contract != "isp" || !typed.Paged {
		t.Errorf("typed C001 from an unknown phone: %+v; want isp, paged", typed)
	}
	wrong := &astreinte.Ticket{Line: "support", Customer: "C999", CallerNumber: "0698765432", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours}
	if err := svc.Create(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	if wrong.Customer != "C002" || wrong.Contract != "tickets" || wrong.Paged {
		t.Errorf("unknown typed number from C002's phone: %+v; want C002 by caller ID, not paged", wrong)
	}
	plain, _ := newService(t, nil)
	if _, err := plain.CustomerByNumber(ctx, "C001"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("without customers: %v", err)
	}
}

// TestWithoutCustomersLinesDecide: with no customer directory, every
// caller is treated as the line says (the behaviour before contracts), and
// phone tickets are still unverified.
func TestWithoutCustomersLinesDecide(t *testing.T) {
	svc, db := newService(t, map[string]Policy{"support": {DueNormal: 3, Page: astreinte.PageUrgent}})
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "0611111111", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours}
	if err := svc.Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PageByTicket(context.Background(), tk.ID); err != nil {
		t.Errorf("an urgent call pages without contracts: %v", err)
	}
	if got, _ := db.TicketByID(context.Background(), tk.ID); !got.Unverified || got.Channel != astreinte.ChannelPhone {
		t.Errorf("phone ticket: %+v; want unverified, channel phone", got)
	}
}

// TestLedgerTicketsContract is the second agreement: each started hour is
// a ticket, more than two tickets needs the customer's confirmation, a
// reopening within the week's warranty is not billed again.
func TestLedgerTicketsContract(t *testing.T) {
	svc, db, clk := newContractService(t, false)
	ctx := context.Background()
	l := NewLedger(svc, db)
	tk := &astreinte.Ticket{Line: "support", Channel: astreinte.ChannelEmail, CallerNumber: "client@sondages.test", Urgency: astreinte.NotUrgent}
	if err := svc.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	clk.t = pt("2026-12-02 10:00")
	u, err := l.AddWork(ctx, *tk, 61*time.Minute, "alice", "quota setup")
	if err != nil || u.Units != 2 || u.Total != 61*time.Minute {
		t.Fatalf("61 min: %+v, %v; want 2 units", u, err)
	}
	if _, err := l.AddWork(ctx, *tk, 59*time.Minute, "alice", ""); err != nil {
		t.Fatalf("up to two tickets (120 min) needs no confirmation: %v", err)
	}
	_, err = l.AddWork(ctx, *tk, time.Minute, "alice", "")
	if !errors.Is(err, ErrNeedsConfirmation) || !strings.Contains(err.Error(), "tickets confirm "+tk.Number) {
		t.Fatalf("a third ticket without confirmation: %v; want ErrNeedsConfirmation naming the command", err)
	}
	if err := l.Confirm(ctx, *tk, "alice", "email of 2 Dec"); err != nil {
		t.Fatal(err)
	}
	if u, err = l.AddWork(ctx, *tk, time.Minute, "alice", ""); err != nil || u.Units != 3 {
		t.Fatalf("after confirmation: %+v, %v", u, err)
	}
	clk.t = pt("2026-12-03 10:00")
	if err := svc.Resolve(ctx, tk.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	// The customer writes back 5 days later: same ticket, reopened, fixed free.
	clk.t = pt("2026-12-08 10:00")
	got, made, err := svc.FromEmail(ctx, Email{From: "client@sondages.test", Subject: "Re: [" + tk.Number + "] toujours cassé", Ref: tk.Number}, "", astreinte.CaseOpen)
	if err != nil || made || got.ID != tk.ID || got.Status != astreinte.StatusNew {
		t.Fatalf("reply: %+v made=%v err=%v; want the same ticket reopened", got, made, err)
	}
	clk.t = pt("2026-12-08 11:00")
	if _, err := l.AddWork(ctx, *tk, 45*time.Minute, "bob", "fix again"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Statement(ctx, "C002", pt("2026-12-01 00:00"), pt("2027-01-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lines) != 1 {
		t.Fatalf("statement lines: %+v", st.Lines)
	}
	ln := st.Lines[0]
	if ln.Units != 3 || ln.Warranty != 45*time.Minute || ln.Worked != 121*time.Minute || ln.HT != 27000 || ln.VAT != 5400 || ln.TTC != 32400 {
		t.Errorf("statement line %+v: want 3 units (270.00 HT, 54.00 VAT, 324.00 TTC), 45 min under warranty", ln.Line)
	}
	if st.HT != 27000 || st.TTC != 32400 {
		t.Errorf("totals HT %d TTC %d", st.HT, st.TTC)
	}
	// Nothing in November.
	if st, _ := l.Statement(ctx, "C002", pt("2026-11-01 00:00"), pt("2026-12-01 00:00")); len(st.Lines) != 0 {
		t.Errorf("November: %+v", st.Lines)
	}
}

// TestLedgerISPContract is the first agreement: work that costs is quoted
// (the rest is free support); 60 € HT an hour, every started half-hour
// due, never more than the accepted quote, the actual time when below; or
// the quote's fixed price.
func TestLedgerISPContract(t *testing.T) {
	svc, db, clk := newContractService(t, false)
	ctx := context.Background()
	l := NewLedger(svc, db)
	mk := func() *astreinte.Ticket {
		tk := &astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Urgency: astreinte.Urgent}
		if err := svc.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	over, under, plain, free, flat, refused, waived := mk(), mk(), mk(), mk(), mk(), mk(), mk()
	clk.t = pt("2026-12-02 10:00")
	for _, q := range []struct {
		tk     *astreinte.Ticket
		amount int64
		d      time.Duration
		flat   bool
	}{{over, 0, time.Hour, false}, {under, 24000, 0, false}, {plain, 10000, 0, false}, {flat, 15000, 0, true}, {refused, 5000, 0, false},
		{waived, 0, 2 * time.Hour, false}} {
		if err := l.SetQuote(ctx, *q.tk, q.amount, q.d, q.flat, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := l.DecideQuote(ctx, *q.tk, q.tk != refused, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SetQuote(ctx, *over, 100, 0, false, "alice"); !errors.Is(err, store.ErrQuoteAccepted) {
		t.Errorf("an accepted quote was changed: %v", err)
	}
	for _, w := range []struct {
		tk *astreinte.Ticket
		d  time.Duration
	}{{over, 3 * time.Hour}, {under, 31 * time.Minute}, {plain, 30 * time.Minute}, {free, 2 * time.Hour}, {flat, 10 * time.Minute}, {refused, time.Hour}, {waived, time.Hour}} {
		if _, err := l.AddWork(ctx, *w.tk, w.d, "alice", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Waive(ctx, *waived, "alice", "could not be solved"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Statement(ctx, "C001", pt("2026-12-01 00:00"), pt("2027-01-01 00:00"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]struct {
		units, ht, vat, ttc int64
		capped, free        bool
	}{
		over.ID:    {6, 6000, 1176, 7176, true, false},    // 3 h of work, quote 1 h: 1 h billed
		under.ID:   {2, 6000, 1176, 7176, false, false},   // 31 min, quote 240 €: two half-hours
		plain.ID:   {1, 3000, 588, 3588, false, false},    // 30 min: 35.88 € TTC
		free.ID:    {0, 0, 0, 0, false, true},             // no quote: free support
		flat.ID:    {1, 15000, 2940, 17940, false, false}, // fixed price
		refused.ID: {0, 0, 0, 0, false, true},             // refused quote: nothing billed
		waived.ID:  {0, 0, 0, 0, false, false},            // waived: nothing billed
	}
	if len(st.Lines) != 7 {
		t.Fatalf("lines %+v", st.Lines)
	}
	for _, ln := range st.Lines {
		w := want[ln.Ticket.ID]
		if ln.Units != w.units || ln.HT != w.ht || ln.VAT != w.vat || ln.TTC != w.ttc || ln.Capped != w.capped || ln.Free != w.free {
			t.Errorf("ticket %s: %+v, want %+v", ln.Ticket.Number, ln.Line, w)
		}
		if (ln.Ticket.ID == waived.ID) != (ln.Unbillable == "waived: could not be solved") {
			t.Errorf("ticket %s: unbillable %q", ln.Ticket.Number, ln.Unbillable)
		}
	}
	if st.HT != 30000 || st.VAT != 5880 || st.TTC != 35880 {
		t.Errorf("totals %d/%d/%d, want 30000/5880/35880", st.HT, st.VAT, st.TTC)
	}
}

// brokenDirectory fails every lookup, as a database error would.
type brokenDirectory struct{ *customers.Directory }

func (brokenDirectory) Identify(context.Context, astreinte.Channel, string) (customers.Customer, error) {
	return customers.Customer{}, errors.New("disk I/O error")
}

// TestLookupFailureKeepsTheMessage: a message is never lost because the
// customer lookup failed; it is stored unidentified.
func TestLookupFailureKeepsTheMessage(t *testing.T) {
	svc, db, _ := newContractService(t, true)
	svc.customers = brokenDirectory{&customers.Directory{Contracts: testContracts, UnidentifiedOnCall: true}}
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours}
	if err := svc.Create(context.Background(), tk); err != nil {
		t.Fatalf("Create with a failing lookup: %v", err)
	}
	got, err := db.TicketByID(context.Background(), tk.ID)
	if err != nil || got.Customer != "" || !got.Unverified {
		t.Errorf("ticket %+v, %v; want it stored, unidentified, unverified", got, err)
	}
	if _, err := db.PageByTicket(context.Background(), tk.ID); err != nil {
		t.Errorf("unidentified callers page here (unidentified.on_call): %v", err)
	}
}
