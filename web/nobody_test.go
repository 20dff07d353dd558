package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/tickets"
)

type fixedReason oncall.Reason

func (f fixedReason) WhyNobody(context.Context, time.Time, bool) oncall.Reason {
	return oncall.Reason(f)
}

// TestWhyNobodyOnThePage: the ticket page says the reason the caller heard
// (their contract, nobody on the rota, no channel, channels failing) with
// the callback day, in the reader's language; nothing when someone was
// called, or for a ticket left in opening hours.
func TestWhyNobodyOnThePage(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 12, 2, 3, 10, 0, 0, paris)
	urgent := astreinte.Ticket{Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, CreatedAt: at,
		DueAt: time.Date(2026, 12, 2, 9, 0, 0, 0, paris)}
	for _, tc := range []struct {
		why    oncall.Reason
		t      astreinte.Ticket
		l      lang.Tag
		want   string
		absent bool
	}{
		{oncall.ReasonContractWithoutOnCall, urgent, lang.FR, "couvre les heures ouvrées", false},
		{oncall.ReasonContractWithoutOnCall, urgent, lang.EN, "covers working hours", false},
		{oncall.ReasonNobodyOnRota, urgent, lang.FR, "Personne n'est d'astreinte", false},
		{oncall.ReasonChannelsFailing, urgent, lang.EN, "Every way of paging", false},
		{oncall.ReasonNone, urgent, lang.FR, "", true},
	} {
		s := &Server{Location: paris, Reasons: fixedReason(tc.why), Service: tickets.New(nil, nil, tickets.Options{})}
		got := s.whyNobody(context.Background(), tc.l, tc.t)
		if tc.absent {
			if got != "" {
				t.Errorf("%v: %q, want nothing", tc.why, got)
			}
			continue
		}
		day := tc.l.Pick("mercredi 2 décembre", "Wednesday 2 December")
		if !strings.Contains(got, tc.want) || !strings.Contains(got, day) {
			t.Errorf("%v in %s: %q, want %q and %q", tc.why, tc.l, got, tc.want, day)
		}
	}
	open := urgent
	open.Case = astreinte.CaseOpen
	s := &Server{Location: paris, Reasons: fixedReason(oncall.ReasonNobodyOnRota), Service: tickets.New(nil, nil, tickets.Options{})}
	if got := s.whyNobody(context.Background(), lang.FR, open); got != "" {
		t.Errorf("in opening hours: %q", got)
	}
}
