// Package correspondence is the support desk's email with requesters:
// every new ticket from email or the customer space is acknowledged to its
// requester (number, due time, in their language, threaded to their
// message); a technician's reply is mailed to the requester and kept on
// the timeline; the requester's answer (In-Reply-To or References naming a
// mail of the ticket, or the ticket number in the subject) joins the
// ticket, reopening it when resolved. Mail to requesters goes through an
// outbox in the database (store mails), so a mail the SMTP server refused
// is tried again, also after a restart, and one process sends it once.
//
// It never answers a program (RFC 3834: Auto-Submitted, bulk and list
// mail, bounces, robots' addresses), nor itself, and sends at most
// MaxAcksPerDay acknowledgements to one address a day: two autoresponders
// cannot make a loop of it.
package correspondence

import (
	"context"
	"errors"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// AckChannels are the channels whose new tickets are acknowledged to the
// requester by email.
var AckChannels = []astreinte.Channel{astreinte.ChannelEmail, astreinte.ChannelSpace}

// MaxAcksPerDay bounds the acknowledgements sent to one address in 24 h.
const MaxAcksPerDay = 5

// ErrNoRequesterAddress is returned by Reply for a ticket whose requester
// has no known email address.
var ErrNoRequesterAddress = errors.New("the requester has no known email address")

// ErrNotConfigured is returned by Reply when mail cannot be sent at all.
var ErrNotConfigured = errors.New("email to requesters is not configured (paging.email.smtp and paging.email.from)")

// Store is where the correspondence is kept (store.DB).
type Store interface {
	AddMail(ctx context.Context, m *store.Mail, ev *astreinte.Event) error
	Mails(ctx context.Context, ticketID int64) ([]store.Mail, error)
	MailByMessageID(ctx context.Context, id string) (store.Mail, error)
	ThreadTicket(ctx context.Context, ids []string) (int64, error)
	MailsTo(ctx context.Context, addr, kind string, since time.Time) (int, error)
	DueMails(ctx context.Context, now time.Time, limit int) ([]store.Mail, error)
	NextMailAt(ctx context.Context) (time.Time, bool, error)
	ClaimMail(ctx context.Context, id int64, leaseUntil time.Time) (bool, error)
	FinishMail(ctx context.Context, id int64, state string, retryAt time.Time, errText string, ev *astreinte.Event) error
	CustomerByNumber(ctx context.Context, number string) (customers.Customer, error)
	AddEvent(ctx context.Context, e astreinte.Event) error
}

// Tickets is what the desk needs of the tickets service (tickets.Service).
type Tickets interface {
	FromEmail(ctx context.Context, m tickets.Email, line string, cs astreinte.Case) (astreinte.Ticket, bool, error)
	ByID(ctx context.Context, id int64) (astreinte.Ticket, error)
	Subscribe(f func(tickets.Change)) (cancel func())
}

// Sender delivers one message (mailer.Config).
type Sender interface {
	Configured() bool
	Sender() (*mail.Address, error)
	Send(ctx context.Context, m *mailer.Message) error
}

// Desk is the correspondence service. Store, Tickets and Mail are
// required; its zero options work.
type Desk struct {
	Store   Store
	Tickets Tickets
	Mail    Sender
	// Addresses are the support desk's own addresses (where requesters
	// write): mail from them is never taken, and replies go to the first.
	Addresses []string
	// BaseURL is the pages' public address: the acknowledgement points to
	// the customer space under it. Empty: no link.
	BaseURL   string
	Location  *time.Location                       // of the times written (default time.Local)
	Case      func(context.Context) astreinte.Case // the calendar case now (default: open)
	Now       func() time.Time                     // default time.Now
	Log       *slog.Logger                         // default slog.Default()
	Sensitive bool                                 // the acknowledgement says the sensitive-requests rule
	// Calls acknowledges the phone messages of callers identified as a
	// customer too, to the customer's first contact, with the link to the
	// customer space (mail.acknowledge_calls).
	Calls bool

	recv     sync.Mutex // one Receive at a time: the acknowledgement finds its email (arriving)
	arriving *mailin.Message
	wake     chan struct{}
	initOnce sync.Once
}

func (d *Desk) init() {
	d.initOnce.Do(func() { d.wake = make(chan struct{}, 1) })
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

func (d *Desk) loc() *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.Local
}

// Watch makes the desk acknowledge the new tickets of AckChannels that
// svc makes; the returned function stops it.
func (d *Desk) Watch() (cancel func()) {
	d.init()
	return d.Tickets.Subscribe(d.changed)
}

// own reports whether addr is one of the desk's own addresses (the
// support addresses or the sender of its mail).
func (d *Desk) own(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if slices.ContainsFunc(d.Addresses, func(a string) bool { return strings.EqualFold(a, addr) }) {
		return true
	}
	if d.Mail != nil && d.Mail.Configured() {
		if from, err := d.Mail.Sender(); err == nil && strings.EqualFold(from.Address, addr) {
			return true
		}
	}
	return false
}

// from is the address the desk's mail comes from ("" when not configured).
func (d *Desk) from() string {
	if d.Mail == nil || !d.Mail.Configured() {
		return ""
	}
	a, err := d.Mail.Sender()
	if err != nil {
		return ""
	}
	return a.Address
}
