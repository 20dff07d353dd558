package oncall

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
)

// Paging from memory: when a ticket cannot be written (a full disk, a
// failing database), the page must still go out. The engine then walks
// the tiers for the in-memory ticket itself, as fire and deliver do from
// the store but without retries (a channel that fails counts as failed and
// the next tier comes at once), until the ticket is written; then it hands
// over: the stored page continues from the step reached, the timeline gets
// what happened meanwhile, and an acknowledgement on the phone (key 1)
// made meanwhile is recorded. Acknowledge links cannot work before the
// ticket has its number.

// memPage is one page run from memory.
type memPage struct {
	t astreinte.Ticket

	mu       sync.Mutex
	step     int       // the next step
	nextAt   time.Time // when it is due
	ackedBy  string
	ackedVia string
	ended    bool // exhausted (the fallback was paged)
	events   []astreinte.Event

	handoff chan struct{} // closed: stop once the step in progress ends
	done    chan struct{} // closed when the walk has stopped
}

func (m *memPage) event(at time.Time, kind astreinte.EventKind, actor, channel, detail string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if actor == "" {
		actor = "system"
	}
	m.events = append(m.events, astreinte.Event{At: at, Kind: kind, Actor: actor, Channel: channel, Detail: detail})
}

// PageFromMemory starts paging for t, a ticket the store could not take,
// from memory, and returns the function that hands the page over to the
// store once the ticket is written with a page (ticketID): it waits for
// the step in progress to end (a phone ringing is not cut), then moves the
// stored page to where the walk got to. why is the store's error, for the
// timeline.
func (e *Engine) PageFromMemory(t astreinte.Ticket, why error) (handoff func(ctx context.Context, ticketID int64) error) {
	e.init()
	m := &memPage{t: t, handoff: make(chan struct{}), done: make(chan struct{}), nextAt: e.Now()}
	m.event(e.Now(), astreinte.EventNote, "", "", fmt.Sprintf("the ticket could not be written (%v): paging from memory", why))
	ctx := e.runContext()
	e.memPages.Add(1)
	// Not in e.wg: Run may already be waiting on it at shutdown, and this
	// walk ends with Run's context anyway (the recording's sidecar makes
	// the ticket at the next start).
	go func() {
		defer close(m.done)
		e.walkMemory(ctx, m)
	}()
	var once sync.Once
	return func(ctx context.Context, ticketID int64) error {
		var err error
		once.Do(func() { err = e.handOver(ctx, m, ticketID) })
		return err
	}
}

// MemoryPages reports how many pages were started from memory since the
// engine started (a counter for logs and metrics).
func (e *Engine) MemoryPages() int64 { return e.memPages.Load() }

func (e *Engine) runContext() context.Context {
	if c, ok := e.runCtx.Load().(context.Context); ok {
		return c
	}
	return context.Background()
}

// walkMemory fires the steps of m one after the other.
func (e *Engine) walkMemory(ctx context.Context, m *memPage) {
	log := e.Log.With("ticket", "in memory", "caller", m.t.CallerNumber)
	tiers := e.Schedule.Tiers()
	total := len(tiers) * max(e.Schedule.Repeat(), 1)
	for step := 0; ; step++ {
		now := e.Now()
		if step >= total {
			e.memExhaust(ctx, m, now, len(tiers))
			return
		}
		ti := step % len(tiers)
		tier := tiers[ti]
		person := e.whoIsOn(ctx, now, ti)
		var chans []string
		if person.ID != "" {
			chans = e.ChannelsOf(person)
		}
		label := fmt.Sprintf("tier %d/%d %s", ti+1, len(tiers), tier.Name)
		if r := step / len(tiers); r > 0 {
			label += fmt.Sprintf(", round %d", r+1)
		}
		kind := astreinte.EventPageQueued
		if step > 0 {
			kind = astreinte.EventEscalated
		}
		switch {
		case person.ID == "":
			m.event(now, kind, "", "", label+": nobody on call, next tier")
		case len(chans) == 0:
			m.event(now, kind, "", "", fmt.Sprintf("%s: %s has no channel that can be paged, next tier", label, person.Name))
		default:
			m.event(now, kind, "", "", fmt.Sprintf("%s: paging %s by %s (from memory)", label, person.Name, strings.Join(chans, ", ")))
		}
		n := Notice{Ticket: m.t, Person: person, Tier: tier.Name, Step: step, Round: step / len(tiers), Event: NoticePage}
		var policy []string
		for _, ch := range e.PolicyChannels {
			if _, ok := e.Notifiers[ch]; ok {
				policy = append(policy, ch)
			}
		}
		res := e.notifyAll(ctx, m, n, chans, policy)
		log.Info("paging from memory", "step", step, "person", person.ID, "channels", chans, "delivered", res.delivered)
		if ctx.Err() != nil {
			return
		}
		next := now.Add(tier.Delay)
		switch {
		case res.acked != "":
			m.mu.Lock()
			m.ackedBy, m.ackedVia = person.ID, res.acked
			m.step, m.nextAt = step+1, e.Now()
			m.mu.Unlock()
			return
		case res.passed, res.delivered == 0 && (step+1 >= total || (step+1)%len(tiers) != 0):
			next = e.Now() // nobody reached (or passed): the next tier at once
		}
		m.mu.Lock()
		m.step, m.nextAt = step+1, next
		m.mu.Unlock()
		t := time.NewTimer(max(next.Sub(e.Now()), 0))
		select {
		case <-m.handoff:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		select {
		case <-m.handoff:
			return
		default:
		}
	}
}

type memResult struct {
	delivered int    // person channels that delivered
	acked     string // the channel acknowledged on
	passed    bool
}

// notifyAll pages n on the person's channels and the policy channels at
// once and waits for them all.
func (e *Engine) notifyAll(ctx context.Context, m *memPage, n Notice, chans, policy []string) memResult {
	var mu sync.Mutex
	var res memResult
	var wg sync.WaitGroup
	send := func(ch string, n Notice, counts bool) {
		defer wg.Done()
		r, err := e.Notifiers[ch].Notify(ctx, n)
		who := n.Person.Name
		if who == "" {
			who = ch
		}
		if n.Event != NoticePage {
			who += " (" + n.Event + ")"
		}
		now := e.Now()
		if err != nil {
			m.event(now, astreinte.EventPageFailed, n.Person.ID, ch, fmt.Sprintf("%s: %v (from memory, no retry)", who, err))
			return
		}
		kind := astreinte.EventPageSent
		if r.Acked || r.Passed {
			kind = astreinte.EventPageAnswered
		}
		m.event(now, kind, n.Person.ID, ch, fmt.Sprintf("%s: %s", who, r.Detail))
		if !counts {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		res.delivered++
		if r.Acked && res.acked == "" {
			res.acked = ch
		}
		res.passed = res.passed || r.Passed
	}
	for _, ch := range chans {
		wg.Add(1)
		go send(ch, n, true)
	}
	for _, ch := range policy {
		wg.Add(1)
		go send(ch, n, false)
	}
	wg.Wait()
	return res
}

// memExhaust pages the fallback from memory: nobody acknowledged.
func (e *Engine) memExhaust(ctx context.Context, m *memPage, now time.Time, tiers int) {
	why := fmt.Sprintf("nobody acknowledged after %d round(s) of %d tier(s)", max(e.Schedule.Repeat(), 1), tiers)
	if tiers == 0 {
		why = "nobody to page: no escalation tiers are configured (oncall.escalation.tiers)"
	}
	m.event(now, astreinte.EventExhausted, "", "", why+" (from memory)")
	var wg sync.WaitGroup
	for _, c := range e.Fallback {
		if _, ok := e.Notifiers[c.Channel]; !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := Notice{Ticket: m.t, Person: c.person(), Event: NoticeExhausted}
			e.notifyAll(ctx, m, n, nil, []string{c.Channel})
		}()
	}
	for _, ch := range e.PolicyChannels {
		if _, ok := e.Notifiers[ch]; !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.notifyAll(ctx, m, Notice{Ticket: m.t, Event: NoticeExhausted}, nil, []string{ch})
		}()
	}
	wg.Wait()
	m.mu.Lock()
	m.ended = true
	m.mu.Unlock()
}

// whoIsOn is the person on tier ti at now, with the overrides in the store
// when it can be read (a full disk still reads), without them otherwise.
func (e *Engine) whoIsOn(ctx context.Context, now time.Time, ti int) Person {
	ovs, err := e.Store.ShiftOverrides(ctx, now.Add(-24*time.Hour), now.Add(24*time.Hour))
	if err != nil {
		ovs = nil
	}
	calOv, err := e.Store.CalendarOverride(ctx)
	if err != nil {
		calOv = nil
	}
	if people := e.Schedule.PeopleAt(now, ovs, calOv); ti < len(people) {
		return people[ti]
	}
	return Person{}
}

// handOver stops the walk once its step ends and moves the stored page of
// ticketID (created at step 0, due later) to where the walk got to.
func (e *Engine) handOver(ctx context.Context, m *memPage, ticketID int64) error {
	close(m.handoff)
	select {
	case <-m.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := make([]astreinte.Event, 0, len(m.events)+1)
	for _, ev := range m.events {
		ev.TicketID = ticketID
		evs = append(evs, ev)
	}
	p, err := e.Store.PageByTicket(ctx, ticketID)
	if err != nil {
		return fmt.Errorf("hand over the page from memory: %w", err)
	}
	now := e.Now()
	evs = append(evs, astreinte.Event{TicketID: ticketID, At: now, Kind: astreinte.EventNote, Actor: "system",
		Detail: fmt.Sprintf("ticket written; paging goes on from the store at step %d", m.step)})
	step, next := m.step, m.nextAt
	if p.Step > step { // the store's engine went on meanwhile (a slow hand-over)
		step, next = p.Step, p.NextAt
	}
	if m.ended {
		_, err = e.Store.ExhaustPage(ctx, p.ID, p.Step, nil, evs)
	} else {
		_, err = e.Store.AdvancePage(ctx, p.ID, p.Step, step, next, nil, evs)
	}
	if err != nil {
		return fmt.Errorf("hand over the page from memory: %w", err)
	}
	if m.ackedBy != "" {
		if _, err := e.Tickets.Acknowledge(ctx, ticketID, m.ackedBy, m.ackedVia); err != nil {
			return fmt.Errorf("hand over the page from memory: acknowledge: %w", err)
		}
	}
	e.Trigger()
	return nil
}
