// Package sipmessage pages a technician with a SIP MESSAGE (RFC 3428): a
// short text to their SIP URI, which a softphone or desk phone shows at
// once, with the facts and a link to acknowledge. It complements the
// call-out; it never acknowledges by itself. It also tells the people
// paged by phone that someone else took the ticket (oncall.NoticeTaken):
// the MESSAGE goes to the address their phone was called at.
package sipmessage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/sip"
)

// Sender sends a SIP MESSAGE (sip.Server).
type Sender interface {
	SendMessage(ctx context.Context, target, text string, opts sip.DialOptions) error
}

// Notifier sends pages as SIP MESSAGEs. It implements oncall.Notifier.
type Notifier struct {
	Sender  Sender
	Options sip.DialOptions
	// Links makes the acknowledge link (none when nil).
	Links    oncall.AckLinks
	Location *time.Location
	// Region is how the number to call back is written ("06 12 34 56 78");
	// "" is phone.DefaultRegion.
	Region string
	// PhoneByProxy: a person without a SIP URI is sent the MESSAGE at
	// their phone number through Options.Proxy, the address their
	// call-out rings (a PBX or SIP proxy, which delivers MESSAGE to the
	// registered phone). Leave it off when Options.Proxy is a carrier's
	// trunk, which carries no MESSAGE to a mobile number.
	PhoneByProxy bool
}

var _ oncall.Notifier = (*Notifier)(nil)

// Reaches reports whether p has an address to send the message to.
func (n *Notifier) Reaches(p oncall.Person) bool { return n.Target(p) != "" }

// Rings reports false: a message does not hold the line; two tickets'
// messages go together.
func (n *Notifier) Rings() bool { return false }

// Target is the SIP address p's messages go to: their SIP URI, else, with
// PhoneByProxy, their phone number through the proxy; "" for none.
func (n *Notifier) Target(p oncall.Person) string {
	return p.MessageTarget(n.Options.Proxy, n.PhoneByProxy)
}

// Notify sends the notice to the person's address (Target).
func (n *Notifier) Notify(ctx context.Context, no oncall.Notice) (oncall.Result, error) {
	target := n.Target(no.Person)
	if target == "" {
		return oncall.Result{}, errors.New(no.Person.Name + " has no SIP URI (and no phone number with a paging proxy)")
	}
	if err := n.Sender.SendMessage(ctx, target, n.Text(no), n.Options); err != nil {
		return oncall.Result{}, err
	}
	return oncall.Result{Detail: "message delivered to " + target}, nil
}

// Text is the message: urgency, ticket, caller, when, how long, and how to
// acknowledge, in the technician's language.
func (n *Notifier) Text(no oncall.Notice) string {
	t := no.Ticket
	loc := n.Location
	if loc == nil {
		loc = time.Local
	}
	en := no.Person.Language == "en"
	if no.Event == oncall.NoticeTaken {
		return oncall.TakenText(no.Person.Language, t.Number, no.TakenBy, no.TakenAt, loc) + "."
	}
	urg, from, at, msg, ack, cli := "NON URGENT", "appel de", "à", "message de", "Prendre en charge :", "ou : astreinte tickets ack "
	if t.Urgency == astreinte.Urgent {
		urg = "URGENT"
	}
	if en {
		urg, from, at, msg, ack, cli = "NOT URGENT", "call from", "at", "message of", "Acknowledge:", "or: astreinte tickets ack "
		if t.Urgency == astreinte.Urgent {
			urg = "URGENT"
		}
	}
	caller := t.ReachAt()
	if caller == "" || caller == "anonymous" {
		caller = map[bool]string{false: "numéro masqué", true: "hidden number"}[en]
	} else {
		caller = phone.National(caller, n.Region)
	}
	if t.CallerName != "" {
		caller += " (" + t.CallerName + ")"
	}
	// The newest message is the one paged for (a later call may have
	// joined the ticket).
	when, length, repeat := t.CreatedAt, t.Duration, ""
	if n := len(t.Recordings); n > 0 {
		when, length = t.Recordings[0].At, t.Recordings[0].Duration
		if n > 1 {
			repeat = fmt.Sprintf(" (%de message du même appelant)", n)
			if en {
				repeat = fmt.Sprintf(" (message %d from the same caller)", n)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s — Ticket %s, %s %s", urg, t.Number, from, caller)
	if !when.IsZero() {
		fmt.Fprintf(&b, " %s %s", at, when.In(loc).Format("15:04"))
	}
	if length > 0 {
		fmt.Fprintf(&b, ", %s %s", msg, length.Round(time.Second))
	}
	b.WriteString(repeat + ".\n")
	if n.Links != nil && t.ID != 0 { // no link before the ticket is written (paged from memory)
		if u, _ := n.Links.AckURL(t.ID, no.Person.ID); u != "" {
			fmt.Fprintf(&b, "%s %s\n", ack, u)
		}
	}
	b.WriteString(cli + t.Number)
	return b.String()
}
