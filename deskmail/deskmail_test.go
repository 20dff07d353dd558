package deskmail

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall/notify/email"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// inbox is an SMTP server that keeps the recipient and subject of what it
// receives.
type inbox struct {
	mu   sync.Mutex
	msgs []string // "to: subject"
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{b: b}, nil }

type inboxSession struct {
	b  *inbox
	to []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	subject := ""
	for line := range strings.SplitSeq(string(data), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Subject: "); ok {
			subject = v
			break
		}
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.msgs = append(s.b.msgs, strings.Join(s.to, ",")+": "+subject)
	return nil
}
func (s *inboxSession) Reset()        {}
func (s *inboxSession) Logout() error { return nil }

func startInbox(t *testing.T) (string, *inbox) {
	t.Helper()
	b := &inbox{}
	s := smtp.NewServer(b)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { s.Close(); <-done })
	return l.Addr().String(), b
}

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
	addr, box := startInbox(t)
	d := &Desk{Tickets: svc, To: map[string]string{"support": "desk@example.com"}, Log: slog.New(slog.DiscardHandler),
		Mail: &email.Notifier{Now: func() time.Time { return now }, Cfg: email.Config{Location: paris,
			Config: mailer.Config{Addr: addr, From: "astreinte@example.com", TLS: mailer.TLSNone}}}}
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
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.msgs) != 1 || !strings.HasPrefix(box.msgs[0], "desk@example.com: ") {
		t.Fatalf("desk emails: %q, want one to desk@example.com", box.msgs)
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
