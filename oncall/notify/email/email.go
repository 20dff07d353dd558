// Package email pages technicians by email over SMTP: a short text in
// their language with the facts of the ticket (caller, time, urgency, due
// time), a signed one-click acknowledge link and the caller's message
// attached as a WAV file.
//
// A Notifier error means "not delivered, try again": the paging engine
// retries with backoff and puts the error, which carries the server's
// reply, on the ticket's timeline.
package email

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/recording"
)

// DefaultMaxAttachment is the largest recording attached when
// Config.MaxAttachment is zero.
const DefaultMaxAttachment = 10 << 20

// Config says how to reach the SMTP server (the line's one mail
// transport, mailer.Config: only Addr and From are required) and what to
// put in pages.
type Config struct {
	mailer.Config
	// Recordings opens the recording attached: the file here, else the
	// store's copy (recording.Opener; nil: files only).
	Recordings *recording.Opener
	// Links makes the acknowledge link; without it the page only gives
	// the CLI command.
	Links oncall.AckLinks
	// Region is how the number to call back is written: in that region's
	// national form, grouped ("06 12 34 56 78"); "" is phone.DefaultRegion.
	Region string
	// Location is the zone of times in the text (default time.Local).
	Location *time.Location
	// MaxAttachment is the largest recording attached (default 10 MB);
	// the text says when a recording is too big and where it is.
	MaxAttachment int64
}

func (c *Config) maxAttachment() int64 {
	if c.MaxAttachment > 0 {
		return c.MaxAttachment
	}
	return DefaultMaxAttachment
}

// Notifier sends pages by email. It implements oncall.Notifier.
type Notifier struct {
	Cfg Config
	// Sessions, when set, sends on SMTP sessions kept open between
	// messages (a mailer.Pool over Cfg.Config), which takes the
	// connection, EHLO, TLS and AUTH off a page's way; nil opens one per
	// message.
	Sessions *mailer.Pool
	Now      func() time.Time // default time.Now
}

var _ oncall.Notifier = (*Notifier)(nil)

// Reaches reports whether p has an email address.
func (n *Notifier) Reaches(p oncall.Person) bool { return p.Email != "" }

// Rings reports false: the emails for two tickets go together.
func (n *Notifier) Rings() bool { return false }

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// Notify emails the page to the notice's person. The result's Detail says
// which server accepted it for whom; an error carries the failing step and
// the server's reply.
func (n *Notifier) Notify(ctx context.Context, no oncall.Notice) (oncall.Result, error) {
	from, err := n.Cfg.Sender()
	if err != nil {
		return oncall.Result{}, fmt.Errorf("email: %w", err)
	}
	if no.Person.Email == "" {
		return oncall.Result{}, fmt.Errorf("email: %s has no email address", no.Person.Name)
	}
	rcpt, err := mail.ParseAddress(no.Person.Email)
	if err != nil {
		return oncall.Result{}, fmt.Errorf("email: address of %s %q: %w", no.Person.Name, no.Person.Email, err)
	}
	to := &mail.Address{Name: clean(no.Person.Name), Address: rcpt.Address}

	m, closeFn := n.compose(no, from, to, n.now())
	defer closeFn()
	send := n.Cfg.Send
	if n.Sessions != nil {
		send = n.Sessions.Send
	}
	if err := send(ctx, m); err != nil {
		return oncall.Result{}, err
	}
	return oncall.Result{Detail: fmt.Sprintf("accepted by %s for %s", n.Cfg.Addr, to.Address)}, nil
}
