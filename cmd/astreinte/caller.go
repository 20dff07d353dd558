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
	"github.com/astreinte/astreinte/tickets"
	"github.com/astreinte/astreinte/voicemail"
)

// callerLine gives a flow line its caller options.
func callerLine(l config.Line, vl *voicemail.Line) {
	vl.Region, vl.MissedCalls = l.Country, l.MissedCalls
}

// wireCaller gives the caller's flow what it tells callers from: when
// support reopens and whether anyone can be paged now. The answer to the
// second comes from the escalation engine, which is built after the SIP
// server that needs the flow: bind it once built.
func wireCaller(e *env, flow *voicemail.Handler) *onCallNow {
	oc := &onCallNow{e: e}
	flow.OnCall = oc
	flow.Location = e.location()
	flow.NextOpen = func(ctx context.Context, t time.Time) time.Time {
		ov, err := e.db.CalendarOverride(ctx)
		if err != nil {
			ov = nil // the calendar's own rules still say something true enough
		}
		return e.cal.NextOpen(t, ov)
	}
	return oc
}

// onCallNow says whether someone is on call now in some tier and reachable
// by a configured channel: what the engine would page.
type onCallNow struct {
	e   *env
	eng atomic.Pointer[oncall.Engine]
}

var _ voicemail.OnCall = (*onCallNow)(nil)

func (o *onCallNow) bind(eng *oncall.Engine) { o.eng.Store(eng) }

// Reachable reports whether the engine would find someone to page at t.
func (o *onCallNow) Reachable(ctx context.Context, t time.Time) bool {
	eng := o.eng.Load()
	if eng == nil {
		return false
	}
	ovs, err := o.e.db.ShiftOverrides(ctx, t.Add(-24*time.Hour), t.Add(24*time.Hour))
	if err != nil {
		return false
	}
	calOv, err := o.e.db.CalendarOverride(ctx)
	if err != nil {
		return false
	}
	for _, oc := range o.e.sched.WhoAt(t, ovs, calOv) {
		if oc.Person.ID != "" && len(eng.ChannelsOf(oc.Person)) > 0 {
			return true
		}
	}
	return false
}

// lineCountry is the country a line reads its numbers in.
func lineCountry(cfg *config.Config, line string) string {
	for _, l := range cfg.Lines {
		if l.Name == line {
			return l.Country
		}
	}
	return tickets.DefaultRegion
}

// showCallback adds to a ticket's header the number to call back, in the
// line's national format, and says when the ticket is a missed call.
func showCallback(w io.Writer, t astreinte.Ticket, region string) {
	if t.Kind == astreinte.KindMissedCall {
		fmt.Fprintf(w, "Kind\tmissed call, no message\n")
	}
	if t.CallbackNumber != "" {
		fmt.Fprintf(w, "Call back\t%s\n", tickets.National(t.CallbackNumber, region))
	} else {
		fmt.Fprintf(w, "Call back\tno number (hidden, none typed)\n")
	}
	if t.MessageAt > 0 {
		fmt.Fprintf(w, "Before the beep\t%s said over the prompts, then the beep, then the message\n", t.MessageAt.Round(100*time.Millisecond))
	}
}
