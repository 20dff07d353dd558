package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// The paging engine's view of the store.
var _ oncall.PageStore = (*DB)(nil)

// paged creates a ticket with an active page due at t0 and fires its step
// 0 with one SIP send per person.
func paged(t testing.TB, db *DB, persons ...string) (astreinte.Ticket, astreinte.Page) {
	t.Helper()
	ctx := context.Background()
	tk := createTicket(t, db, astreinte.Ticket{CallerNumber: "+33612345678", Urgency: astreinte.Urgent}, &NewPage{Policy: "p", NextAt: t0})
	p, err := db.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sends []astreinte.Send
	for _, person := range persons {
		sends = append(sends, astreinte.Send{Step: 0, Channel: "sip", Person: person})
	}
	if len(sends) > 0 {
		ok, err := db.AdvancePage(ctx, p.ID, 0, 1, t0.Add(5*time.Minute), sends, nil)
		if err != nil || !ok {
			t.Fatalf("AdvancePage = %v, %v", ok, err)
		}
		p.Step, p.NextAt = 1, t0.Add(5*time.Minute)
	}
	return tk, p
}

// states returns "person:state" for a page's sends.
func states(t testing.TB, db *DB, pageID int64) []string {
	t.Helper()
	sends, err := db.Sends(context.Background(), pageID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sends {
		out = append(out, fmt.Sprintf("%s:%s", s.Person, s.State))
	}
	return out
}

func TestAcknowledge(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice", "bob", "carol")
	sends, _ := db.Sends(ctx, p.ID)
	if ok, err := db.ClaimSend(ctx, sends[0].ID, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimSend = %v, %v", ok, err)
	}
	clk.Add(10 * time.Second)
	ackAt := clk.Now()

	ok, err := db.Acknowledge(ctx, tk.ID, "bob", "sip")
	if err != nil || !ok {
		t.Fatalf("first Acknowledge = %v, %v; want true", ok, err)
	}
	clk.Add(10 * time.Second)
	ok, err = db.Acknowledge(ctx, tk.ID, "carol", "web")
	if err != nil || ok {
		t.Fatalf("second Acknowledge = %v, %v; want false", ok, err)
	}

	got, _ := db.TicketByID(ctx, tk.ID)
	if got.Status != astreinte.StatusAcknowledged || got.AckedBy != "bob" || !got.AckedAt.Equal(ackAt) {
		t.Errorf("ticket: status %s by %q at %v; want acknowledged by bob at %v", got.Status, got.AckedBy, got.AckedAt, ackAt)
	}
	gp, _ := db.PageByTicket(ctx, tk.ID)
	if gp.State != astreinte.PageAcked || gp.AckedBy != "bob" || gp.AckedVia != "sip" || !gp.AckedAt.Equal(ackAt) {
		t.Errorf("page = %+v; want acked by bob via sip at %v", gp, ackAt)
	}
	// The send in flight is left to its worker; the pending ones are cancelled.
	if got, want := states(t, db, p.ID), []string{"alice:sending", "bob:done", "carol:done"}; !slices.Equal(got, want) {
		t.Errorf("sends %v, want %v", got, want)
	}
	all, _ := db.Sends(ctx, p.ID)
	if all[1].LastError != "cancelled: acknowledged" {
		t.Errorf("cancelled send's LastError = %q", all[1].LastError)
	}
	if due, _ := db.DueSends(ctx, t0.Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("DueSends after ack = %v, want none (even the expired lease)", due)
	}
	if ok, _ := db.ClaimSend(ctx, all[0].ID, t0.Add(2*time.Hour)); ok {
		t.Error("ClaimSend of an acked page's send succeeded")
	}
	want := []string{
		"created caller  urgent voicemail from +33612345678",
		"page_queued system  policy p",
		"acknowledged bob sip paging stopped",
		"note carol web acknowledgement ignored: already acknowledged by bob",
	}
	if got := timeline(t, db, tk.ID); !slices.Equal(got, want) {
		t.Errorf("timeline:\n got %q\nwant %q", got, want)
	}
	if _, err := db.Acknowledge(ctx, 404, "bob", "sip"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("Acknowledge(404) = %v, want ErrNotFound", err)
	}
}

func TestAcknowledgeConcurrent(t *testing.T) {
	db, _ := openTest(t)
	tk, _ := paged(t, db, "alice")
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := db.Acknowledge(context.Background(), tk.ID, fmt.Sprint("tech", i), "sip")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d acknowledgements won, want 1", wins.Load())
	}
}

func TestSetStatus(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice")
	steps := []struct {
		status     astreinte.Status
		note       string
		wantErr    bool
		resolved   bool
		pageState  astreinte.PageState
		lastEvent  string
		sendStates []string
	}{
		{astreinte.StatusAcknowledged, "", true, false, astreinte.PageActive, "page_queued system  policy p", []string{"alice:pending"}},
		{"bogus", "", true, false, astreinte.PageActive, "page_queued system  policy p", []string{"alice:pending"}},
		{astreinte.StatusResolved, "fixed the NAS", false, true, astreinte.PageCancelled, "resolved alice  fixed the NAS", []string{"alice:done"}},
		{astreinte.StatusResolved, "", false, true, astreinte.PageCancelled, "resolved alice  fixed the NAS", []string{"alice:done"}},
		{astreinte.StatusResolved, "again", false, true, astreinte.PageCancelled, "note alice  again", []string{"alice:done"}},
		{astreinte.StatusNew, "came back", false, false, astreinte.PageCancelled, "reopened alice  came back", []string{"alice:done"}},
		{astreinte.StatusCalledBack, "left a message", false, false, astreinte.PageCancelled, "called_back alice  left a message", []string{"alice:done"}},
	}
	for i, st := range steps {
		clk.Add(time.Minute)
		err := db.SetStatus(ctx, tk.ID, st.status, "alice", st.note)
		if (err != nil) != st.wantErr {
			t.Fatalf("step %d: SetStatus(%s) = %v, want error %v", i, st.status, err, st.wantErr)
		}
		got, _ := db.TicketByID(ctx, tk.ID)
		if st.resolved != !got.ResolvedAt.IsZero() {
			t.Errorf("step %d: ResolvedAt = %v, want set: %v", i, got.ResolvedAt, st.resolved)
		}
		if !st.wantErr && got.Status != st.status {
			t.Errorf("step %d: status %s, want %s", i, got.Status, st.status)
		}
		if gp, _ := db.PageByTicket(ctx, tk.ID); gp.State != st.pageState {
			t.Errorf("step %d: page %s, want %s", i, gp.State, st.pageState)
		}
		if tl := timeline(t, db, tk.ID); tl[len(tl)-1] != st.lastEvent {
			t.Errorf("step %d: last event %q, want %q", i, tl[len(tl)-1], st.lastEvent)
		}
		if got := states(t, db, p.ID); !slices.Equal(got, st.sendStates) {
			t.Errorf("step %d: sends %v, want %v", i, got, st.sendStates)
		}
	}
	if err := db.SetStatus(ctx, 404, astreinte.StatusResolved, "a", ""); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("SetStatus(404) = %v, want ErrNotFound", err)
	}
}

func TestAdvancePage(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db) // step 0, due at t0
	if due, err := db.DuePages(ctx, t0.Add(-time.Second)); err != nil || len(due) != 0 {
		t.Errorf("DuePages before t0 = %v, %v; want none", due, err)
	}
	if due, err := db.DuePages(ctx, t0); err != nil || len(due) != 1 || due[0].ID != p.ID {
		t.Errorf("DuePages at t0 = %v, %v; want the page", due, err)
	}
	step0 := []astreinte.Send{{Step: 0, Channel: "sip", Person: "alice"}, {Step: 0, Channel: "email", Person: "alice"}}
	ev := []astreinte.Event{{Kind: astreinte.EventEscalated, Actor: "system", Detail: "tier 1"}}
	tests := []struct {
		name      string
		from, to  int
		sends     []astreinte.Send
		want      bool
		wantSends int
	}{
		{"fires step 0", 0, 1, step0, true, 2},
		{"stale fromStep", 0, 1, step0, false, 2},
		{"step 1 with a replayed send", 1, 2, append(step0[:1:1], astreinte.Send{Step: 1, Channel: "sip", Person: "bob"}), true, 3},
		{"from the future", 5, 6, nil, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Add(time.Second)
			ok, err := db.AdvancePage(ctx, p.ID, tt.from, tt.to, t0.Add(time.Duration(tt.to)*time.Minute), tt.sends, ev)
			if err != nil || ok != tt.want {
				t.Fatalf("AdvancePage(%d→%d) = %v, %v; want %v", tt.from, tt.to, ok, err, tt.want)
			}
			sends, _ := db.Sends(ctx, p.ID)
			if len(sends) != tt.wantSends {
				t.Errorf("%d sends, want %d", len(sends), tt.wantSends)
			}
			for _, s := range sends {
				if s.PageID != p.ID || s.TicketID != tk.ID || s.State != astreinte.SendPending || s.NextTryAt.IsZero() {
					t.Errorf("send %+v: want pending, on the page and ticket, with a try time", s)
				}
			}
		})
	}
	got, _ := db.PageByTicket(ctx, tk.ID)
	if got.Step != 2 || !got.NextAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("page at step %d next %v, want step 2 at %v", got.Step, got.NextAt, t0.Add(2*time.Minute))
	}
	if n := len(timeline(t, db, tk.ID)); n != 4 {
		t.Errorf("%d timeline entries, want 4 (created, queued, 2 escalations)", n)
	}

	// Eight engines race on the same step: one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := db.AdvancePage(ctx, p.ID, 2, 3, t0.Add(3*time.Minute), step0, nil)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d engines advanced step 2, want 1", wins.Load())
	}
}

func TestEndPage(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice")
	ev := astreinte.Event{Kind: astreinte.EventExhausted, Actor: "system", Detail: "nobody answered"}
	if err := db.EndPage(ctx, p.ID, astreinte.PageExhausted, ev); err != nil {
		t.Fatal(err)
	}
	// Ending it again, or acknowledging afterwards, does not change the page.
	if err := db.EndPage(ctx, p.ID, astreinte.PageCancelled, ev); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.Acknowledge(ctx, tk.ID, "bob", "web"); err != nil || !ok {
		t.Errorf("Acknowledge after exhaustion = %v, %v; want true", ok, err)
	}
	gp, _ := db.PageByTicket(ctx, tk.ID)
	if gp.State != astreinte.PageExhausted {
		t.Errorf("page %s, want exhausted", gp.State)
	}
	if got := states(t, db, p.ID); !slices.Equal(got, []string{"alice:done"}) {
		t.Errorf("sends %v, want alice:done", got)
	}
	n := 0
	for _, e := range timeline(t, db, tk.ID) {
		if e == "escalation_exhausted system  nobody answered" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d exhaustion events, want 1", n)
	}
	if err := db.EndPage(ctx, 404, astreinte.PageCancelled, ev); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("EndPage(404) = %v, want ErrNotFound", err)
	}
	if err := db.EndPage(ctx, p.ID, astreinte.PageAcked, ev); err == nil {
		t.Error("EndPage(acked) succeeded")
	}
}

func TestClaimSend(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice")
	due, err := db.DueSends(ctx, t0, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueSends = %v, %v; want one", due, err)
	}
	id := due[0].ID
	lease := t0.Add(time.Minute)
	claim := func(want bool) {
		t.Helper()
		if ok, err := db.ClaimSend(ctx, id, lease); err != nil || ok != want {
			t.Errorf("ClaimSend at %v = %v, %v; want %v", clk.Now(), ok, err, want)
		}
	}
	dueAt := func(at time.Time, want int) {
		t.Helper()
		if due, err := db.DueSends(ctx, at, 10); err != nil || len(due) != want {
			t.Errorf("DueSends(%v) = %d sends, %v; want %d", at, len(due), err, want)
		}
	}

	claim(true)
	claim(false) // leased
	dueAt(t0.Add(30*time.Second), 0)
	// The worker dies: once the lease has passed the send is due again and
	// another worker may take it.
	dueAt(lease, 1)
	clk.Add(time.Minute)
	lease = t0.Add(3 * time.Minute)
	claim(true)
	s, _ := db.Sends(ctx, p.ID)
	if s[0].Attempts != 2 || s[0].State != astreinte.SendSending || !s[0].NextTryAt.Equal(lease) {
		t.Errorf("send %+v, want sending, 2 attempts, lease %v", s[0], lease)
	}

	// A failed attempt, to be retried later.
	retry := t0.Add(10 * time.Minute)
	fail := &astreinte.Event{Kind: astreinte.EventPageFailed, Actor: "system", Channel: "sip", Detail: "486 Busy Here"}
	if err := db.FinishSend(ctx, id, astreinte.SendPending, retry, "486 Busy Here", fail); err != nil {
		t.Fatal(err)
	}
	dueAt(retry.Add(-time.Second), 0)
	claim(false) // not due yet by the store's clock
	dueAt(retry, 1)
	clk.Add(9 * time.Minute) // t0+10m
	lease = t0.Add(11 * time.Minute)
	claim(true)
	sent := &astreinte.Event{Kind: astreinte.EventPageSent, Actor: "system", Channel: "sip", Detail: "200 OK"}
	if err := db.FinishSend(ctx, id, astreinte.SendDone, time.Time{}, "", sent); err != nil {
		t.Fatal(err)
	}
	// A late finish from the worker whose lease expired keeps the state but
	// records what happened.
	late := &astreinte.Event{Kind: astreinte.EventPageSent, Actor: "system", Channel: "sip", Detail: "late"}
	if err := db.FinishSend(ctx, id, astreinte.SendPending, retry, "", late); err != nil {
		t.Fatal(err)
	}
	s, _ = db.Sends(ctx, p.ID)
	if s[0].State != astreinte.SendDone || s[0].Attempts != 3 || s[0].LastError != "" {
		t.Errorf("send %+v, want done after 3 attempts", s[0])
	}
	dueAt(t0.Add(time.Hour), 0)
	claim(false)
	tl := timeline(t, db, tk.ID)
	if want := []string{"page_failed system sip 486 Busy Here", "page_sent system sip 200 OK", "page_sent system sip late"}; !slices.Equal(tl[2:], want) {
		t.Errorf("timeline %q, want ending %q", tl, want)
	}
	if err := db.FinishSend(ctx, 404, astreinte.SendDone, time.Time{}, "", nil); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("FinishSend(404) = %v, want ErrNotFound", err)
	}
	if err := db.FinishSend(ctx, id, astreinte.SendSending, time.Time{}, "", nil); err == nil {
		t.Error("FinishSend(sending) succeeded")
	}
}

func TestClaimSendExclusive(t *testing.T) {
	db, _ := openTest(t)
	_, p := paged(t, db, "alice")
	s, _ := db.Sends(context.Background(), p.ID)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := db.ClaimSend(context.Background(), s[0].ID, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d workers claimed the send, want 1", wins.Load())
	}
}

func TestNextWake(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	check := func(want time.Time) {
		t.Helper()
		if watch := t0.Add(watchPoll); db.pg && (want.IsZero() || want.After(watch)) {
			want = watch // PostgreSQL: other nodes' work is looked for every watchPoll
		}
		got, ok, err := db.NextWake(ctx)
		if err != nil || ok != !want.IsZero() || !got.Equal(want) {
			t.Errorf("NextWake = %v, %v, %v; want %v", got, ok, err, want)
		}
	}
	check(time.Time{})
	createTicket(t, db, astreinte.Ticket{}, nil) // no page
	check(time.Time{})

	tk, p := paged(t, db) // step 0 due at t0
	check(t0)
	sends := []astreinte.Send{{Step: 0, Channel: "sip", Person: "alice", NextTryAt: t0.Add(time.Minute)}}
	if ok, err := db.AdvancePage(ctx, p.ID, 0, 1, t0.Add(5*time.Minute), sends, nil); err != nil || !ok {
		t.Fatal(ok, err)
	}
	check(t0.Add(time.Minute)) // the send comes before the next step
	s, _ := db.Sends(ctx, p.ID)
	if ok, _ := db.ClaimSend(ctx, s[0].ID, t0.Add(2*time.Minute)); ok {
		t.Error("claimed a send before it was due")
	}
	if _, err := db.db.Exec(`UPDATE sends SET state = 'sending', next_try_at = ?`, ts(t0.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	check(t0.Add(2 * time.Minute)) // a lease expiry is a wake-up too
	if _, err := db.Acknowledge(ctx, tk.ID, "alice", "sip"); err != nil {
		t.Fatal(err)
	}
	check(time.Time{})
}

// StepDelivering: a claimed send of the step is in delivery while its
// deliverer lives (SQLite: its lease runs; PostgreSQL: this process holds
// its lock, lease or not), and no longer once it is finished.
func TestStepDelivering(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	_, p := paged(t, db, "alice")
	delivering := func(step int, want bool) {
		t.Helper()
		if got, err := db.StepDelivering(ctx, p.ID, step, nil); err != nil || got != want {
			t.Errorf("StepDelivering(step %d) at %v = %v, %v; want %v", step, clk.Now(), got, err, want)
		}
	}
	delivering(0, false) // queued, not claimed
	s, _ := db.Sends(ctx, p.ID)
	if ok, err := db.ClaimSend(ctx, s[0].ID, t0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimSend = %v, %v", ok, err)
	}
	delivering(0, true)
	delivering(1, false)
	if got, err := db.StepDelivering(ctx, p.ID, 0, []string{"webhook", s[0].Channel}); err != nil || got {
		t.Errorf("StepDelivering(step 0, except %s) = %v, %v; want false: a policy channel pages nobody", s[0].Channel, got, err)
	}
	clk.Add(2 * time.Minute) // the lease has run out
	delivering(0, db.pg)     // only the lock tells on PostgreSQL
	if err := db.FinishSend(ctx, s[0].ID, astreinte.SendDone, time.Time{}, "", nil); err != nil {
		t.Fatal(err)
	}
	delivering(0, false)
}

// TestFireStepClaimed: a step's sends stored already claimed by the
// engine that fired it are its own, as if it had claimed each: no other
// worker or node takes them while they are leased (on PostgreSQL, while
// its lock is held), the first attempt is counted, a send already queued
// is not claimed again, and once finished they are not due again.
func TestFireStepClaimed(t *testing.T) {
	nodes := openNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	tk := createTicket(t, a, astreinte.Ticket{CallerNumber: "+33612345678", Urgency: astreinte.Urgent}, &NewPage{Policy: "p", NextAt: t0})
	p, err := a.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	lease := t0.Add(5 * time.Minute)
	sends := []astreinte.Send{
		{Step: 0, Channel: "sip", Person: "alice", State: astreinte.SendSending},
		{Step: 0, Channel: "email", Person: "alice"}, // left pending: alice busy on it
		{Step: 0, Channel: "webhook", Person: "alice", State: astreinte.SendSending},
	}
	ids, ok, err := a.FireStep(ctx, p.ID, 0, 1, t0.Add(10*time.Minute), lease, sends, nil)
	if err != nil || !ok || len(ids) != 3 || ids[0] == 0 || ids[1] == 0 || ids[2] == 0 {
		t.Fatalf("FireStep = %v, %v, %v; want three ids", ids, ok, err)
	}
	got, _ := a.Sends(ctx, p.ID)
	want := map[int64]struct {
		state    astreinte.SendState
		attempts int
		next     time.Time
	}{ids[0]: {astreinte.SendSending, 1, lease}, ids[1]: {astreinte.SendPending, 0, t0}, ids[2]: {astreinte.SendSending, 1, lease}}
	for _, s := range got {
		w := want[s.ID]
		if s.State != w.state || s.Attempts != w.attempts || !s.NextTryAt.Equal(w.next) {
			t.Errorf("send %d %s: %s, %d attempts, next %v; want %s, %d, %v", s.ID, s.Channel, s.State, s.Attempts, s.NextTryAt, w.state, w.attempts, w.next)
		}
	}
	for _, db := range nodes {
		due, err := db.DueSends(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].ID != ids[1] {
			t.Errorf("DueSends = %v, %v; want only the pending email", due, err)
		}
	}
	if ok, err := b.ClaimSend(ctx, ids[0], t0.Add(time.Hour)); err != nil || ok {
		t.Errorf("another node's ClaimSend of a claimed send = %v, %v; want false", ok, err)
	}
	if ok, err := a.ClaimSend(ctx, ids[0], t0.Add(time.Hour)); err != nil || ok {
		t.Errorf("another worker's ClaimSend of a claimed send = %v, %v; want false", ok, err)
	}
	// Fired again (a second engine read the same step): nothing changes.
	if ids, ok, err := b.FireStep(ctx, p.ID, 0, 1, t0.Add(10*time.Minute), lease, sends, nil); err != nil || ok || ids != nil {
		t.Errorf("FireStep from a step gone = %v, %v, %v; want false", ids, ok, err)
	}
	// The same sends queued again at another step's firing are ignored.
	ids2, ok, err := a.FireStep(ctx, p.ID, 1, 1, t0.Add(10*time.Minute), lease, sends[:1], nil)
	if err != nil || !ok || len(ids2) != 1 || ids2[0] != 0 {
		t.Errorf("FireStep of a send already queued = %v, %v, %v; want id 0", ids2, ok, err)
	}
	for _, id := range []int64{ids[0], ids[2]} {
		if err := a.FinishSend(ctx, id, astreinte.SendDone, time.Time{}, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, db := range nodes {
		if due, err := db.DueSends(ctx, t0.Add(time.Hour), 10); err != nil || len(due) != 1 {
			t.Errorf("DueSends after the finish = %v, %v; want the email only", due, err)
		}
	}
}

// TestFireStepClaimedReclaimed: a claimed send whose engine stopped before
// finishing it is taken back by the next one (ReclaimSending), and
// delivered again: pending pages survive a restart.
func TestFireStepClaimedReclaimed(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tk := createTicket(t, db, astreinte.Ticket{CallerNumber: "+33612345678", Urgency: astreinte.Urgent}, &NewPage{Policy: "p", NextAt: t0})
	p, err := db.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids, ok, err := db.FireStep(ctx, p.ID, 0, 1, t0.Add(10*time.Minute), t0.Add(5*time.Minute),
		[]astreinte.Send{{Step: 0, Channel: "sip", Person: "alice", State: astreinte.SendSending}}, nil)
	if err != nil || !ok {
		t.Fatalf("FireStep = %v, %v, %v", ids, ok, err)
	}
	if db.leases != nil {
		db.leases.releaseAll() // the process is gone: its session with it
	}
	if n, err := db.ReclaimSending(ctx); err != nil || n != 1 {
		t.Fatalf("ReclaimSending = %d, %v; want 1", n, err)
	}
	due, err := db.DueSends(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].ID != ids[0] || due[0].Attempts != 1 {
		t.Fatalf("DueSends = %+v, %v; want the send, one attempt counted", due, err)
	}
	if ok, err := db.ClaimSend(ctx, ids[0], t0.Add(time.Minute)); err != nil || !ok {
		t.Errorf("ClaimSend after the restart = %v, %v; want true", ok, err)
	}
}

// TestCreateTicketFirstStep: a page's first step written with its ticket
// is the step FireStep would have fired: the page at step 1, due at the
// step's NextAt, its sends claimed or pending as given (locked on
// PostgreSQL), its events on the timeline. A ticket that is not written
// leaves no claim behind.
func TestCreateTicketFirstStep(t *testing.T) {
	nodes := openNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	lease := t0.Add(5 * time.Minute)
	first := &astreinte.FiredStep{NextAt: t0.Add(10 * time.Minute), LeaseUntil: lease,
		Sends: []astreinte.Send{
			{Step: 0, Channel: "sip", Person: "alice", NextTryAt: t0}, // a phone: left to the pass
			{Step: 0, Channel: "email", Person: "alice", State: astreinte.SendSending},
			{Step: 0, Channel: "webhook", Person: "alice", State: astreinte.SendSending},
		},
		Events: []astreinte.Event{{At: t0, Kind: astreinte.EventPageQueued, Actor: "system", Detail: "tier 1/2 primary: paging Alice by sip, email"}}}
	tk := createTicket(t, a, astreinte.Ticket{CallerNumber: "+33612345678", Urgency: astreinte.Urgent, CreatedAt: t0},
		&NewPage{Policy: "p", NextAt: t0, First: first})
	p, err := a.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != first.PageID || p.Step != 1 || !p.NextAt.Equal(first.NextAt) || p.State != astreinte.PageActive {
		t.Errorf("page = %+v; want page %d active at step 1, due %v", p, first.PageID, first.NextAt)
	}
	if len(first.IDs) != 3 || slices.Contains(first.IDs, 0) {
		t.Fatalf("IDs = %v; want three ids", first.IDs)
	}
	got, err := a.Sends(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]astreinte.SendState{first.IDs[0]: astreinte.SendPending, first.IDs[1]: astreinte.SendSending, first.IDs[2]: astreinte.SendSending}
	for _, s := range got {
		if s.State != want[s.ID] || s.TicketID != tk.ID {
			t.Errorf("send %d %s: %s of ticket %d; want %s of %d", s.ID, s.Channel, s.State, s.TicketID, want[s.ID], tk.ID)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d sends; want 3", len(got))
	}
	for _, db := range nodes {
		if due, err := db.DueSends(ctx, t0.Add(time.Minute), 10); err != nil || len(due) != 1 || due[0].ID != first.IDs[0] {
			t.Errorf("DueSends = %v, %v; want the phone call only", due, err)
		}
		if pages, err := db.DuePages(ctx, t0.Add(time.Minute)); err != nil || len(pages) != 0 {
			t.Errorf("DuePages = %v, %v; want none before the next step", pages, err)
		}
	}
	if ok, err := b.ClaimSend(ctx, first.IDs[1], t0.Add(time.Hour)); err != nil || ok {
		t.Errorf("another node's ClaimSend of a claimed send = %v, %v; want false", ok, err)
	}
	evs, err := a.Timeline(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e astreinte.Event) bool { return e.Detail == first.Events[0].Detail }) {
		t.Errorf("timeline %v lacks the step's entry", evs)
	}

	// Not written (its transaction fails once the step is in): no claim
	// is left.
	failed := &astreinte.FiredStep{NextAt: t0.Add(10 * time.Minute), LeaseUntil: lease,
		Sends: []astreinte.Send{{Step: 0, Channel: "email", Person: "alice", State: astreinte.SendSending}}}
	if err := a.createTicket(ctx, &astreinte.Ticket{CallerNumber: "+33612345679", CreatedAt: t0},
		&NewPage{Policy: "p", NextAt: t0, First: failed}, func(*sql.Tx, int64, string) error { return errors.New("refused") }); err == nil {
		t.Fatal("createTicket whose transaction fails: no error")
	}
	if failed.PageID != 0 || failed.IDs != nil {
		t.Errorf("a step not written kept page %d, ids %v", failed.PageID, failed.IDs)
	}
	if a.leases != nil && len(a.leases.held) != 2 {
		t.Errorf("%d send locks held; want the first ticket's two", len(a.leases.held))
	}
}
