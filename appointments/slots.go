// Package appointments books the phone or video advice of the second
// agreement: a 45-minute slot per ticket, within three business days,
// among the support calendar's open hours (holidays and closures left
// out) and the slots nobody took. Both the customer and the support desk
// get an email with an iCalendar invitation (RFC 5545) and, for a video
// meeting, the room's address; cancelling frees the slot and sends the
// cancellation.
package appointments

import (
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/store"
)

// Length is one appointment: 45 minutes per ticket.
const Length = 45 * time.Minute

// Window is how many business days ahead a slot may be booked.
const Window = 3

// Calendar is the support calendar (calendar.Calendar).
type Calendar interface {
	Periods(from, to time.Time, o *calendar.Override) []calendar.Period
	AddBusinessDays(t time.Time, n int) time.Time
	Location() *time.Location
}

var _ Calendar = (*calendar.Calendar)(nil)

// Slot is a time an appointment can take.
type Slot struct {
	Start, End time.Time
}

// Free returns the slots that can be booked at now: Length-long, laid end
// to end from the start of each stretch of open hours, starting after now
// and ending by the window's end (days business days after now), not
// overlapping any of taken (cancelled ones are ignored). Manual overrides
// of the calendar play no part: an appointment is planned on the regular
// calendar.
func Free(cal Calendar, now time.Time, days int, taken []store.Appointment) []Slot {
	loc := cal.Location()
	end := cal.AddBusinessDays(now, days)
	if end.IsZero() {
		return nil
	}
	n := now.In(loc)
	from := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	var out []Slot
	ps := cal.Periods(from, end, nil)
	for i := 0; i < len(ps); i++ {
		if !ps[i].State.Open {
			continue
		}
		// One stretch of open time: neighbours open for other reasons join it.
		a, b := ps[i].Start, ps[i].End
		for i+1 < len(ps) && ps[i+1].State.Open && ps[i+1].Start.Equal(b) {
			i++
			b = ps[i].End
		}
		for s := a; !s.Add(Length).After(b); s = s.Add(Length) {
			if !s.After(now) || overlaps(s, s.Add(Length), taken) {
				continue
			}
			out = append(out, Slot{Start: s, End: s.Add(Length)})
		}
	}
	return out
}

func overlaps(a, b time.Time, taken []store.Appointment) bool {
	for _, t := range taken {
		if t.CancelledAt.IsZero() && t.Start.Before(b) && t.End.After(a) {
			return true
		}
	}
	return false
}
