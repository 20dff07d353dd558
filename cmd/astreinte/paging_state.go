package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

// pagingState says where a ticket's escalation is, for tickets show; ""
// when it never paged. An exhausted escalation is marked in capitals with
// what became of its fallback.
func pagingState(ctx context.Context, e *env, ticketID int64, loc *time.Location) string {
	p, err := e.db.PageByTicket(ctx, ticketID)
	if err != nil {
		return ""
	}
	switch p.State {
	case oncall.PageActive:
		return fmt.Sprintf("in progress, next step (%d) at %s", p.Step+1, fmtTime(p.NextAt, loc))
	case oncall.PageAcked:
		return fmt.Sprintf("stopped: acknowledged by %s via %s", p.AckedBy, p.AckedVia)
	case oncall.PageCancelled:
		return "stopped: the ticket was closed"
	case oncall.PageExhausted:
		sends, _ := e.db.Sends(ctx, p.ID)
		var fb []string
		for _, s := range sends {
			if s.Event != oncall.NoticeExhausted {
				continue
			}
			who := s.Channel
			if a, ok := strings.CutPrefix(s.Person, oncall.FallbackPrefix); ok {
				who = a + " by " + s.Channel
			}
			fb = append(fb, fmt.Sprintf("%s (%s)", who, s.State))
		}
		if len(fb) == 0 {
			return "EXHAUSTED: nobody acknowledged, and no fallback is configured"
		}
		return "EXHAUSTED: nobody acknowledged; fallback paged: " + strings.Join(fb, ", ")
	}
	return string(p.State)
}
