package voicemail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// slowLog is a call log that fails its first creates (a store busy past
// the deadline) and keeps the rows and ends it is given.
type slowLog struct {
	fakeTickets
	mu       sync.Mutex
	failures int // creates left to fail
	creates  int
	ends     []astreinte.Call
	written  chan struct{}
}

func (l *slowLog) StartCall(_ context.Context, c *astreinte.Call) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creates++
	if l.failures > 0 {
		l.failures--
		return errors.New("create call: wait for the writer lock: context deadline exceeded")
	}
	c.ID = 7
	return nil
}

func (l *slowLog) EndCall(_ context.Context, c *astreinte.Call) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends = append(l.ends, *c)
	close(l.written)
	return nil
}

// A call log that times out does not lose the call's row: the create is
// retried, and the call's end, written once the row is there, is not lost
// either when it comes before.
func TestCallRowRetried(t *testing.T) {
	defer func(b time.Duration) { callRowBackoff = b }(callRowBackoff)
	defer func(w time.Duration) { endWait = w }(endWait)
	callRowBackoff, endWait = 20*time.Millisecond, time.Millisecond // the end comes before the row
	for _, tc := range []struct {
		failures int
		want     int64 // the row's ID; 0: lost
		creates  int
	}{
		{0, 7, 1},
		{2, 7, 3},
		{callRowAttempts - 1, 7, callRowAttempts},
		{callRowAttempts, 0, callRowAttempts},
	} {
		l := &slowLog{failures: tc.failures, written: make(chan struct{})}
		s := &session{h: &Handler{Tickets: l, Now: time.Now}, ctx: context.Background(), log: slog.New(slog.DiscardHandler),
			rec: astreinte.Call{SIPCallID: "slow@pbx", StartedAt: time.Now(), Outcome: astreinte.OutcomeInProgress}}
		s.row = s.logCall(s.ctx)
		s.rec.Outcome = astreinte.OutcomeVoicemail
		s.writeEnd()
		if got := s.rowWritten(); got != tc.want {
			t.Errorf("%d failures: row %d, want %d", tc.failures, got, tc.want)
		}
		l.mu.Lock()
		if l.creates != tc.creates {
			t.Errorf("%d failures: %d creates, want %d", tc.failures, l.creates, tc.creates)
		}
		l.mu.Unlock()
		if tc.want == 0 {
			continue
		}
		select {
		case <-l.written:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d failures: the call's end was never written", tc.failures)
		}
		if e := l.ends[0]; e.ID != tc.want || e.Outcome != astreinte.OutcomeVoicemail {
			t.Errorf("%d failures: end %+v, want row %d, voicemail", tc.failures, e, tc.want)
		}
	}
}
