// Package tickets is the one place where tickets and calls change: the
// caller's flow records calls and turns messages into tickets here (due
// time, paging decision), technicians acknowledge, note, call back, resolve
// and reopen here from the CLI, the web pages and the pager's key 1, and
// the recordings recovered after a crash become tickets here. Every change
// is announced to subscribers (the pager wakes, pages refresh).
package tickets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// Store is the durable state of tickets and calls (store.DB).
type Store interface {
	CreateTicket(ctx context.Context, t *astreinte.Ticket, page *store.NewPage) error
	TicketByID(ctx context.Context, id int64) (astreinte.Ticket, error)
	TicketByNumber(ctx context.Context, number string) (astreinte.Ticket, error)
	TicketByRecording(ctx context.Context, path string) (astreinte.Ticket, error)
	Tickets(ctx context.Context, f astreinte.TicketFilter) ([]astreinte.Ticket, error)
	Timeline(ctx context.Context, ticketID int64) ([]astreinte.Event, error)
	Acknowledge(ctx context.Context, ticketID int64, by, via string) (bool, error)
	SetStatus(ctx context.Context, ticketID int64, s astreinte.Status, actor, note string) error
	AddEvent(ctx context.Context, e astreinte.Event) error
	CreateCall(ctx context.Context, c *astreinte.Call) error
	UpdateCall(ctx context.Context, c *astreinte.Call) error
	Calls(ctx context.Context, limit int) ([]astreinte.Call, error)
	// FileCutCall files, as a ticket, a call its node's death cut, in the
	// one transaction that claims it (false: filed already, ended, or its
	// node is back).
	FileCutCall(ctx context.Context, t *astreinte.Ticket, page *store.NewPage, endedAt time.Time, note string) (bool, error)
	CallerStore
}

var _ Store = (*store.DB)(nil)

// BusinessDays moves a time forward by working days (calendar.Calendar).
type BusinessDays interface {
	AddBusinessDays(t time.Time, n int) time.Time
}

// Policy is what a line promises: when its tickets are due, in business
// days (0: at once), and which of them page someone.
type Policy struct {
	DueUrgent int
	DueNormal int
	Page      astreinte.PagePolicy
}

// ChangeKind says what happened to a ticket.
type ChangeKind string

// Changes announced to subscribers.
const (
	Created      ChangeKind = "created"
	Acknowledged ChangeKind = "acknowledged"
	Noted        ChangeKind = "noted"
	StatusSet    ChangeKind = "status"
	// Resync: changes made on other nodes may have been missed (the
	// connection that hears them was lost); TicketID is 0.
	Resync ChangeKind = "resync"
)

// Change is one ticket's change, as subscribers hear of it.
type Change struct {
	Kind     ChangeKind
	TicketID int64
	Number   string
	Paging   bool // a page was queued with the ticket
	// Remote: the change was made by another node sharing the store
	// (Share); whoever acts once per change (an email, a message) acts on
	// its own changes only.
	Remote bool
}

// ForPager reports whether c can give the paging engine work: a page
// queued (a new ticket, a later message that restarts it), or a ticket
// taken out of paging (acknowledged, called back, resolved), or changes
// on other nodes perhaps missed. A ticket that does not page, a note, a
// call's end or a quote do not: the engine's pass (five look-ups) is not
// run for them.
func (c Change) ForPager() bool {
	switch c.Kind {
	case Acknowledged, StatusSet, Resync:
		return true
	}
	return c.Paging
}

// Service is the tickets service. Build it with New.
type Service struct {
	store       Store
	days        BusinessDays
	lines       map[string]Policy
	defaultLine string
	now         func() time.Time
	log         *slog.Logger
	customers   Customers
	ackTarget   time.Duration

	mu    sync.Mutex
	next  int
	subs  map[int]func(Change)
	share *sharing // Share: changes told to the other nodes

	take    sync.Mutex   // one Take at a time: a number's calls find each other's ticket (caller.go)
	pending pendingState // tickets the store refused (pending.go)
	first   FirstPager   // SetFirstPager
}

// A FirstPager fires the first step of a new ticket's page in the
// ticket's own transaction and delivers it once written (oncall.Engine).
type FirstPager interface {
	// FirstStep is the step to write with the ticket; nil: the page is
	// queued at step 0 for the pager's next pass.
	FirstStep(ctx context.Context) *astreinte.FiredStep
	// Fired starts the step's deliveries, the ticket written.
	Fired(ticketID int64, st *astreinte.FiredStep)
}

// SetFirstPager has new tickets that page fire their first step with p as
// they are written: their first pages go out as the ticket commits,
// without waiting for p's next pass. Set once, before the service is used.
func (s *Service) SetFirstPager(p FirstPager) { s.first = p }

// Options are what New needs besides the store and the calendar.
type Options struct {
	// Lines maps each line's name to its policy; a ticket of a line not
	// listed gets the zero Policy (due at once, never pages).
	Lines map[string]Policy
	// DefaultLine names the line of a recovered recording that lost its
	// metadata.
	DefaultLine string
	// AckTarget is how long an urgent ticket may wait for someone to take
	// it before it is overdue (oncall.escalation.ack_target); 0:
	// DefaultAckTarget.
	AckTarget time.Duration
	Now       func() time.Time // default time.Now
	Log       *slog.Logger     // default slog.Default()
	// Customers, when set, matches requests to customers and makes their
	// contracts decide due times and paging (customers.go).
	Customers Customers
}

// New returns the service over st, with due times counted on days.
func New(st Store, days BusinessDays, o Options) *Service {
	s := &Service{store: st, days: days, lines: o.Lines, defaultLine: o.DefaultLine,
		now: o.Now, log: o.Log, subs: map[int]func(Change){}, customers: o.Customers, ackTarget: o.AckTarget}
	if s.ackTarget <= 0 {
		s.ackTarget = DefaultAckTarget
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Subscribe calls f after every change, on the goroutine that made it; f
// must return quickly (wake something, queue an event). Once the service
// shares its store with other nodes (Share), f also hears of their
// changes (Remote), on the goroutine that listens to them. The returned
// function unsubscribes.
func (s *Service) Subscribe(f func(Change)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next
	s.next++
	s.subs[id] = f
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

// announce tells the subscribers, and the other nodes if shared, of a
// change this service made (and committed).
func (s *Service) announce(c Change) {
	s.deliver(c)
	s.mu.Lock()
	if sh := s.share; sh != nil {
		select {
		case sh.out <- c:
		default:
			s.log.Warn("tickets: too many changes queued, one not told to the other nodes", "ticket", c.TicketID, "kind", c.Kind)
		}
	}
	s.mu.Unlock()
}

// deliver calls the subscribers with c.
func (s *Service) deliver(c Change) {
	s.mu.Lock()
	fs := make([]func(Change), 0, len(s.subs))
	for _, f := range s.subs {
		fs = append(fs, f)
	}
	s.mu.Unlock()
	for _, f := range fs {
		f(c)
	}
}

// Plan sets t's due time from its line's policy and says whether it pages
// someone. It does not store anything.
func (s *Service) Plan(t *astreinte.Ticket) (pages bool) {
	p := s.lines[t.Line]
	days := p.DueNormal
	if t.Urgency == astreinte.Urgent {
		days = p.DueUrgent
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.DueAt = t.CreatedAt
	if days > 0 {
		t.DueAt = s.days.AddBusinessDays(t.CreatedAt, days)
	}
	linePages := false
	switch p.Page {
	case astreinte.PageUrgent:
		linePages = t.Urgency == astreinte.Urgent
	case astreinte.PageOutOfHours:
		linePages = t.Urgency == astreinte.Urgent || !t.Case.Open()
	}
	if pages, ok := s.planByContract(t, p, linePages); ok {
		return pages
	}
	return linePages
}

// Create makes a ticket of a finished message: it sets the due time,
// decides whether it pages, and stores it with its page in one
// transaction (t gets its ID and Number); then subscribers hear of it.
func (s *Service) Create(ctx context.Context, t *astreinte.Ticket) error {
	if err := s.identify(ctx, t); err != nil {
		return err
	}
	return s.insert(ctx, t, s.Plan(t))
}

// insert stores t, new, with its page when it pages (t.Paged says so):
// the one path every new ticket takes. A store that refuses it (a full
// disk) does not stop its page: it is kept, paged from memory and written
// later (pending.go), and the error wraps ErrKept.
func (s *Service) insert(ctx context.Context, t *astreinte.Ticket, pages bool) error {
	var page *store.NewPage
	if t.Paged = pages; pages {
		page = &store.NewPage{Policy: astreinte.EscalationDefault, NextAt: t.CreatedAt}
		if s.first != nil {
			page.First = s.first.FirstStep(ctx)
		}
	}
	if t.Status == "" {
		t.Status = astreinte.StatusNew
	}
	if err := s.store.CreateTicket(ctx, t, page); err != nil {
		return s.keep(t, pages, err)
	}
	if page != nil && page.First != nil {
		s.first.Fired(t.ID, page.First)
	}
	s.announce(Change{Kind: Created, TicketID: t.ID, Number: t.Number, Paging: pages})
	return nil
}

// Recover makes the ticket of a recording found after an interruption (a
// crash, a power cut), unless one was already made for it: it returns
// false then. t carries what the recording's metadata said; a missing line
// is the default line, a missing urgency normal.
func (s *Service) Recover(ctx context.Context, t *astreinte.Ticket) (bool, error) {
	if _, err := s.store.TicketByRecording(ctx, t.Recording); err == nil {
		return false, nil
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return false, fmt.Errorf("recovered recording %s: %w", t.Recording, err)
	}
	if t.Urgency == "" {
		t.Urgency = astreinte.NotUrgent
	}
	if t.Line == "" {
		t.Line = s.defaultLine
	}
	if err := s.Create(ctx, t); err != nil {
		return false, fmt.Errorf("recovered recording %s: %w", t.Recording, err)
	}
	if err := s.store.AddEvent(ctx, astreinte.Event{TicketID: t.ID, At: s.now(), Kind: astreinte.EventNote, Actor: "system",
		Detail: "recording recovered at start-up after an interruption"}); err != nil {
		s.log.Warn("recovered recording: timeline note", "ticket", t.Number, "error", err)
	}
	return true, nil
}

// Acknowledge records that by took ticket id through via (sip, email, web,
// cli…) and stops its paging. It returns false when the ticket was no
// longer new: a second acknowledgement is harmless and only noted.
func (s *Service) Acknowledge(ctx context.Context, id int64, by, via string) (bool, error) {
	changed, err := s.store.Acknowledge(ctx, id, by, via)
	if err != nil {
		return false, err
	}
	s.announce(Change{Kind: Acknowledged, TicketID: id})
	return changed, nil
}

// Note adds a note to the ticket's timeline.
func (s *Service) Note(ctx context.Context, id int64, actor, text string) error {
	if text == "" {
		return errors.New("empty note")
	}
	if err := s.store.AddEvent(ctx, astreinte.Event{TicketID: id, At: s.now(), Kind: astreinte.EventNote,
		Actor: actor, Detail: text}); err != nil {
		return err
	}
	s.announce(Change{Kind: Noted, TicketID: id})
	return nil
}

// CalledBack records that the caller was called back, with an optional
// note; paging stops.
func (s *Service) CalledBack(ctx context.Context, id int64, actor, note string) error {
	return s.setStatus(ctx, id, astreinte.StatusCalledBack, actor, note)
}

// Resolve closes the ticket; paging stops.
func (s *Service) Resolve(ctx context.Context, id int64, actor, note string) error {
	return s.setStatus(ctx, id, astreinte.StatusResolved, actor, note)
}

// Reopen makes the ticket new again (paging does not restart).
func (s *Service) Reopen(ctx context.Context, id int64, actor, note string) error {
	return s.setStatus(ctx, id, astreinte.StatusNew, actor, note)
}

func (s *Service) setStatus(ctx context.Context, id int64, st astreinte.Status, actor, note string) error {
	if err := s.store.SetStatus(ctx, id, st, actor, note); err != nil {
		return err
	}
	s.announce(Change{Kind: StatusSet, TicketID: id})
	return nil
}

// List returns the tickets f selects, newest first.
func (s *Service) List(ctx context.Context, f astreinte.TicketFilter) ([]astreinte.Ticket, error) {
	return s.store.Tickets(ctx, f)
}

// ByNumber returns the ticket numbered number ("2026-000123") with its
// recordings, newest first, or an error
// wrapping astreinte.ErrNotFound.
func (s *Service) ByNumber(ctx context.Context, number string) (astreinte.Ticket, error) {
	return s.store.TicketByNumber(ctx, number)
}

// ByID returns the ticket with its recordings, newest first, or an error wrapping astreinte.ErrNotFound.
func (s *Service) ByID(ctx context.Context, id int64) (astreinte.Ticket, error) {
	return s.store.TicketByID(ctx, id)
}

// Timeline returns the ticket's events, oldest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]astreinte.Event, error) {
	return s.store.Timeline(ctx, id)
}

// StartCall records a call as it comes in (c gets its ID).
func (s *Service) StartCall(ctx context.Context, c *astreinte.Call) error {
	return s.store.CreateCall(ctx, c)
}

// EndCall records how a call ended.
func (s *Service) EndCall(ctx context.Context, c *astreinte.Call) error {
	return s.store.UpdateCall(ctx, c)
}

// Calls returns the latest calls, newest first.
func (s *Service) Calls(ctx context.Context, limit int) ([]astreinte.Call, error) {
	return s.store.Calls(ctx, limit)
}
