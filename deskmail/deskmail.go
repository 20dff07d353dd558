// Package deskmail emails a line's support desk every ticket made in
// opening hours (a message or a missed call), with its recording: the
// desk hears of them without watching the ticket list. It subscribes to
// the tickets service's changes; the mail itself is the email page
// (oncall/notify/email) addressed to the desk.
package deskmail

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/tickets"
)

// Tickets reads the ticket a change is about (tickets.Service).
type Tickets interface {
	ByID(ctx context.Context, id int64) (astreinte.Ticket, error)
}

// Mailer sends one ticket's email (*email.Notifier).
type Mailer interface {
	Notify(ctx context.Context, n oncall.Notice) (oncall.Result, error)
}

// Timeout bounds one desk email.
const Timeout = 2 * time.Minute

// Desk emails tickets made in opening hours to their line's desk.
type Desk struct {
	Tickets Tickets
	// Mail sends the email; nil when no SMTP server is configured, and a
	// desk address then only gets a warning in the log.
	Mail Mailer
	// To is each line's desk address (lines[].desk_email), by line name;
	// a line without one is not emailed.
	To  map[string]string
	Log *slog.Logger

	wg sync.WaitGroup
}

// Changed is the tickets subscriber: for a ticket just created it sends
// the desk email on its own goroutine (subscribers must return at once).
// A mail that fails is logged; the ticket is in the list all the same.
func (d *Desk) Changed(c tickets.Change) {
	if c.Kind != tickets.Created || c.Remote || len(d.To) == 0 { // the node that made it emails
		return
	}
	d.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		d.send(ctx, c)
	})
}

// Wait returns when every email started is sent or has failed.
func (d *Desk) Wait() { d.wg.Wait() }

func (d *Desk) send(ctx context.Context, c tickets.Change) {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "desk", "ticket", c.Number)
	t, err := d.Tickets.ByID(ctx, c.TicketID)
	if err != nil {
		log.Error("desk email: ticket", "error", err)
		return
	}
	to := d.To[t.Line]
	if to == "" || !t.Case.Open() {
		return
	}
	if d.Mail == nil {
		log.Warn("desk email not sent: paging.email.smtp is not configured", "to", to)
		return
	}
	res, err := d.Mail.Notify(ctx, oncall.Notice{Ticket: t, Person: oncall.Person{ID: "desk", Name: "Support", Email: to}})
	if err != nil {
		log.Error("desk email failed", "to", to, "error", err)
		return
	}
	log.Info("desk emailed", "to", to, "detail", res.Detail)
}
