package correspondence

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// changed queues the acknowledgement of a new ticket of AckChannels. It
// runs on the goroutine that made the ticket, inside Receive for email:
// the email being received (d.arriving) gives the threading, the language
// and whether a program sent it. The mail itself leaves from the outbox.
func (d *Desk) changed(c tickets.Change) {
	if c.Kind != tickets.Created || c.Remote { // the node that made it acknowledges
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, err := d.Tickets.ByID(ctx, c.TicketID)
	if err != nil {
		d.log().Error("acknowledgement: read the new ticket", "ticket", c.Number, "error", err)
		return
	}
	call := d.Calls && t.Channel == astreinte.ChannelPhone && t.Customer != ""
	if !slices.Contains(AckChannels, t.Channel) && !call {
		return
	}
	var in *mailin.Message
	if a := d.arriving; a != nil && t.Channel == astreinte.ChannelEmail && strings.EqualFold(a.From, t.CallerNumber) {
		in = a
	}
	if err := d.acknowledge(ctx, t, in); err != nil {
		d.log().Error("acknowledgement not queued", "ticket", t.Number, "error", err)
		return
	}
	d.Wake()
}

// AcknowledgesCall reports whether t, a phone message, is acknowledged
// by email to its customer's contact with the customer space's link: the
// desk acknowledges calls (Calls), can mail, has the pages' address, and
// the customer has an address that is not the desk's own. The call flow
// asks it to tell the caller, so what is said is what is sent.
func (d *Desk) AcknowledgesCall(ctx context.Context, t astreinte.Ticket) bool {
	if !d.Calls || d.BaseURL == "" || d.Mail == nil || !d.Mail.Configured() ||
		t.Channel != astreinte.ChannelPhone || t.Customer == "" {
		return false
	}
	rq, err := d.requester(ctx, t)
	return err == nil && rq.Addr != "" && !d.own(rq.Addr)
}

// acknowledge queues the acknowledgement of t to its requester, answering
// in (the email that made t, nil for the customer space), unless a program
// sent it, the requester has no address, or the address had its share of
// acknowledgements today; the reason for not sending is on the timeline.
func (d *Desk) acknowledge(ctx context.Context, t astreinte.Ticket, in *mailin.Message) error {
	if d.Mail == nil || !d.Mail.Configured() {
		d.log().Warn("no acknowledgement: email is not configured (paging.email.smtp)", "ticket", t.Number)
		return nil
	}
	rq, err := d.requester(ctx, t)
	if err != nil {
		return err
	}
	if t.Channel == astreinte.ChannelPhone && rq.Addr == "" {
		return nil // a customer without a contact address: nothing to say on every call
	}
	skip := ""
	switch {
	case in != nil && in.Auto != "":
		skip = "no acknowledgement: the email was sent by a program (" + in.Auto + ")"
	case rq.Addr == "":
		skip = "no acknowledgement: the requester has no known email address"
	case d.own(rq.Addr):
		skip = "no acknowledgement: the requester is the desk's own address"
	}
	if skip == "" {
		n, err := d.Store.MailsTo(ctx, rq.Addr, store.MailAck, d.now().Add(-24*time.Hour))
		if err != nil {
			return err
		}
		if n >= MaxAcksPerDay {
			skip = fmt.Sprintf("no acknowledgement: %d already sent to %s in 24 h (a mail loop?)", n, rq.Addr)
		}
	}
	if skip != "" {
		d.log().Info(skip, "ticket", t.Number)
		return d.note(ctx, t.ID, skip)
	}
	tag := rq.Lang
	subject := ""
	m := store.Mail{TicketID: t.ID, Direction: store.MailOut, Kind: store.MailAck, Addr: rq.Addr, Name: rq.Name,
		Actor: "system", State: store.MailQueued, MessageID: ownID(t.Number, d.from())}
	if in != nil {
		if !rq.Customers {
			tag = lang.Negotiate(in.Language, in.AcceptLanguage)
		}
		subject = in.Subject
		if in.MessageID != "" {
			m.InReplyTo = in.MessageID
			m.Refs = append(in.Thread(), in.MessageID)
		}
	}
	m.Lang = string(tag)
	m.Subject, m.Text = d.ackText(tag, t, rq.Name, subject)
	err = d.Store.AddMail(ctx, &m, nil)
	if errors.Is(err, store.ErrMailKnown) {
		return nil // acknowledged already
	}
	return err
}

// note adds a system note to a ticket's timeline.
func (d *Desk) note(ctx context.Context, ticketID int64, text string) error {
	return d.Store.AddEvent(ctx, astreinte.Event{TicketID: ticketID, At: d.now(), Kind: astreinte.EventNote,
		Actor: "system", Channel: string(astreinte.ChannelEmail), Detail: text})
}

// requester is who a ticket's mail goes to.
type requester struct {
	Addr, Name string
	Lang       lang.Tag
	Customers  bool        // Lang is the customer record's language: it wins over the mail's
	Last       *store.Mail // the latest mail of the ticket, nil for none
	Subject    string      // the first request's subject
}

// requester finds where t's mail goes: the sender of its latest email,
// else the address the ticket was made for (email, customer space), else
// its customer's first address; their language is their customer's (the
// customer record's language), else the one of their latest email, else
// the default.
func (d *Desk) requester(ctx context.Context, t astreinte.Ticket) (requester, error) {
	rq, err := d.findRequester(ctx, t)
	if err != nil || t.Customer == "" {
		return rq, err
	}
	c, err := d.Store.CustomerByNumber(ctx, t.Customer)
	if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
		return rq, err
	}
	if err == nil && c.Language != "" {
		rq.Lang, rq.Customers = c.Language, true
	}
	return rq, nil
}

func (d *Desk) findRequester(ctx context.Context, t astreinte.Ticket) (requester, error) {
	rq := requester{Lang: lang.Default}
	ms, err := d.Store.Mails(ctx, t.ID)
	if err != nil {
		return rq, err
	}
	for i := range ms {
		m := &ms[i]
		rq.Last = m
		if m.Direction != store.MailIn {
			continue
		}
		if rq.Subject == "" {
			rq.Subject = m.Subject
		}
		if m.Auto == "" || rq.Addr == "" {
			rq.Addr, rq.Name = m.Addr, m.Name
			if tg, ok := lang.Parse(m.Lang); ok {
				rq.Lang = tg
			}
		}
	}
	if rq.Addr != "" {
		return rq, nil
	}
	if strings.Contains(t.CallerNumber, "@") && (t.Channel == astreinte.ChannelEmail || t.Channel == astreinte.ChannelSpace) {
		rq.Addr, rq.Name = strings.ToLower(t.CallerNumber), t.CallerName
		return rq, nil
	}
	if t.Customer != "" {
		c, err := d.Store.CustomerByNumber(ctx, t.Customer)
		if err == nil && len(c.Emails) > 0 {
			rq.Addr, rq.Name = c.Emails[0], c.Name
		} else if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
			return rq, err
		}
	}
	return rq, nil
}
