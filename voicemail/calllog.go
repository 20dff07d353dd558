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

// logCall writes s.rec as the call's row, aside.
func (s *session) logCall(ctx context.Context) *callRow {
	r := &callRow{done: make(chan struct{})}
	rec := s.rec // the flow goes on changing s.rec
	go func() {
		defer close(r.done)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.h.Tickets.StartCall(wctx, &rec); err != nil {
			s.log.Error("call log: create", "error", err)
			return
		}
		r.id.Store(rec.ID)
	}()
	return r
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
