package web

import (
	"context"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/oncall"
)

// Reasons says whether an urgent request at a time would page someone,
// and if not why (oncall.Engine.WhyNobody); onCall false: the caller's
// contract has no on-call.
type Reasons interface {
	WhyNobody(ctx context.Context, at time.Time, onCall bool) oncall.Reason
}

// overdue reports whether a promise made about t has passed at now, with
// the policy's acknowledgement target.
func (s *Server) overdue(t astreinte.Ticket, now time.Time) bool {
	if s.Service != nil {
		return s.Service.Overdue(t, now)
	}
	return false
}

// whyNobody is what the ticket page says of an urgent ticket left out of
// hours that paged nobody: the same reason the caller heard (contract
// without on-call, nobody on the rota, no channel, every channel failing)
// with the day they will be called back by; "" when someone was meant to
// be called, or the line does not page.
func (s *Server) whyNobody(ctx context.Context, l lang.Tag, t astreinte.Ticket) string {
	if s.Reasons == nil || t.Urgency != astreinte.Urgent || t.Case.Open() || t.Channel == astreinte.ChannelEmail {
		return ""
	}
	why := s.Reasons.WhyNobody(ctx, t.CreatedAt, s.Service.ContractOnCall(t))
	if why == oncall.ReasonNone {
		return ""
	}
	return why.Words(string(l), t.DueAt, s.loc())
}
