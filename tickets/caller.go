package tickets

import (
	"context"
	"errors"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// CallerStore is what Take needs beyond Store to join a caller's later
// calls to their open ticket (store.DB). A Store without it makes a new
// ticket for every call.
type CallerStore interface {
	OpenTicketFrom(ctx context.Context, line, number string) (astreinte.Ticket, error)
	MergeIntoTicket(ctx context.Context, id int64, t *astreinte.Ticket, page *store.NewPage) error
}

var _ CallerStore = (*store.DB)(nil)

// Take files what a caller left: a message, or a missed call to call back
// (t.Kind). When the same number (t.CallbackNumber, else t.CallerNumber)
// has a ticket of the line still open, the call joins it: its recording is
// added, and if the ticket is urgent and nobody acknowledged it yet, its
// page starts again from the first step. Otherwise it is a new ticket, as
// with Create; a missed call pages only when it is urgent (the line pages
// missed calls). Filed says which, and whether a page is queued: what the
// caller may be promised.
func (s *Service) Take(ctx context.Context, t *astreinte.Ticket) (astreinte.Filed, error) {
	s.take.Lock()
	defer s.take.Unlock()
	if err := s.identify(ctx, t); err != nil {
		return astreinte.Filed{}, err
	}
	pages := s.Plan(t)
	if t.Kind == astreinte.KindMissedCall && t.Urgency != astreinte.Urgent {
		pages = false
	}
	if cs, ok := s.store.(CallerStore); ok {
		number := t.CallbackNumber
		if number == "" {
			number = t.CallerNumber
		}
		open, err := cs.OpenTicketFrom(ctx, t.Line, number)
		switch {
		case err == nil:
			return s.merge(ctx, cs, open, t)
		case !errors.Is(err, astreinte.ErrNotFound):
			// A failed look-up must not lose the call: a ticket of its own.
			s.log.Warn("open ticket look-up failed; new ticket", "number", number, "error", err)
		}
	}
	err := s.insert(ctx, t, pages)
	return astreinte.Filed{Paging: pages}, err
}

// merge joins t to the open ticket.
func (s *Service) merge(ctx context.Context, cs CallerStore, open astreinte.Ticket, t *astreinte.Ticket) (astreinte.Filed, error) {
	merged := open
	if t.Urgency == astreinte.Urgent {
		merged.Urgency = astreinte.Urgent
	}
	merged.Kind = astreinte.KindVoicemail
	var page *store.NewPage
	if merged.Urgency == astreinte.Urgent && open.Status == astreinte.StatusNew && s.Plan(&merged) {
		page = &store.NewPage{Policy: "default", NextAt: s.now()}
	}
	if err := cs.MergeIntoTicket(ctx, open.ID, t, page); err != nil {
		return astreinte.Filed{}, err
	}
	t.Urgency, t.DueAt, t.Status = merged.Urgency, open.DueAt, open.Status
	s.log.Info("call joined the caller's open ticket", "ticket", t.Number, "kind", t.Kind, "page_restarted", page != nil)
	s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number, Paging: page != nil})
	return astreinte.Filed{Merged: true, Paging: page != nil}, nil
}

// callerDetails is the store's side of a ticket's kind, callback number and
// message offset (store.DB).
type callerDetails interface {
	TicketCaller(ctx context.Context, t *astreinte.Ticket) error
}

// withCaller fills t's kind, callback number and message offset, for
// ByNumber and ByID; a store without them leaves t as it is.
func (s *Service) withCaller(ctx context.Context, t astreinte.Ticket, err error) (astreinte.Ticket, error) {
	if err != nil {
		return t, err
	}
	if cd, ok := s.store.(callerDetails); ok {
		if err := cd.TicketCaller(ctx, &t); err != nil {
			return t, err
		}
	}
	return t, nil
}
