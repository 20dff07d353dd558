package calendar

import (
	"context"
	"time"

	"github.com/astreinte/astreinte"
)

// Override forces the support line open or closed until a time, whatever
// the calendar says. It is set from the CLI and kept in the store.
type Override struct {
	Open   bool
	Until  time.Time
	Reason string
	SetBy  string
	SetAt  time.Time
}

// reasonText is how a Reason reads in a sentence.
var reasonText = map[Reason]string{
	ReasonHours:        "opening hours",
	ReasonOpening:      "exceptional opening",
	ReasonForcedOpen:   "forced open",
	ReasonOutOfHours:   "out of hours",
	ReasonWeekend:      "weekend",
	ReasonHoliday:      "holiday",
	ReasonClosure:      "closure",
	ReasonForcedClosed: "forced closed",
}

// Why says why support is open or closed, as a technician reads it:
// "opening hours", "holiday: Noël", "forced closed: team meeting".
func (st State) Why() string {
	s, ok := reasonText[st.Reason]
	if !ok {
		s = string(st.Reason)
	}
	if st.Label != "" {
		s += ": " + st.Label
	}
	return s
}

// Case is the calendar case a call in this state falls under, as recorded
// on calls and tickets.
func (st State) Case() astreinte.Case {
	switch st.Reason {
	case ReasonForcedOpen:
		return astreinte.CaseForceOpen
	case ReasonForcedClosed:
		return astreinte.CaseForceClosed
	case ReasonHoliday:
		return astreinte.CaseHoliday
	case ReasonClosure:
		return astreinte.CaseClosure
	}
	if st.Open {
		return astreinte.CaseOpen
	}
	return astreinte.CaseOutOfHours
}

// OverrideStore keeps the manual "force open/closed" switch.
type OverrideStore interface {
	CalendarOverride(ctx context.Context) (*Override, error)
}

// Live is the calendar as it stands: its rules plus the manual override
// read from the store at each question.
type Live struct {
	*Calendar
	Overrides OverrideStore
}

// State says whether support is open at t and why. When the override
// cannot be read, the calendar's own rules answer (and err says why).
func (l Live) State(ctx context.Context, t time.Time) (State, error) {
	ov, err := l.override(ctx)
	return l.StateAt(t, ov), err
}

// override is the manual override as the store has it (nil: none, or no
// store).
func (l Live) override(ctx context.Context) (*Override, error) {
	if l.Overrides == nil {
		return nil, nil
	}
	return l.Overrides.CalendarOverride(ctx)
}

// CaseAt is the case a call at t falls under, with its label (holiday or
// closure name, override reason).
func (l Live) CaseAt(ctx context.Context, t time.Time) (astreinte.Case, string) {
	ov, _ := l.override(ctx) // unreadable: the rules answer
	st := l.At(t, ov)
	return st.Case(), st.Label
}

// NextOpen is when support next opens after t, the manual override
// counted; zero when not within the search horizon. When the override
// cannot be read, the calendar's own rules answer.
func (l Live) NextOpen(ctx context.Context, t time.Time) time.Time {
	ov, _ := l.override(ctx)
	return l.Calendar.NextOpen(t, ov)
}
