package tickets

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// TestTake follows one number's calls through the night, as the spec
// reads: a missed call is a ticket that pages nobody; the same number
// hanging up again joins it; then it leaves an urgent message, which joins
// the same ticket, makes it urgent and starts its page; calling again
// while nobody acknowledged restarts the page; once the ticket is resolved
// the next call is a new ticket.
func TestTake(t *testing.T) {
	ctx := context.Background()
	svc, db := newService(t, map[string]Policy{"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent}})
	var changes []Change
	svc.Subscribe(func(c Change) { changes = append(changes, c) })
	call := func(kind astreinte.TicketKind, u astreinte.Urgency, rec string) (astreinte.Ticket, astreinte.Filed) {
		t.Helper()
		tk := astreinte.Ticket{Line: "support", CallerNumber: "0612345678", CallbackNumber: "+33612345678", Kind: kind,
			Urgency: u, Case: astreinte.CaseOutOfHours, Recording: rec, CreatedAt: pt("2026-12-01 22:00")}
		f, err := svc.Take(ctx, &tk)
		if err != nil {
			t.Fatal(err)
		}
		return tk, f
	}
	pages := func(id int64) (n int, active int) {
		t.Helper()
		p, err := db.PageByTicket(ctx, id)
		if err != nil {
			return 0, 0
		}
		evs, _ := db.Timeline(ctx, id)
		for _, e := range evs {
			if e.Kind == astreinte.EventPageQueued {
				n++
			}
		}
		if p.State == oncall.PageActive {
			active = 1
		}
		if p.Policy != astreinte.EscalationDefault {
			t.Errorf("ticket %d's page follows policy %q, want %q", id, p.Policy, astreinte.EscalationDefault)
		}
		return n, active
	}

	first, f := call(astreinte.KindMissedCall, astreinte.NotUrgent, "")
	if f.Merged || f.Paging {
		t.Errorf("first missed call: %+v, want a new ticket that does not page", f)
	}
	again, f := call(astreinte.KindMissedCall, astreinte.NotUrgent, "")
	if !f.Merged || again.ID != first.ID || f.Paging {
		t.Errorf("second missed call: %+v on ticket %d, want merged into %d without a page", f, again.ID, first.ID)
	}
	msg, f := call(astreinte.KindVoicemail, astreinte.Urgent, "/rec/a.wav")
	if !f.Merged || msg.ID != first.ID || !f.Paging || msg.Urgency != astreinte.Urgent {
		t.Errorf("urgent message: %+v, urgency %s on ticket %d; want merged into %d, urgent, paging", f, msg.Urgency, msg.ID, first.ID)
	}
	got, err := db.TicketByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.TicketCaller(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got.Urgency != astreinte.Urgent || got.Kind != astreinte.KindVoicemail || got.Recording != "/rec/a.wav" || got.CallbackNumber != "+33612345678" {
		t.Errorf("merged ticket %+v: want urgent voicemail with recording /rec/a.wav, callback +33612345678", got)
	}
	if n, active := pages(first.ID); n != 1 || active != 1 {
		t.Errorf("after the urgent message: %d page(s) queued, %d active; want 1, 1", n, active)
	}
	_, f = call(astreinte.KindVoicemail, astreinte.NotUrgent, "/rec/b.wav")
	if !f.Merged || !f.Paging {
		t.Errorf("third call: %+v, want merged with the page restarted (urgent, not acknowledged)", f)
	}
	if n, active := pages(first.ID); n != 2 || active != 1 {
		t.Errorf("after the third call: %d page(s) queued, %d active; want 2 (restarted), 1", n, active)
	}
	got, err = db.TicketByID(ctx, first.ID)
	if err != nil || len(got.Recordings) != 2 || got.Recordings[0].Path != "/rec/b.wav" || got.Recordings[1].Path != "/rec/a.wav" {
		t.Errorf("recordings %+v (err %v), want /rec/b.wav then /rec/a.wav", got.Recordings, err)
	}
	if _, err := svc.Acknowledge(ctx, first.ID, "alice", "cli"); err != nil {
		t.Fatal(err)
	}
	_, f = call(astreinte.KindVoicemail, astreinte.Urgent, "/rec/c.wav")
	if !f.Merged || f.Paging {
		t.Errorf("call after the acknowledgement: %+v, want merged without restarting the page", f)
	}
	if err := svc.Resolve(ctx, first.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	next, f := call(astreinte.KindMissedCall, astreinte.NotUrgent, "")
	if f.Merged || next.ID == first.ID {
		t.Errorf("call after the ticket was resolved joined it: %+v", f)
	}
	if len(changes) < 6 || changes[0].Kind != Created {
		t.Errorf("changes announced: %+v", changes)
	}
	evs, _ := db.Timeline(ctx, first.ID)
	created := false
	for _, e := range evs {
		created = created || e.Kind == astreinte.EventCreated && strings.HasPrefix(e.Detail, "missed call, no message, from 0612345678")
	}
	if !created {
		t.Errorf("no created event telling a missed call: %+v", evs)
	}
}

// TestTakeMissedCallPage: a line that pages missed calls files them urgent,
// and they page.
func TestTakeMissedCallPage(t *testing.T) {
	svc, _ := newService(t, map[string]Policy{"support": {Page: astreinte.PageUrgent}})
	tk := astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Kind: astreinte.KindMissedCall,
		Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours}
	f, err := svc.Take(context.Background(), &tk)
	if err != nil || !f.Paging {
		t.Errorf("urgent missed call: %+v, %v; want paging", f, err)
	}
	// Out of hours on a line paging every closed ticket, a plain missed
	// call still does not page.
	svc, _ = newService(t, map[string]Policy{"support": {Page: astreinte.PageOutOfHours}})
	tk = astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Kind: astreinte.KindMissedCall,
		Urgency: astreinte.NotUrgent, Case: astreinte.CaseOutOfHours}
	if f, err := svc.Take(context.Background(), &tk); err != nil || f.Paging {
		t.Errorf("missed call on an out_of_hours line: %+v, %v; want no page", f, err)
	}
}

// TestTakeQueuedPastItsDeadline: a repeat caller's Take that waited in the
// take lock's queue longer than its own deadline (a burst of calls) still
// finds and joins the caller's open ticket: the look-up's deadline counts
// from when the lock is held, not from the call.
func TestTakeQueuedPastItsDeadline(t *testing.T) {
	svc, _ := newService(t, map[string]Policy{"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent}})
	call := func(rec string) astreinte.Ticket {
		return astreinte.Ticket{Line: "support", CallerNumber: "0612345678", CallbackNumber: "+33612345678",
			Kind: astreinte.KindVoicemail, Urgency: astreinte.NotUrgent, Case: astreinte.CaseOutOfHours,
			Recording: rec, CreatedAt: pt("2026-12-01 22:00")}
	}
	first := call("/rec/a.wav")
	if _, err := svc.Take(context.Background(), &first); err != nil {
		t.Fatal(err)
	}
	svc.take.Lock() // the Takes of a burst ahead of this one
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	type result struct {
		tk  astreinte.Ticket
		f   astreinte.Filed
		err error
	}
	done := make(chan result, 1)
	go func() {
		tk := call("/rec/b.wav")
		f, err := svc.Take(ctx, &tk)
		done <- result{tk, f, err}
	}()
	<-ctx.Done()
	time.Sleep(10 * time.Millisecond)
	svc.take.Unlock()
	r := <-done
	if r.err != nil {
		t.Fatalf("queued Take: %v", r.err)
	}
	if !r.f.Merged || r.tk.ID != first.ID {
		t.Errorf("queued Take filed %+v on ticket %d; want joined to the caller's open ticket %d", r.f, r.tk.ID, first.ID)
	}
	if n := svc.Pending(); n != 0 {
		t.Errorf("%d ticket(s) kept in memory; want 0", n)
	}
}
