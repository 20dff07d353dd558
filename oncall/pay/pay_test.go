package pay

import (
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// TestDecember2026 against the table of docs/oncall-pay.md: alice is on
// call the whole of December 2026 (support Monday to Friday 09:00–18:00,
// Europe/Paris, France's holidays: Christmas on Friday 25th).
//
//	weekday nights: 22 working days × 15 h      = 330 h × 1.50 € =   495.00 €
//	weekends:        8 days (5-6, 12-13, 19-20, 26-27) × 24 h
//	                                             = 192 h × 3.00 € =   576.00 €
//	holiday:         25 December × 24 h          =  24 h × 5.00 € =   120.00 €
//	interventions:   2, 45 min + 30 min          =  75 min × 40 €/h =  50.00 €
//	total                                                          1 241.00 €
func TestDecember2026(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People:     []oncall.Person{{ID: "alice", Name: "Alice Martin", SIP: "sip:a@x"}},
		Rotations:  []oncall.RotationConfig{{Name: "all", Participants: []string{"alice"}, Shift: "1w", Start: "2026-11-02 09:00", Coverage: "all"}},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{{Rotation: "all"}}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	from, to, err := Month("2026-12", cal.Location())
	if err != nil {
		t.Fatal(err)
	}
	work := []Intervention{
		{Person: "alice", At: time.Date(2026, 12, 25, 3, 0, 0, 0, cal.Location()), Duration: 45 * time.Minute},
		{Person: "alice", At: time.Date(2026, 12, 8, 22, 0, 0, 0, cal.Location()), Duration: 30 * time.Minute},
		{Person: "alice", At: time.Date(2027, 1, 1, 1, 0, 0, 0, cal.Location()), Duration: time.Hour}, // January
	}
	rates := Rates{WeekdayNight: 150, Weekend: 300, Holiday: 500, Intervention: 4000}
	lines := Compute(s, s.Shifts(from, to, nil), nil, from, to, work, rates)
	want := Line{Person: "alice", Name: "Alice Martin", WeekdayNight: 330 * time.Hour, Weekend: 192 * time.Hour,
		Holiday: 24 * time.Hour, Interventions: 2, Worked: 75 * time.Minute, Cents: 49500 + 57600 + 12000 + 5000}
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("lines:\n got %+v\nwant %+v", lines, want)
	}
	var b strings.Builder
	if err := WriteCSV(&b, "2026-12", lines); err != nil {
		t.Fatal(err)
	}
	wantCSV := "month,person,name,weekday_night_minutes,weekend_minutes,holiday_minutes,interventions,intervention_minutes,amount_cents\n" +
		"2026-12,alice,Alice Martin,19800,11520,1440,2,75,124100\n"
	if b.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), wantCSV)
	}
}
