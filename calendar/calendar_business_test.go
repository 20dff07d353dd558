package calendar

import (
	"testing"
	"time"
)

func TestAddBusinessDays(t *testing.T) {
	plain := newCal(t, Config{})
	closure := newCal(t, Config{Closures: []Closure{{From: "2026-05-11", To: "2026-05-12", Label: "Inventaire"}}})
	lunch := newCal(t, Config{Hours: map[string][]string{
		"mon": {"09:00-12:30", "13:30-18:00"}, "tue": {"09:00-12:30", "13:30-18:00"},
		"wed": {"09:00-12:30", "13:30-18:00"}, "thu": {"09:00-12:30", "13:30-18:00"}, "fri": {"09:00-17:00"},
	}})
	tests := []struct {
		name string
		c    *Calendar
		at   time.Time
		n    int
		want time.Time
	}{
		{"same time two days later", plain, pt("2026-03-03 10:00"), 2, pt("2026-03-05 10:00")},
		{"across a weekend", plain, pt("2026-03-05 10:00"), 2, pt("2026-03-09 10:00")},
		{"left Friday night, 3 days: due Wednesday closing", plain, pt("2026-03-20 20:00"), 3, pt("2026-03-25 18:00")},
		{"left Saturday, 1 day: due Monday closing", plain, pt("2026-03-21 11:00"), 1, pt("2026-03-23 18:00")},
		{"left at opening time, 1 day: due that evening", plain, pt("2026-03-23 09:00"), 1, pt("2026-03-23 18:00")},
		{"left a minute after opening", plain, pt("2026-03-23 09:01"), 1, pt("2026-03-24 09:01")},
		{"n = 0 out of hours: next opening", plain, pt("2026-03-20 20:00"), 0, pt("2026-03-23 09:00")},
		{"n = 0 open: now", plain, pt("2026-03-20 11:00"), 0, pt("2026-03-20 11:00")},
		{"negative n counts as 0", plain, pt("2026-03-20 11:00"), -2, pt("2026-03-20 11:00")},
		{"across the spring DST change: wall clock kept", plain, pt("2026-03-27 10:00"), 1, pt("2026-03-30 10:00")},
		{"across a holiday", plain, pt("2026-07-13 15:00"), 1, pt("2026-07-15 15:00")},
		{"weekend, holidays and a closure", closure, pt("2026-05-07 15:00"), 2, pt("2026-05-15 15:00")},
		{"left during the closure", closure, pt("2026-05-11 10:00"), 1, pt("2026-05-13 18:00")},
		{"afternoon interval kept", lunch, pt("2026-03-23 12:45"), 1, pt("2026-03-24 13:30")},
		{"past a shorter day's closing: clamped back", lunch, pt("2026-03-26 17:30"), 1, pt("2026-03-27 17:00")},
		{"in a lunch break of the due day", lunch, pt("2026-03-26 16:00"), 1, pt("2026-03-27 16:00")},
		{"left at 12:30 with a lunch break", lunch, pt("2026-03-23 12:30"), 2, pt("2026-03-25 13:30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.AddBusinessDays(tt.at, tt.n); !got.Equal(tt.want) {
				t.Errorf("AddBusinessDays(%s, %d) = %s, want %s", tt.at.Format("Mon 2006-01-02 15:04"), tt.n,
					got.In(paris).Format("Mon 2006-01-02 15:04"), tt.want.Format("Mon 2006-01-02 15:04"))
			}
		})
	}
}
