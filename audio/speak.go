package audio

import (
	"fmt"
	"time"
)

// datePrompts names the prompts that speak dates and times: weekday_0
// (Sunday) to weekday_6, month_1 to month_12, day_1 to day_31 ("premier",
// "third") and hour_0 to hour_23 ("à 9 heures", "at 9 a.m.").
func datePrompts() []string {
	var names []string
	for i := range 7 {
		names = append(names, fmt.Sprintf("weekday_%d", i))
	}
	for i := 1; i <= 12; i++ {
		names = append(names, fmt.Sprintf("month_%d", i))
	}
	for i := 1; i <= 31; i++ {
		names = append(names, fmt.Sprintf("day_%d", i))
	}
	for i := range 24 {
		names = append(names, fmt.Sprintf("hour_%d", i))
	}
	return names
}

// weekAhead is how far ahead a day is named by its weekday alone ("lundi"):
// further, it gets its date ("lundi 4 janvier").
const weekAhead = 6

// Day speaks the day of t as seen at now (both in the line's zone):
// "aujourd'hui", "demain", a weekday within the week ("jeudi"), else the
// weekday and the date ("jeudi 3 décembre", "Thursday December third").
// withDate always adds the date after a weekday.
func (p *Prompts) Day(now, t time.Time, withDate bool) [][]int16 {
	days := daysApart(now, t)
	switch {
	case days == 0 && !withDate:
		return [][]int16{p.Must(PromptToday)}
	case days == 1 && !withDate:
		return [][]int16{p.Must(PromptTomorrow)}
	}
	out := [][]int16{p.Must(fmt.Sprintf("weekday_%d", int(t.Weekday())))}
	if days < 0 || days > weekAhead || withDate {
		out = append(out, p.date(t)...)
	}
	return out
}

// date speaks the day of the month and the month: "3 décembre",
// "December third".
func (p *Prompts) date(t time.Time) [][]int16 {
	day, month := p.Must(fmt.Sprintf("day_%d", t.Day())), p.Must(fmt.Sprintf("month_%d", int(t.Month())))
	if p.lang == "en" {
		return [][]int16{month, day}
	}
	return [][]int16{day, month}
}

// Reopening speaks when support reopens, at seen from now: "Réouverture
// lundi à 9 heures", "Réouverture 4 janvier à 9 heures" a week or more
// away. The hour is said when the reopening is on the hour; nil when at is
// zero (no reopening known).
func (p *Prompts) Reopening(now, at time.Time) [][]int16 {
	if at.IsZero() {
		return nil
	}
	at = at.In(now.Location())
	out := [][]int16{p.Must(PromptReopens)}
	if days := daysApart(now, at); days > weekAhead {
		// A week or more away: the date alone ("le 4 janvier") keeps the
		// greeting short; the weekday adds little.
		out = append(out, p.date(at)...)
	} else {
		out = append(out, p.Day(now, at, false)...)
	}
	if at.Minute() == 0 {
		out = append(out, p.Must(fmt.Sprintf("hour_%d", at.Hour())))
	}
	return out
}

// CallbackBy speaks the latest day of the callback: "Nous vous rappellerons
// au plus tard jeudi 3 décembre".
func (p *Prompts) CallbackBy(now, by time.Time) [][]int16 {
	by = by.In(now.Location())
	return append([][]int16{p.Must(PromptCallbackBy)}, p.Day(now, by, true)...)
}

// daysApart counts calendar days from a to b in a's location.
func daysApart(a, b time.Time) int {
	b = b.In(a.Location())
	da := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}
