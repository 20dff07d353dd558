package main

import (
	"testing"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/calendar/calendartest"
	"github.com/astreinte/astreinte/oncall"
)

var (
	paris  = calendartest.Paris
	pt     = calendartest.At
	newCal = calendartest.New
)

func newTestSchedule(t *testing.T, cal *calendar.Calendar) *oncall.Schedule {
	t.Helper()
	s, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People: []oncall.Person{
			{ID: "alice", Name: "Alice Martin", SIP: "sip:alice@example.fr", Phone: "+33611111111"},
			{ID: "bob", Name: "Bob Durand", SIP: "sip:bob@example.fr", Language: "en"},
			{ID: "carol", Name: "Carol Petit"},
			{ID: "dave"},
		},
		Rotations: []oncall.RotationConfig{
			{Name: "astreinte", Participants: []string{"alice", "bob", "carol"}, Shift: "1w", Start: "2026-03-23 09:00"},
			{Name: "jour", Participants: []string{"bob", "alice"}, Shift: "12h", Start: "2026-03-23 08:00", Coverage: "all"},
		},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{
			{Rotation: "astreinte"},
			{Rotation: "jour", Delay: "10m"},
			{Name: "manager", Person: "dave", Delay: "15m"},
		}},
	}, cal)
	if err != nil {
		t.Fatalf("NewSchedule: %v", err)
	}
	return s
}
