package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

func TestShiftOverrides(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

	week := astreinte.ShiftOverride{Replaced: "alice", By: "bob", From: day(16, 8), To: day(23, 8), Note: "holiday", SetBy: "carol"}
	night := astreinte.ShiftOverride{Replaced: "dave", From: day(18, 20), To: day(19, 8), SetBy: "dave", SetAt: t0.Add(-time.Hour)}
	ids := map[string]int64{}
	for name, o := range map[string]astreinte.ShiftOverride{"week": week, "night": night} {
		id, err := db.AddShiftOverride(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	week.ID, week.SetAt = ids["week"], t0
	night.ID = ids["night"]

	tests := []struct {
		name     string
		from, to time.Time
		want     []astreinte.ShiftOverride
	}{
		{"everything", time.Time{}, time.Time{}, []astreinte.ShiftOverride{week, night}},
		{"the week", day(16, 0), day(23, 0), []astreinte.ShiftOverride{week, night}},
		{"before", day(1, 0), day(16, 8), nil}, // [from, to): ending at the start is no overlap
		{"after", day(23, 8), day(30, 0), nil},
		{"last hour", day(23, 7), day(23, 9), []astreinte.ShiftOverride{week}},
		{"inside the night", day(19, 0), day(19, 1), []astreinte.ShiftOverride{week, night}},
		{"from only", day(19, 8), time.Time{}, []astreinte.ShiftOverride{week}},
		{"to only", time.Time{}, day(16, 9), []astreinte.ShiftOverride{week}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ShiftOverrides(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ShiftOverrides:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}

	if err := db.DeleteShiftOverride(ctx, ids["week"]); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteShiftOverride(ctx, ids["week"]); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if got, _ := db.ShiftOverrides(ctx, time.Time{}, time.Time{}); !slices.Equal(got, []astreinte.ShiftOverride{night}) {
		t.Errorf("after delete: %+v", got)
	}

	for _, bad := range []astreinte.ShiftOverride{
		{By: "bob", From: day(1, 0), To: day(2, 0)},
		{Replaced: "alice", From: day(2, 0), To: day(2, 0)},
		{Replaced: "alice", From: day(2, 0), To: day(1, 0)},
		{Replaced: "alice", To: day(1, 0)},
	} {
		if _, err := db.AddShiftOverride(ctx, bad); err == nil {
			t.Errorf("AddShiftOverride(%+v) succeeded", bad)
		}
	}
}

func TestCalendarOverride(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	get := func() *calendar.Override {
		t.Helper()
		o, err := db.CalendarOverride(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := get(); o != nil {
		t.Fatalf("CalendarOverride on a new database = %+v, want nil", o)
	}
	tests := []calendar.Override{
		{Open: false, Until: t0.Add(48 * time.Hour), Reason: "inventory", SetBy: "alice", SetAt: t0.Add(-time.Minute)},
		{Open: true, Reason: "incident", SetBy: "bob"}, // until cleared; set now
	}
	for _, o := range tests {
		if err := db.SetCalendarOverride(ctx, o); err != nil {
			t.Fatal(err)
		}
		want := o
		if want.SetAt.IsZero() {
			want.SetAt = t0
		}
		if got := get(); got == nil || *got != want {
			t.Errorf("CalendarOverride = %+v, want %+v", got, want)
		}
	}
	for range 2 { // clearing twice is fine
		if err := db.ClearCalendarOverride(ctx); err != nil {
			t.Fatal(err)
		}
		if o := get(); o != nil {
			t.Errorf("after clear: %+v", o)
		}
	}
}
