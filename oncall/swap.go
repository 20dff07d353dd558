package oncall

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

// ErrLeavesGap means a change of the rota (a swap, an override) would
// leave closed time with nobody on call in the first tier.
var ErrLeavesGap = errors.New("would leave nobody on call")

// GapError is ErrLeavesGap with the gaps the change would open.
type GapError struct{ Gaps []Gap }

func (e *GapError) Error() string {
	var b strings.Builder
	for i, g := range e.Gaps {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s–%s", g.From.Format("2006-01-02 15:04"), g.To.Format("2006-01-02 15:04"))
	}
	return fmt.Sprintf("%v: %s", ErrLeavesGap, b.String())
}

func (e *GapError) Unwrap() error { return ErrLeavesGap }

// CheckChange runs the gap check (`oncall check`) on the rota as it would
// be with proposed added to ovs: it returns a *GapError listing the gaps
// within the proposed period that the rota does not have today, or nil.
// A swap (one technician's shift given to another) or an override is saved
// only when this passes.
func (s *Schedule) CheckChange(ovs []ShiftOverride, proposed ShiftOverride, calOv *calendar.Override) error {
	return s.checkChange(ovs, proposed.From, proposed.To, []ShiftOverride{proposed}, calOv)
}

func (s *Schedule) checkChange(ovs []ShiftOverride, from, to time.Time, proposed []ShiftOverride, calOv *calendar.Override) error {
	before := s.Gaps(from, to, ovs, calOv)
	after := s.Gaps(from, to, append(append([]ShiftOverride(nil), ovs...), proposed...), calOv)
	var added []Gap
	for _, g := range after {
		if !covered(g, before) {
			added = append(added, g)
		}
	}
	if len(added) > 0 {
		return &GapError{Gaps: added}
	}
	return nil
}

// covered reports whether g lies within one of gaps.
func covered(g Gap, gaps []Gap) bool {
	for _, o := range gaps {
		if !g.From.Before(o.From) && !g.To.After(o.To) {
			return true
		}
	}
	return false
}

// Swap is a shift one technician offers and another takes (defined in the
// root package, which the store keeps).
type Swap = astreinte.Swap

// SwapState is where a swap stands.
type SwapState = astreinte.SwapState

// The states of a swap.
const (
	SwapOffered = astreinte.SwapOffered
	SwapTaken   = astreinte.SwapTaken
	SwapDone    = astreinte.SwapDone
)

// Errors of AcceptSwap.
var (
	ErrSwapNotTaken    = errors.New("nobody has taken the shift yet")
	ErrSwapNeedsAdmin  = errors.New("the swap waits for an admin's approval")
	ErrSwapSelf        = errors.New("a technician cannot take their own shift")
	ErrUnknownPerson   = errors.New("unknown technician")
	ErrSwapNotOnShifts = errors.New("the technician offering is not on call then")
	// ErrSwapChanged: the swap was taken by someone else, or done,
	// meanwhile.
	ErrSwapChanged = astreinte.ErrSwapChanged
)

// AcceptSwap checks a swap before it is saved: taken by someone else on
// the rota, approved when requireApproval, the offerer on call for the
// whole period, and no gap left (CheckChange). It returns the override to
// save.
func (s *Schedule) AcceptSwap(w Swap, requireApproval bool, ovs []ShiftOverride, calOv *calendar.Override, setBy string, at time.Time) (ShiftOverride, error) {
	switch {
	case w.TakenBy == "":
		return ShiftOverride{}, ErrSwapNotTaken
	case w.TakenBy == w.Offered:
		return ShiftOverride{}, ErrSwapSelf
	case requireApproval && !w.Approved:
		return ShiftOverride{}, ErrSwapNeedsAdmin
	}
	if _, ok := s.byID[w.TakenBy]; !ok {
		return ShiftOverride{}, fmt.Errorf("%w %s", ErrUnknownPerson, w.TakenBy)
	}
	if _, ok := s.byID[w.Offered]; !ok {
		return ShiftOverride{}, fmt.Errorf("%w %s", ErrUnknownPerson, w.Offered)
	}
	onShift := false
	for _, sh := range s.Shifts(w.From, w.To, ovs) {
		if sh.Person.ID == w.Offered && !sh.From.After(w.From) && !sh.To.Before(w.To) {
			onShift = true
		}
	}
	if !onShift {
		return ShiftOverride{}, ErrSwapNotOnShifts
	}
	o := w.Override(setBy, at)
	// Overrides do not chain: where the taker is off (replaced by someone
	// else, or by nobody), the rota would really have that replacement.
	effective := []ShiftOverride{o}
	for _, x := range ovs {
		if x.Replaced == w.TakenBy && x.From.Before(w.To) && x.To.After(w.From) {
			from, to := Overlap(x.From, x.To, w.From, w.To)
			effective = append(effective, ShiftOverride{Replaced: w.Offered, By: x.By,
				From: from, To: to, SetBy: setBy, SetAt: at.Add(time.Nanosecond)})
		}
	}
	if err := s.checkChange(ovs, w.From, w.To, effective, calOv); err != nil {
		return ShiftOverride{}, err
	}
	return o, nil
}

// Overlap is the part of [aFrom, aTo) inside [bFrom, bTo): to is not
// after from when they do not overlap.
func Overlap(aFrom, aTo, bFrom, bTo time.Time) (from, to time.Time) {
	from, to = aFrom, aTo
	if bFrom.After(from) {
		from = bFrom
	}
	if bTo.Before(to) {
		to = bTo
	}
	return from, to
}
