package oncall_test

import (
	"errors"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// TestSwap: alice offers Wednesday night, bob takes it: the override is
// the swap. Not taken, not approved when approval is required, or taken by
// carol who is off that night (which would leave nobody on call): refused
// before anything is saved.
func TestSwap(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People: []oncall.Person{{ID: "alice", Name: "Alice"}, {ID: "bob", Name: "Bob"}, {ID: "carol", Name: "Carol"}},
		Rotations: []oncall.RotationConfig{{Name: "week", Participants: []string{"alice", "bob", "carol"}, Shift: "1w",
			Start: "2026-11-30 09:00", Coverage: "all"}},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{{Rotation: "week"}}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	from, to := time.Date(2026, 12, 2, 18, 0, 0, 0, paris), time.Date(2026, 12, 3, 9, 0, 0, 0, paris)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, paris)
	carolOff := oncall.ShiftOverride{ID: 1, Replaced: "carol", By: "", From: from.Add(-time.Hour), To: to.Add(time.Hour), Note: "congé"}
	ovs := []oncall.ShiftOverride{carolOff}

	o, err := s.AcceptSwap(oncall.Swap{Offered: "alice", TakenBy: "bob", From: from, To: to}, false, ovs, nil, "bob", now)
	if err != nil || o.Replaced != "alice" || o.By != "bob" || !o.From.Equal(from) || !o.To.Equal(to) {
		t.Fatalf("bob takes alice's night: %+v, %v", o, err)
	}
	for _, tt := range []struct {
		name     string
		w        oncall.Swap
		approval bool
		want     error
	}{
		{"not taken", oncall.Swap{Offered: "alice", From: from, To: to}, false, oncall.ErrSwapNotTaken},
		{"waiting for approval", oncall.Swap{Offered: "alice", TakenBy: "bob", From: from, To: to}, true, oncall.ErrSwapNeedsAdmin},
		{"not her shift", oncall.Swap{Offered: "bob", TakenBy: "alice", From: from, To: to}, false, oncall.ErrSwapNotOnShifts},
		{"taken by someone off that night: a gap", oncall.Swap{Offered: "alice", TakenBy: "carol", From: from, To: to}, false, oncall.ErrLeavesGap},
	} {
		if _, err := s.AcceptSwap(tt.w, tt.approval, ovs, nil, "x", now); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	approved := oncall.Swap{Offered: "alice", TakenBy: "bob", From: from, To: to, Approved: true}
	if _, err := s.AcceptSwap(approved, true, ovs, nil, "admin", now); err != nil {
		t.Errorf("approved swap: %v", err)
	}
}
