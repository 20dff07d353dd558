package calendar

import (
	"iter"
	"slices"
	"time"
)

// Reason says why support is open or closed.
type Reason string

// Reasons reported in State. When several apply, an exceptional opening
// wins, then (for closed time) a closure, a holiday, a day without hours
// ("weekend") and finally "out_of_hours". A manual override beats them all.
const (
	ReasonHours        Reason = "hours"         // open: regular hours
	ReasonOpening      Reason = "opening"       // open: exceptional opening
	ReasonForcedOpen   Reason = "forced_open"   // open: manual override
	ReasonOutOfHours   Reason = "out_of_hours"  // closed: a working day, outside its hours
	ReasonWeekend      Reason = "weekend"       // closed: a day of the week without hours
	ReasonHoliday      Reason = "holiday"       // closed: public or extra holiday
	ReasonClosure      Reason = "closure"       // closed: one-off closure
	ReasonForcedClosed Reason = "forced_closed" // closed: manual override
)

// State is whether support is open at an instant, why, and between which
// open/close boundaries.
type State struct {
	Open   bool
	Reason Reason
	Label  string    // holiday name, closure or opening label, override reason
	Since  time.Time // when support last opened (if Open) or closed; zero if not found
	Until  time.Time // when support next closes (if Open) or opens; zero if not within 400 days
}

// Period is a stretch of time with one State (Open, Reason and Label).
// Its State's Since and Until are the open/close boundaries around it, as
// StateAt reports them anywhere inside the period.
type Period struct {
	Start, End time.Time
	State      State
}

// searchDays bounds every search for the next or previous boundary.
const searchDays = 400

// seg is a stretch of time with one state.
type seg struct {
	start, end time.Time
	open       bool
	reason     Reason
	label      string
}

func (s seg) same(o seg) bool {
	return s.open == o.open && s.reason == o.reason && s.label == o.label
}

// day returns the segments covering local day d, from midnight to the next
// midnight (23 or 25 hours on DST days), merged when equal, override not
// applied.
func (c *Calendar) day(d date) []seg {
	start, end := d.at(c.loc, 0), d.add(1).at(c.loc, 0)
	holName, isHol := c.hol.name(d)
	op, isOp := c.openings[d]
	regular := c.week[d.weekday()]
	var spans []span
	switch {
	case isOp:
		spans = op.spans
	case !isHol:
		spans = regular
	}
	pts := []time.Time{start, end}
	abs := make([][2]time.Time, len(spans))
	for i, sp := range spans {
		abs[i] = [2]time.Time{d.at(c.loc, sp.start), d.at(c.loc, sp.end)}
		pts = append(pts, abs[i][0], abs[i][1])
	}
	for _, cl := range c.closures {
		pts = append(pts, cl.from, cl.to)
	}
	pts = slices.DeleteFunc(pts, func(p time.Time) bool { return p.Before(start) || p.After(end) })
	slices.SortFunc(pts, time.Time.Compare)

	var segs []seg
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		if !a.Before(b) {
			continue
		}
		s := seg{start: a, end: b}
		inSpan := false
		for _, ab := range abs {
			if !a.Before(ab[0]) && a.Before(ab[1]) {
				inSpan = true
			}
		}
		clLabel, inClosure := c.closureAt(a)
		switch {
		case inSpan && isOp:
			s.open, s.reason, s.label = true, ReasonOpening, op.label
		case inClosure:
			s.reason, s.label = ReasonClosure, clLabel
		case inSpan:
			s.open, s.reason = true, ReasonHours
		case isHol:
			s.reason, s.label = ReasonHoliday, holName
		case len(regular) == 0:
			s.reason = ReasonWeekend
		default:
			s.reason = ReasonOutOfHours
		}
		if n := len(segs); n > 0 && segs[n-1].same(s) {
			segs[n-1].end = b
			continue
		}
		segs = append(segs, s)
	}
	return segs
}

func (c *Calendar) closureAt(t time.Time) (string, bool) {
	for _, cl := range c.closures {
		if !t.Before(cl.from) && t.Before(cl.to) {
			return cl.label, true
		}
	}
	return "", false
}

// applyOverride splits s where o starts and ends applying; o applies to
// [lo, o.Until), with no lower bound when lo is zero.
func applyOverride(s seg, o *Override, lo time.Time) []seg {
	if o == nil {
		return []seg{s}
	}
	a, b := s.start, s.end
	if !lo.IsZero() && lo.After(a) {
		a = lo
	}
	if o.Until.Before(b) {
		b = o.Until
	}
	if !a.Before(b) {
		return []seg{s}
	}
	forced := seg{start: a, end: b, open: o.Open, reason: ReasonForcedClosed, label: o.Reason}
	if o.Open {
		forced.reason = ReasonForcedOpen
	}
	var out []seg
	if s.start.Before(a) {
		out = append(out, seg{s.start, a, s.open, s.reason, s.label})
	}
	out = append(out, forced)
	if b.Before(s.end) {
		out = append(out, seg{b, s.end, s.open, s.reason, s.label})
	}
	return out
}

// forward yields the segments from t on (the first starts at t), override
// applied, equal neighbours merged, for at most days days after t's day.
func (c *Calendar) forward(t time.Time, o *Override, days int) iter.Seq[seg] {
	return func(yield func(seg) bool) {
		t = t.In(c.loc)
		d := dateOf(t)
		var cur seg
		have := false
		for i := 0; i <= days; i++ {
			for _, s := range c.day(d.add(i)) {
				if !s.end.After(t) {
					continue
				}
				if s.start.Before(t) {
					s.start = t
				}
				for _, p := range applyOverride(s, o, time.Time{}) {
					if have && cur.same(p) {
						cur.end = p.end
						continue
					}
					if have && !yield(cur) {
						return
					}
					cur, have = p, true
				}
			}
		}
		if have {
			yield(cur)
		}
	}
}

// backward yields the segments before t, latest first (the first ends at
// t), for at most days days before t's day. The override is taken to have
// applied from its SetAt on (for all time when SetAt is zero).
func (c *Calendar) backward(t time.Time, o *Override, days int) iter.Seq[seg] {
	return func(yield func(seg) bool) {
		t = t.In(c.loc)
		d := dateOf(t)
		var lo time.Time
		if o != nil {
			lo = o.SetAt
		}
		var cur seg
		have := false
		for i := 0; i <= days; i++ {
			segs := c.day(d.add(-i))
			for j := len(segs) - 1; j >= 0; j-- {
				s := segs[j]
				if !s.start.Before(t) {
					continue
				}
				if s.end.After(t) {
					s.end = t
				}
				pieces := applyOverride(s, o, lo)
				for k := len(pieces) - 1; k >= 0; k-- {
					p := pieces[k]
					if have && cur.same(p) {
						cur.start = p.start
						continue
					}
					if have && !yield(cur) {
						return
					}
					cur, have = p, true
				}
			}
		}
		if have {
			yield(cur)
		}
	}
}

// At is StateAt for t alone: whether support is open at t, why and its
// label, without the boundaries (Since and Until stay zero). A call's
// decision needs no more; StateAt looks for the boundaries up to 400 days
// away on each side, which costs ~750 µs when the line is never open.
func (c *Calendar) At(t time.Time, o *Override) State {
	t = t.In(c.loc)
	for _, s := range c.day(dateOf(t)) {
		if s.start.After(t) || !s.end.After(t) {
			continue
		}
		s.start = t
		for _, p := range applyOverride(s, o, time.Time{}) {
			if !p.start.After(t) && p.end.After(t) {
				return State{Open: p.open, Reason: p.reason, Label: p.label}
			}
		}
	}
	st := c.StateAt(t, o) // t in no segment of its day: cannot happen
	st.Since, st.Until = time.Time{}, time.Time{}
	return st
}

// StateAt reports whether support is open at t (any location), why, and
// the surrounding open/close boundaries. The override o, if not nil,
// applies while t < o.Until.
func (c *Calendar) StateAt(t time.Time, o *Override) State {
	var st State
	first := true
	for s := range c.forward(t, o, searchDays) {
		if first {
			st = State{Open: s.open, Reason: s.reason, Label: s.label}
			first = false
			continue
		}
		if s.open != st.Open {
			st.Until = s.start
			break
		}
	}
	if o != nil && t.Before(o.Until) && o.SetAt.IsZero() {
		return st // forced since an unknown time
	}
	for s := range c.backward(t, o, searchDays) {
		if s.open != st.Open {
			st.Since = s.end
			break
		}
	}
	return st
}

// NextOpen returns the first instant at or after t when support is open
// (t itself if it is open), or the zero time if none within 400 days.
func (c *Calendar) NextOpen(t time.Time, o *Override) time.Time {
	if c.never && (o == nil || !o.Open) {
		return time.Time{} // nothing to search for (400 closed days: 0.28 ms, BenchmarkNextOpen)
	}
	for s := range c.forward(t, o, searchDays) {
		if s.open {
			return s.start
		}
	}
	return time.Time{}
}

// Periods splits [from, to) into consecutive periods of constant state;
// neighbours with the same Open, Reason and Label are merged. The first
// period starts at from and the last ends at to.
func (c *Calendar) Periods(from, to time.Time, o *Override) []Period {
	if !to.After(from) {
		return nil
	}
	days := daysBetween(dateOf(from.In(c.loc)), dateOf(to.In(c.loc))) + 1
	var ps []Period
	for s := range c.forward(from, o, days) {
		if !s.start.Before(to) {
			break
		}
		if s.end.After(to) {
			s.end = to
		}
		ps = append(ps, Period{Start: s.start, End: s.end, State: State{Open: s.open, Reason: s.reason, Label: s.label}})
	}
	// Since and Until: the edges of each run of periods with the same Open,
	// looked up beyond [from, to) for the first and last runs.
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1].State.Open == ps[i].State.Open {
			j++
		}
		since, until := ps[i].Start, ps[j].End
		if i == 0 {
			since = c.StateAt(ps[0].Start, o).Since
		}
		if j == len(ps)-1 {
			until = c.StateAt(ps[j].Start, o).Until
		}
		for k := i; k <= j; k++ {
			ps[k].State.Since, ps[k].State.Until = since, until
		}
		i = j + 1
	}
	return ps
}
