package correspondence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
)

// MaxReply bounds a technician's reply, in bytes.
const MaxReply = mailin.MaxText

// ErrEmptyReply is returned by Reply for a reply without text.
var ErrEmptyReply = errors.New("empty reply")

// Reply mails actor's text to the requester of ticket id, threaded to the
// ticket's latest email, and keeps it on the timeline (who, when, text) in
// the same transaction as the outbox's copy. It tries to send it at once:
// the mail returned says whether it left (MailSent) or waits in the outbox
// for a retry (MailQueued, Error saying why).
func (d *Desk) Reply(ctx context.Context, id int64, actor, text string) (store.Mail, error) {
	d.init()
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	switch {
	case text == "":
		return store.Mail{}, ErrEmptyReply
	case len(text) > MaxReply:
		return store.Mail{}, fmt.Errorf("reply: %d bytes, at most %d", len(text), MaxReply)
	case !utf8.ValidString(text):
		return store.Mail{}, errors.New("reply: not valid UTF-8 text")
	}
	if d.Mail == nil || !d.Mail.Configured() {
		return store.Mail{}, ErrNotConfigured
	}
	t, err := d.Tickets.ByID(ctx, id)
	if err != nil {
		return store.Mail{}, err
	}
	rq, err := d.requester(ctx, t)
	if err != nil {
		return store.Mail{}, err
	}
	if rq.Addr == "" {
		return store.Mail{}, fmt.Errorf("ticket %s: %w", t.Number, ErrNoRequesterAddress)
	}
	m := store.Mail{TicketID: t.ID, Direction: store.MailOut, Kind: store.MailReply, Addr: rq.Addr, Name: rq.Name,
		Actor: actor, State: store.MailQueued, MessageID: ownID(t.Number, d.from()), Lang: string(rq.Lang),
		Subject: replySubject(t.Number, rq.Subject), Text: replyBody(rq.Lang, t.Number, text)}
	if rq.Last != nil {
		m.InReplyTo = rq.Last.MessageID
		m.Refs = append(append([]string{}, rq.Last.Refs...), rq.Last.MessageID)
		if n := len(m.Refs); n > 20 {
			m.Refs = append(m.Refs[:1], m.Refs[n-19:]...) // the first and the latest (RFC 5322 3.6.4)
		}
	}
	ev := astreinte.Event{At: d.now(), Kind: astreinte.EventReply, Actor: actor, Channel: string(astreinte.ChannelEmail),
		Detail: "to " + rq.Addr + ":\n" + text}
	if err := d.Store.AddMail(ctx, &m, &ev); err != nil {
		return m, err
	}
	d.log().Info("reply queued", "ticket", t.Number, "actor", actor, "to", rq.Addr)
	return d.deliver(ctx, m), nil
}

// RequesterAddress is where t's replies go: "" when its requester has no
// known address.
func (d *Desk) RequesterAddress(ctx context.Context, t astreinte.Ticket) (string, error) {
	rq, err := d.requester(ctx, t)
	return rq.Addr, err
}
