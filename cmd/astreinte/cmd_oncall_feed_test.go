package main

import "testing"

func TestOncallFeedPrintsTheAddress(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"oncall", "feed", "alice"}, "On-call calendar of Alice Martin", "/oncall/alice.ics?token=")
}

func TestOncallPayWritesCSV(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"oncall", "pay", "--month", "2026-11", "--weekend", "300", "--holiday", "500"},
		"month,person,name,weekday_night_minutes,weekend_minutes,holiday_minutes,interventions,intervention_minutes,amount_cents",
		"2026-11,alice,Alice Martin,")
}
