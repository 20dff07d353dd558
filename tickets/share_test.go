package tickets

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/store/pgtest"
)

// heard collects the changes a subscriber hears.
type heard struct {
	mu  sync.Mutex
	all []Change
	new chan struct{}
}

func listen(svc *Service) *heard {
	h := &heard{new: make(chan struct{}, 100)}
	svc.Subscribe(func(c Change) {
		h.mu.Lock()
		h.all = append(h.all, c)
		h.mu.Unlock()
		h.new <- struct{}{}
	})
	return h
}

// wait returns the first change heard that ok accepts, within d.
func (h *heard) wait(t *testing.T, d time.Duration, ok func(Change) bool) (Change, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(d)
	for {
		h.mu.Lock()
		for _, c := range h.all {
			if ok(c) {
				h.mu.Unlock()
				return c, time.Since(start)
			}
		}
		h.mu.Unlock()
		select {
		case <-h.new:
		case <-deadline:
			t.Fatalf("no such change within %v; heard %+v", d, h.changes())
		}
	}
}

func (h *heard) changes() []Change {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Change(nil), h.all...)
}

func (h *heard) count(ok func(Change) bool) int {
	n := 0
	for _, c := range h.changes() {
		if ok(c) {
			n++
		}
	}
	return n
}

// sharedNode is a tickets service on the PostgreSQL database dsn, sharing
// its changes.
func sharedNode(t *testing.T, dsn string) *Service {
	t.Helper()
	db, err := store.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := New(db, cal, Options{Lines: map[string]Policy{"support": {Page: astreinte.PageUrgent}}, DefaultLine: "support"})
	stop := svc.Share(db)
	t.Cleanup(func() { stop(); db.Close() })
	return svc
}

// listening waits until n connections listen to the changes on dsn's
// database and returns their server process ids.
func listening(t *testing.T, admin *sql.DB, n int, not ...int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := admin.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'astreinte-listen'
			AND datname = current_database() AND state = 'idle'`)
		if err != nil {
			t.Fatal(err)
		}
		var pids []int
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			old := false
			for _, o := range not {
				old = old || o == pid
			}
			if !old {
				pids = append(pids, pid)
			}
		}
		rows.Close()
		if len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d new listening connections, want %d", len(pids), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShareAcrossNodes: two services on one PostgreSQL database hear each
// other's changes within a second, once, marked Remote, never their own
// back; after their listening connections are killed they listen again
// (announcing a Resync) and changes flow again.
func TestShareAcrossNodes(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.Database(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	a, b := sharedNode(t, dsn), sharedNode(t, dsn)
	ha, hb := listen(a), listen(b)
	pids := listening(t, admin, 2)
	ctx := context.Background()

	tk := &astreinte.Ticket{Line: "support", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, Recording: "/r/1.wav"}
	if err := a.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	created := func(c Change) bool { return c.Kind == Created && c.TicketID == tk.ID }
	c, took := hb.wait(t, time.Second, created)
	t.Logf("B heard A's ticket %s after %v", tk.Number, took)
	if !c.Remote || c.Number != tk.Number || !c.Paging {
		t.Errorf("B heard %+v, want a remote creation of %s that pages", c, tk.Number)
	}

	if ok, err := b.Acknowledge(ctx, tk.ID, "alice", "web"); err != nil || !ok {
		t.Fatalf("acknowledge on B: %v %v", ok, err)
	}
	acked := func(c Change) bool { return c.Kind == Acknowledged && c.TicketID == tk.ID }
	c, took = ha.wait(t, time.Second, acked)
	t.Logf("A heard B's acknowledgement after %v", took)
	if !c.Remote {
		t.Errorf("A heard %+v, want it remote", c)
	}
	time.Sleep(300 * time.Millisecond) // an echo or a repeat would have come by now
	for _, h := range []struct {
		name string
		h    *heard
	}{{"A", ha}, {"B", hb}} {
		if n := h.h.count(created); n != 1 {
			t.Errorf("%s heard the creation %d times, want once: %+v", h.name, n, h.h.changes())
		}
		if n := h.h.count(acked); n != 1 {
			t.Errorf("%s heard the acknowledgement %d times, want once: %+v", h.name, n, h.h.changes())
		}
	}
	if ha.changes()[0].Remote || hb.count(func(c Change) bool { return acked(c) && c.Remote }) != 0 {
		t.Errorf("a node's own change came back as remote: A %+v, B %+v", ha.changes(), hb.changes())
	}

	// The listening connections are killed: both listen again.
	for _, pid := range pids {
		var ok bool
		if err := admin.QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate %d: %v %v", pid, ok, err)
		}
	}
	listening(t, admin, 2, pids...)
	resync := func(c Change) bool { return c.Kind == Resync && c.Remote }
	ha.wait(t, 5*time.Second, resync)
	hb.wait(t, 5*time.Second, resync)
	if err := b.Resolve(ctx, tk.ID, "alice", "done"); err != nil {
		t.Fatal(err)
	}
	c, took = ha.wait(t, time.Second, func(c Change) bool { return c.Kind == StatusSet && c.TicketID == tk.ID })
	t.Logf("after the reconnection, A heard B's resolution after %v", took)
	if !c.Remote {
		t.Errorf("A heard %+v, want it remote", c)
	}
}

// TestShareOnSQLite: on SQLite there is nobody to tell; sharing changes
// nothing for the service's own subscribers.
func TestShareOnSQLite(t *testing.T) {
	svc, db := newService(t, map[string]Policy{"support": {Page: astreinte.PageUrgent}})
	if err := db.Listen(context.Background(), store.Listener{Channel: ChangesChannel}); err != store.ErrNoNotifications {
		t.Fatalf("Listen on SQLite: %v, want ErrNoNotifications", err)
	}
	stop := svc.Share(db)
	defer stop()
	h := listen(svc)
	tk := &astreinte.Ticket{Line: "support", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, Recording: "/r/1.wav"}
	if err := svc.Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	h.wait(t, time.Second, func(c Change) bool { return c.Kind == Created && !c.Remote })
	time.Sleep(100 * time.Millisecond)
	if n := len(h.changes()); n != 1 {
		t.Errorf("heard %d changes, want 1: %+v", n, h.changes())
	}
}
