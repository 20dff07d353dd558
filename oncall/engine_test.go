package oncall_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// recorder is a channel that notes who was paged and answers as told.
type recorder struct {
	mu     sync.Mutex
	calls  []string // "alice@00:05"
	answer func(n oncall.Notice) (oncall.Result, error)
	start  time.Time
}

func (r *recorder) Notify(ctx context.Context, n oncall.Notice) (oncall.Result, error) {
	r.mu.Lock()
	r.calls = append(r.calls, fmt.Sprintf("%s@%s", n.Person.ID, fmtOffset(time.Since(r.start))))
	r.mu.Unlock()
	if r.answer != nil {
		return r.answer(n)
	}
	return oncall.Result{Detail: "delivered"}, nil
}

func (r *recorder) Reaches(p oncall.Person) bool { return p.SIP != "" }

// Rings: the recorder is the world's phone ("sip").
func (r *recorder) Rings() bool { return true }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func fmtOffset(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// world is a store, a two-tier schedule and an engine inside a synctest bubble.
type world struct {
	db     *store.DB
	svc    *tickets.Service
	eng    *oncall.Engine
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

func newWorld(t *testing.T, dir string, rec *recorder, opts ...func(*oncall.Engine)) *world {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sched := twoTiers(t, cal)
	db.Now = time.Now
	rec.start = time.Now()
	svc := tickets.New(db, cal, tickets.Options{Lines: map[string]tickets.Policy{"support": {Page: astreinte.PageUrgent}}})
	w := &world{db: db, svc: svc, rec: rec, done: make(chan struct{}), eng: &oncall.Engine{
		Store: db, Schedule: sched, Tickets: svc, Notifiers: map[string]oncall.Notifier{"sip": rec},
		Now: time.Now, Backoff: time.Minute, Retries: 1, Poll: time.Minute, Log: slog.New(slog.DiscardHandler),
	}}
	for _, o := range opts {
		o(w.eng)
	}
	svc.Subscribe(func(c tickets.Change) { // as serve wires it
		if c.ForPager() {
			w.eng.Trigger()
		}
	})
	svc.SetFirstPager(w.eng) // as serve wires it
	var ctx context.Context
	ctx, w.cancel = context.WithCancel(context.Background())
	go func() { defer close(w.done); w.eng.Run(ctx) }()
	return w
}

func (w *world) stop() {
	w.cancel()
	<-w.done
	w.db.Close()
}

func (w *world) urgentTicket(t *testing.T) astreinte.Ticket {
	t.Helper()
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent,
		Case: astreinte.CaseOutOfHours, CreatedAt: time.Now(), Duration: 12 * time.Second}
	if err := w.svc.Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	return *tk
}

func expectCalls(t *testing.T, r *recorder, want ...string) {
	t.Helper()
	if got := r.got(); !slices.Equal(got, want) {
		t.Fatalf("pages sent:\n got %v\nwant %v", got, want)
	}
}

func TestEscalationTimeline(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, dir, &recorder{})
		defer w.stop()
		tk := w.urgentTicket(t)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00") // page at once

		time.Sleep(4*time.Minute + 59*time.Second)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00") // nothing before the tier's delay

		time.Sleep(time.Second)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00", "bob@05:00") // 5 minutes: next tier

		// Straight in the database, as another process (the CLI) does: this
		// engine hears nothing and must notice by itself.
		if ok, err := w.db.Acknowledge(context.Background(), tk.ID, "bob", "cli"); err != nil || !ok {
			t.Fatalf("ack: %v %v", ok, err)
		}
		w.eng.Trigger()
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00", "bob@05:00") // ack stops it

		p, err := w.db.PageByTicket(context.Background(), tk.ID)
		if err != nil || p.State != oncall.PageAcked || p.AckedBy != "bob" {
			t.Fatalf("page after ack: %+v %v", p, err)
		}
	})
}

func TestEscalationRepeatsThenExhausts(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, dir, &recorder{})
		defer w.stop()
		tk := w.urgentTicket(t)
		time.Sleep(time.Hour)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00", "bob@05:00", "alice@10:00", "bob@15:00")
		p, err := w.db.PageByTicket(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != oncall.PageExhausted {
			t.Fatalf("page state %s, want exhausted", p.State)
		}
		evs, err := w.db.Timeline(context.Background(), tk.ID)
		if err != nil || len(evs) == 0 {
			t.Fatalf("timeline: %v, %d events", err, len(evs))
		}
		if last := evs[len(evs)-1]; last.Kind != astreinte.EventExhausted {
			t.Fatalf("last event %s: %s", last.Kind, last.Detail)
		}
	})
}

func TestAckOnTheChannelStopsEscalation(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{answer: func(n oncall.Notice) (oncall.Result, error) {
			return oncall.Result{Acked: true, Detail: "answered, acknowledged with key 1"}, nil
		}}
		w := newWorld(t, dir, rec)
		defer w.stop()
		tk := w.urgentTicket(t)
		time.Sleep(time.Hour)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00")
		got, err := w.db.TicketByID(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != astreinte.StatusAcknowledged || got.AckedBy != "alice" {
			t.Fatalf("ticket %s by %q", got.Status, got.AckedBy)
		}
	})
}

func TestPassGoesToTheNextTierAtOnce(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{answer: func(n oncall.Notice) (oncall.Result, error) {
			if n.Person.ID == "alice" {
				time.Sleep(40 * time.Second) // the call-out takes a while
				return oncall.Result{Passed: true, Detail: "passed with key 3"}, nil
			}
			return oncall.Result{Acked: true}, nil
		}}
		w := newWorld(t, dir, rec)
		defer w.stop()
		w.urgentTicket(t)
		time.Sleep(time.Minute)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00", "bob@00:40")
	})
}

func TestRestartResumesWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, dir, &recorder{})
		w.urgentTicket(t)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00")
		w.stop() // the service stops two minutes into the first tier…
		time.Sleep(7 * time.Minute)

		// …and comes back after the second tier was due: it fires once, now.
		rec2 := &recorder{}
		w2 := newWorld(t, dir, rec2)
		defer w2.stop()
		synctest.Wait()
		expectCalls(t, rec2, "bob@00:00")
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		expectCalls(t, rec2, "bob@00:00")
	})
}

// A phone still ringing when someone acknowledges elsewhere (here from the
// CLI, which only writes the database) stops ringing within seconds, and the
// send is not retried.
func TestAckElsewhereStopsARingingCall(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var gaveUp time.Duration
		start := time.Now()
		rec := &recorder{answer: func(n oncall.Notice) (oncall.Result, error) {
			select {
			case <-n.Stop:
				mu.Lock()
				gaveUp = time.Since(start)
				mu.Unlock()
				return oncall.Result{}, errors.New("call cancelled")
			case <-time.After(30 * time.Second):
				return oncall.Result{}, errors.New("not answered within 30s")
			}
		}}
		w := newWorld(t, dir, rec)
		defer w.stop()
		tk := w.urgentTicket(t)
		time.Sleep(10 * time.Second)
		// Straight in the database, as another process (the CLI) does: this
		// engine hears nothing and must notice by itself.
		if ok, err := w.db.Acknowledge(context.Background(), tk.ID, "bob", "cli"); err != nil || !ok {
			t.Fatalf("ack: %v %v", ok, err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00")
		mu.Lock()
		defer mu.Unlock()
		if gaveUp == 0 || gaveUp > 13*time.Second {
			t.Fatalf("the ringing call gave up at %s, want within a few seconds of the ack at 00:10", gaveUp)
		}
		evs, err := w.db.Timeline(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || (e.Kind == astreinte.EventNote && e.Channel == "sip" && e.Actor == "alice")
			if e.Kind == astreinte.EventPageFailed {
				t.Errorf("a stopped call is not a failure to retry: %s", e.Detail)
			}
		}
		if !found {
			t.Errorf("the timeline should say the call was stopped: %+v", evs)
		}
	})
}

// TestReachable: someone is reachable while a person on call has a channel
// that reaches them; overridden by nobody, the tier is empty.
func TestReachable(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, dir, &recorder{})
		defer w.stop()
		ctx := context.Background()
		now := time.Now()
		if !w.eng.Reachable(ctx, now) {
			t.Fatal("alice and bob are on call with a SIP URI: want reachable")
		}
		for _, id := range []string{"alice", "bob"} {
			if _, err := w.db.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: id, From: now.Add(-time.Hour), To: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if w.eng.Reachable(ctx, now) {
			t.Error("both replaced by nobody: want unreachable")
		}
		if !w.eng.Reachable(ctx, now.Add(2*time.Hour)) {
			t.Error("after the overrides: want reachable again")
		}
	})
}

// countFires is a store that counts the steps fired by a pass.
type countFires struct {
	oncall.PageStore
	fired atomic.Int32
}

func (c *countFires) FireStep(ctx context.Context, pageID int64, fromStep, toStep int, nextAt, leaseUntil time.Time,
	sends []oncall.Send, events []astreinte.Event) ([]int64, bool, error) {
	c.fired.Add(1)
	return c.PageStore.FireStep(ctx, pageID, fromStep, toStep, nextAt, leaseUntil, sends, events)
}

// gate is a channel whose deliveries wait until it opens, counting how
// many are in flight at once.
type gate struct {
	open         chan struct{}
	mu           sync.Mutex
	active, most int
	delivered    int
	reaches      func(oncall.Person) bool
}

func (g *gate) Reaches(p oncall.Person) bool { return g.reaches(p) }

func (g *gate) Rings() bool { return false }

func (g *gate) Notify(ctx context.Context, n oncall.Notice) (oncall.Result, error) {
	g.mu.Lock()
	g.active++
	g.most = max(g.most, g.active)
	g.mu.Unlock()
	<-g.open
	g.mu.Lock()
	g.active--
	g.delivered++
	g.mu.Unlock()
	return oncall.Result{Detail: "delivered"}, nil
}

// TestFirstStepWithTicket: a new ticket's first step is written with it
// (no pass fires it) and its email goes at once; two tickets' emails to
// one person go together, while her phone rings for one at a time.
func TestFirstStepWithTicket(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		mail := &gate{open: make(chan struct{}), reaches: func(p oncall.Person) bool { return p.Email != "" }}
		var fires *countFires
		phone := &recorder{answer: func(oncall.Notice) (oncall.Result, error) {
			time.Sleep(20 * time.Second) // ringing, then no answer
			return oncall.Result{}, errors.New("no answer")
		}}
		w := newWorld(t, dir, phone, func(e *oncall.Engine) {
			fires = &countFires{PageStore: e.Store}
			e.Store = fires
			e.Notifiers["email"] = mail
		})
		defer w.stop()
		synctest.Wait() // Run started
		a := w.urgentTicket(t)
		tk := &astreinte.Ticket{Line: "support", CallerNumber: "+33698765432", Urgency: astreinte.Urgent,
			Case: astreinte.CaseOutOfHours, CreatedAt: time.Now(), Duration: 9 * time.Second}
		if err := w.svc.Create(context.Background(), tk); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{a.ID, tk.ID} {
			if p, err := w.db.PageByTicket(context.Background(), id); err != nil || p.Step != 1 {
				t.Errorf("ticket %d's page as Create returns: %+v, %v; want at step 1", id, p, err)
			}
		}
		synctest.Wait()
		mail.mu.Lock()
		most := mail.most
		mail.mu.Unlock()
		if most != 2 {
			t.Errorf("%d emails in flight at once; want the two tickets'", most)
		}
		expectCalls(t, phone, "alice@00:00") // the second ticket's call waits for the first
		time.Sleep(21 * time.Second)
		synctest.Wait()
		expectCalls(t, phone, "alice@00:00", "alice@00:20")
		close(mail.open)
		synctest.Wait()
		if n := fires.fired.Load(); n != 0 {
			t.Errorf("%d steps fired by a pass; want none (the first steps were written with the tickets)", n)
		}
		evs, err := w.db.Timeline(context.Background(), a.ID)
		if err != nil || !slices.ContainsFunc(evs, func(e astreinte.Event) bool {
			return e.Detail == "tier 1/2 primary: paging Alice by email, sip"
		}) {
			t.Errorf("timeline %v, %v: no entry for the first step", evs, err)
		}
	})
}
