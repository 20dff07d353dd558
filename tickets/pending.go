package tickets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// ErrKept wraps the error of a ticket the store could not take: it is kept
// in memory (its page goes out from memory) and written as soon as the
// store takes it again (RetryPending). It has no ID nor number yet.
var ErrKept = errors.New("ticket kept in memory until it can be written")

// MemoryPager pages for a ticket the store could not take (oncall.Engine):
// it starts at once and returns the function that hands the page over to
// the store once the ticket is written with its page.
type MemoryPager interface {
	PageFromMemory(t astreinte.Ticket, why error) (handoff func(ctx context.Context, ticketID int64) error)
}

// pendingTicket is a ticket waiting to be written.
type pendingTicket struct {
	t       astreinte.Ticket
	pages   bool
	handoff func(ctx context.Context, ticketID int64) error
	since   time.Time
	tries   int
	lastErr error
}

// pendingState is the part of Service about tickets kept in memory.
type pendingState struct {
	mu      sync.Mutex
	pager   MemoryPager
	list    []*pendingTicket
	kept    int64 // counters since start, for logs and metrics
	written int64
}

// PendingStats are the counters of tickets kept in memory.
type PendingStats struct {
	Pending int       // kept in memory now
	Oldest  time.Time // when the oldest of them was made (zero when none)
	Kept    int64     // kept since start
	Written int64     // written later since start
	LastErr string    // the store's last error for them
}

// SetMemoryPager sets who pages for tickets the store cannot take; without
// one they still wait in memory to be written, but page only once written.
func (s *Service) SetMemoryPager(p MemoryPager) {
	s.pending.mu.Lock()
	defer s.pending.mu.Unlock()
	s.pending.pager = p
}

// keep holds t in memory after the store refused it (err) and pages for it
// from memory when it pages; it returns err wrapped in ErrKept.
func (s *Service) keep(t *astreinte.Ticket, pages bool, err error) error {
	ps := &s.pending
	ps.mu.Lock()
	pager := ps.pager
	ps.mu.Unlock()
	s.log.Error("ticket not written: kept in memory, written when the store takes it", "error", err,
		"caller", t.CallerNumber, "urgency", t.Urgency, "recording", t.Recording, "pages", pages)
	p := &pendingTicket{t: *t, pages: pages, since: s.now(), lastErr: err}
	if pages && pager != nil {
		p.handoff = pager.PageFromMemory(*t, err)
	}
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.kept++
	ps.mu.Unlock()
	return fmt.Errorf("%w: %w", ErrKept, err)
}

// Pending reports how many tickets wait in memory to be written.
func (s *Service) Pending() int {
	s.pending.mu.Lock()
	defer s.pending.mu.Unlock()
	return len(s.pending.list)
}

// Degraded reports whether tickets wait in memory because the store does
// not take them (a full disk, a failing database): for /readyz.
func (s *Service) Degraded() bool { return s.Pending() > 0 }

// PendingStats returns the counters of tickets kept in memory.
func (s *Service) PendingStats() PendingStats {
	ps := &s.pending
	ps.mu.Lock()
	defer ps.mu.Unlock()
	st := PendingStats{Pending: len(ps.list), Kept: ps.kept, Written: ps.written}
	if len(ps.list) > 0 {
		st.Oldest = ps.list[0].since
		if e := ps.list[len(ps.list)-1].lastErr; e != nil {
			st.LastErr = e.Error()
		}
	}
	return st
}

// RetryPending writes the tickets kept in memory as soon as the store takes
// them, trying every interval, until ctx is done. A written ticket's page
// is handed over from memory to the store and subscribers hear of the
// ticket as created.
func (s *Service) RetryPending(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.writePending(ctx)
	}
}

// writePending tries to write each ticket kept, oldest first; it stops at
// the first refusal (the store is still failing).
func (s *Service) writePending(ctx context.Context) {
	for {
		s.pending.mu.Lock()
		if len(s.pending.list) == 0 {
			s.pending.mu.Unlock()
			return
		}
		p := s.pending.list[0]
		s.pending.mu.Unlock()

		t := p.t
		var page *store.NewPage
		if p.pages {
			// Due a little later: the page from memory is handed over
			// first and moves it to the step it reached.
			page = &store.NewPage{Policy: astreinte.EscalationDefault, NextAt: s.now().Add(5 * time.Minute)}
			if p.handoff == nil {
				page.NextAt = t.CreatedAt // nobody paged from memory: page now
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.store.CreateTicket(wctx, &t, page)
		cancel()
		if err != nil {
			s.pending.mu.Lock()
			p.tries++
			p.lastErr = err
			s.pending.mu.Unlock()
			if p.tries == 1 || p.tries%60 == 0 {
				s.log.Warn("ticket kept in memory: still not written", "error", err, "tries", p.tries, "since", p.since, "recording", t.Recording)
			}
			return
		}
		s.pending.mu.Lock()
		s.pending.list = s.pending.list[1:]
		s.pending.written++
		s.pending.mu.Unlock()
		s.log.Warn("ticket kept in memory now written", "ticket", t.Number, "kept_for", s.now().Sub(p.since).Round(time.Second), "recording", t.Recording)
		if err := s.store.AddEvent(ctx, astreinte.Event{TicketID: t.ID, At: s.now(), Kind: astreinte.EventNote, Actor: "system",
			Detail: fmt.Sprintf("written %s after the message: the store refused it (%v)", s.now().Sub(p.since).Round(time.Second), p.lastErr)}); err != nil {
			s.log.Warn("pending ticket: timeline note", "ticket", t.Number, "error", err)
		}
		if p.handoff != nil {
			if err := p.handoff(ctx, t.ID); err != nil {
				s.log.Error("pending ticket: page hand-over", "ticket", t.Number, "error", err)
			}
		}
		s.announce(Change{Kind: Created, TicketID: t.ID, Number: t.Number, Paging: page != nil})
	}
}
