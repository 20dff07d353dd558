package web

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/feed"
)

// TestOncallFeed: /oncall/alice.ics with her token is her shifts as
// iCalendar, parsed back; a wrong or another person's token is a 404.
func TestOncallFeed(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People: []oncall.Person{{ID: "alice", Name: "Alice", SIP: "sip:a@x"}, {ID: "bob", Name: "Bob", SIP: "sip:b@x"}},
		Rotations: []oncall.RotationConfig{{Name: "week", Participants: []string{"alice", "bob"}, Shift: "1w",
			Start: "2026-11-30 09:00", Coverage: "all"}},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{{Rotation: "week"}}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("feed-key")
	s := &Server{Key: key, Schedule: sched, Now: func() time.Time { return time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC) }}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(feed.URL(srv.URL, key, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	c, err := ics.ParseCalendar(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Events()); n < 6 {
		t.Errorf("%d shifts in 97 days, want one week in two", n)
	}
	for _, u := range []string{srv.URL + "/oncall/alice.ics?token=nope", srv.URL + "/oncall/bob.ics?token=" + feed.Token(key, "alice")} {
		if resp, err := srv.Client().Get(u); err != nil || resp.StatusCode != 404 {
			t.Errorf("GET %s: want 404", u)
		}
	}
}
