package webhook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/oncall"
)

// Each event as sent: its name, its page_key (receivers deduplicate on
// it), the person and whether an acknowledge link comes with it.
func TestPayloadEvents(t *testing.T) {
	n := &Notifier{URL: "http://x", Links: &acklink.Links{BaseURL: "https://astreinte.example.com", Key: key, TTL: time.Hour,
		Now: func() time.Time { return now }}}
	for _, tt := range []struct {
		event, wantEvent, key string
		person, ackURL        bool
	}{
		{"", "page", "123/2/alice", true, true},
		{oncall.NoticePage, "page", "123/2/alice", true, true},
		{oncall.NoticeAcknowledged, "ticket.acknowledged", "123/ticket.acknowledged", true, false},
		{oncall.NoticeExhausted, "escalation.exhausted", "123/escalation.exhausted", false, false},
	} {
		no := notice(tt.person)
		no.Event = tt.event
		b, err := json.Marshal(n.NewPayload(no, now, "d"))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(b, &raw)
		var p Payload
		json.Unmarshal(b, &p)
		if p.Event != tt.wantEvent || p.PageKey != tt.key {
			t.Errorf("%q: event %q, page_key %q; want %q, %q", tt.event, p.Event, p.PageKey, tt.wantEvent, tt.key)
		}
		if got := string(raw["person"]) != "null"; got != tt.person {
			t.Errorf("%q: person %s", tt.event, raw["person"])
		}
		if got := strings.HasPrefix(p.AckURL, "https://astreinte.example.com/"); got != tt.ackURL {
			t.Errorf("%q: ack_url %q, want one: %v", tt.event, p.AckURL, tt.ackURL)
		}
	}
}

// A ticket the same caller called again for carries every message, newest
// first, and its page (restarted by the new message) has a key of its own.
func TestPayloadSeveralMessages(t *testing.T) {
	n := &Notifier{URL: "http://x"}
	no := notice(true)
	first := no.Ticket.Recording
	no.Ticket.Recordings = []astreinte.Recording{
		{Path: "/var/lib/astreinte/rec/b.wav", At: now, Urgency: astreinte.Urgent, Duration: 17 * time.Second},
		{Path: first, At: now.Add(-time.Hour), Urgency: astreinte.NotUrgent, Duration: 83 * time.Second},
	}
	p := n.NewPayload(no, now, "d")
	want := []Recording{
		{Seq: 2, At: now.Format(time.RFC3339), Urgency: "urgent", DurationSeconds: 17, Path: "/var/lib/astreinte/rec/b.wav"},
		{Seq: 1, At: now.Add(-time.Hour).Format(time.RFC3339), Urgency: "normal", DurationSeconds: 83, Path: first},
	}
	if !reflect.DeepEqual(p.Ticket.Recordings, want) || p.Ticket.RecordingCount != 2 || p.Ticket.RecordingPath != first {
		t.Errorf("recordings %+v (count %d, path %s), want %+v", p.Ticket.Recordings, p.Ticket.RecordingCount, p.Ticket.RecordingPath, want)
	}
	if p.PageKey != "123/2/alice/m2" {
		t.Errorf("page_key %q, want 123/2/alice/m2", p.PageKey)
	}
}
