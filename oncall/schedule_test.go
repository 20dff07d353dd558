package oncall

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

func testPeople() []Person {
	return []Person{
		{ID: "alice", Name: "Alice Martin", SIP: "sip:alice@example.fr", Phone: "+33611111111"},
		{ID: "bob", Name: "Bob Durand", SIP: "sip:bob@example.fr", Language: "en"},
		{ID: "carol", Name: "Carol Petit"},
		{ID: "dave"},
	}
}

func newTestSchedule(t *testing.T, cal *calendar.Calendar) *Schedule {
	t.Helper()
	s, err := NewSchedule(ScheduleConfig{
		People: testPeople(),
		Rotations: []RotationConfig{
			{Name: "astreinte", Participants: []string{"alice", "bob", "carol"}, Shift: "1w", Start: "2026-03-23 09:00"},
			{Name: "jour", Participants: []string{"bob", "alice"}, Shift: "12h", Start: "2026-03-23 08:00", Coverage: "all"},
		},
		Escalation: PolicyConfig{Tiers: []TierConfig{
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

func TestScheduleDefaults(t *testing.T) {
	s := newTestSchedule(t, newCal(t, calendar.Config{}))
	want := []Tier{
		{Name: "primary", Rotation: "astreinte", Delay: 5 * time.Minute},
		{Name: "secondary", Rotation: "jour", Delay: 10 * time.Minute},
		{Name: "manager", Person: "dave", Delay: 15 * time.Minute},
	}
	if got := s.Tiers(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Tiers = %+v, want %+v", got, want)
	}
	if s.Repeat() != 2 {
		t.Errorf("Repeat = %d, want 2", s.Repeat())
	}
	if p, ok := s.Person("dave"); !ok || p.Name != "dave" || p.Language != "fr" {
		t.Errorf("Person(dave) = %+v, %v; want name and language defaulted", p, ok)
	}
	if p, _ := s.Person("bob"); p.Language != "en" {
		t.Errorf("bob's language = %q", p.Language)
	}
	if n := len(s.People()); n != 4 {
		t.Errorf("People: %d, want 4", n)
	}
}

// shiftString formats a shift for comparison: "id from→to", a star marking
// an override.
func shiftString(sh Shift) string {
	id := sh.Person.ID
	if sh.Override != nil {
		id += "*"
	}
	return id + " " + sh.From.In(paris).Format("01-02 15:04") + "→" + sh.To.In(paris).Format("01-02 15:04")
}

func shiftStrings(shifts []Shift, rotation string) []string {
	var out []string
	for _, sh := range shifts {
		if sh.Rotation == rotation {
			out = append(out, shiftString(sh))
		}
	}
	return out
}

func TestShifts(t *testing.T) {
	s := newTestSchedule(t, newCal(t, calendar.Config{}))
	o1 := ShiftOverride{ID: 1, Replaced: "alice", By: "carol", From: pt("2026-03-29 12:00"), To: pt("2026-03-30 12:00"), SetAt: pt("2026-03-20 10:00")}
	o2 := ShiftOverride{ID: 2, Replaced: "bob", By: "carol", From: pt("2026-03-29 12:00"), To: pt("2026-03-30 12:00"), SetAt: pt("2026-03-20 10:00")}
	o3 := ShiftOverride{ID: 3, Replaced: "alice", By: "dave", From: pt("2026-03-28 12:00"), To: pt("2026-03-29 18:00"), SetAt: pt("2026-03-21 10:00")}
	o4 := ShiftOverride{ID: 4, Replaced: "alice", By: "bob", From: pt("2026-03-28 12:00"), To: pt("2026-03-29 18:00"), SetAt: pt("2026-03-21 10:00")}
	tests := []struct {
		name     string
		rotation string
		from, to time.Time
		ovs      []ShiftOverride
		want     []string
	}{
		{"weekly hand-off across spring DST", "astreinte", pt("2026-03-20 00:00"), pt("2026-04-07 00:00"), nil,
			[]string{"alice 03-23 09:00→03-30 09:00", "bob 03-30 09:00→04-06 09:00", "carol 04-06 09:00→04-13 09:00"}},
		{"weekly hand-off across autumn DST", "astreinte", pt("2026-10-24 00:00"), pt("2026-10-27 00:00"), nil,
			[]string{"alice 10-19 09:00→10-26 09:00", "bob 10-26 09:00→11-02 09:00"}},
		{"12h shifts are absolute hours", "jour", pt("2026-03-28 19:00"), pt("2026-03-29 22:00"), nil,
			[]string{"bob 03-28 08:00→03-28 20:00", "alice 03-28 20:00→03-29 09:00", "bob 03-29 09:00→03-29 21:00", "alice 03-29 21:00→03-30 09:00"}},
		{"override crossing a hand-off, outgoing side only", "astreinte", pt("2026-03-29 00:00"), pt("2026-03-31 00:00"), []ShiftOverride{o1},
			[]string{"alice 03-23 09:00→03-29 12:00", "carol* 03-29 12:00→03-30 09:00", "bob 03-30 09:00→04-06 09:00"}},
		{"overrides on both sides of a hand-off", "astreinte", pt("2026-03-29 00:00"), pt("2026-03-31 00:00"), []ShiftOverride{o1, o2},
			[]string{"alice 03-23 09:00→03-29 12:00", "carol* 03-29 12:00→03-30 09:00", "carol* 03-30 09:00→03-30 12:00", "bob 03-30 12:00→04-06 09:00"}},
		{"the latest override wins where they overlap", "astreinte", pt("2026-03-28 00:00"), pt("2026-03-30 00:00"), []ShiftOverride{o3, o1},
			[]string{"alice 03-23 09:00→03-28 12:00", "dave* 03-28 12:00→03-29 18:00", "carol* 03-29 18:00→03-30 09:00"}},
		{"same SetAt: higher ID wins", "astreinte", pt("2026-03-28 00:00"), pt("2026-03-29 20:00"), []ShiftOverride{o4, o3},
			[]string{"alice 03-23 09:00→03-28 12:00", "bob* 03-28 12:00→03-29 18:00", "alice 03-29 18:00→03-30 09:00"}},
		{"override of someone else is ignored", "astreinte", pt("2026-03-24 00:00"), pt("2026-03-25 00:00"), []ShiftOverride{o2},
			[]string{"alice 03-23 09:00→03-30 09:00"}},
		{"override by nobody", "astreinte", pt("2026-03-24 00:00"), pt("2026-03-25 09:00"),
			[]ShiftOverride{{Replaced: "alice", From: pt("2026-03-24 20:00"), To: pt("2026-03-25 08:00")}},
			[]string{"alice 03-23 09:00→03-24 20:00", "* 03-24 20:00→03-25 08:00", "alice 03-25 08:00→03-30 09:00"}},
		{"nothing before start", "astreinte", pt("2026-03-01 00:00"), pt("2026-03-23 09:00"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shiftStrings(s.Shifts(tt.from, tt.to, tt.ovs), tt.rotation)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("shifts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}

	t.Run("weekly shift lengths around DST", func(t *testing.T) {
		sh := s.Shifts(pt("2026-03-24 00:00"), pt("2026-03-25 00:00"), nil)
		if d := sh[0].To.Sub(sh[0].From); sh[0].Rotation != "astreinte" || d != 167*time.Hour {
			t.Errorf("spring week: %s lasts %s, want 167h", shiftString(sh[0]), d)
		}
		sh = s.Shifts(pt("2026-10-20 00:00"), pt("2026-10-21 00:00"), nil)
		if d := sh[0].To.Sub(sh[0].From); d != 169*time.Hour {
			t.Errorf("autumn week: %s lasts %s, want 169h", shiftString(sh[0]), d)
		}
	})
}

func TestWhoAt(t *testing.T) {
	cal := newCal(t, calendar.Config{})
	s := newTestSchedule(t, cal)
	weekend := ShiftOverride{ID: 7, Replaced: "alice", By: "carol", From: pt("2026-03-28 09:00"), To: pt("2026-03-30 12:00"), SetAt: pt("2026-03-20 10:00")}
	type who struct {
		id          string
		from, until time.Time
	}
	tests := []struct {
		name  string
		at    time.Time
		ovs   []ShiftOverride
		calOv *calendar.Override
		want  []who // primary, secondary, manager
	}{
		{"weeknight", pt("2026-03-25 20:00"), nil, nil, []who{
			{"alice", pt("2026-03-25 18:00"), pt("2026-03-26 09:00")},
			{"alice", pt("2026-03-25 20:00"), pt("2026-03-26 08:00")},
			{"dave", time.Time{}, time.Time{}},
		}},
		{"open hours: out_of_hours rotation empty", pt("2026-03-25 10:00"), nil, nil, []who{
			{"", pt("2026-03-25 09:00"), pt("2026-03-25 18:00")},
			{"bob", pt("2026-03-25 08:00"), pt("2026-03-25 20:00")},
			{"dave", time.Time{}, time.Time{}},
		}},
		{"forced closed during the day: on-call covers", pt("2026-03-25 10:00"), nil,
			&calendar.Override{Until: pt("2026-03-25 11:00"), SetAt: pt("2026-03-25 09:45")}, []who{
				{"alice", pt("2026-03-25 09:45"), pt("2026-03-25 11:00")},
				{"bob", pt("2026-03-25 08:00"), pt("2026-03-25 20:00")},
				{"dave", time.Time{}, time.Time{}},
			}},
		{"weekend override until the hand-off", pt("2026-03-29 15:00"), []ShiftOverride{weekend}, nil, []who{
			{"carol", pt("2026-03-28 09:00"), pt("2026-03-30 09:00")},
			{"bob", pt("2026-03-29 09:00"), pt("2026-03-29 21:00")},
			{"dave", time.Time{}, time.Time{}},
		}},
		{"before the rotation starts", pt("2026-03-20 20:00"), nil, nil, []who{
			{"", pt("2026-03-20 18:00"), pt("2026-03-23 09:00")},
			{"", time.Time{}, pt("2026-03-23 08:00")},
			{"dave", time.Time{}, time.Time{}},
		}},
		{"manager replaced", pt("2026-03-25 20:00"), []ShiftOverride{{Replaced: "dave", By: "bob", From: pt("2026-03-25 00:00"), To: pt("2026-03-26 00:00")}}, nil, []who{
			{"alice", pt("2026-03-25 18:00"), pt("2026-03-26 09:00")},
			{"alice", pt("2026-03-25 20:00"), pt("2026-03-26 08:00")},
			{"bob", pt("2026-03-25 00:00"), pt("2026-03-26 00:00")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.WhoAt(tt.at, tt.ovs, tt.calOv)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d tiers, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.TierIndex != i || g.Tier != s.Tiers()[i].Name {
					t.Errorf("tier %d: index %d name %q", i, g.TierIndex, g.Tier)
				}
				if g.Person.ID != w.id || !g.From.Equal(w.from) || !g.Until.Equal(w.until) {
					t.Errorf("%s: %q %v → %v, want %q %v → %v", g.Tier, g.Person.ID, g.From, g.Until, w.id, w.from, w.until)
				}
			}
		})
	}
	t.Run("override recorded", func(t *testing.T) {
		got := s.WhoAt(pt("2026-03-29 15:00"), []ShiftOverride{weekend}, nil)
		if got[0].Override == nil || got[0].Override.ID != 7 || got[0].Person.Name != "Carol Petit" || got[0].Rotation != "astreinte" {
			t.Errorf("primary = %+v", got[0])
		}
	})
}

func gapStrings(gaps []Gap) string {
	var out []string
	for _, g := range gaps {
		out = append(out, g.Tier+" "+g.From.In(paris).Format("01-02 15:04")+"→"+g.To.In(paris).Format("01-02 15:04"))
	}
	return strings.Join(out, "\n")
}

func TestGaps(t *testing.T) {
	cal := newCal(t, calendar.Config{})
	s := newTestSchedule(t, cal)
	fixed, err := NewSchedule(ScheduleConfig{People: testPeople(), Escalation: PolicyConfig{Tiers: []TierConfig{{Name: "manager", Person: "dave"}}}}, cal)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := NewSchedule(ScheduleConfig{}, cal)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		s        *Schedule
		from, to time.Time
		ovs      []ShiftOverride
		calOv    *calendar.Override
		want     []string
	}{
		{"none", s, pt("2026-03-23 09:00"), pt("2026-04-23 09:00"), nil, nil, nil},
		{"override by nobody out of hours", s, pt("2026-03-23 09:00"), pt("2026-03-30 09:00"),
			[]ShiftOverride{{Replaced: "alice", From: pt("2026-03-25 12:00"), To: pt("2026-03-25 20:00")}}, nil,
			[]string{"primary 03-25 18:00→03-25 20:00"}},
		{"override by nobody in open hours only", s, pt("2026-03-23 09:00"), pt("2026-03-30 09:00"),
			[]ShiftOverride{{Replaced: "alice", From: pt("2026-03-25 10:00"), To: pt("2026-03-25 12:00")}}, nil, nil},
		{"same, support forced closed", s, pt("2026-03-23 09:00"), pt("2026-03-30 09:00"),
			[]ShiftOverride{{Replaced: "alice", From: pt("2026-03-25 10:00"), To: pt("2026-03-25 12:00")}},
			&calendar.Override{Until: pt("2026-03-25 11:00")}, []string{"primary 03-25 10:00→03-25 11:00"}},
		{"over a weekend and two overrides, merged", s, pt("2026-03-23 09:00"), pt("2026-03-30 09:00"),
			[]ShiftOverride{
				{Replaced: "alice", From: pt("2026-03-27 17:00"), To: pt("2026-03-28 12:00")},
				{Replaced: "alice", From: pt("2026-03-28 12:00"), To: pt("2026-03-29 12:00")},
			}, nil, []string{"primary 03-27 18:00→03-29 12:00"}},
		{"before the rotation starts, clipped to the window", s, pt("2026-03-20 12:00"), pt("2026-03-24 00:00"), nil, nil,
			[]string{"primary 03-20 18:00→03-23 09:00"}},
		{"fixed person off", fixed, pt("2026-03-23 00:00"), pt("2026-03-30 00:00"),
			[]ShiftOverride{{Replaced: "dave", From: pt("2026-03-24 17:00"), To: pt("2026-03-25 10:00")}}, nil,
			[]string{"manager 03-24 18:00→03-25 09:00"}},
		{"no tier at all", empty, pt("2026-03-27 12:00"), pt("2026-03-30 12:00"), nil, nil,
			[]string{" 03-27 18:00→03-30 09:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := gapStrings(tt.s.Gaps(tt.from, tt.to, tt.ovs, tt.calOv)), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("gaps:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestNewScheduleErrors(t *testing.T) {
	cfg := ScheduleConfig{
		People: []Person{{ID: "alice"}, {ID: ""}, {ID: "alice"}, {ID: "bob", Language: "de"}},
		Rotations: []RotationConfig{
			{Name: "astreinte", Participants: []string{"alice", "bob", "bobb"}, Shift: "1 week", Start: "2026-01-05 09:00", Coverage: "nights"},
			{Name: "astreinte", Participants: []string{"alice"}, Start: "05/01/2026"},
			{Participants: nil, Shift: "0d"},
		},
		Escalation: PolicyConfig{Repeat: -1, Tiers: []TierConfig{
			{Rotation: "astreinte", Person: "alice"},
			{},
			{Name: "n2", Rotation: "nuit", Delay: "5 minutes"},
			{Name: "n2", Person: "carol"},
		}},
	}
	want := []string{
		`oncall.people[1].id: required`,
		`oncall.people[2].id: duplicate id "alice" (also people[0])`,
		`oncall.people[3].language: unknown language "de" (want fr or en)`,
		`oncall.rotations[0].participants[2]: unknown person "bobb"`,
		`oncall.rotations[0].shift: bad shift "1 week" (want e.g. 12h, 1d, 7d or 1w)`,
		`oncall.rotations[0].coverage: unknown coverage "nights" (want out_of_hours or all)`,
		`oncall.rotations[1].name: duplicate name "astreinte" (also rotations[0])`,
		`oncall.rotations[1].start: bad date "05/01/2026" (want YYYY-MM-DD or YYYY-MM-DD HH:MM)`,
		`oncall.rotations[2].name: required`,
		`oncall.rotations[2].participants: required`,
		`oncall.rotations[2].shift: bad shift "0d" (want e.g. 12h, 1d, 7d or 1w)`,
		`oncall.rotations[2].start: required (first hand-off, e.g. "2026-01-05 09:00")`,
		`oncall.escalation.tiers[0]: set exactly one of rotation or person`,
		`oncall.escalation.tiers[1]: set exactly one of rotation or person`,
		`oncall.escalation.tiers[2].rotation: unknown rotation "nuit"`,
		`oncall.escalation.tiers[2].delay: bad delay "5 minutes" (want e.g. 5m)`,
		`oncall.escalation.tiers[3].name: duplicate name "n2" (also tiers[2])`,
		`oncall.escalation.tiers[3].person: unknown person "carol"`,
		`oncall.escalation.repeat: -1: must not be negative`,
	}
	_, err := NewSchedule(cfg, nil)
	var fe astreinte.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not astreinte.FieldErrors", err)
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestAckTargetConfig: escalation.ack_target is read, 15 min by
// default; a bad one or a negative pay rate is an error naming its key.
func TestAckTargetConfig(t *testing.T) {
	base := ScheduleConfig{People: []Person{{ID: "alice"}},
		Escalation: PolicyConfig{Tiers: []TierConfig{{Person: "alice"}}}}
	s, err := NewSchedule(base, nil)
	if err != nil || s.AckTarget() != 15*time.Minute {
		t.Fatalf("default: %v, %v", s, err)
	}
	c := base
	c.Escalation.AckTarget = "30m"
	c.Swaps.RequireApproval = true
	c.Pay = PayRates{WeekdayNight: 150, Weekend: 300, Holiday: 500, Intervention: 4000}
	if s, err := NewSchedule(c, nil); err != nil || s.AckTarget() != 30*time.Minute || !s.SwapApproval() || s.PayRates() != c.Pay {
		t.Fatalf("30m: %v", err)
	}
	c.Escalation.AckTarget = "soon"
	c.Pay.Holiday = -1
	_, err = NewSchedule(c, nil)
	if err == nil || !strings.Contains(err.Error(), "escalation.ack_target") || !strings.Contains(err.Error(), "pay.holiday") {
		t.Errorf("bad values: %v", err)
	}
}

// TestPeopleAtAgreesWithWhoAt: PeopleAt, what paging asks, names the
// person WhoAt names for every tier, every 37 minutes over three weeks,
// on the default week and on a line never open, with and without a shift
// override and the calendar forced open or closed.
func TestPeopleAtAgreesWithWhoAt(t *testing.T) {
	weekend := ShiftOverride{ID: 7, Replaced: "alice", By: "carol", From: pt("2026-03-28 09:00"), To: pt("2026-03-30 12:00"), SetAt: pt("2026-03-20 10:00")}
	for name, cfg := range map[string]calendar.Config{
		"default":    {},
		"never open": {Hours: map[string][]string{}, Holidays: calendar.HolidayConfig{Country: "none"}},
	} {
		s := newTestSchedule(t, newCal(t, cfg))
		for oname, calOv := range map[string]*calendar.Override{
			"none":          nil,
			"forced open":   {Open: true, Until: pt("2026-03-26 12:00"), SetAt: pt("2026-03-24 09:45")},
			"forced closed": {Until: pt("2026-03-27 11:00"), SetAt: pt("2026-03-25 09:45")},
		} {
			for _, ovs := range [][]ShiftOverride{nil, {weekend}} {
				for at := pt("2026-03-20 00:00"); at.Before(pt("2026-04-10 00:00")); at = at.Add(37 * time.Minute) {
					people := s.PeopleAt(at, ovs, calOv)
					for i, oc := range s.WhoAt(at, ovs, calOv) {
						if people[i] != oc.Person {
							t.Fatalf("%s, %s, %d overrides, %v, tier %d: PeopleAt %q, WhoAt %q", name, oname, len(ovs), at, i, people[i].ID, oc.Person.ID)
						}
					}
				}
			}
		}
	}
}

// BenchmarkPeopleAt is who paging calls for a ticket (PeopleAt) beside
// WhoAt, on a line never open, where WhoAt's bounds search 400 days.
func BenchmarkPeopleAt(b *testing.B) {
	cal, err := calendar.New(calendar.Config{Hours: map[string][]string{}, Holidays: calendar.HolidayConfig{Country: "none"}})
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewSchedule(ScheduleConfig{People: testPeople(),
		Rotations:  []RotationConfig{{Name: "astreinte", Participants: []string{"alice", "bob"}, Shift: "1w", Start: "2026-03-23 09:00"}},
		Escalation: PolicyConfig{Tiers: []TierConfig{{Rotation: "astreinte"}}}}, cal)
	if err != nil {
		b.Fatal(err)
	}
	at := pt("2026-12-07 22:00")
	b.Run("PeopleAt", func(b *testing.B) {
		for b.Loop() {
			s.PeopleAt(at, nil, nil)
		}
	})
	b.Run("WhoAt", func(b *testing.B) {
		for b.Loop() {
			s.WhoAt(at, nil, nil)
		}
	})
}
