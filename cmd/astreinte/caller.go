package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/notify/email"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/tickets"
	"github.com/astreinte/astreinte/voicemail"
)

// callerLine gives a flow line its caller options.
func callerLine(l config.Line, vl *voicemail.Line) {
	vl.Region, vl.MissedCalls, vl.DeskInHours = l.Country, l.MissedCalls, l.DeskEmail != ""
	vl.SensitiveNotice = l.SaysSensitiveNotice()
}

// wireCaller gives the caller's flow what it tells callers from: when
// support reopens and whether anyone can be paged now; and emails the
// support desk the tickets left in opening hours. Both need the escalation
// engine (its channels), which is built after the SIP server that needs the
// flow: bind it once built.
func wireCaller(e *env, flow *voicemail.Handler) *onCallNow {
	oc := &onCallNow{e: e}
	e.tickets.Subscribe(oc.deskMail)
	flow.OnCall = oc
	flow.Location = e.location()
	flow.Customers = keypadCustomers(e) // caller_customers.go
	flow.NextOpen = e.cal.NextOpen
	return oc
}

// onCallNow says whether someone is on call now in some tier and reachable
// by a configured channel (what the engine would page), and if not why.
type onCallNow struct {
	e   *env
	eng atomic.Pointer[oncall.Engine]
}

var _ voicemail.OnCall = (*onCallNow)(nil)

func (o *onCallNow) bind(eng *oncall.Engine) { o.eng.Store(eng) }

// WhyNobody says whether the engine would page someone about t at at,
// and if not why, t's contract included (tickets.Service.ContractOnCall).
func (o *onCallNow) WhyNobody(ctx context.Context, at time.Time, t astreinte.Ticket) oncall.Reason {
	eng := o.eng.Load()
	if eng == nil {
		return oncall.ReasonNobodyOnRota
	}
	return eng.WhyNobody(ctx, at, o.e.tickets.ContractOnCall(t))
}

// lineCountry is the country a line reads its numbers in.
func lineCountry(cfg *config.Config, line string) string {
	for _, l := range cfg.Lines {
		if l.Name == line {
			return l.Country
		}
	}
	return phone.DefaultRegion
}

// showCallback adds to a ticket's header the number to call back, in the
// line's national format, and says when the ticket is a missed call.
func showCallback(w io.Writer, t astreinte.Ticket, region string) {
	if t.Kind == astreinte.KindMissedCall {
		fmt.Fprintf(w, "Kind\tmissed call, no message\n")
	}
	if t.CallbackNumber != "" {
		fmt.Fprintf(w, "Call back\t%s\n", phone.National(t.CallbackNumber, region))
	} else {
		fmt.Fprintf(w, "Call back\tno number (hidden, none typed)\n")
	}
	switch {
	case t.MessageAt > 0 && t.MessageAt >= t.Duration:
		fmt.Fprintf(w, "Before the beep\tall of it: the caller spoke over the prompts and hung up before the beep\n")
	case t.MessageAt > 0:
		fmt.Fprintf(w, "Before the beep\t%s said over the prompts, then the beep, then the message\n", t.MessageAt.Round(100*time.Millisecond))
	}
}

// deskMail emails a ticket made in opening hours to its line's desk
// (lines[].desk_email), with the recording, through the email channel. It
// runs on its own goroutine: Subscribe callers must return at once. A mail
// that fails is logged; the ticket is in the list all the same.
func (o *onCallNow) deskMail(c tickets.Change) {
	if c.Kind != tickets.Created {
		return
	}
	eng := o.eng.Load()
	if eng == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		log := slog.Default().With("component", "desk", "ticket", c.Number)
		t, err := o.e.tickets.ByID(ctx, c.TicketID)
		if err != nil || !t.Case.Open() {
			return
		}
		desk := ""
		for _, l := range o.e.cfg.Lines {
			if l.Name == t.Line {
				desk = l.DeskEmail
			}
		}
		if desk == "" {
			return
		}
		n, ok := eng.Notifiers["email"].(*email.Notifier)
		if !ok {
			log.Warn("desk email not sent: paging.email.smtp is not configured", "to", desk)
			return
		}
		res, err := n.Notify(ctx, oncall.Notice{Ticket: t, Person: oncall.Person{ID: "desk", Name: "Support", Email: desk}})
		if err != nil {
			log.Error("desk email failed", "to", desk, "error", err)
			return
		}
		log.Info("desk emailed", "to", desk, "detail", res.Detail)
	}()
}
