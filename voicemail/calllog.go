package voicemail

import (
	"context"
	"sync/atomic"
	"time"
)

// callRow is a call's row in the call log, written beside the call rather
// than in its path: the INVITE is answered without waiting for the
// database (a synced SQLite write costs milliseconds, tens under load),
// and whatever needs the row's ID later waits for it then.
type callRow struct {
	done chan struct{} // closed once the write is over, whatever its outcome
	id   atomic.Int64  // 0 until written, or when the write failed
}

// Writing the call's row is tried callRowAttempts times, callRowTimeout
// each, callRowBackoff apart and doubling: a store that is slow for a
// moment (a burst of calls, another node holding the writers' lock, a
// database restarting) delays the row; only one that stays down for
// about a minute and a half loses it. The store finds the row an attempt
// wrote when its outcome was unknown (CreateCall), so a retry never
// writes a second.
const (
	callRowAttempts = 5
	callRowTimeout  = 10 * time.Second
)

var callRowBackoff = 500 * time.Millisecond

// logCall writes s.rec as the call's row, aside.
func (s *session) logCall(ctx context.Context) *callRow {
	r := &callRow{done: make(chan struct{})}
	rec := s.rec // the flow goes on changing s.rec
	go func() {
		defer close(r.done)
		wait := callRowBackoff
		for attempt := 1; ; attempt++ {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callRowTimeout)
			err := s.h.Tickets.StartCall(wctx, &rec)
			cancel()
			if err == nil {
				r.id.Store(rec.ID)
				if attempt > 1 {
					s.log.Info("call log: created after retrying", "attempts", attempt)
				}
				return
			}
			if attempt == callRowAttempts {
				s.log.Error("call log: create: the call's row is lost", "attempts", attempt, "error", err)
				return
			}
			s.log.Warn("call log: create, retrying", "attempt", attempt, "in", wait, "error", err)
			time.Sleep(wait)
			wait *= 2
		}
	}()
	return r
}

// rowWritten waits until the call's row is written, or given up, and
// returns its ID (0: given up). The wait is bounded by logCall's
// attempts: use it aside, never in the caller's path.
func (s *session) rowWritten() int64 {
	if s.row == nil {
		return s.rec.ID
	}
	<-s.row.done
	return s.row.id.Load()
}

// callRow waits up to d for the call's row and returns its ID; 0 when it
// could not be written (or in time). Without a row being written (tests
// that build a session by hand), s.rec.ID.
func (s *session) callRow(d time.Duration) int64 {
	if s.row == nil {
		return s.rec.ID
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.row.done:
	case <-t.C:
		s.log.Warn("call log: the call's row is not written yet", "waited", d)
	}
	return s.row.id.Load()
}

// callRowNow is the call's row ID if it is written already, else 0.
func (s *session) callRowNow() int64 {
	if s.row == nil {
		return s.rec.ID
	}
	return s.row.id.Load()
}
