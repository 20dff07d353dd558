package correspondence

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
	"github.com/emersion/go-smtp"
)

// smtpSink is a real SMTP server that keeps what it receives; refuse makes
// it answer DATA with a temporary error.
type smtpSink struct {
	mu     sync.Mutex
	msgs   []mailin.Message
	raw    []string
	rcpts  [][]string
	refuse bool
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s  *smtpSink
	to []string
}

func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse {
		return &smtp.SMTPError{Code: 451, Message: "try later"}
	}
	m, err := mailin.Parse(strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	x.s.msgs = append(x.s.msgs, m)
	x.s.raw = append(x.s.raw, string(b))
	x.s.rcpts = append(x.s.rcpts, x.to)
	return nil
}
func (x *sinkSession) Reset()        { x.to = nil }
func (x *sinkSession) Logout() error { return nil }

func (s *smtpSink) all() ([]mailin.Message, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailin.Message{}, s.msgs...), append([]string{}, s.raw...)
}

func startSink(t *testing.T) (*smtpSink, string) {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var paris, _ = time.LoadLocation("Europe/Paris")

type fixture struct {
	desk *Desk
	db   *store.DB
	svc  *tickets.Service
	sink *smtpSink
	clk  *clock
}

// newFixture is a desk over a real SQLite file and a real SMTP server, on
// Tuesday 24 November 2026 at 10:00 in Paris (open), with the customer
// C002 on the tickets agreement (email due in 2 business days, one-week
// warranty).
func newFixture(t *testing.T) *fixture {
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
	clk := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, paris)}
	db.Now = clk.now
	ctx := context.Background()
	if err := db.AddCustomer(ctx, customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{"client@sondages.test"}}); err != nil {
		t.Fatal(err)
	}
	dir := &customers.Directory{Store: db, Region: "FR", Contracts: map[string]customers.Contract{
		"tickets": {Name: "tickets", Billing: billing.Policy{Mode: billing.Units, Unit: time.Hour},
			Due: map[astreinte.Channel]int{astreinte.ChannelEmail: 2}, Warranty: 7 * 24 * time.Hour}}}
	svc := tickets.New(db, cal, tickets.Options{Lines: map[string]tickets.Policy{"support": {DueNormal: 3, Page: astreinte.PageUrgent}},
		DefaultLine: "support", Now: clk.now, Customers: dir})
	sink, addr := startSink(t)
	d := &Desk{Store: db, Tickets: svc, Mail: &mailer.Config{Addr: addr, From: "Support <desk@astreinte.test>", TLS: mailer.TLSNone, Timeout: 5 * time.Second},
		Addresses: []string{"support@example.test"}, BaseURL: "https://support.example.test", Location: paris, Now: clk.now, Sensitive: true}
	t.Cleanup(d.Watch())
	return &fixture{desk: d, db: db, svc: svc, sink: sink, clk: clk}
}

func parse(t *testing.T, raw string) mailin.Message {
	t.Helper()
	m, err := mailin.Parse(strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) receive(t *testing.T, raw string) Received {
	t.Helper()
	r, err := f.desk.Receive(context.Background(), parse(t, raw), "support")
	if err != nil {
		t.Fatal(err)
	}
	f.desk.Flush(context.Background())
	return r
}

func hasEvent(evs []astreinte.Event, kind astreinte.EventKind, in string) bool {
	for _, e := range evs {
		if e.Kind == kind && strings.Contains(e.Detail, in) {
			return true
		}
	}
	return false
}

func TestAcknowledgementReplyAndAnswerJoin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.receive(t, "From: Client <Client@Sondages.test>\nTo: support@example.test\nSubject: Quotas cassés\n"+
		"Message-ID: <q1@sondages.test>\nContent-Language: fr-FR\n\nLes quotas ne marchent plus.\n")
	if !r.Made || r.Ticket.Customer != "C002" {
		t.Fatalf("received %+v", r)
	}
	msgs, raws := f.sink.all()
	if len(msgs) != 1 {
		t.Fatalf("%d mails sent, want the acknowledgement", len(msgs))
	}
	ack := msgs[0]
	// Two business days from Tuesday 10:00: Thursday 10:00.
	for _, want := range []string{r.Ticket.Number, "jeu. 26 nov. 2026 à 10:00", "Quotas cassés", "https://support.example.test/client/"} {
		if !strings.Contains(ack.Subject+"\n"+ack.Text, want) {
			t.Errorf("acknowledgement lacks %q:\n%s\n%s", want, ack.Subject, ack.Text)
		}
	}
	if len(ack.InReplyTo) != 1 || ack.InReplyTo[0] != "q1@sondages.test" || !strings.Contains(raws[0], "Auto-Submitted: auto-replied") ||
		!strings.Contains(raws[0], "Reply-To: <support@example.test>") {
		t.Errorf("acknowledgement not threaded or not marked automatic:\n%s", raws[0])
	}
	if f.sink.rcpts[0][0] != "client@sondages.test" {
		t.Errorf("acknowledgement to %v", f.sink.rcpts[0])
	}

	// The technician replies: mailed, threaded, on the timeline.
	m, err := f.desk.Reply(ctx, r.Ticket.ID, "alice", "Le quota est rétabli.")
	if err != nil || m.State != store.MailSent {
		t.Fatalf("reply: %+v, %v", m, err)
	}
	msgs, _ = f.sink.all()
	reply := msgs[1]
	if !strings.Contains(reply.Text, "Le quota est rétabli.") || reply.Subject != "Re: ["+r.Ticket.Number+"] Quotas cassés" ||
		len(reply.InReplyTo) != 1 || reply.InReplyTo[0] != "q1@sondages.test" {
		t.Errorf("reply: subject %q in-reply-to %v (ack %s):\n%s", reply.Subject, reply.InReplyTo, ack.MessageID, reply.Text)
	}
	evs, _ := f.svc.Timeline(ctx, r.Ticket.ID)
	if !hasEvent(evs, astreinte.EventReply, "Le quota est rétabli.") || !hasEvent(evs, astreinte.EventMailSent, "reply emailed to client@sondages.test") {
		t.Errorf("timeline: %+v", evs)
	}

	// Resolved; the customer answers the reply (In-Reply-To only, a
	// subject without the number): it joins and reopens, within the
	// warranty.
	if err := f.svc.Resolve(ctx, r.Ticket.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	f.clk.add(48 * time.Hour)
	a := f.receive(t, "From: client@sondages.test\nSubject: ca remarche pas\nMessage-ID: <q2@sondages.test>\n"+
		"In-Reply-To: <"+reply.MessageID+">\n\nToujours cassé.\n")
	if a.Made || a.JoinedBy != "thread" || a.Ticket.ID != r.Ticket.ID {
		t.Fatalf("answer: %+v", a)
	}
	tk, _ := f.svc.ByID(ctx, r.Ticket.ID)
	evs, _ = f.svc.Timeline(ctx, r.Ticket.ID)
	if tk.Status != astreinte.StatusNew || !hasEvent(evs, astreinte.EventReopened, "within the 7-day warranty") ||
		!hasEvent(evs, astreinte.EventEmail, "Toujours cassé.") {
		t.Errorf("after the answer: status %s, timeline %+v", tk.Status, evs)
	}
	if msgs, _ := f.sink.all(); len(msgs) != 2 {
		t.Errorf("%d mails: an answer is not acknowledged", len(msgs))
	}
	// The same message delivered again changes nothing.
	if d := f.receive(t, "From: client@sondages.test\nSubject: ca remarche pas\nMessage-ID: <q2@sondages.test>\n\nToujours cassé.\n"); !d.Duplicate {
		t.Errorf("second delivery: %+v", d)
	}
}

func TestNoAcknowledgementToPrograms(t *testing.T) {
	for _, tc := range []struct{ name, header string }{
		{"auto-replied", "Auto-Submitted: auto-replied\n"},
		{"bulk", "Precedence: bulk\n"},
		{"list", "List-Id: <announce.example.test>\n"},
		{"bounce", "Return-Path: <>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.receive(t, "From: someone@example.org\n"+tc.header+"Subject: Absent\nMessage-ID: <a1@example.org>\n\nJe suis absent.\n")
			if !r.Made {
				t.Fatalf("no ticket: %+v", r)
			}
			if msgs, _ := f.sink.all(); len(msgs) != 0 {
				t.Errorf("%d mails sent to a program", len(msgs))
			}
			evs, _ := f.svc.Timeline(context.Background(), r.Ticket.ID)
			if !hasEvent(evs, astreinte.EventNote, "no acknowledgement: the email was sent by a program") {
				t.Errorf("timeline: %+v", evs)
			}
		})
	}
	t.Run("mailer-daemon", func(t *testing.T) {
		f := newFixture(t)
		f.receive(t, "From: MAILER-DAEMON@example.org\nSubject: Undelivered\n\nx\n")
		if msgs, _ := f.sink.all(); len(msgs) != 0 {
			t.Errorf("%d mails sent to the mailer daemon", len(msgs))
		}
	})
}

func TestNoLoops(t *testing.T) {
	f := newFixture(t)
	// Our own mail coming back is dropped.
	if r := f.receive(t, "From: desk@astreinte.test\nSubject: [2026-000001] Demande reçue\n\nx\n"); r.Ignored == "" {
		t.Errorf("own mail taken: %+v", r)
	}
	// An autoresponder that marks nothing gets at most MaxAcksPerDay.
	for i := range MaxAcksPerDay + 3 {
		f.receive(t, "From: robot@example.org\nSubject: Re: ticket\nMessage-ID: <r"+string(rune('a'+i))+"@example.org>\n\nauto\n")
	}
	if msgs, _ := f.sink.all(); len(msgs) != MaxAcksPerDay {
		t.Errorf("%d acknowledgements to one address in a day, want %d", len(msgs), MaxAcksPerDay)
	}
}

func TestEnglishAndRetry(t *testing.T) {
	f := newFixture(t)
	f.sink.refuse = true
	r := f.receive(t, "From: bob@example.org\nSubject: Site down\nMessage-ID: <e1@example.org>\nContent-Language: en-GB\n\nHelp.\n")
	ms, _ := f.db.Mails(context.Background(), r.Ticket.ID)
	var ack store.Mail
	for _, m := range ms {
		if m.Kind == store.MailAck {
			ack = m
		}
	}
	if len(ms) != 2 || ack.State != store.MailQueued || ack.Attempts != 1 || !strings.Contains(ack.Error, "451") {
		t.Fatalf("mails after a refusal: %+v", ms)
	}
	f.sink.refuse = false
	if n := f.desk.Flush(context.Background()); n != 0 {
		t.Errorf("%d sent before the retry is due", n)
	}
	f.clk.add(Retries[0])
	if n := f.desk.Flush(context.Background()); n != 1 {
		t.Fatalf("%d sent when the retry is due", n)
	}
	msgs, _ := f.sink.all()
	// Unidentified sender: the line's 3 business days, Friday 10:00.
	if !strings.Contains(msgs[0].Text, "It will be handled by Fri 27 Nov 2026 at 10:00") || !strings.HasPrefix(msgs[0].Subject, "["+r.Ticket.Number+"] Request received") {
		t.Errorf("English acknowledgement:\n%s\n%s", msgs[0].Subject, msgs[0].Text)
	}
}

func TestReplyErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	phone := astreinte.Ticket{Line: "support", CallerNumber: "+33612121212", Urgency: astreinte.NotUrgent}
	if err := f.svc.Create(ctx, &phone); err != nil {
		t.Fatal(err)
	}
	if _, err := f.desk.Reply(ctx, phone.ID, "alice", "hello"); !errors.Is(err, ErrNoRequesterAddress) {
		t.Errorf("reply to a phone ticket without address: %v", err)
	}
	if _, err := f.desk.Reply(ctx, phone.ID, "alice", "  "); !errors.Is(err, ErrEmptyReply) {
		t.Errorf("empty reply: %v", err)
	}
	f.desk.Mail = &mailer.Config{}
	if _, err := f.desk.Reply(ctx, phone.ID, "alice", "x"); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("reply without SMTP: %v", err)
	}
}

func TestSpaceTicketAcknowledged(t *testing.T) {
	f := newFixture(t)
	tk := astreinte.Ticket{Line: "support", Channel: astreinte.ChannelSpace, CallerNumber: "client@sondages.test", CallerName: "Client",
		Urgency: astreinte.NotUrgent, Customer: "C002"}
	if err := f.svc.Create(context.Background(), &tk); err != nil {
		t.Fatal(err)
	}
	f.desk.Flush(context.Background())
	msgs, _ := f.sink.all()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, tk.Number) {
		t.Fatalf("space ticket: %d mails %+v", len(msgs), msgs)
	}
}

// TestCustomersLanguage: the acknowledgement and the replies to a
// customer whose record says English are in English, whatever the
// language of its email (here French, Content-Language: fr); the
// customer's record back to no language, the mail's own language is used
// again (French).
func TestCustomersLanguage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{"client@sondages.test"}, Language: lang.EN}); err != nil {
		t.Fatal(err)
	}
	r := f.receive(t, "From: client@sondages.test\nSubject: Serveur en panne\nMessage-ID: <fr1@sondages.test>\nContent-Language: fr\n\nAu secours.\n")
	if _, err := f.desk.Reply(ctx, r.Ticket.ID, "alice", "We are on it."); err != nil {
		t.Fatal(err)
	}
	f.desk.Flush(ctx)
	msgs, raw := f.sink.all()
	if len(msgs) != 2 {
		t.Fatalf("%d mails", len(msgs))
	}
	if !strings.HasPrefix(msgs[0].Subject, "["+r.Ticket.Number+"] Request received") || msgs[0].Language != "en" {
		t.Errorf("acknowledgement to an English customer: %q (%s)\n%s", msgs[0].Subject, msgs[0].Language, raw[0])
	}
	if msgs[1].Language != "en" {
		t.Errorf("reply to an English customer: language %q", msgs[1].Language)
	}

	// Space ticket of the same customer: English too.
	tk := astreinte.Ticket{Line: "support", Channel: astreinte.ChannelSpace, CallerNumber: "client@sondages.test",
		Urgency: astreinte.NotUrgent, Customer: "C002"}
	if err := f.svc.Create(ctx, &tk); err != nil {
		t.Fatal(err)
	}
	f.desk.Flush(ctx)
	msgs, _ = f.sink.all()
	if last := msgs[len(msgs)-1]; !strings.Contains(last.Subject, "Request received") || !strings.Contains(last.Text, tk.Number) {
		t.Errorf("space acknowledgement to an English customer: %q\n%s", last.Subject, last.Text)
	}

	if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{"client@sondages.test"}}); err != nil {
		t.Fatal(err)
	}
	r = f.receive(t, "From: client@sondages.test\nSubject: Autre panne\nMessage-ID: <fr2@sondages.test>\nContent-Language: fr\n\nEncore.\n")
	msgs, _ = f.sink.all()
	if last := msgs[len(msgs)-1]; strings.Contains(last.Subject, "Request received") || last.Language != "fr" {
		t.Errorf("acknowledgement without a customer language, to a French mail: %q (%s)", last.Subject, last.Language)
	}
}

// TestCallAcknowledgedToCustomer: with Calls, a phone message of a caller
// identified as a customer is acknowledged to the customer's contact with
// the ticket number and the customer space's address; an unidentified
// caller's message, and any call without Calls, mails nobody and writes
// nothing on the timeline.
func TestCallAcknowledgedToCustomer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.desk.BaseURL = "https://support.example.com"
	call := func(customer string) astreinte.Ticket {
		tk := astreinte.Ticket{Line: "support", Channel: astreinte.ChannelPhone, CallerNumber: "+33612345678",
			Urgency: astreinte.Urgent, Customer: customer, CreatedAt: f.clk.now()}
		if err := f.svc.Create(ctx, &tk); err != nil {
			t.Fatal(err)
		}
		f.desk.Flush(ctx)
		return tk
	}
	off := call("C002") // Calls off
	if msgs, _ := f.sink.all(); len(msgs) != 0 || f.desk.AcknowledgesCall(ctx, off) {
		t.Fatalf("without Calls: %d mails", len(msgs))
	}
	f.desk.Calls = true
	if !f.desk.AcknowledgesCall(ctx, off) {
		t.Errorf("with Calls, a customer's call with a contact address is not said to be acknowledged")
	}
	anon := call("")
	if f.desk.AcknowledgesCall(ctx, anon) {
		t.Errorf("an unidentified caller's call is said to be acknowledged")
	}
	if msgs, _ := f.sink.all(); len(msgs) != 0 {
		t.Fatalf("unidentified caller: %d mails", len(msgs))
	}
	evs, err := f.svc.Timeline(ctx, anon.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == astreinte.EventNote {
			t.Errorf("unidentified caller: note %q on the timeline", e.Detail)
		}
	}
	tk := call("C002")
	msgs, raw := f.sink.all()
	f.desk.BaseURL = ""
	if f.desk.AcknowledgesCall(ctx, tk) {
		t.Errorf("without the pages' address (no link to give) the call is said to be acknowledged")
	}
	if len(msgs) != 1 {
		t.Fatalf("identified caller: %d mails", len(msgs))
	}
	m := msgs[0]
	for _, want := range []string{tk.Number, "message téléphonique", "06 12 34 56 78", "https://support.example.com/client/"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("acknowledgement lacks %q:\n%s", want, raw[0])
		}
	}
	if m.Subject != "["+tk.Number+"] Message reçu" {
		t.Errorf("subject %q", m.Subject)
	}
}

// TestAnswerJoinsByReferencesAlone: a customer's mail program that sends
// References and no In-Reply-To (and a subject without the ticket's
// number) still joins the ticket: by the acknowledgement's Message-ID
// anywhere in a folded References list, and by the customer's own first
// message's; an unknown References list makes a new ticket.
func TestAnswerJoinsByReferencesAlone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.receive(t, "From: client@sondages.test\nTo: support@example.test\nSubject: Sauvegarde en échec\n"+
		"Message-ID: <s1@sondages.test>\n\nLa sauvegarde de nuit échoue.\n")
	if !r.Made {
		t.Fatalf("first mail: %+v", r)
	}
	msgs, _ := f.sink.all()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want the acknowledgement", len(msgs))
	}
	ack := msgs[0].MessageID
	if ack == "" {
		t.Fatal("the acknowledgement has no Message-ID")
	}
	for _, tc := range []struct {
		name, refs string
	}{
		{"the acknowledgement last in a folded list", "<unrelated@elsewhere.test>\n <older@elsewhere.test> <" + ack + ">"},
		{"the customer's own first message only", "<s1@sondages.test>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.NewReplacer(" ", "-", "'", "").Replace(tc.name)
			a := f.receive(t, "From: client@sondages.test\nTo: support@example.test\nSubject: encore\n"+
				"Message-ID: <"+id+"@sondages.test>\nReferences: "+tc.refs+"\n\nToujours en échec : "+id+"\n")
			if a.Made || a.JoinedBy != "thread" || a.Ticket.ID != r.Ticket.ID {
				t.Fatalf("answer with References only: made %v, joined by %q, ticket %s (want %s)", a.Made, a.JoinedBy, a.Ticket.Number, r.Ticket.Number)
			}
			evs, _ := f.svc.Timeline(ctx, r.Ticket.ID)
			if !hasEvent(evs, astreinte.EventEmail, "Toujours en échec : "+id) {
				t.Errorf("the answer is not on the ticket's timeline: %+v", evs)
			}
		})
	}
	if msgs, _ := f.sink.all(); len(msgs) != 1 {
		t.Errorf("%d mails: an answer is not acknowledged", len(msgs))
	}
	n := f.receive(t, "From: client@sondages.test\nTo: support@example.test\nSubject: autre chose\n"+
		"Message-ID: <s9@sondages.test>\nReferences: <never-seen@elsewhere.test>\n\nUne autre demande.\n")
	if !n.Made || n.Ticket.ID == r.Ticket.ID {
		t.Errorf("References naming no known mail: %+v, want a new ticket", n)
	}
}
