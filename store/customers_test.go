package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
)

func TestCustomersImportIsAllOrNothing(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if any, err := db.HasCustomers(ctx); err != nil || any {
		t.Fatalf("HasCustomers on an empty database = %v, %v; want false", any, err)
	}
	a := customers.Customer{Number: "C001", Name: "A", Contract: "isp", Phones: []string{"+33612345678"}, Emails: []string{"a@example.com"}}
	b := customers.Customer{Number: "C002", Name: "B", Contract: "tickets", Phones: []string{"+33698765432", "+33493918009"}}
	if added, updated, err := db.ImportCustomers(ctx, []customers.Customer{a, b}); err != nil || added != 2 || updated != 0 {
		t.Fatalf("import: %d added, %d updated, %v", added, updated, err)
	}
	if any, err := db.HasCustomers(ctx); err != nil || !any {
		t.Fatalf("HasCustomers after an import = %v, %v; want true", any, err)
	}
	got, err := db.CustomerByPhone(ctx, "+33493918009")
	if err != nil || got.Number != "C002" || !slices.Equal(got.Phones, []string{"+33493918009", "+33698765432"}) {
		t.Fatalf("by phone: %+v, %v", got, err)
	}
	if got, err := db.CustomerByEmail(ctx, "A@Example.com"); err != nil || got.Number != "C001" {
		t.Fatalf("by email: %+v, %v", got, err)
	}
	// C003 takes C001's phone: the whole import fails, C002's new name
	// is not kept.
	b.Name = "B renamed"
	c := customers.Customer{Number: "C003", Name: "C", Contract: "isp", Phones: []string{"+33612345678"}}
	if _, _, err := db.ImportCustomers(ctx, []customers.Customer{b, c}); !errors.Is(err, ErrContactTaken) {
		t.Fatalf("import with a taken phone: %v, want ErrContactTaken", err)
	}
	if got, _ := db.CustomerByNumber(ctx, "C002"); got.Name != "B" {
		t.Errorf("half-imported: C002 is named %q", got.Name)
	}
	if _, err := db.CustomerByNumber(ctx, "C003"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("half-imported: C003: %v", err)
	}
	// Re-import updates.
	if added, updated, err := db.ImportCustomers(ctx, []customers.Customer{b}); err != nil || added != 0 || updated != 1 {
		t.Fatalf("re-import: %d, %d, %v", added, updated, err)
	}
	if err := db.AddCustomer(ctx, a); !errors.Is(err, ErrCustomerExists) {
		t.Errorf("add an existing number: %v", err)
	}
	// Remove: phones go, tickets keep the number.
	tk := astreinte.Ticket{Line: "support", Customer: "C001", Contract: "isp", Channel: astreinte.ChannelPhone, Unverified: true}
	if err := db.CreateTicket(ctx, &tk, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveCustomer(ctx, "C001"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CustomerByPhone(ctx, "+33612345678"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("removed customer's phone still matches: %v", err)
	}
	ts, err := db.TicketsOfCustomer(ctx, "C001")
	if err != nil || len(ts) != 1 || !ts[0].Unverified || ts[0].Contract != "isp" || ts[0].Channel != astreinte.ChannelPhone {
		t.Errorf("tickets of a removed customer: %+v, %v", ts, err)
	}
	if err := db.RemoveCustomer(ctx, "C001"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	all, err := db.Customers(ctx)
	if err != nil || len(all) != 1 || all[0].Number != "C002" {
		t.Errorf("list: %+v, %v", all, err)
	}
}

func TestWorkLogQuotesConfirmation(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk := astreinte.Ticket{Line: "support"}
	if err := db.CreateTicket(ctx, &tk, nil); err != nil {
		t.Fatal(err)
	}
	w := &Work{TicketID: tk.ID, Duration: 45 * time.Minute, By: "alice", Note: "n"}
	if err := db.AddWork(ctx, w, "45m spent", nil); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Hour)
	if err := db.AddWork(ctx, &Work{TicketID: tk.ID, Duration: time.Minute}, "1m", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AddWork(ctx, &Work{TicketID: 999, Duration: time.Minute}, "x", nil); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("work on no ticket: %v", err)
	}
	ws, err := db.WorkLog(ctx, tk.ID)
	if err != nil || len(ws) != 2 || ws[0].Duration != 45*time.Minute || ws[0].By != "alice" || !ws[0].At.Equal(t0) {
		t.Fatalf("work log %+v, %v", ws, err)
	}
	if err := db.DecideQuote(ctx, tk.ID, true, "x", "", nil); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("accept without a quote: %v", err)
	}
	if err := db.SetQuote(ctx, Quote{TicketID: tk.ID, AmountHT: 12000, SetBy: "alice"}, "q", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideQuote(ctx, tk.ID, false, "bob", "refused", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideQuote(ctx, tk.ID, true, "bob", "accepted", nil); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("a refused quote was accepted: %v", err)
	}
	if err := db.SetQuote(ctx, Quote{TicketID: tk.ID, Duration: 2 * time.Hour, SetBy: "alice"}, "q2", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DecideQuote(ctx, tk.ID, true, "bob", "accepted", nil); err != nil {
		t.Fatal(err)
	}
	q, err := db.QuoteOf(ctx, tk.ID)
	if err != nil || q.State != QuoteAccepted || q.Duration != 2*time.Hour || q.AmountHT != 0 || q.DecidedAt.IsZero() {
		t.Errorf("quote %+v, %v", q, err)
	}
	if c, _ := db.ConfirmationOf(ctx, tk.ID); !c.At.IsZero() {
		t.Errorf("confirmed before confirming: %+v", c)
	}
	if err := db.Confirm(ctx, tk.ID, "alice", "by email"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.ConfirmationOf(ctx, tk.ID); c.By != "alice" || c.At.IsZero() {
		t.Errorf("confirmation %+v", c)
	}
	evs, _ := db.Timeline(ctx, tk.ID)
	var kinds []astreinte.EventKind
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []astreinte.EventKind{astreinte.EventCreated, astreinte.EventWork, astreinte.EventWork, astreinte.EventQuote,
		astreinte.EventQuote, astreinte.EventQuote, astreinte.EventQuote, astreinte.EventConfirmed}
	if !slices.Equal(kinds, want) {
		t.Errorf("timeline %v, want %v", kinds, want)
	}
}
