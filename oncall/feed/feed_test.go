package feed

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// TestFeedParsesBack: alice's feed holds her shifts of the fortnight (one
// week in two), overrides applied, and parses back as RFC 5545.
func TestFeedParsesBack(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People: []oncall.Person{{ID: "alice", Name: "Alice", SIP: "sip:a@x"}, {ID: "bob", Name: "Bob", SIP: "sip:b@x"}},
		Rotations: []oncall.RotationConfig{{Name: "week", Participants: []string{"alice", "bob"}, Shift: "1w",
			Start: "2026-11-30 09:00", Coverage: "all"}},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{{Rotation: "week"}}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2026, 11, 30, 9, 0, 0, 0, paris)
	ovs := []oncall.ShiftOverride{{ID: 1, Replaced: "bob", By: "alice", From: from.AddDate(0, 0, 8), To: from.AddDate(0, 0, 9), Note: "Bob au mariage"}}
	alice, _ := s.Person("alice")
	out := ICS(alice, s.Shifts(from, from.AddDate(0, 0, 14), ovs), from)
	parsed, err := ics.ParseCalendar(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	var got []string
	for _, ev := range parsed.Events() {
		a, err1 := ev.GetStartAt()
		b, err2 := ev.GetEndAt()
		if err1 != nil || err2 != nil {
			t.Fatalf("event times: %v %v", err1, err2)
		}
		got = append(got, a.In(paris).Format("02/01 15:04")+"–"+b.In(paris).Format("02/01 15:04")+" "+ev.GetProperty(ics.ComponentPropertySummary).Value)
	}
	want := []string{"30/11 09:00–07/12 09:00 Astreinte (week)", "08/12 09:00–09/12 09:00 Astreinte (week) — remplacement"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	key := []byte("k")
	if !Valid(key, "alice", Token(key, "alice")) || Valid(key, "bob", Token(key, "alice")) {
		t.Error("tokens must be per person")
	}
	if u := URL("https://astreinte.example.com/", key, "alice"); !strings.HasPrefix(u, "https://astreinte.example.com/oncall/alice.ics?token=") {
		t.Errorf("URL %s", u)
	}
}
