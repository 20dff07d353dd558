package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
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
// support reopens and whether anyone can be paged now. The latter needs
// the escalation engine (its channels), which is built after the SIP
// server that needs the flow: bind it once built.
func wireCaller(e *env, flow *voicemail.Handler) *onCallNow {
	oc := &onCallNow{tickets: e.tickets}
	flow.OnCall = oc
	flow.Location = e.location()
	flow.Customers = keypadCustomers(e) // caller_customers.go
	flow.NextOpen = e.cal.NextOpen
	return oc
}

// onCallNow says whether someone is on call now in some tier and reachable
// by a configured channel (what the engine would page), and if not why.
type onCallNow struct {
	tickets *tickets.Service // whose contracts include on-call
	eng     atomic.Pointer[oncall.Engine]
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
	return eng.WhyNobody(ctx, at, o.tickets.ContractOnCall(t))
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
