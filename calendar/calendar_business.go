package calendar

import "time"

// AddBusinessDays returns when something received at t is due if it must be
// handled within n business days. A business day is a local date with some
// open time (regular hours or an exceptional opening, after holidays and
// closures); manual overrides are ignored. The rule:
//
//  1. The clock starts at NextOpen(t): a message left out of hours counts as
//     received when support next opens.
//  2. The due time is the same wall-clock time n business days later
//     (Tuesday 10:00 + 2 = Thursday 10:00, whatever lies in between).
//  3. If that time is not within the due day's open hours, it is moved back
//     to the end of the latest open interval before it: back to the lunch
//     break's start, to the closing time, or, when it is at or before the
//     day's first opening, to the previous business day's closing time. A
//     message left Friday 20:00 with n = 3 starts Monday 09:00 and is due
//     Wednesday 18:00, not Thursday 09:00 (the same amount of open time).
//
// n = 0 returns NextOpen(t); a negative n counts as 0. The result is zero if
// support does not open within 400 days.
func (c *Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	start := c.NextOpen(t, nil)
	if start.IsZero() || n <= 0 {
		return start
	}
	start = start.In(c.loc)
	d0 := dateOf(start)
	prev, due := d0, d0 // due: the n-th business day after d0; prev: the one before
	found := 0
	for i := 1; i <= searchDays && found < n; i++ {
		if d := d0.add(i); len(c.openSegs(d)) > 0 {
			prev, due = due, d
			found++
		}
	}
	if found < n {
		return time.Time{}
	}
	segs := c.openSegs(due)
	h, m, s := start.Clock()
	want := time.Date(due.y, due.m, due.d, h, m, s, start.Nanosecond(), c.loc)
	if !want.After(segs[0].start) {
		ps := c.openSegs(prev)
		return ps[len(ps)-1].end
	}
	latest := segs[0].end
	for _, sg := range segs {
		if !want.Before(sg.start) && want.Before(sg.end) {
			return want
		}
		if !sg.end.After(want) {
			latest = sg.end
		}
	}
	return latest
}

// openSegs returns the open segments of local day d, without override.
func (c *Calendar) openSegs(d date) []seg {
	var out []seg
	for _, s := range c.day(d) {
		if s.open {
			out = append(out, s)
		}
	}
	return out
}
