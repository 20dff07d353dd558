package sipcall

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
	"github.com/emiago/sipgo"
)

// TestMessagesWalk: the newest message first, key 2 the earlier one, after
// the oldest the newest again; one message is heard again as before.
func TestMessagesWalk(t *testing.T) {
	fr, err := audio.LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ path, menu string }
	tests := []struct {
		name  string
		paths []string
		want  []step // what is played first, then after each key 2
	}{
		{"one message", []string{"a"}, []step{{"a", audio.PromptPageMenu}, {"a", audio.PromptPageMenu}}},
		{"two", []string{"b", "a"}, []step{{"b", audio.PromptPageMenuMore}, {"a", audio.PromptPageMenuRestart}, {"b", audio.PromptPageMenuMore}}},
		{"three", []string{"c", "b", "a"}, []step{{"c", audio.PromptPageMenuMore}, {"b", audio.PromptPageMenuMore},
			{"a", audio.PromptPageMenuRestart}, {"c", audio.PromptPageMenuMore}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tk astreinte.Ticket
			for _, p := range tt.paths {
				tk.Recordings = append(tk.Recordings, astreinte.Recording{Path: p})
			}
			var read []string
			m := newMessages(tk, func(p string) []int16 { read = append(read, p); return []int16{1, 2, 3} })
			for i, st := range tt.want {
				if i > 0 {
					m.next()
				}
				if pcm := m.play(fr); len(pcm) < 3 || m.paths[m.cur] != st.path || m.menu() != st.menu {
					t.Errorf("step %d: %s then %s, want %s then %s", i, m.paths[m.cur], m.menu(), st.path, st.menu)
				}
			}
			if m.cur = 0; len(tt.paths) > 1 {
				m.seen[0] = false
				if m.next(); m.cur != 0 {
					t.Errorf("key 2 before the newest was played moved to %s", m.paths[m.cur])
				}
			}
			if len(read) != len(tt.paths) {
				t.Errorf("read %v: each message once", read)
			}
		})
	}
	if h := newMessages(astreinte.Ticket{Recording: "x"}, func(string) []int16 { return nil }).heard(); h != "" {
		t.Errorf("one message: heard %q, want nothing said", h)
	}
}

// TestCallOutSeveralMessages: a technician called for a ticket with two
// messages presses 2 during the introduction (the newest message comes
// at once), 2 again for the earlier one, then 1.
func TestCallOutSeveralMessages(t *testing.T) {
	n := newNotifier(t)
	rec := func(name string) string {
		return filepath.Join("..", "..", "..", "audio", "prompts", "fr", name+".wav")
	}
	ph := startPhone(t, 200, func(d *sipgo.DialogServerSession) { press(d, 700*time.Millisecond, "2", "2", "1") })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := n.Notify(ctx, oncall.Notice{
		Ticket: astreinte.Ticket{ID: 1, Number: "2026-000042", CallerNumber: "0612345678", Urgency: astreinte.Urgent,
			Recording: rec("digit_1"), Recordings: []astreinte.Recording{{Path: rec("digit_2")}, {Path: rec("digit_1")}}},
		Person: oncall.Person{ID: "alice", Name: "Alice", SIP: "sip:alice@" + ph.addr, Language: "fr"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Acked || !strings.Contains(res.Detail, "heard 2 of 2 messages") {
		t.Errorf("result %+v: want acknowledged after hearing both messages", res)
	}
}
