package oncall

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

// Notice is one page to deliver: a ticket, a person, a tier.
type Notice struct {
	Ticket astreinte.Ticket
	Person Person // zero for a policy-wide channel (webhook)
	Tier   string
	Step   int
	Round  int // 0 for the first pass through the tiers
	// Event is what the notice announces: NoticePage (also when empty),
	// NoticeExhausted (nobody acknowledged: Person is a fallback contact,
	// or zero on a policy channel) or NoticeAcknowledged (Person took the
	// ticket; policy channels only).
	Event string
	// TakenBy and TakenAt say who took the ticket and when, for a
	// NoticeTaken (the name of a person on the rota, else their id).
	TakenBy string
	TakenAt time.Time
	// Acknowledge, when not nil, records the acknowledgement of the person
	// paged now (key 1 on the phone) and reports whether it was theirs:
	// false when someone else had taken the ticket first, who by. A
	// channel that calls it need not set Result.Acked for it to count.
	Acknowledge func(ctx context.Context) (taken bool, by string, err error)
	// Stop is closed when the ticket is acknowledged (or closed) elsewhere
	// while this notice is being delivered: a channel still trying to reach
	// the person, a phone still ringing, should give up. Nil never closes.
	Stop <-chan struct{}
}

// Result is what a channel learned while delivering a notice.
type Result struct {
	Detail string // e.g. "answered, key 1", "250 accepted"
	Acked  bool   // the person acknowledged on this channel
	Passed bool   // the person passed to the next tier
}

// Notifier delivers a notice on one channel. An error means "not delivered:
// try again" (busy, no answer, SMTP down); its text goes on the timeline.
type Notifier interface {
	Notify(ctx context.Context, n Notice) (Result, error)
	// Reaches reports whether the channel can page p (p has the address
	// it needs). A channel paged once per step for nobody in particular
	// (a webhook, listed in Engine.PolicyChannels) reaches no one.
	Reaches(p Person) bool
	// Rings reports whether a delivery occupies the person it pages, a
	// phone call: deliveries to one person on the channel go one at a
	// time, never two calls ringing at once. Other channels (an email, a
	// webhook) deliver the pages of two tickets together.
	Rings() bool
}

// Acknowledger records that a person took a ticket through a channel and
// stops its paging (tickets.Service); false when it was no longer new.
type Acknowledger interface {
	Acknowledge(ctx context.Context, ticketID int64, by, via string) (bool, error)
}

// AckLinks makes the link a person follows to acknowledge a ticket (a
// signed URL); "" when there is none to give.
type AckLinks interface {
	AckURL(ticketID int64, person string) (url string, expires time.Time)
}

// PageStore is the durable state the engine works on.
type PageStore interface {
	DuePages(ctx context.Context, now time.Time) ([]Page, error)
	AdvancePage(ctx context.Context, pageID int64, fromStep, toStep int, nextAt time.Time, sends []Send, events []astreinte.Event) (bool, error)
	// FireStep is AdvancePage whose sends of State SendSending are stored
	// claimed by the caller until leaseUntil; ids are the sends' ids, 0
	// for one already queued.
	FireStep(ctx context.Context, pageID int64, fromStep, toStep int, nextAt, leaseUntil time.Time, sends []Send, events []astreinte.Event) (ids []int64, ok bool, err error)
	EndPage(ctx context.Context, pageID int64, state PageState, ev astreinte.Event) error
	DueSends(ctx context.Context, now time.Time, limit int) ([]Send, error)
	ClaimSend(ctx context.Context, id int64, leaseUntil time.Time) (bool, error)
	FinishSend(ctx context.Context, id int64, state SendState, retryAt time.Time, errText string, ev *astreinte.Event) error
	NextWake(ctx context.Context) (time.Time, bool, error)
	PageByTicket(ctx context.Context, ticketID int64) (Page, error)
	Sends(ctx context.Context, pageID int64) ([]Send, error)
	ExhaustPage(ctx context.Context, pageID int64, fromStep int, sends []Send, events []astreinte.Event) (bool, error)
	QueueNotices(ctx context.Context, pageID int64, sends []Send) error
	AckedUnannounced(ctx context.Context, since time.Time, channel string) ([]Page, error)
	TakenUnannounced(ctx context.Context, since time.Time) ([]Paged, error)
	ReclaimSending(ctx context.Context) (int, error)
	StepDelivering(ctx context.Context, pageID int64, step int, except []string) (bool, error)
	TicketByID(ctx context.Context, id int64) (astreinte.Ticket, error)
	ShiftOverrides(ctx context.Context, from, to time.Time) ([]ShiftOverride, error)
	CalendarOverride(ctx context.Context) (*calendar.Override, error)
}

// Engine walks escalation policies: it fires each page's next step when it
// is due, writes one outbox row per person and channel, and delivers them
// with retries. All state is in the store, so a restart resumes where it was.
type Engine struct {
	Store    PageStore
	Schedule *Schedule
	// Tickets takes the acknowledgements made on a channel (key 1).
	Tickets Acknowledger
	// Notifiers by channel name: "sip", "email", "webhook", "message".
	Notifiers map[string]Notifier
	// Order is the order a person's channels are paged in; channels not
	// listed come after, by name.
	Order []string
	// PolicyChannels are channels notified once per step with the person
	// paged (or nobody), and of the end of the escalation and of the
	// acknowledgement (a webhook), whether or not they reach anyone.
	PolicyChannels []string
	// Fallback is who is paged when nobody acknowledged after every tier
	// and round: each contact on its channel, once, with an
	// escalation.exhausted notice (the policy channels get one too).
	Fallback []Contact
	// Location is the zone of the times written on timelines (retry at
	// 10:26:25); default UTC.
	Location *time.Location
	Now      func() time.Time
	Log      *slog.Logger
	// Retries is how many times a failed send is tried again (default 3).
	Retries int
	// Backoff is the wait before the first retry, doubled each time
	// (default 1 min: a second call within 3 min rings through DND).
	Backoff time.Duration
	// Lease is how long a claimed send may run before another pass may
	// take it again (default 5 min); after a crash in the middle of a
	// call-out, Run takes it back at once at the next start.
	Lease time.Duration
	// Workers bounds concurrent deliveries (default 16).
	Workers int
	// Poll is the longest sleep between passes (default 30 s).
	Poll time.Duration
	// Failing, when set, reports whether a channel is failing now (its
	// latest deliveries failed): WhyNobody then says so. Nil: none is.
	Failing func(ctx context.Context, channel string) bool

	once    sync.Once
	trig    chan struct{}
	wg      sync.WaitGroup
	slots   chan struct{}
	running sync.Map   // send id → *inflight
	endMu   sync.Mutex // see deliver and fire

	runCtx   atomic.Value // Run's context, for pages from memory
	live     atomic.Bool  // Run is past taking back the sends left sending
	memPages atomic.Int64
}

// Contact is a fallback address on a channel: an email address for
// "email", a SIP URI for "sip".
type Contact struct {
	Channel string
	Address string
}

// person is the contact as the Person its channel's notifier pages.
func (c Contact) person() Person {
	p := Person{ID: FallbackPrefix + c.Address, Name: c.Address}
	switch c.Channel {
	case "email":
		p.Email = c.Address
	case "sip", "message":
		p.SIP = c.Address
	}
	return p
}

// inflight is a delivery in progress.
type inflight struct {
	ticketID int64
	key      string // channel and person: one delivery at a time to each
	step     int
	page     bool // a page on one of a person's channels: it may still be acknowledged
	stop     chan struct{}
	once     sync.Once
	// ticket reads the ticket, once for the sends of a step (nil: each
	// delivery reads its own).
	ticket func() (astreinte.Ticket, error)
}

func (f *inflight) halt() { f.once.Do(func() { close(f.stop) }) }

func (f *inflight) halted() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// inflightPoll is how often deliveries in progress check that their ticket
// still wants paging (it may be acknowledged from the CLI, another process).
const inflightPoll = 500 * time.Millisecond

func (e *Engine) init() {
	e.once.Do(func() {
		e.trig = make(chan struct{}, 1)
		if e.Now == nil {
			e.Now = time.Now
		}
		if e.Log == nil {
			e.Log = slog.Default()
		}
		if e.Retries == 0 {
			e.Retries = 3
		}
		if e.Backoff == 0 {
			e.Backoff = time.Minute
		}
		if e.Lease == 0 {
			e.Lease = 5 * time.Minute
		}
		if e.Workers == 0 {
			e.Workers = 16
		}
		if e.Poll == 0 {
			e.Poll = 30 * time.Second
		}
		if e.Location == nil {
			e.Location = time.UTC
		}
		e.slots = make(chan struct{}, e.Workers)
	})
}

// Trigger wakes the engine now (a ticket was created or acknowledged).
func (e *Engine) Trigger() {
	e.init()
	select {
	case e.trig <- struct{}{}:
	default:
	}
}

// Run processes pages until ctx is done, then waits for deliveries in
// flight (they see ctx cancelled).
//
// At start, sends left in state sending are taken back at once: only one
// engine runs per database (the serve process), so whatever was sending
// when Run starts was being sent by a process that is gone (killed in the
// middle of a call-out). Waiting for their lease would delay the page by
// minutes; taking them back now redials within seconds, and deliveries to
// one person on a channel that rings never overlap (see Process).
func (e *Engine) Run(ctx context.Context) {
	e.init()
	e.runCtx.Store(ctx)
	defer e.wg.Wait()
	if n, err := e.Store.ReclaimSending(ctx); err != nil {
		e.Log.Error("paging: take back interrupted sends", "error", err)
	} else if n > 0 {
		e.Log.Warn("paging: sends interrupted by the previous process taken back", "sends", n)
	}
	e.live.Store(true) // FirstStep may claim sends: none of them is taken back now
	defer e.live.Store(false)
	for {
		e.Process(ctx)
		wait := e.Poll
		if e.busy() {
			wait = min(wait, inflightPoll)
		}
		if next, ok, err := e.Store.NextWake(ctx); err == nil && ok {
			if d := next.Sub(e.Now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.trig:
			t.Stop()
		case <-t.C:
		}
	}
}

// Wait blocks until the deliveries started so far have finished.
func (e *Engine) Wait() { e.wg.Wait() }

// Process runs one pass: fire due steps, start due deliveries.
func (e *Engine) Process(ctx context.Context) {
	e.init()
	now := e.Now()
	// Who is being paged as the pass starts: a delivery ending during
	// the pass may move its page on (fire, below, sees it next pass, which
	// its end triggers); its person waits for that pass too.
	busy := map[string]bool{}
	e.running.Range(func(_, v any) bool { busy[v.(*inflight).key] = true; return true })
	pages, err := e.Store.DuePages(ctx, now)
	if err != nil {
		e.Log.Error("paging: due pages", "error", err)
	}
	var owed map[string]bool
	if len(pages) > 0 {
		owed = e.owed(ctx, now)
	}
	for _, p := range pages {
		if err := e.fire(ctx, p, now, busy, owed); err != nil {
			e.Log.Error("paging: step", "page", p.ID, "ticket_id", p.TicketID, "error", err)
		}
	}
	e.haltAcknowledged(ctx)
	e.announceAcks(ctx, now)
	e.announceTaken(ctx, now)
	sends, err := e.Store.DueSends(ctx, now, 64)
	if err != nil {
		e.Log.Error("paging: due sends", "error", err)
		return
	}
	for _, s := range sends {
		if _, running := e.running.Load(s.ID); running {
			continue
		}
		key := sendKey(s)
		if s.Person != "" && busy[key] && e.oneAtATime(s.Channel) {
			// Still calling this person on this channel (a retry, the
			// next round): never ring them twice at once; it goes when
			// the call in progress ends.
			continue
		}
		ok, err := e.Store.ClaimSend(ctx, s.ID, now.Add(e.Lease))
		if err != nil || !ok {
			continue
		}
		busy[key] = true
		e.start(ctx, s, nil)
	}
}

// owed is who already has a send due on a channel and not running (a
// retry): keyed as sendKey. A step fired in the same pass leaves its
// send to them pending, to go after it, as the pass's claims in due order
// would have it: a retry of an earlier step, then the new step's page.
func (e *Engine) owed(ctx context.Context, now time.Time) map[string]bool {
	due, err := e.Store.DueSends(ctx, now, 64)
	if err != nil {
		e.Log.Error("paging: due sends", "error", err)
		return nil
	}
	owed := map[string]bool{}
	for _, s := range due {
		if _, running := e.running.Load(s.ID); !running && s.Person != "" && e.oneAtATime(s.Channel) {
			owed[sendKey(s)] = true
		}
	}
	return owed
}

// sendKey is who s pages on which channel: one delivery at a time each
// on a channel that rings (oneAtATime).
func sendKey(s Send) string { return s.Channel + "\x00" + s.Person }

// oneAtATime reports whether deliveries to one person on channel ch must
// not overlap: ch rings.
func (e *Engine) oneAtATime(ch string) bool {
	n, ok := e.Notifiers[ch]
	return ok && n.Rings()
}

// start delivers s, claimed by this engine, on a goroutine of its own
// once a worker slot is free. ticket, when not nil, reads s's ticket once
// for the sends of one step; nil reads it for s alone.
func (e *Engine) start(ctx context.Context, s Send, ticket func() (astreinte.Ticket, error)) {
	f := &inflight{ticketID: s.TicketID, key: sendKey(s), step: s.Step, page: (s.Event == "" || s.Event == NoticePage) && !slices.Contains(e.PolicyChannels, s.Channel), stop: make(chan struct{}), ticket: ticket}
	e.running.Store(s.ID, f)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.Trigger() // once it no longer counts as running: what waited for it goes
		defer e.running.Delete(s.ID)
		select {
		case e.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-e.slots }()
		e.deliver(ctx, s, f)
	}()
}

// delivering reports whether a page of the ticket's step is being
// delivered (a phone ringing).
func (e *Engine) delivering(ticketID int64, step int) bool {
	found := false
	e.running.Range(func(_, v any) bool {
		f := v.(*inflight)
		found = f.ticketID == ticketID && f.step == step && f.page
		return !found
	})
	return found
}

// busy reports whether deliveries are in progress.
func (e *Engine) busy() bool {
	busy := false
	e.running.Range(func(any, any) bool { busy = true; return false })
	return busy
}

// haltAcknowledged tells the deliveries in progress for tickets that no
// longer want paging (acknowledged by someone else, on another channel or
// from the CLI) to give up.
func (e *Engine) haltAcknowledged(ctx context.Context) {
	status := map[int64]astreinte.Status{}
	e.running.Range(func(_, v any) bool {
		f := v.(*inflight)
		if f.halted() {
			return true
		}
		st, ok := status[f.ticketID]
		if !ok {
			t, err := e.Store.TicketByID(ctx, f.ticketID)
			if err != nil {
				return true
			}
			st = t.Status
			status[f.ticketID] = st
		}
		if st != astreinte.StatusNew {
			f.halt()
		}
		return true
	})
}

// fire runs the page's next step: the tier's person on all their channels.
// The step's sends are stored already claimed by this engine and their
// deliveries start at once, but, on a channel that rings, for a person
// being called on it already (busy: the pass's deliveries in progress, by
// key), whose send waits, pending, for that call to end, and for a person
// owed an earlier call (owed), whose send waits for it.
func (e *Engine) fire(ctx context.Context, p Page, now time.Time, busy, owed map[string]bool) error {
	tiers := e.Schedule.Tiers()
	total := len(tiers) * max(e.Schedule.Repeat(), 1)
	if len(tiers) == 0 {
		return e.exhaust(ctx, p, now, "nobody to page: no escalation tiers are configured (oncall.escalation.tiers)")
	}
	if p.Step >= total {
		return e.endOrWait(ctx, p, now, total)
	}
	ti := p.Step % len(tiers)
	tier := tiers[ti]
	person, err := e.onCallAt(ctx, now, ti)
	if err != nil {
		return err
	}
	sends, chans, events := e.stepSends(p, now, tiers, person)
	next := now.Add(tier.Delay)
	if len(chans) == 0 {
		next = now // nobody here, or nobody a channel reaches: go on to the next tier at once
	}
	claim := map[string]bool{}
	for i := range sends {
		k := sendKey(sends[i])
		if !e.oneAtATime(sends[i].Channel) || !busy[k] && !owed[k] && !claim[k] {
			sends[i].State, claim[k] = SendSending, true
		}
	}
	ids, ok, err := e.Store.FireStep(ctx, p.ID, p.Step, p.Step+1, next, now.Add(e.Lease), sends, events)
	if err != nil {
		return err
	}
	if ok {
		e.Log.Info("paging step", "ticket_id", p.TicketID, "step", p.Step, "tier", tier.Name, "person", person.ID, "sends", len(sends))
		// The step's deliveries share one read of the ticket, read after
		// the step (an acknowledgement made meanwhile shows in it).
		ticket := sync.OnceValues(func() (astreinte.Ticket, error) { return e.Store.TicketByID(ctx, p.TicketID) })
		for i, s := range sends {
			if s.State != SendSending || ids[i] == 0 {
				continue
			}
			// As DueSends would have read it, before its claim.
			s.ID, s.Attempts = ids[i], 0
			busy[sendKey(s)] = true
			e.start(ctx, s, ticket)
		}
		if next.Equal(now) {
			e.Trigger()
		}
	}
	return nil
}

// FirstStep is the first step of the page of a ticket about to be
// written, for the store to fire in the ticket's own transaction
// (astreinte.FiredStep): the first tier's person on all their channels,
// the sends of channels that do not ring stored claimed by this engine.
// A phone call (a channel that rings) is left pending for the next pass,
// which calls a person one ticket at a time. It spares a page the pass
// between the ticket and its first deliveries, and the step's own commit.
//
// nil until Run is past its start (a send claimed before would be taken
// back as a dead process's) and after it returns, and when the step is
// not that simple (no tiers, nobody on call or no channel to reach them:
// the pass fires it as before, moving on to the next tier).
func (e *Engine) FirstStep(ctx context.Context) *astreinte.FiredStep {
	e.init()
	if !e.live.Load() {
		return nil
	}
	tiers := e.Schedule.Tiers()
	if len(tiers) == 0 {
		return nil
	}
	now := e.Now()
	person, err := e.onCallAt(ctx, now, 0)
	if err != nil || person.ID == "" {
		return nil
	}
	sends, chans, events := e.stepSends(Page{}, now, tiers, person)
	if len(chans) == 0 {
		return nil
	}
	for i := range sends {
		if !e.oneAtATime(sends[i].Channel) {
			sends[i].State = SendSending
		}
	}
	return &astreinte.FiredStep{NextAt: now.Add(tiers[0].Delay), LeaseUntil: now.Add(e.Lease),
		Sends: sends, Events: events, Tier: tiers[0].Name}
}

// Fired starts the deliveries of st, the first step FirstStep made for
// ticketID, now written with the ticket; the pass that its end triggers
// rings the phones.
func (e *Engine) Fired(ticketID int64, st *astreinte.FiredStep) {
	if st == nil || st.PageID == 0 {
		return
	}
	ctx := e.runContext()
	person := ""
	if len(st.Sends) > 0 {
		person = st.Sends[0].Person
	}
	e.Log.Info("paging step", "ticket_id", ticketID, "step", 0, "tier", st.Tier, "person", person, "sends", len(st.Sends))
	ticket := sync.OnceValues(func() (astreinte.Ticket, error) { return e.Store.TicketByID(ctx, ticketID) })
	for i, s := range st.Sends {
		if s.State != SendSending || st.IDs[i] == 0 {
			continue
		}
		s.ID, s.PageID, s.TicketID, s.Attempts = st.IDs[i], st.PageID, ticketID, 0
		e.start(ctx, s, ticket)
	}
	e.Trigger()
}

// endOrWait ends a page past its last step (total), unless a phone of
// the last step still rings: it may yet be answered, so nobody can be
// said to have failed to acknowledge before it ends, and the page is
// looked at again shortly. The phone may ring in this process or in
// another node's (PostgreSQL): the store knows of a live delivery in
// either; a dead node's is not one (its send is taken back and rung
// again, and the page then waits for that).
func (e *Engine) endOrWait(ctx context.Context, p Page, now time.Time, total int) error {
	e.endMu.Lock()
	ringing := e.delivering(p.TicketID, total-1)
	var err error
	if !ringing {
		ringing, err = e.Store.StepDelivering(ctx, p.ID, total-1, e.PolicyChannels)
	}
	if ringing && err == nil {
		_, err = e.Store.AdvancePage(ctx, p.ID, p.Step, p.Step, now.Add(inflightPoll), nil, nil)
	}
	e.endMu.Unlock()
	if ringing || err != nil {
		return err
	}
	return e.exhaust(ctx, p, now,
		fmt.Sprintf("nobody acknowledged after %d round(s) of %d tier(s)", max(e.Schedule.Repeat(), 1), len(e.Schedule.Tiers())))
}

// onCallAt is the person tier ti has on call at now, overrides of the
// rota and of the calendar applied; a zero Person when nobody is.
func (e *Engine) onCallAt(ctx context.Context, now time.Time, ti int) (Person, error) {
	ovs, err := e.Store.ShiftOverrides(ctx, now.Add(-24*time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return Person{}, err
	}
	calOv, err := e.Store.CalendarOverride(ctx)
	if err != nil {
		return Person{}, err
	}
	if people := e.Schedule.PeopleAt(now, ovs, calOv); ti < len(people) {
		return people[ti], nil
	}
	return Person{}, nil
}

// stepSends are the sends of p's step to person (one per channel that
// reaches them, plus the policy channels), the channels that page person
// and the timeline entry that says so.
func (e *Engine) stepSends(p Page, now time.Time, tiers []Tier, person Person) (sends []Send, chans []string, events []astreinte.Event) {
	ti, round := p.Step%len(tiers), p.Step/len(tiers)
	ev := func(detail string) astreinte.Event {
		kind := astreinte.EventPageQueued
		if p.Step > 0 {
			kind = astreinte.EventEscalated
		}
		return astreinte.Event{TicketID: p.TicketID, At: now, Kind: kind, Actor: "system", Detail: detail}
	}
	label := fmt.Sprintf("tier %d/%d %s", ti+1, len(tiers), tiers[ti].Name)
	if round > 0 {
		label += fmt.Sprintf(", round %d", round+1)
	}
	if person.ID == "" {
		events = append(events, ev(label+": nobody on call, next tier"))
	} else {
		for _, ch := range e.ChannelsOf(person) {
			sends = append(sends, Send{PageID: p.ID, TicketID: p.TicketID, Step: p.Step, Channel: ch, Person: person.ID, NextTryAt: now})
			chans = append(chans, ch)
		}
		if len(chans) == 0 {
			events = append(events, ev(fmt.Sprintf("%s: %s has no channel that can be paged (no sip or email), next tier", label, person.Name)))
		} else {
			events = append(events, ev(fmt.Sprintf("%s: paging %s by %s", label, person.Name, strings.Join(chans, ", "))))
		}
	}
	for _, ch := range e.PolicyChannels {
		if _, ok := e.Notifiers[ch]; ok {
			// With the person paged (none when nobody is on call).
			sends = append(sends, Send{PageID: p.ID, TicketID: p.TicketID, Step: p.Step, Channel: ch, Person: person.ID, NextTryAt: now})
		}
	}
	return sends, chans, events
}

// exhaust ends the page: nobody acknowledged. The fallback contacts and
// the policy channels get an escalation.exhausted notice, delivered (and
// retried) although the page has ended.
func (e *Engine) exhaust(ctx context.Context, p Page, now time.Time, why string) error {
	var sends []Send
	var whom []string
	for _, c := range e.Fallback {
		if _, ok := e.Notifiers[c.Channel]; !ok {
			e.Log.Error("paging: fallback channel not configured", "channel", c.Channel, "address", c.Address)
			continue
		}
		sends = append(sends, Send{Step: p.Step, Channel: c.Channel, Person: FallbackPrefix + c.Address, NextTryAt: now, Event: NoticeExhausted})
		whom = append(whom, c.Address+" by "+c.Channel)
	}
	for _, ch := range e.PolicyChannels {
		if _, ok := e.Notifiers[ch]; ok {
			sends = append(sends, Send{Step: p.Step, Channel: ch, NextTryAt: now, Event: NoticeExhausted})
			whom = append(whom, ch)
		}
	}
	detail := why + "; no fallback configured (paging.fallback)"
	if len(whom) > 0 {
		detail = why + "; fallback: " + strings.Join(whom, ", ")
	}
	ok, err := e.Store.ExhaustPage(ctx, p.ID, p.Step, sends, []astreinte.Event{{TicketID: p.TicketID, At: now,
		Kind: astreinte.EventExhausted, Actor: "system", Detail: detail}})
	if err != nil {
		return err
	}
	if ok {
		e.Log.Warn("paging: escalation exhausted", "ticket_id", p.TicketID, "fallback", len(sends))
		if len(sends) > 0 {
			e.Trigger()
		}
	}
	return nil
}

// announceAcks queues, on each policy channel, a ticket.acknowledged
// notice for the pages acknowledged in the last hour (by this process or
// another: the CLI writes the database only) not announced yet.
func (e *Engine) announceAcks(ctx context.Context, now time.Time) {
	for _, ch := range e.PolicyChannels {
		if _, ok := e.Notifiers[ch]; !ok {
			continue
		}
		pages, err := e.Store.AckedUnannounced(ctx, now.Add(-time.Hour), ch)
		if err != nil {
			e.Log.Error("paging: acknowledgements to announce", "error", err)
			return
		}
		for _, p := range pages {
			err := e.Store.QueueNotices(ctx, p.ID, []Send{{Step: -1, Channel: ch, Person: p.AckedBy, NextTryAt: now, Event: NoticeAcknowledged}})
			if err != nil {
				e.Log.Error("paging: announce acknowledgement", "ticket_id", p.TicketID, "error", err)
			}
		}
	}
}

// announceTaken queues, for everyone already paged for a ticket that
// someone else acknowledged in the last hour, a NoticeTaken on the channel
// they were paged by: the email they got, the SIP MESSAGE; a phone call is
// answered by a SIP MESSAGE when that channel is configured and reaches
// them (nobody is called again to be told there is nothing to do). People
// whose page was cancelled before it was tried are not told: they were
// never disturbed.
func (e *Engine) announceTaken(ctx context.Context, now time.Time) {
	paged, err := e.Store.TakenUnannounced(ctx, now.Add(-time.Hour))
	if err != nil {
		e.Log.Error("paging: people to tell the ticket is taken", "error", err)
		return
	}
	byPage := map[int64][]Send{}
	var order []int64
	for _, p := range paged {
		ch := e.takenChannel(p.Person, p.Channel)
		if ch == "" {
			continue
		}
		if _, ok := byPage[p.PageID]; !ok {
			order = append(order, p.PageID)
		}
		byPage[p.PageID] = append(byPage[p.PageID], Send{Step: StepTaken, Channel: ch, Person: p.Person, NextTryAt: now, Event: NoticeTaken})
	}
	for _, id := range order {
		if err := e.Store.QueueNotices(ctx, id, byPage[id]); err != nil {
			e.Log.Error("paging: queue taken notices", "page", id, "error", err)
		}
	}
}

// takenChannel is the channel a person paged on channel is told the
// ticket is taken by, "" for none.
func (e *Engine) takenChannel(person, channel string) string {
	if slices.Contains(e.PolicyChannels, channel) || strings.HasPrefix(person, FallbackPrefix) {
		return ""
	}
	if channel == "sip" {
		channel = "message"
	}
	n, ok := e.Notifiers[channel]
	if !ok {
		return ""
	}
	p, ok := e.Schedule.Person(person)
	if !ok || !n.Reaches(p) {
		return ""
	}
	return channel
}

// ChannelsOf lists the configured channels that can reach p, in the order
// they are paged.
func (e *Engine) ChannelsOf(p Person) []string {
	names := slices.Sorted(maps.Keys(e.Notifiers))
	slices.SortStableFunc(names, func(a, b string) int {
		ia, ib := slices.Index(e.Order, a), slices.Index(e.Order, b)
		if ia < 0 {
			ia = len(e.Order)
		}
		if ib < 0 {
			ib = len(e.Order)
		}
		return ia - ib
	})
	var out []string
	for _, ch := range names {
		if e.Notifiers[ch].Reaches(p) {
			out = append(out, ch)
		}
	}
	return out
}

// deliver sends one outbox row and records the outcome.
func (e *Engine) deliver(ctx context.Context, s Send, f *inflight) {
	log := e.Log.With("ticket_id", s.TicketID, "channel", s.Channel, "person", s.Person, "step", s.Step)
	n, ok := e.noticeFor(ctx, log, s, f)
	if !ok {
		return
	}
	acked := false // the notifier recorded the acknowledgement itself
	if n.Event == NoticePage && s.Person != "" && !strings.HasPrefix(s.Person, FallbackPrefix) {
		n.Acknowledge = e.acknowledgeFor(s, &acked)
	}
	notifier := e.Notifiers[s.Channel]
	if notifier == nil {
		e.finish(ctx, log, s, SendFailed, time.Time{}, "channel "+s.Channel+" is not configured", astreinte.EventPageFailed)
		return
	}
	res, err := notifier.Notify(ctx, n)
	e.recordOutcome(ctx, log, s, f, n, res, err, acked)
}

// noticeFor builds what s tells its person: the ticket, the round and
// tier of a page, who is told, and who took the ticket for a "taken"
// notice. It is false when s cannot be sent (its ticket unreadable, its
// technician unknown), s then finished as it must be.
func (e *Engine) noticeFor(ctx context.Context, log *slog.Logger, s Send, f *inflight) (Notice, bool) {
	read := f.ticket
	if read == nil {
		read = func() (astreinte.Ticket, error) { return e.Store.TicketByID(ctx, s.TicketID) }
	}
	t, err := read()
	if err != nil {
		log.Error("paging: ticket", "error", err)
		return Notice{}, false
	}
	n := Notice{Ticket: t, Step: s.Step, Stop: f.stop, Event: s.Event}
	if n.Event == "" {
		n.Event = NoticePage
	}
	if n.Event != NoticePage {
		n.Stop = nil // told whatever becomes of the ticket meanwhile
	}
	if tiers := e.Schedule.Tiers(); len(tiers) > 0 && s.Step >= 0 {
		n.Round = s.Step / len(tiers)
		if n.Event == NoticePage {
			n.Tier = tiers[s.Step%len(tiers)].Name
		}
	}
	switch {
	case s.Person == "":
	case strings.HasPrefix(s.Person, FallbackPrefix):
		n.Person = Contact{Channel: s.Channel, Address: strings.TrimPrefix(s.Person, FallbackPrefix)}.person()
	default:
		p, ok := e.Schedule.Person(s.Person)
		if !ok && n.Event == NoticePage {
			e.finish(ctx, log, s, SendFailed, time.Time{}, "unknown technician "+s.Person, astreinte.EventPageFailed)
			return n, false
		}
		if !ok {
			p = Person{ID: s.Person, Name: s.Person} // acknowledged by someone not on call (the CLI's user)
		}
		n.Person = p
	}
	if n.Event == NoticeTaken {
		if p, err := e.Store.PageByTicket(ctx, s.TicketID); err == nil {
			n.TakenBy, n.TakenAt = e.nameOf(p.AckedBy), p.AckedAt
		}
	}
	return n, true
}

// acknowledgeFor is the Acknowledge of a page sent by s: the person paged
// takes the ticket through the tickets service (*acked then says the
// notifier recorded it); a second acknowledgement returns who already has
// the ticket.
func (e *Engine) acknowledgeFor(s Send, acked *bool) func(context.Context) (bool, string, error) {
	return func(ctx context.Context) (bool, string, error) {
		ok, err := e.Tickets.Acknowledge(ctx, s.TicketID, s.Person, s.Channel)
		if err != nil {
			return false, "", err
		}
		*acked = true
		if ok {
			return true, "", nil
		}
		t, err := e.Store.TicketByID(ctx, s.TicketID)
		if err != nil {
			return false, "", err
		}
		e.Trigger() // a second acknowledgement: nothing to stop, but the pass tells the others
		return false, e.nameOf(t.AckedBy), nil
	}
}

// recordOutcome records what became of s once its notifier returned
// (res, err) and moves the page on: a retry or giving up on a failure, the
// acknowledgement or the pass an answer carried. acked says the notifier
// recorded the acknowledgement itself.
func (e *Engine) recordOutcome(ctx context.Context, log *slog.Logger, s Send, f *inflight, n Notice, res Result, err error, acked bool) {
	// Recording the outcome, moving the page on and the end of the
	// delivery are one step for fire, which holds the page's end while a
	// phone of its last step rings.
	e.endMu.Lock()
	defer e.endMu.Unlock()
	defer e.running.Delete(s.ID)
	if ctx.Err() != nil {
		// Shutting down: leave the row claimed; the next start takes it
		// back at once (Run) and delivers it again.
		log.Warn("paging: interrupted by shutdown; will retry after restart")
		return
	}
	who := n.Person.Name
	if who == "" {
		who = s.Channel
	}
	if n.Event != NoticePage {
		who += " (" + n.Event + ")"
	}
	if err != nil {
		e.recordFailure(ctx, log, s, f, n, who, err)
		return
	}
	kind := astreinte.EventPageSent
	if res.Acked || res.Passed {
		kind = astreinte.EventPageAnswered
	}
	e.finish(ctx, log, s, SendDone, time.Time{}, fmt.Sprintf("%s: %s", who, res.Detail), kind)
	if res.Acked && !acked {
		if _, err := e.Tickets.Acknowledge(ctx, s.TicketID, s.Person, s.Channel); err != nil {
			log.Error("paging: acknowledge", "error", err)
		}
	}
	if res.Acked {
		log.Info("page acknowledged", "by", s.Person)
	}
	if res.Passed {
		e.pass(ctx, s, who)
	}
	e.Trigger()
}

// recordFailure records a failed delivery of s to who: nothing more when
// the ticket was acknowledged meanwhile, else a retry after the backoff
// or, past the retries, giving up on the channel (and moving to the next
// tier when every channel of the person failed).
func (e *Engine) recordFailure(ctx context.Context, log *slog.Logger, s Send, f *inflight, n Notice, who string, err error) {
	if f.halted() && n.Event == NoticePage {
		// Acknowledged elsewhere while this one was trying: no retry.
		e.finish(ctx, log, s, SendDone, time.Time{}, fmt.Sprintf("%s: stopped, the ticket was acknowledged meanwhile (%v)", who, err), astreinte.EventNote)
		return
	}
	attempt := s.Attempts + 1 // this delivery (s was read before the claim counted it)
	if attempt <= e.Retries {
		retry := e.Now().Add(e.Backoff << (attempt - 1))
		e.finish(ctx, log, s, SendPending, retry, fmt.Sprintf("%s: %v; retry %d/%d at %s", who, err, attempt, e.Retries, retry.In(e.Location).Format("15:04:05")), astreinte.EventPageFailed)
	} else {
		e.finish(ctx, log, s, SendFailed, time.Time{}, fmt.Sprintf("%s: %v; giving up on this channel", who, err), astreinte.EventPageFailed)
	}
	if n.Event == NoticePage && !slices.Contains(e.PolicyChannels, s.Channel) {
		e.advanceIfAllFailed(ctx, s, n.Person.Name)
	}
	e.Trigger()
}

// advanceIfAllFailed moves the page on to the next tier now when every
// channel of the person paged by s's step has failed at least once and
// none is delivered or still trying: waiting for the tier's delay would
// only leave the caller without anyone. The failed channels keep their
// retries. A new round still waits for the delay (the same people would be
// paged again at once), but the end of the last round does not: the
// fallback is paged at once.
func (e *Engine) advanceIfAllFailed(ctx context.Context, s Send, who string) {
	p, err := e.Store.PageByTicket(ctx, s.TicketID)
	if err != nil || p.State != PageActive || p.ID != s.PageID || p.Step != s.Step+1 {
		return
	}
	now := e.Now()
	if !p.NextAt.After(now) {
		return
	}
	tiers := len(e.Schedule.Tiers())
	total := tiers * max(e.Schedule.Repeat(), 1)
	if tiers == 0 || (p.Step < total && p.Step%tiers == 0) {
		return
	}
	sends, err := e.Store.Sends(ctx, p.ID)
	if err != nil {
		e.Log.Error("paging: sends of the step", "error", err)
		return
	}
	var failed []string
	for _, x := range sends {
		if x.Step != s.Step || x.Person == "" || (x.Event != "" && x.Event != NoticePage) || slices.Contains(e.PolicyChannels, x.Channel) {
			continue
		}
		if x.State == SendDone || x.State == SendSending || x.Attempts == 0 {
			return // delivered, being tried, or not tried yet
		}
		failed = append(failed, x.Channel)
	}
	if len(failed) == 0 {
		return
	}
	ok, err := e.Store.AdvancePage(ctx, p.ID, p.Step, p.Step, now, nil, []astreinte.Event{{
		TicketID: s.TicketID, At: now, Kind: astreinte.EventNote, Actor: "system",
		Detail: fmt.Sprintf("%s could not be reached (%s): next tier now", who, strings.Join(failed, ", "))}})
	if err != nil {
		e.Log.Error("paging: advance after failures", "error", err)
		return
	}
	if ok {
		e.Log.Info("paging: every channel failed, next tier now", "ticket_id", s.TicketID, "step", s.Step, "person", s.Person)
	}
}

// pass moves the page on to the next tier now.
func (e *Engine) pass(ctx context.Context, s Send, who string) {
	p, err := e.Store.PageByTicket(ctx, s.TicketID)
	if err != nil || p.State != PageActive || p.ID != s.PageID || p.Step != s.Step+1 {
		return
	}
	now := e.Now()
	_, err = e.Store.AdvancePage(ctx, p.ID, p.Step, p.Step, now, nil, []astreinte.Event{{
		TicketID: s.TicketID, At: now, Kind: astreinte.EventNote, Actor: s.Person, Channel: s.Channel,
		Detail: who + " passed to the next person"}})
	if err != nil {
		e.Log.Error("paging: pass", "error", err)
	}
}

// nameOf is the name of the person with id, else id.
func (e *Engine) nameOf(id string) string {
	if p, ok := e.Schedule.Person(id); ok && p.Name != "" {
		return p.Name
	}
	return id
}

func (e *Engine) finish(ctx context.Context, log *slog.Logger, s Send, st SendState, retry time.Time, detail string, kind astreinte.EventKind) {
	ev := &astreinte.Event{TicketID: s.TicketID, At: e.Now(), Kind: kind, Actor: s.Person, Channel: s.Channel, Detail: detail}
	if ev.Actor == "" {
		ev.Actor = "system"
	}
	errText := ""
	if st != SendDone {
		errText = detail
	}
	if err := e.Store.FinishSend(context.WithoutCancel(ctx), s.ID, st, retry, errText, ev); err != nil {
		log.Error("paging: record outcome", "error", err)
	}
	if st == SendDone {
		log.Info("page delivered", "detail", detail)
	} else {
		log.Warn("page not delivered", "detail", detail)
	}
}

// Reachable reports whether a step fired at t would page someone: a
// person on call in some tier whom a configured channel reaches. The
// caller's flow promises "the technician is being called" only then. A
// store error says no: better an honest "nobody can be reached" than a
// false promise.
func (e *Engine) Reachable(ctx context.Context, t time.Time) bool {
	ovs, err := e.Store.ShiftOverrides(ctx, t.Add(-24*time.Hour), t.Add(24*time.Hour))
	if err != nil {
		return false
	}
	calOv, err := e.Store.CalendarOverride(ctx)
	if err != nil {
		return false
	}
	for _, p := range e.Schedule.PeopleAt(t, ovs, calOv) {
		if p.ID != "" && len(e.ChannelsOf(p)) > 0 {
			return true
		}
	}
	return false
}
