package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// CallerStore is the part of Store that Take and Amend use to join a
// caller's later calls to their open ticket and to amend what a call
// filed.
type CallerStore interface {
	OpenTicketFrom(ctx context.Context, line, number string) (astreinte.Ticket, error)
	MergeIntoTicket(ctx context.Context, id int64, t *astreinte.Ticket, p store.Replan, page *store.NewPage) error
	AmendTicket(ctx context.Context, id int64, a astreinte.Amendment, p store.Replan, page *store.NewPage) error
	PageByTicket(ctx context.Context, ticketID int64) (astreinte.Page, error)
}

// Take files what a caller left: a message, or a missed call to call back
// (t.Kind). When the same number (t.CallbackNumber, else t.CallerNumber)
// has a ticket of the line still open, the call joins it and re-plans it
// (merge). Otherwise it is a new ticket, as with Create; a missed call
// pages only when it is urgent (the line pages missed calls). Filed says
// which, and whether a page is queued: what the caller may be promised.
//
// Take waits its turn (one at a time, so that a number's calls find each
// other's ticket) however long the queue: its store work then has a
// deadline of its own (held), whatever was left of ctx's.
func (s *Service) Take(ctx context.Context, t *astreinte.Ticket) (astreinte.Filed, error) {
	s.take.Lock()
	defer s.take.Unlock()
	ctx, cancel := held(ctx)
	defer cancel()
	if err := s.identify(ctx, t); err != nil {
		return astreinte.Filed{}, err
	}
	pages := s.Plan(t)
	if t.Kind == astreinte.KindMissedCall && t.Urgency != astreinte.Urgent {
		pages = false
	}
	number := t.CallbackNumber
	if number == "" {
		number = t.CallerNumber
	}
	open, err := s.store.OpenTicketFrom(ctx, t.Line, number)
	switch {
	case err == nil:
		return s.merge(ctx, s.store, open, t)
	case !errors.Is(err, astreinte.ErrNotFound):
		// A failed look-up must not lose the call: a ticket of its own.
		s.log.Warn("open ticket look-up failed; new ticket", "number", number, "error", err)
	}
	err = s.insert(ctx, t, pages)
	return astreinte.Filed{Paging: pages}, err
}

// heldWait is how long the store work of one Take or Amend may last, from
// when it holds the take lock.
const heldWait = 10 * time.Second

// held is ctx for the work done under the take lock: its values, and a
// deadline counted from now. Under a burst the lock's queue can outlast
// the caller's deadline; the look-up of the caller's open ticket would
// then time out and a repeat caller's message be filed as a new ticket
// instead of joining theirs, or the ticket itself be kept in memory.
func held(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), heldWait)
}

// merge joins t (planned by Take) to the open ticket and re-plans it: its
// urgency becomes the highest of the calls', its due time the earliest,
// and a customer the new call identifies fills an unidentified ticket. If
// the ticket is then urgent and nobody acknowledged it yet, its page starts
// again from the first step. The timeline says which message this is and
// what changed.
func (s *Service) merge(ctx context.Context, cs CallerStore, open astreinte.Ticket, t *astreinte.Ticket) (astreinte.Filed, error) {
	merged := open
	if t.Urgency == astreinte.Urgent {
		merged.Urgency = astreinte.Urgent
	}
	if merged.Customer == "" && t.Customer != "" {
		merged.Customer, merged.Contract = t.Customer, t.Contract
	}
	merged.Kind = astreinte.KindVoicemail
	pages := s.Plan(&merged) // the ticket as it now is, from its creation
	merged.DueAt = earliest(open.DueAt, t.DueAt)
	var page *store.NewPage
	if merged.Urgency == astreinte.Urgent && open.Status == astreinte.StatusNew && pages {
		page = &store.NewPage{Policy: astreinte.EscalationDefault, NextAt: s.now()}
	}
	n := open.RecordingCount
	if t.Recording != "" {
		n++
	}
	p := replanOf(open, merged)
	p.Detail = strings.Join(append([]string{joinedDetail(t, n, open.RecordingCount)}, changes(open, merged, t.CreatedAt.Location())...), "; ")
	if err := cs.MergeIntoTicket(ctx, open.ID, t, p, page); err != nil {
		return astreinte.Filed{}, err
	}
	t.Urgency, t.DueAt, t.Status = merged.Urgency, merged.DueAt, open.Status
	t.Customer, t.Contract = merged.Customer, merged.Contract
	s.log.Info("call joined the caller's open ticket", "ticket", t.Number, "kind", t.Kind, "message", n, "page_restarted", page != nil)
	s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number, Paging: page != nil})
	return astreinte.Filed{Merged: true, Paging: page != nil}, nil
}

// Amend adds to ticket id what its call, still on the line, said after it
// was filed: a.Urgent (the caller pressed 1) raises the urgency of the
// ticket and of the message, re-plans the due time and pages at once when
// the ticket now pages and no page is pending or acknowledged; a recording
// a.Recording (the ticket's own or a joined one) that grew gets its new
// duration and marks. The timeline says what changed. Calling it again
// with the same amendment changes nothing. Filed.Merged says a.Recording
// is a later call's; Filed.Paging that a page is queued or in progress.
func (s *Service) Amend(ctx context.Context, id int64, a astreinte.Amendment) (astreinte.Filed, error) {
	s.take.Lock()
	defer s.take.Unlock()
	ctx, cancel := held(ctx)
	defer cancel()
	cs := s.store
	t, err := s.store.TicketByID(ctx, id)
	if err != nil {
		return astreinte.Filed{}, fmt.Errorf("amend ticket %d: %w", id, err)
	}
	var (
		rec  *astreinte.Recording
		seq  int // the message's number, in call order
		what []string
	)
	for i := range t.Recordings {
		if a.Recording != "" && t.Recordings[i].Path == a.Recording {
			rec, seq = &t.Recordings[i], len(t.Recordings)-i
		}
	}
	if a.Recording != "" && rec == nil {
		return astreinte.Filed{}, fmt.Errorf("amend ticket %s: recording %s: %w", t.Number, a.Recording, astreinte.ErrNotFound)
	}
	grew := rec != nil && (rec.Duration != a.Duration || !equalMarks(rec.Marks, a.Marks))
	if grew {
		what = append(what, fmt.Sprintf("message %d is now %s (was %s)", seq, a.Duration.Round(time.Second), rec.Duration.Round(time.Second)))
	}
	raise := a.Urgent && (t.Urgency != astreinte.Urgent || rec != nil && rec.Urgency != astreinte.Urgent)
	amended := t
	pages := false
	if raise {
		what = append([]string{"the caller pressed 1: urgent"}, what...)
		amended.Urgency = astreinte.Urgent
		at := s.now()
		if rec != nil {
			at = rec.At
		}
		planned := amended
		planned.CreatedAt = at
		pages = s.Plan(&planned)
		amended.DueAt = earliest(t.DueAt, planned.DueAt)
	}
	if !grew && !raise {
		return s.filed(ctx, cs, t, rec), nil
	}
	var page *store.NewPage
	if raise && pages && t.Status == astreinte.StatusNew {
		if p, err := cs.PageByTicket(ctx, id); errors.Is(err, astreinte.ErrNotFound) || err == nil && p.State != astreinte.PageActive && p.State != astreinte.PageAcked {
			page = &store.NewPage{Policy: astreinte.EscalationDefault, NextAt: s.now()}
		} else if err != nil {
			return astreinte.Filed{}, fmt.Errorf("amend ticket %s: %w", t.Number, err)
		}
	}
	loc := s.now().Location()
	p := replanOf(t, amended)
	p.Detail = strings.Join(append(what, changes(t, amended, loc)...), "; ")
	switch {
	case rec == nil:
		a.Recording = ""
	case !grew:
		a.Duration, a.Marks = rec.Duration, rec.Marks
	}
	if err := cs.AmendTicket(ctx, id, a, p, page); err != nil {
		return astreinte.Filed{}, err
	}
	s.log.Info("call amended its ticket", "ticket", t.Number, "urgent", raise, "recording_grew", grew, "paging", page != nil)
	s.announce(Change{Kind: Noted, TicketID: id, Number: t.Number, Paging: page != nil})
	f := s.filed(ctx, cs, t, rec)
	f.Paging = f.Paging || page != nil
	return f, nil
}

// filed is what Amend says of ticket t and its recording rec.
func (s *Service) filed(ctx context.Context, cs CallerStore, t astreinte.Ticket, rec *astreinte.Recording) astreinte.Filed {
	f := astreinte.Filed{Merged: rec != nil && rec.Path != t.Recording}
	if p, err := cs.PageByTicket(ctx, t.ID); err == nil && p.State == astreinte.PageActive {
		f.Paging = true
	}
	return f
}

// replanOf is what the store must write to make ticket was into now.
func replanOf(was, now astreinte.Ticket) store.Replan {
	var p store.Replan
	if now.Urgency != was.Urgency {
		p.Urgency = now.Urgency
	}
	if !now.DueAt.Equal(was.DueAt) {
		p.DueAt = now.DueAt
	}
	if was.Customer == "" && now.Customer != "" {
		p.Customer, p.Contract = now.Customer, now.Contract
	}
	return p
}

// changes says in words what differs from was to now: urgency, due time
// (in loc), customer.
func changes(was, now astreinte.Ticket, loc *time.Location) []string {
	var out []string
	if now.Urgency != was.Urgency {
		out = append(out, fmt.Sprintf("urgency %s → %s", was.Urgency, now.Urgency))
	}
	if !now.DueAt.Equal(was.DueAt) {
		out = append(out, fmt.Sprintf("due %s → %s", dueWords(was.DueAt, loc), dueWords(now.DueAt, loc)))
	}
	if was.Customer == "" && now.Customer != "" {
		out = append(out, fmt.Sprintf("customer %s matched (contract %s)", now.Customer, now.Contract))
	}
	return out
}

func dueWords(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "none"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 02 Jan 15:04 MST")
}

// joinedDetail says what a later call added: "2nd message (urgent, 42s)",
// or that the caller hung up without one (had: messages before it).
func joinedDetail(t *astreinte.Ticket, n, had int) string {
	if t.Recording == "" {
		if t.Kind == astreinte.KindMissedCall {
			return "the caller called again and hung up before leaving a message"
		}
		return "the caller called again"
	}
	d := Ordinal(n) + " message (" + string(t.Urgency) + ", " + t.Duration.Round(time.Second).String() + ")"
	if had == 0 {
		d += ", after a missed call"
	}
	return d
}

// earliest is the earlier of two due times, a zero one being none.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

func equalMarks(a, b []astreinte.Mark) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Ordinal writes n as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st.
func Ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
