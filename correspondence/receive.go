package correspondence

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// Received is what the desk made of an email.
type Received struct {
	Ticket astreinte.Ticket
	Made   bool // a new ticket; false: the email joined Ticket
	// Duplicate: this Message-ID was already taken (the mail server
	// delivered it twice); nothing changed.
	Duplicate bool
	// Ignored says why the email was dropped (it came from the desk
	// itself); "" when it was taken.
	Ignored string
	// How the email found its ticket: "thread" (In-Reply-To/References),
	// "subject" (the number in it), or "" for a new ticket.
	JoinedBy string
}

// Receive takes one email for the desk's line: a new request becomes a
// ticket (acknowledged to its sender through the Watch subscriber), an
// answer joins the ticket its thread or subject names. The email is kept
// with its Message-ID so that later answers find the ticket.
func (d *Desk) Receive(ctx context.Context, m mailin.Message, line string) (Received, error) {
	d.init()
	var r Received
	if d.own(m.From) {
		r.Ignored = "sent by the desk's own address " + m.From
		d.log().Warn("email from the desk's own address dropped (a mail loop?)", "from", m.From, "subject", m.Subject)
		return r, nil
	}
	if m.MessageID == "" {
		// Without one, a duplicate cannot be told; one is made up so that
		// the email is kept all the same.
		m.MessageID = ownID("in", d.from())
	} else if old, err := d.Store.MailByMessageID(ctx, m.MessageID); err == nil {
		r.Duplicate = true
		r.Ticket, _ = d.Tickets.ByID(ctx, old.TicketID)
		return r, nil
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return r, err
	}

	ref, by := "", ""
	if id, err := d.Store.ThreadTicket(ctx, m.Thread()); err == nil {
		t, err := d.Tickets.ByID(ctx, id)
		if err != nil {
			return r, fmt.Errorf("ticket of the thread: %w", err)
		}
		ref, by = t.Number, "thread"
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return r, err
	} else if m.Ref != "" {
		ref, by = m.Ref, "subject"
	}
	cs := astreinte.CaseOpen
	if d.Case != nil {
		cs = d.Case(ctx)
	}

	d.recv.Lock()
	d.arriving = &m
	t, made, err := d.Tickets.FromEmail(ctx, tickets.Email{From: m.From, Name: m.Name, Subject: m.Subject, Text: m.Text,
		Ref: ref, Auto: m.Auto != ""}, line, cs)
	d.arriving = nil
	d.recv.Unlock()
	if err != nil {
		return r, err
	}
	r.Ticket, r.Made = t, made
	if !made {
		r.JoinedBy = by
	}
	in := store.Mail{TicketID: t.ID, MessageID: m.MessageID, Direction: store.MailIn, Kind: store.MailRequest,
		Addr: m.From, Name: m.Name, Actor: m.From, Subject: m.Subject, Text: m.Text, Refs: m.Thread(),
		Lang: string(lang.Negotiate(m.Language, m.AcceptLanguage)), Auto: m.Auto, State: store.MailReceived}
	if n := len(m.InReplyTo); n > 0 {
		in.InReplyTo = m.InReplyTo[n-1]
	}
	if err := d.Store.AddMail(ctx, &in, nil); err != nil && !errors.Is(err, store.ErrMailKnown) {
		// The ticket has the email on its timeline; only the threading of
		// later answers is lost (they still join by the subject's number).
		d.log().Error("keep the received email", "ticket", t.Number, "message_id", m.MessageID, "error", err)
	}
	d.log().Info("email taken", "ticket", t.Number, "new", made, "joined_by", by, "from", m.From, "auto", m.Auto)
	return r, nil
}

// Deliver is Receive for the inbound SMTP listener (mailin.Deliver): from
// is the envelope sender, "" for a bounce.
func (d *Desk) Deliver(line string) mailin.Deliver {
	return func(ctx context.Context, from string, _ []string, r io.Reader) error {
		m, err := mailin.Parse(r)
		if err != nil {
			return err
		}
		if from == "" && m.Auto == "" {
			m.Auto = "null envelope sender (a bounce)"
		}
		_, err = d.Receive(ctx, m, line)
		return err
	}
}
