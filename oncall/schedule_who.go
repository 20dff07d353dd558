package oncall

import (
	"slices"
	"time"

	"github.com/astreinte/astreinte/calendar"
)

// OnCall is who answers for one escalation tier at an instant.
type OnCall struct {
	Tier      string
	TierIndex int
	Person    Person // zero value when nobody is on call for the tier
	// From and Until bound this answer: a hand-off, an override's edge or,
	// for an out_of_hours rotation, support opening or closing. Zero means
	// no bound (a fixed person without overrides).
	From, Until time.Time
	Override    *ShiftOverride // the override that put Person there, if any
	Rotation    string         // "" for a fixed-person tier
}

// Shift is one turn of a rotation, or the piece of it left by overrides.
type Shift struct {
	Rotation string
	Person   Person // zero value for an override with nobody
	From, To time.Time
	Override *ShiftOverride
}

// Gap is a stretch of closed time with nobody on call in the first tier.
type Gap struct {
	From, To time.Time
	Tier     string // the first tier's name ("" when there is no tier at all)
}

// PeopleAt is, for each tier in order, who is on call at t: WhoAt's
// Person, without the times it holds from and until. It asks the calendar
// about the instant alone, where WhoAt's bounds for an out_of_hours
// rotation have it search for support's opening and closing, up to 400
// days each way (0.7 ms on a line that never opens). Paging and the call's
// promise need no more.
func (s *Schedule) PeopleAt(t time.Time, ovs []ShiftOverride, calOv *calendar.Override) []Person {
	var st *calendar.State
	out := make([]Person, len(s.tiers))
	for i, tier := range s.tiers {
		if r := s.rotation(tier.Rotation); r != nil && !r.all {
			if st == nil {
				x := s.cal.At(t, calOv)
				st = &x
			}
			if st.Open {
				continue
			}
		}
		out[i] = s.person(s.tierPieceAt(tier, t, ovs).id)
	}
	return out
}

// WhoAt returns, for each tier in order, who is on call at t and until
// when. ovs are the shift overrides in force; calOv, if not nil, the
// calendar override (it decides when out_of_hours rotations count). A tier
// with nobody (support open for an out_of_hours rotation, before a
// rotation's start, an override by nobody) has an empty Person.
func (s *Schedule) WhoAt(t time.Time, ovs []ShiftOverride, calOv *calendar.Override) []OnCall {
	var st *calendar.State
	out := make([]OnCall, 0, len(s.tiers))
	for i, tier := range s.tiers {
		oc := OnCall{Tier: tier.Name, TierIndex: i, Rotation: tier.Rotation}
		p := s.tierPieceAt(tier, t, ovs)
		if r := s.rotation(tier.Rotation); r != nil && !r.all {
			if st == nil {
				x := s.cal.StateAt(t, calOv)
				st = &x
			}
			if st.Open {
				oc.From, oc.Until = st.Since, st.Until
				out = append(out, oc)
				continue
			}
			if st.Since.After(p.from) {
				p.from = st.Since
			}
			if !st.Until.IsZero() && st.Until.Before(p.to) {
				p.to = st.Until
			}
		}
		oc.Person, oc.Override = s.person(p.id), p.ov
		oc.From, oc.Until = unbound(p.from), unbound(p.to)
		out = append(out, oc)
	}
	return out
}

// tierPieceAt returns who the tier has at t, overrides applied, before
// coverage.
func (s *Schedule) tierPieceAt(tier Tier, t time.Time, ovs []ShiftOverride) piece {
	var ps []piece
	if r := s.rotation(tier.Rotation); r != nil {
		k, ok := r.index(t)
		if !ok {
			return piece{from: farPast, to: r.start}
		}
		id, from, to := r.shift(k)
		ps = overridden(id, from, to, ovs)
	} else {
		ps = overridden(tier.Person, farPast, farFuture, ovs)
	}
	for _, p := range ps {
		if !t.Before(p.from) && t.Before(p.to) {
			return p
		}
	}
	return piece{from: t, to: t} // not reached: pieces cover the shift
}

// pieces returns the rotation's shifts that meet [from, to), cut by the
// overrides, with their real (unclipped) edges. Nothing before Start.
func (r *rotation) pieces(from, to time.Time, ovs []ShiftOverride) []piece {
	if from.Before(r.start) {
		from = r.start
	}
	if !from.Before(to) {
		return nil
	}
	var out []piece
	k, _ := r.index(from)
	for ; r.boundary(k).Before(to); k++ {
		id, a, b := r.shift(k)
		for _, p := range overridden(id, a, b, ovs) {
			if p.to.After(from) && p.from.Before(to) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Shifts returns the shifts of every rotation that meet [from, to), with
// overrides applied (an override cuts a shift into pieces), sorted by
// start then rotation order. Edges are the real ones: the first shift may
// start before from and the last end after to.
func (s *Schedule) Shifts(from, to time.Time, ovs []ShiftOverride) []Shift {
	var out []Shift
	for _, r := range s.rotations {
		for _, p := range r.pieces(from, to, ovs) {
			out = append(out, Shift{Rotation: r.name, Person: s.person(p.id), From: p.from, To: p.to, Override: p.ov})
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int { return a.From.Compare(b.From) })
	return out
}

// Gaps returns the stretches of [from, to) when support is closed (so an
// on-call technician is needed) and the first tier has nobody: before its
// rotation starts, or where an override replaces its technician by nobody.
// Adjacent stretches are merged. With no tier at all, all closed time is a gap.
func (s *Schedule) Gaps(from, to time.Time, ovs []ShiftOverride, calOv *calendar.Override) []Gap {
	if !to.After(from) {
		return nil
	}
	var nobody []interval
	name := ""
	if len(s.tiers) == 0 {
		nobody = []interval{{from, to}}
	} else {
		tier := s.tiers[0]
		name = tier.Name
		var ps []piece
		if r := s.rotation(tier.Rotation); r != nil {
			if from.Before(r.start) {
				ps = append(ps, piece{from: from, to: r.start})
			}
			ps = append(ps, r.pieces(from, to, ovs)...)
		} else {
			ps = overridden(tier.Person, farPast, farFuture, ovs)
		}
		for _, p := range ps {
			if p.id == "" {
				nobody = addInterval(nobody, interval{maxTime(p.from, from), minTime(p.to, to)})
			}
		}
	}
	var closed []interval
	for _, p := range s.cal.Periods(from, to, calOv) {
		if !p.State.Open {
			closed = addInterval(closed, interval{p.Start, p.End})
		}
	}
	var gaps []Gap
	var merged []interval
	for i, j := 0, 0; i < len(nobody) && j < len(closed); {
		a, b := nobody[i], closed[j]
		if lo, hi := maxTime(a.from, b.from), minTime(a.to, b.to); lo.Before(hi) {
			merged = addInterval(merged, interval{lo, hi})
		}
		if a.to.Before(b.to) {
			i++
		} else {
			j++
		}
	}
	for _, iv := range merged {
		gaps = append(gaps, Gap{From: iv.from, To: iv.to, Tier: name})
	}
	return gaps
}

type interval struct{ from, to time.Time }

// addInterval appends iv (which must not start before the last one ends)
// to ivs, extending the last one when they touch. Empty intervals are dropped.
func addInterval(ivs []interval, iv interval) []interval {
	if !iv.from.Before(iv.to) {
		return ivs
	}
	if n := len(ivs); n > 0 && !ivs[n-1].to.Before(iv.from) {
		ivs[n-1].to = maxTime(ivs[n-1].to, iv.to)
		return ivs
	}
	return append(ivs, iv)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
