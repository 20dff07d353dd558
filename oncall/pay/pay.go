// Package pay counts what an on-call period is owed (the French indemnité
// d'astreinte): per person and month, the time on call while support is
// closed, split into weekday nights, weekends and public holidays (the
// calendar's own), with interventions counted apart, priced at hourly
// rates in integer cents. See docs/oncall-pay.md for a worked example.
package pay

import (
	"context"
	"encoding/csv"
	"fmt"
	"github.com/astreinte/astreinte"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// Rates are the hourly rates, in cents, of each kind of on-call time and
// of interventions: the configuration's oncall.pay.
type Rates = oncall.PayRates

// Store is what a month's report reads (store.DB).
type Store interface {
	ShiftOverrides(ctx context.Context, from, to time.Time) ([]oncall.ShiftOverride, error)
	CalendarOverride(ctx context.Context) (*calendar.Override, error)
	Interventions(ctx context.Context, from, to time.Time) ([]Intervention, error)
}

// Report is the pay of month ("2026-12") at rates r: the shifts of s with
// the stored overrides, the calendar override and the interventions.
// The CSV export and the admin's page both come from it.
func Report(ctx context.Context, st Store, s *oncall.Schedule, month string, r Rates) ([]Line, error) {
	from, to, err := Month(month, s.Calendar().Location())
	if err != nil {
		return nil, err
	}
	ovs, err := st.ShiftOverrides(ctx, from, to)
	if err != nil {
		return nil, err
	}
	calOv, err := st.CalendarOverride(ctx)
	if err != nil {
		return nil, err
	}
	work, err := st.Interventions(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return Compute(s, s.Shifts(from, to, ovs), calOv, from, to, work, r), nil
}

// Intervention is work done while on call (defined in the root package,
// which the store fills).
type Intervention = astreinte.Intervention

// Line is one person's month.
type Line struct {
	Person        string
	Name          string
	WeekdayNight  time.Duration // closed time on working days (evenings, nights, mornings)
	Weekend       time.Duration // Saturdays and Sundays that are no holiday
	Holiday       time.Duration // the calendar's public holidays
	Interventions int
	Worked        time.Duration // the interventions' time, paid on top
	Cents         int64
}

// Month returns the first instant of month ("2026-12") in loc and the
// first of the next.
func Month(month string, loc *time.Location) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: want YYYY-MM", month)
	}
	return t, t.AddDate(0, 1, 0), nil
}

// Compute counts each person's on-call time within [from, to) from the
// shifts (overrides applied), counting only the time support is closed
// (cal, with override calOv), and prices it with r. A day is classed by
// its date in cal's zone: a holiday first, then a weekend day, else a
// weekday. Lines come in the schedule's order of people, those with
// nothing left out.
func Compute(s *oncall.Schedule, shifts []oncall.Shift, calOv *calendar.Override, from, to time.Time, work []Intervention, r Rates) []Line {
	cal := s.Calendar()
	loc := cal.Location()
	closed := []calendar.Period{}
	for _, p := range cal.Periods(from, to, calOv) {
		if !p.State.Open {
			closed = append(closed, p)
		}
	}
	byPerson := map[string]*Line{}
	line := func(id string) *Line {
		if l, ok := byPerson[id]; ok {
			return l
		}
		l := &Line{Person: id, Name: id}
		if p, ok := s.Person(id); ok {
			l.Name = p.Name
		}
		byPerson[id] = l
		return l
	}
	seen := map[string]bool{} // a person in several rotations is counted once per minute
	for _, sh := range shifts {
		if sh.Person.ID == "" {
			continue
		}
		l := line(sh.Person.ID)
		for _, p := range closed {
			a, b := later(sh.From, p.Start, from), earlier(sh.To, p.End, to)
			for a.Before(b) {
				midnight := time.Date(a.In(loc).Year(), a.In(loc).Month(), a.In(loc).Day()+1, 0, 0, 0, 0, loc)
				end := earlier(b, midnight, b)
				key := sh.Person.ID + a.String()
				if !seen[key] {
					seen[key] = true
					d := end.Sub(a)
					switch day := a.In(loc); {
					case isHoliday(cal, day):
						l.Holiday += d
					case day.Weekday() == time.Saturday || day.Weekday() == time.Sunday:
						l.Weekend += d
					default:
						l.WeekdayNight += d
					}
				}
				a = end
			}
		}
	}
	for _, w := range work {
		if w.At.Before(from) || !w.At.Before(to) {
			continue
		}
		l := line(w.Person)
		l.Interventions++
		l.Worked += w.Duration
	}
	var out []Line
	order := []string{}
	for _, p := range s.People() {
		order = append(order, p.ID)
	}
	for id := range byPerson {
		if !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	for _, id := range order {
		l, ok := byPerson[id]
		if !ok {
			continue
		}
		l.Cents = price(l.WeekdayNight, r.WeekdayNight) + price(l.Weekend, r.Weekend) + price(l.Holiday, r.Holiday) + price(l.Worked, r.Intervention)
		out = append(out, *l)
	}
	return out
}

func isHoliday(cal *calendar.Calendar, day time.Time) bool {
	_, ok := cal.Holiday(day)
	return ok
}

// price is d at rate cents an hour, to the nearest cent.
func price(d time.Duration, rate int64) int64 {
	min := int64(d / time.Minute)
	return (min*rate + 30) / 60
}

func later(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func earlier(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.Before(m) {
			m = t
		}
	}
	return m
}

// WriteCSV writes the lines with a header; times in minutes, money in
// cents.
func WriteCSV(w io.Writer, month string, lines []Line) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"month", "person", "name", "weekday_night_minutes", "weekend_minutes", "holiday_minutes",
		"interventions", "intervention_minutes", "amount_cents"})
	m := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Minute), 10) }
	for _, l := range lines {
		cw.Write([]string{month, l.Person, l.Name, m(l.WeekdayNight), m(l.Weekend), m(l.Holiday),
			strconv.Itoa(l.Interventions), m(l.Worked), strconv.FormatInt(l.Cents, 10)})
	}
	cw.Flush()
	return cw.Error()
}
