package calendar

import (
	"context"
	"errors"
	"testing"

	"github.com/astreinte/astreinte"
)

type overrideFunc func() (*Override, error)

func (f overrideFunc) CalendarOverride(context.Context) (*Override, error) { return f() }

func TestLiveCaseAt(t *testing.T) {
	c := newCal(t, Config{Closures: []Closure{{From: "2026-08-10", To: "2026-08-14", Label: "Fermeture annuelle"}}})
	forced := func(open bool, until string) overrideFunc {
		return func() (*Override, error) { return &Override{Open: open, Until: pt(until), Reason: "réunion"}, nil }
	}
	none := overrideFunc(func() (*Override, error) { return nil, nil })
	broken := overrideFunc(func() (*Override, error) { return nil, errors.New("database is locked") })
	tests := []struct {
		name  string
		at    string
		ov    OverrideStore
		want  astreinte.Case
		label string
		why   string
	}{
		{"working hours", "2026-12-01 10:00", none, astreinte.CaseOpen, "", "opening hours"},
		{"evening", "2026-12-01 20:00", none, astreinte.CaseOutOfHours, "", "out of hours"},
		{"weekend is out of hours", "2026-12-05 10:00", none, astreinte.CaseOutOfHours, "", "weekend"},
		{"Christmas", "2026-12-25 10:00", none, astreinte.CaseHoliday, "Noël", "holiday: Noël"},
		{"closure", "2026-08-11 10:00", none, astreinte.CaseClosure, "Fermeture annuelle", "closure: Fermeture annuelle"},
		{"forced closed in hours", "2026-12-01 10:00", forced(false, "2026-12-01 12:00"), astreinte.CaseForceClosed, "réunion", "forced closed: réunion"},
		{"forced open at night", "2026-12-01 22:00", forced(true, "2026-12-02 02:00"), astreinte.CaseForceOpen, "réunion", "forced open: réunion"},
		{"expired override", "2026-12-01 13:00", forced(false, "2026-12-01 12:00"), astreinte.CaseOpen, "", "opening hours"},
		{"unreadable override: the rules answer", "2026-12-01 10:00", broken, astreinte.CaseOpen, "", "opening hours"},
		{"no override store", "2026-12-01 20:00", nil, astreinte.CaseOutOfHours, "", "out of hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Live{Calendar: c, Overrides: tt.ov}
			got, label := l.CaseAt(context.Background(), pt(tt.at))
			if got != tt.want || label != tt.label {
				t.Errorf("CaseAt(%s) = %s %q, want %s %q", tt.at, got, label, tt.want, tt.label)
			}
			st, _ := l.State(context.Background(), pt(tt.at))
			if st.Why() != tt.why {
				t.Errorf("Why = %q, want %q", st.Why(), tt.why)
			}
			if st.Case().Open() != st.Open {
				t.Errorf("Case %s Open()=%v but state open=%v", st.Case(), st.Case().Open(), st.Open)
			}
		})
	}
}

func TestLiveNextOpen(t *testing.T) {
	c := newCal(t, Config{})
	at := pt("2026-12-04 20:00") // Friday evening
	plain := Live{Calendar: c}
	if got, want := plain.NextOpen(context.Background(), at), pt("2026-12-07 09:00"); !got.Equal(want) {
		t.Errorf("NextOpen = %v, want Monday 09:00 %v", got, want)
	}
	forced := Live{Calendar: c, Overrides: overrideFunc(func() (*Override, error) {
		return &Override{Open: false, Until: pt("2026-12-07 12:00"), Reason: "travaux"}, nil
	})}
	if got, want := forced.NextOpen(context.Background(), at), pt("2026-12-07 12:00"); !got.Equal(want) {
		t.Errorf("NextOpen with the line forced closed until Monday noon = %v, want %v", got, want)
	}
}
