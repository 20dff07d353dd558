package swaps_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
	"github.com/astreinte/astreinte/store"
)

var _ swaps.Store = (*store.DB)(nil)

// rota: alice, bob and carol each on call a week in turn, all hours; carol
// is off on the night of 2 December (an override to nobody).
func rota(t *testing.T) (*oncall.Schedule, *store.DB, time.Time, time.Time) {
	t.Helper()
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
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc := cal.Location()
	from, to := time.Date(2026, 12, 2, 18, 0, 0, 0, loc), time.Date(2026, 12, 3, 9, 0, 0, 0, loc)
	if _, err := db.AddShiftOverride(context.Background(), oncall.ShiftOverride{Replaced: "carol",
		From: from.Add(-time.Hour), To: to.Add(time.Hour), Note: "congé"}); err != nil {
		t.Fatal(err)
	}
	return s, db, from, to
}

// TestOfferTake: alice offers Wednesday night, carol (off that night)
// cannot take it, the gap named; bob takes it and the override is saved;
// nobody takes it twice.
func TestOfferTake(t *testing.T) {
	ctx := context.Background()
	sched, db, from, to := rota(t)
	now := from.Add(-30 * time.Hour)
	svc := &swaps.Service{Schedule: sched, Store: db, Now: func() time.Time { return now }}

	if _, err := svc.Offer(ctx, "bob", from, to, ""); !errors.Is(err, oncall.ErrSwapNotOnShifts) {
		t.Errorf("bob offers a night that is alice's: %v", err)
	}
	if _, err := svc.Offer(ctx, "alice", now.Add(-time.Hour), to, ""); !errors.Is(err, swaps.ErrPast) {
		t.Errorf("a period already started: %v", err)
	}
	w, err := svc.Offer(ctx, "alice", from, to, "dentiste")
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Take(ctx, w.ID, "carol")
	var gap *oncall.GapError
	if !errors.As(err, &gap) || len(gap.Gaps) == 0 || !gap.Gaps[0].From.Equal(from) {
		t.Fatalf("carol, off that night, takes it: %v; want the gap from %v", err, from)
	}
	if got, _ := db.Swap(ctx, w.ID); got.State() != oncall.SwapOffered {
		t.Errorf("after the refused take the swap is %s, want still offered", got.State())
	}
	res, err := svc.Take(ctx, w.ID, "bob")
	if err != nil || !res.Done || res.Swap.OverrideID == 0 {
		t.Fatalf("bob takes it: %+v, %v", res, err)
	}
	ovs, _ := db.ShiftOverrides(ctx, from, to)
	found := false
	for _, o := range ovs {
		if o.ID == res.Swap.OverrideID && o.Replaced == "alice" && o.By == "bob" && o.From.Equal(from) && o.To.Equal(to) {
			found = true
		}
	}
	if !found {
		t.Errorf("overrides after the swap: %+v", ovs)
	}
	if who := sched.WhoAt(from.Add(time.Hour), ovs, nil); len(who) == 0 || who[0].Person.ID != "bob" {
		t.Errorf("on call during the swapped night: %+v, want bob", who)
	}
	if _, err := svc.Take(ctx, w.ID, "carol"); !errors.Is(err, oncall.ErrSwapChanged) {
		t.Errorf("a second take: %v", err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].State() != oncall.SwapDone || list[0].TakenBy != "bob" || list[0].Note != "dentiste" {
		t.Errorf("list: %+v, %v", list, err)
	}
}

// TestApproval: with approval required, a take waits (no override) until
// an admin approves; a technician cannot approve.
func TestApproval(t *testing.T) {
	ctx := context.Background()
	sched, db, from, to := rota(t)
	now := from.Add(-30 * time.Hour)
	svc := &swaps.Service{Schedule: sched, Store: db, RequireApproval: true, Now: func() time.Time { return now }}
	w, err := svc.Offer(ctx, "alice", from, to, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Take(ctx, w.ID, "carol"); !errors.Is(err, oncall.ErrLeavesGap) {
		t.Errorf("carol's take is refused at once, even waiting for approval: %v", err)
	}
	res, err := svc.Take(ctx, w.ID, "bob")
	if err != nil || res.Done {
		t.Fatalf("bob takes it: %+v, %v; want waiting", res, err)
	}
	if ovs, _ := db.ShiftOverrides(ctx, from, to); len(ovs) != 1 {
		t.Errorf("overrides before approval: %+v, want carol's only", ovs)
	}
	if _, err := svc.Approve(ctx, w.ID, "bob", false); !errors.Is(err, swaps.ErrNotAdmin) {
		t.Errorf("a technician approves: %v", err)
	}
	res, err = svc.Approve(ctx, w.ID, "admin", true)
	if err != nil || !res.Done {
		t.Fatalf("admin approves: %+v, %v", res, err)
	}
	got, _ := db.Swap(ctx, w.ID)
	if got.State() != oncall.SwapDone || got.ApprovedBy != "admin" || got.TakenBy != "bob" {
		t.Errorf("swap after approval: %+v", got)
	}
	if _, err := svc.Approve(ctx, w.ID, "admin", true); !errors.Is(err, swaps.ErrDone) {
		t.Errorf("approved twice: %v", err)
	}
}
