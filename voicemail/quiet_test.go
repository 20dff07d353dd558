package voicemail

import (
	"testing"
	"time"
)

func TestQuietWatch(t *testing.T) {
	const limit = 5 * time.Second
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	type tick struct {
		at       time.Duration // since t0
		length   time.Duration // recording length
		trailing time.Duration // trailing silence in it
		want     bool
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"talking", []tick{{0, 0, 0, false}, {3 * time.Second, 3 * time.Second, 0, false}, {6 * time.Second, 6 * time.Second, 200 * time.Millisecond, false}}},
		{"silent audio keeps arriving", []tick{{0, 0, 0, false}, {4 * time.Second, 4 * time.Second, 4 * time.Second, false}, {5 * time.Second, 5 * time.Second, 5 * time.Second, true}}},
		{"silence after speech", []tick{{0, 0, 0, false}, {8 * time.Second, 8 * time.Second, 4900 * time.Millisecond, false}, {8100 * time.Millisecond, 8100 * time.Millisecond, 5 * time.Second, true}}},
		// The phone stops sending 2 s into the message (silence suppression).
		{"nothing arrives", []tick{{0, 0, 0, false}, {2 * time.Second, 2 * time.Second, 0, false},
			{6 * time.Second, 2 * time.Second, 0, false}, {7 * time.Second, 2 * time.Second, 0, true}}},
		// Some quiet audio, then nothing: both add up.
		{"quiet then nothing", []tick{{0, 0, 0, false}, {4 * time.Second, 4 * time.Second, 2 * time.Second, false},
			{6 * time.Second, 4 * time.Second, 2 * time.Second, false}, {7 * time.Second, 4 * time.Second, 2 * time.Second, true}}},
		// Packets held back by the jitter buffer are not a stall.
		{"short stall", []tick{{0, 0, 0, false}, {4800 * time.Millisecond, 4800 * time.Millisecond, 4800 * time.Millisecond, false},
			{5000 * time.Millisecond, 4800 * time.Millisecond, 4800 * time.Millisecond, false}}},
		// Nothing at all from the start: ends after the limit.
		{"never anything", []tick{{0, 0, 0, false}, {4 * time.Second, 0, 0, false}, {5 * time.Second, 0, 0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q quietWatch
			for i, tk := range tt.ticks {
				if got := q.ended(t0.Add(tk.at), tk.length, tk.trailing, limit); got != tk.want {
					t.Fatalf("tick %d (%+v): ended %v, want %v", i, tk, got, tk.want)
				}
			}
		})
	}
}

// TestQuietWaitUntilPossibleEnd: after a check, the next one comes when
// the quiet could first be enough, never sooner than minQuietCheck nor
// later than the limit.
func TestQuietWaitUntilPossibleEnd(t *testing.T) {
	const limit = 5 * time.Second
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	var q quietWatch
	q.ended(t0, 0, 0, limit)
	if w := q.wait(limit); w != limit {
		t.Errorf("nothing heard yet: wait %v, want the limit", w)
	}
	q.ended(t0.Add(8*time.Second), 8*time.Second, 3*time.Second, limit) // talking, then 3 s quiet
	if w := q.wait(limit); w != 2*time.Second {
		t.Errorf("3 s quiet of 5: wait %v, want 2s", w)
	}
	q.ended(t0.Add(9900*time.Millisecond), 9900*time.Millisecond, 4950*time.Millisecond, limit)
	if w := q.wait(limit); w != minQuietCheck {
		t.Errorf("50 ms short: wait %v, want the floor %v", w, minQuietCheck)
	}
	if !q.ended(t0.Add(10*time.Second), 10*time.Second, 5*time.Second, limit) {
		t.Error("5 s quiet: want ended")
	}
}
