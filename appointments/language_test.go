package appointments

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/calendar/calendartest"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailer/mailertest"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
)

// TestCustomersLanguage: through a real SMTP server, the invitation and
// the cancellation of a customer whose record says English are in
// English, those of a customer without a language in the desk's (French).
func TestCustomersLanguage(t *testing.T) {
	s, db, ts, _ := newService(t)
	ctx := context.Background()
	for _, c := range []customers.Customer{{Number: "C001", Name: "Mairie", Contract: "isp"},
		{Number: "C002", Name: "Polls Ltd", Contract: "isp", Language: lang.EN}} {
		if err := db.AddCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	sink := mailertest.Start(t)
	s.Mail = &mailer.Config{Addr: sink.Addr, From: "support@desk.test", TLS: mailer.TLSNone, Timeout: 5 * time.Second}
	s.Customers, s.Desk, s.Calendar = db, "", calendartest.New(t, calendar.Config{})
	read := func(n int) mailin.Message {
		t.Helper()
		ms := sink.Wait(n, 5*time.Second)
		if len(ms) < n {
			t.Fatalf("%d mails, want %d", len(ms), n)
		}
		m, err := mailin.Parse(strings.NewReader(string(ms[n-1].Data)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for i, tc := range []struct {
		ticket             int // ts[0] is C001's, ts[1] C002's
		start              string
		subject, text      string
		cancelled, lang    string
		cancelledSubjectIn string
	}{
		{0, "2026-11-25 09:00", "Rendez-vous — mer. 25 nov. 2026 à 09:00", "Rendez-vous de 45 minutes pour le ticket", "est annulé", "fr", "Annulé : "},
		{1, "2026-11-25 09:45", "Appointment — Wed 25 Nov 2026 at 09:45", "45-minute appointment for ticket", "is cancelled", "en", "Cancelled: "},
	} {
		tk := ts[tc.ticket]
		a, err := s.Book(ctx, Booking{Ticket: tk, Contact: "c@x.test", Kind: store.AppointmentVideo, Start: calendartest.At(tc.start)})
		if err != nil {
			t.Fatal(err)
		}
		m := read(2*i + 1)
		if m.Subject != "["+tk.Number+"] "+tc.subject || m.Language != tc.lang || !strings.Contains(m.Text, tc.text) {
			t.Errorf("%s's invitation: %q (%s)\n%s", tk.Customer, m.Subject, m.Language, m.Text)
		}
		if err := s.Cancel(ctx, a, "alice"); err != nil {
			t.Fatal(err)
		}
		m = read(2*i + 2)
		if !strings.HasPrefix(m.Subject, "["+tk.Number+"] "+tc.cancelledSubjectIn) || !strings.Contains(m.Text, tc.cancelled) {
			t.Errorf("%s's cancellation: %q\n%s", tk.Customer, m.Subject, m.Text)
		}
	}
}
