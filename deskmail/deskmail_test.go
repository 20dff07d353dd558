package deskmail

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailer/mailertest"
	"github.com/astreinte/astreinte/oncall/notify/email"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// TestDeskEmailsOpeningHoursOnly: a ticket made in opening hours on a line
// with a desk address is emailed there; one made at night, or on a line
// without a desk, is not; nor is one another node made (that node emails
// it).
func TestDeskEmailsOpeningHoursOnly(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, paris)
	svc := tickets.New(db, cal, tickets.Options{Now: func() time.Time { return now },
		Lines: map[string]tickets.Policy{"support": {DueNormal: 1, Page: astreinte.PageNever}, "sales": {DueNormal: 1, Page: astreinte.PageNever}}})
	box := mailertest.Start(t)
	d := &Desk{Tickets: svc, To: map[string]string{"support": "desk@example.com"}, Log: slog.New(slog.DiscardHandler),
		Mail: &email.Notifier{Now: func() time.Time { return now }, Cfg: email.Config{Location: paris,
			Config: mailer.Config{Addr: box.Addr, From: "astreinte@example.com", TLS: mailer.TLSNone}}}}
	svc.Subscribe(d.Changed)

	ctx := context.Background()
	var first int64
	for _, tk := range []astreinte.Ticket{
		{Line: "support", CallerNumber: "+33612345678", Case: astreinte.CaseOpen, CreatedAt: now},
		{Line: "support", CallerNumber: "+33612345679", Case: astreinte.CaseOutOfHours, CreatedAt: now},
		{Line: "sales", CallerNumber: "+33612345670", Case: astreinte.CaseOpen, CreatedAt: now},
	} {
		tk.Status, tk.Urgency = astreinte.StatusNew, astreinte.NotUrgent
		if err := svc.Create(ctx, &tk); err != nil {
			t.Fatal(err)
		}
		if first == 0 {
			first = tk.ID
		}
	}
	d.Changed(tickets.Change{Kind: tickets.Created, TicketID: first, Remote: true})
	d.Wait()
	if msgs := box.Messages(); len(msgs) != 1 || strings.Join(msgs[0].To, ",") != "desk@example.com" {
		t.Fatalf("desk emails: %+v, want one to desk@example.com", msgs)
	}
}

// TestDeskWithoutMailer: without an SMTP server a desk address sends
// nothing and does not fail.
func TestDeskWithoutMailer(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cal, _ := calendar.New(calendar.Config{})
	svc := tickets.New(db, cal, tickets.Options{})
	d := &Desk{Tickets: svc, To: map[string]string{"support": "desk@example.com"}, Log: slog.New(slog.DiscardHandler)}
	svc.Subscribe(d.Changed)
	tk := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Case: astreinte.CaseOpen, Status: astreinte.StatusNew, CreatedAt: time.Now()}
	if err := svc.Create(context.Background(), &tk); err != nil {
		t.Fatal(err)
	}
	d.Wait()
}
