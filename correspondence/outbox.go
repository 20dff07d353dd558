package correspondence

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
)

// Retries are the waits between the attempts to send a mail; after the
// last one it has failed for good, which its ticket's timeline says.
var Retries = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour}

// lease is how long one process owns a mail it is sending.
const lease = 2 * time.Minute

// poll is how often Run looks for mail queued by other processes (the
// CLI, mail-in) that could not send it themselves.
const poll = 30 * time.Second

// Wake makes Run look at the outbox now.
func (d *Desk) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends the outbox's mail as it becomes due, until ctx ends.
func (d *Desk) Run(ctx context.Context) {
	d.init()
	for {
		d.Flush(ctx)
		wait := poll
		if at, ok, err := d.Store.NextMailAt(ctx); err == nil && ok {
			wait = min(max(at.Sub(d.now()), time.Second), poll)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush sends every mail due now and returns how many left.
func (d *Desk) Flush(ctx context.Context) int {
	ms, err := d.Store.DueMails(ctx, d.now(), 50)
	if err != nil {
		d.log().Error("outbox", "error", err)
		return 0
	}
	sent := 0
	for _, m := range ms {
		if ctx.Err() != nil {
			break
		}
		if d.deliver(ctx, m).State == store.MailSent {
			sent++
		}
	}
	return sent
}

// deliver claims m, sends it and records the outcome; it returns m as it
// is then. A mail another process claimed first is left to it.
func (d *Desk) deliver(ctx context.Context, m store.Mail) store.Mail {
	ok, err := d.Store.ClaimMail(ctx, m.ID, d.now().Add(lease))
	if err != nil || !ok {
		if err != nil {
			d.log().Error("outbox: claim", "mail", m.ID, "error", err)
		}
		return m
	}
	m.Attempts++
	log := d.log().With("mail", m.ID, "kind", m.Kind, "to", m.Addr, "attempt", m.Attempts)
	t, err := d.Tickets.ByID(ctx, m.TicketID)
	if err == nil {
		err = d.send(ctx, t, m)
	}
	what := map[string]string{store.MailAck: "acknowledgement", store.MailReply: "reply"}[m.Kind]
	switch {
	case err == nil:
		m.State, m.Error = store.MailSent, ""
		ev := &astreinte.Event{At: d.now(), Kind: astreinte.EventMailSent, Actor: "system", Channel: string(astreinte.ChannelEmail),
			Detail: fmt.Sprintf("%s emailed to %s: %s", what, m.Addr, m.Subject)}
		if ferr := d.Store.FinishMail(ctx, m.ID, store.MailSent, time.Time{}, "", ev); ferr != nil {
			log.Error("outbox: record the sent mail", "error", ferr)
		}
		log.Info("mail to the requester sent", "ticket", t.Number)
	case m.Attempts > len(Retries) || errors.Is(err, mailer.ErrNotConfigured) || errors.Is(err, astreinte.ErrNotFound):
		m.State, m.Error = store.MailFailed, err.Error()
		ev := &astreinte.Event{At: d.now(), Kind: astreinte.EventMailFailed, Actor: "system", Channel: string(astreinte.ChannelEmail),
			Detail: fmt.Sprintf("%s to %s not delivered after %d attempt(s): %v", what, m.Addr, m.Attempts, err)}
		if ferr := d.Store.FinishMail(ctx, m.ID, store.MailFailed, time.Time{}, err.Error(), ev); ferr != nil {
			log.Error("outbox: record the failed mail", "error", ferr)
		}
		log.Error("mail to the requester failed for good", "error", err)
	default:
		m.State, m.Error = store.MailQueued, err.Error()
		m.NextAt = d.now().Add(Retries[m.Attempts-1])
		if ferr := d.Store.FinishMail(ctx, m.ID, store.MailQueued, m.NextAt, err.Error(), nil); ferr != nil {
			log.Error("outbox: record the retry", "error", ferr)
		}
		log.Warn("mail to the requester not sent: will retry", "at", m.NextAt, "error", err)
	}
	return m
}

// send writes m as an email and hands it to the SMTP server.
func (d *Desk) send(ctx context.Context, t astreinte.Ticket, m store.Mail) error {
	msg := &mailer.Message{To: []*mail.Address{{Name: m.Name, Address: m.Addr}}, Subject: m.Subject,
		MessageID: "<" + m.MessageID + ">", Text: m.Text, Date: d.now()}
	if m.InReplyTo != "" {
		msg.InReplyTo = "<" + m.InReplyTo + ">"
	}
	for _, r := range m.Refs {
		msg.References = append(msg.References, "<"+r+">")
	}
	if len(d.Addresses) > 0 && !strings.EqualFold(d.from(), d.Addresses[0]) {
		msg.ReplyTo = &mail.Address{Address: d.Addresses[0]} // answers go to the support address
	}
	if m.Lang != "" {
		msg.Add("Content-Language", m.Lang)
	}
	msg.Add("X-Astreinte-Ticket", t.Number)
	if m.Kind == store.MailAck {
		// RFC 3834: an automatic answer, which other programs must not
		// answer in turn.
		msg.Add("Auto-Submitted", "auto-replied")
		msg.Add("X-Auto-Response-Suppress", "All")
	}
	return d.Mail.Send(ctx, msg)
}
