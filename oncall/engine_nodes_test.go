package oncall_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/store/pgtest"
	"github.com/astreinte/astreinte/tickets"
)

// Several nodes share one PostgreSQL database, each running the paging
// engine, in real time (the server is outside any synctest bubble).

// node is one process's store, tickets service and engine.
type node struct {
	name   string
	db     *store.DB
	svc    *tickets.Service
	eng    *oncall.Engine
	cancel context.CancelFunc
	done   chan struct{}
}

func startNode(t *testing.T, name, dsn string, n oncall.Notifier) *node {
	t.Helper()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return startNodeWith(t, name, dsn, n, twoTiers(t, cal), time.Now)
}

// startNodeWith starts a node whose engine walks sched by the clock now.
func startNodeWith(t *testing.T, name, dsn string, n oncall.Notifier, sched *oncall.Schedule, now func() time.Time) *node {
	t.Helper()
	db, err := store.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := tickets.New(db, cal, tickets.Options{Lines: map[string]tickets.Policy{"support": {Page: astreinte.PageUrgent}}})
	nd := &node{name: name, db: db, svc: svc, done: make(chan struct{}), eng: &oncall.Engine{
		Store: db, Schedule: sched, Tickets: svc, Notifiers: map[string]oncall.Notifier{"sip": n},
		Now: now, Backoff: time.Minute, Retries: 1, Poll: time.Minute,
		Log: slog.New(slog.DiscardHandler).With("node", name),
	}}
	svc.Subscribe(func(c tickets.Change) {
		if c.ForPager() {
			nd.eng.Trigger()
		}
	})
	var ctx context.Context
	ctx, nd.cancel = context.WithCancel(context.Background())
	go func() { defer close(nd.done); nd.eng.Run(ctx) }()
	t.Cleanup(nd.kill)
	return nd
}

// kill stops the node as a SIGKILL would, as far as the others can tell:
// its engine stops where it is (a call-out in progress stays claimed) and
// its connections close, releasing its locks.
func (nd *node) kill() {
	if nd.cancel == nil {
		return
	}
	nd.cancel()
	<-nd.done
	nd.db.Close()
	nd.cancel = nil
}

// phones is a SIP channel shared by the nodes' engines: it notes which node
// paged whom, and rings as long as ring says.
type phones struct {
	mu    sync.Mutex
	calls []string // "A:alice:ticket"
	rang  chan string
	ring  func(ctx context.Context, node string) (oncall.Result, error)
}

type nodePhone struct {
	p    *phones
	node string
}

func (np nodePhone) Notify(ctx context.Context, n oncall.Notice) (oncall.Result, error) {
	np.p.mu.Lock()
	np.p.calls = append(np.p.calls, fmt.Sprintf("%s:%s:%d:%d:%s", np.node, n.Person.ID, n.Ticket.ID, n.Step, n.Event))
	np.p.mu.Unlock()
	if np.p.rang != nil {
		np.p.rang <- np.node
	}
	if np.p.ring != nil {
		return np.p.ring(ctx, np.node)
	}
	return oncall.Result{Detail: "delivered"}, nil
}

func (np nodePhone) Reaches(p oncall.Person) bool { return p.SIP != "" }

func (np nodePhone) Rings() bool { return true }

func (p *phones) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func urgent(t *testing.T, svc *tickets.Service, caller string) astreinte.Ticket {
	t.Helper()
	tk := &astreinte.Ticket{Line: "support", CallerNumber: caller, Urgency: astreinte.Urgent,
		Case: astreinte.CaseOutOfHours, CreatedAt: time.Now()}
	if err := svc.Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	return *tk
}

// Two engines on one database: each ticket's first page goes out once, by
// one of them, however the passes interleave.
func TestTwoEnginesPageEachTicketOnce(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.Database(t)
	ph := &phones{ring: func(ctx context.Context, node string) (oncall.Result, error) {
		return oncall.Result{Acked: true, Detail: "answered, key 1"}, nil
	}}
	a := startNode(t, "A", dsn, nodePhone{ph, "A"})
	b := startNode(t, "B", dsn, nodePhone{ph, "B"})
	const n = 12
	var ids []int64
	for i := range n {
		svc := a.svc
		if i%2 == 1 {
			svc = b.svc
		}
		ids = append(ids, urgent(t, svc, fmt.Sprintf("+336000000%02d", i)).ID)
		a.eng.Trigger()
		b.eng.Trigger()
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for {
			tk, err := a.db.TicketByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Status == astreinte.StatusAcknowledged {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ticket %d not acknowledged in 20 s; pages: %v", id, ph.got())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a.eng.Wait()
	b.eng.Wait()
	per := map[int64]int{}
	by := map[string]int{}
	for _, c := range ph.got() {
		var nodeName, person string
		var id int64
		if _, err := fmt.Sscanf(c, "%1s:%5s:%d", &nodeName, &person, &id); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		per[id]++
		by[nodeName]++
	}
	for _, id := range ids {
		if per[id] != 1 {
			t.Errorf("ticket %d paged %d times, want once; pages: %v", id, per[id], ph.got())
		}
	}
	t.Logf("pages by node: %v", by)
}

// A node killed while a technician's phone rings: another node's engine
// rings it again within 10 s (its lock was released with the dead node's
// connection; its 5-minute lease is not waited for), once; the
// acknowledgement made through it stands, and a second one changes nothing.
func TestKilledNodesCallOutTakenOver(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.Database(t)
	ph := &phones{rang: make(chan string, 10), ring: func(ctx context.Context, node string) (oncall.Result, error) {
		if node == "A" {
			<-ctx.Done() // rings until A dies
			return oncall.Result{}, ctx.Err()
		}
		return oncall.Result{Acked: true, Detail: "answered, key 1"}, nil
	}}
	a := startNode(t, "A", dsn, nodePhone{ph, "A"})
	tk := urgent(t, a.svc, "+33612345678")
	select {
	case nd := <-ph.rang:
		if nd != "A" {
			t.Fatalf("paged by %s, want A (B is not started)", nd)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A did not page alice")
	}
	b := startNode(t, "B", dsn, nodePhone{ph, "B"})
	// B's passes while A's call-out goes on take nothing: A holds it.
	b.eng.Process(context.Background())
	b.eng.Wait()
	if got := ph.got(); len(got) != 1 {
		t.Fatalf("B paged while A's call was ringing: %v", got)
	}

	a.kill()
	killed := time.Now()
	select {
	case nd := <-ph.rang:
		if nd != "B" {
			t.Fatalf("paged by %s after A's death, want B", nd)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("alice not paged again within 10 s of A's death; pages: %v", ph.got())
	}
	took := time.Since(killed)
	t.Logf("B rang alice %s after A died", took.Round(10*time.Millisecond))
	b.eng.Wait()

	got, err := b.db.TicketByID(context.Background(), tk.ID)
	if err != nil || got.Status != astreinte.StatusAcknowledged || got.AckedBy != "alice" {
		t.Fatalf("ticket after B's page: %s by %q, %v; want acknowledged by alice", got.Status, got.AckedBy, err)
	}
	if ok, err := b.svc.Acknowledge(context.Background(), tk.ID, "bob", "web"); err != nil || ok {
		t.Errorf("second acknowledgement = %v, %v; want false (idempotent)", ok, err)
	}
	if got, _ := b.db.TicketByID(context.Background(), tk.ID); got.AckedBy != "alice" {
		t.Errorf("acknowledged by %q after the second acknowledgement, want alice", got.AckedBy)
	}
	if calls := ph.got(); len(calls) != 2 {
		t.Errorf("pages %v, want 2: A's, cut by its death, and B's", calls)
	}
}

// A page past its last step is not ended by one node while the last
// step's phone still rings on another: node B, whose clock runs an hour
// ahead so that only B finds the page due, waits while A's call-out to
// alice goes on, and ends the page once that call is over, unanswered.
func TestPageNotEndedWhileAnotherNodeRings(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.Database(t)
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People:     []oncall.Person{{ID: "alice", Name: "Alice", SIP: "sip:alice@127.0.0.1"}},
		Rotations:  []oncall.RotationConfig{{Name: "first", Participants: []string{"alice"}, Shift: "1w", Start: "1999-12-27 09:00", Coverage: "all"}},
		Escalation: oncall.PolicyConfig{Repeat: 1, Tiers: []oncall.TierConfig{{Name: "primary", Rotation: "first", Delay: "1m"}}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	hangUp := make(chan struct{})
	ph := &phones{rang: make(chan string, 10), ring: func(ctx context.Context, node string) (oncall.Result, error) {
		if node == "A" {
			select { // rings until the test hangs up
			case <-hangUp:
			case <-ctx.Done():
				return oncall.Result{}, ctx.Err()
			}
		}
		return oncall.Result{Detail: "no answer"}, nil
	}}
	a := startNodeWith(t, "A", dsn, nodePhone{ph, "A"}, sched, time.Now)
	tk := urgent(t, a.svc, "+33612345678")
	select {
	case nd := <-ph.rang:
		if nd != "A" {
			t.Fatalf("paged by %s, want A", nd)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A did not page alice")
	}
	b := startNodeWith(t, "B", dsn, nodePhone{ph, "B"}, sched, func() time.Time { return time.Now().Add(time.Hour) })
	state := func() astreinte.PageState {
		t.Helper()
		p, err := b.db.PageByTicket(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.State
	}
	// B finds the page past its only step at every pass for 3 s.
	for range 6 {
		b.eng.Process(context.Background())
		time.Sleep(500 * time.Millisecond)
	}
	if st := state(); st != astreinte.PageActive {
		t.Fatalf("page %s while alice's phone rang on A, want active", st)
	}
	close(hangUp)
	ended := time.Now()
	for state() == astreinte.PageActive {
		if time.Since(ended) > 10*time.Second {
			t.Fatal("page still active 10 s after A's call-out ended unanswered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := state(); st != astreinte.PageExhausted {
		t.Errorf("page %s after the unanswered call, want exhausted", st)
	}
	t.Logf("page ended %s after the phone stopped ringing", time.Since(ended).Round(10*time.Millisecond))
	a.eng.Wait()
	b.eng.Wait()
	if calls := ph.got(); len(calls) != 1 {
		t.Errorf("pages %v, want only A's call to alice", calls)
	}
}
