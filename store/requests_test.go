package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/astreinte/astreinte"
)

// TestCreateRequestTicket: a space request is one write: the ticket, its
// text, its files and its timeline entries together; when saving a file
// fails, no ticket is left (no number taken, no text, no file, no event).
func TestCreateRequestTicket(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	files := []Attachment{{Name: "a.txt", Type: "text/plain", Data: []byte("first")}, {Name: "b.pdf", Type: "application/pdf", Data: []byte("%PDF")}}

	// The second file cannot be saved (no data where the table wants
	// some: the database refuses it, as it would on a full disk, on SQLite
	// and PostgreSQL alike): the whole request is undone.
	bad := []Attachment{files[0], {Name: "b.pdf", Type: "application/pdf", Data: nil}}
	tk := &astreinte.Ticket{Channel: astreinte.ChannelSpace, Line: "support", CallerNumber: "x@c.test", Urgency: astreinte.NotUrgent,
		Customer: "C001", Status: astreinte.StatusNew}
	r := &Request{Subject: "Changer le mot de passe", Body: "du compte admin", Contact: "x@c.test"}
	err := db.CreateRequestTicket(ctx, tk, r, bad)
	if err == nil || !strings.Contains(err.Error(), "attachment b.pdf") {
		t.Fatalf("a failing file: %v", err)
	}
	if tk.ID != 0 || tk.Number != "" {
		t.Fatalf("the failed request got a ticket: %d %s", tk.ID, tk.Number)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM tickets`, `SELECT COUNT(*) FROM space_requests`, `SELECT COUNT(*) FROM ticket_attachments`,
		`SELECT COUNT(*) FROM events`, `SELECT COALESCE(SUM(last), 0) FROM ticket_counters`} {
		var n int
		if err := db.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d after the failure, want 0", q, n)
		}
	}

	// The same request with its files: everything is there, and it takes
	// the first number.
	tk.ID, tk.Number = 0, ""
	if err := db.CreateRequestTicket(ctx, tk, r, files); err != nil {
		t.Fatal(err)
	}
	if tk.Number != "2026-000001" || r.TicketID != tk.ID {
		t.Fatalf("ticket %s (id %d), request of %d", tk.Number, tk.ID, r.TicketID)
	}
	got, err := db.RequestOf(ctx, tk.ID)
	if err != nil || got.Subject != r.Subject || got.Body != r.Body || got.Contact != r.Contact {
		t.Fatalf("request: %+v %v", got, err)
	}
	as, err := db.Attachments(ctx, tk.ID)
	if err != nil || len(as) != 2 || as[1].Name != "b.pdf" || as[1].Size != 4 {
		t.Fatalf("attachments: %+v %v", as, err)
	}
	evs, err := db.Timeline(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Kind != astreinte.EventCreated || evs[1].Kind != astreinte.EventNote || evs[1].Channel != string(astreinte.ChannelSpace) {
		t.Fatalf("timeline: %+v", evs)
	}
	if _, err := db.RequestOf(ctx, tk.ID+1); !errors.Is(err, astreinte.ErrNotFound) {
		t.Fatalf("no request: %v", err)
	}
}
