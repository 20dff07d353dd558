package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
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
