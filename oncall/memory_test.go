package oncall_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
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

// fullDisk is the store with ticket writes failing while full is set, as
// SQLite does on a full disk (reads still work).
type fullDisk struct {
	*store.DB
	full atomic.Bool
}

var errFull = errors.New("create ticket: database or disk is full")

func (f *fullDisk) CreateTicket(ctx context.Context, t *astreinte.Ticket, p *store.NewPage) error {
	if f.full.Load() {
		return errFull
	}
	return f.DB.CreateTicket(ctx, t, p)
}

// A ticket the store refuses is paged from memory at once, tier after
// tier; once the store takes it again (without a restart) it is written
// and the stored page goes on from where the memory page got to.
func TestFullDiskPagesFromMemory(t *testing.T) {
	for _, tt := range []struct {
		name     string
		answers  map[string]string
		freeAt   time.Duration
		want     []string
		state    oncall.PageState
		status   astreinte.Status
		timeline []string
	}{{
		name:    "nobody acknowledges: memory pages tiers 1 and 2, the store rounds 2",
		answers: map[string]string{"*": "ok"},
		freeAt:  7 * time.Minute,
		want:    []string{"00:00 sip alice", "05:00 sip bob", "10:00 sip alice", "15:00 sip bob"},
		state:   oncall.PageExhausted, status: astreinte.StatusNew,
		timeline: []string{"database or disk is full): paging from memory", "paging Alice by sip (from memory)",
			"paging Bob by sip (from memory)", "written 7m0s after the message", "paging goes on from the store at step 2",
			"round 2: paging Alice", "nobody acknowledged"},
	}, {
		name:    "Alice acknowledges on the phone before the ticket is written",
		answers: map[string]string{"alice": "ack"},
		freeAt:  3 * time.Minute,
		want:    []string{"00:00 sip alice"},
		state:   oncall.PageAcked, status: astreinte.StatusAcknowledged,
		timeline: []string{"paging from memory", "Alice: answered, key 1", "paging goes on from the store at step 1"},
	}, {
		name:    "every channel fails: the next tier at once, from memory too",
		answers: map[string]string{"alice": "fail", "bob": "ack"},
		freeAt:  time.Minute,
		want:    []string{"00:00 sip alice", "00:00 sip bob"},
		state:   oncall.PageAcked, status: astreinte.StatusAcknowledged,
		timeline: []string{"Alice: 486 Busy Here (from memory, no retry)", "paging Bob by sip (from memory)"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				db, err := store.Open(filepath.Join(dir, "astreinte.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				db.Now = time.Now
				disk := &fullDisk{DB: db}
				disk.full.Store(true)
				cal, _ := calendar.New(calendar.Config{})
				sched := twoTiers(t, cal)
				log := &chainLog{start: time.Now(), active: map[string]int{}}
				svc := tickets.New(disk, cal, tickets.Options{Lines: map[string]tickets.Policy{"support": {Page: astreinte.PageUrgent}},
					Log: slog.New(slog.DiscardHandler)})
				eng := &oncall.Engine{Store: db, Schedule: sched, Tickets: svc, Now: time.Now, Retries: 1, Poll: time.Minute,
					Location: paris, Log: slog.New(slog.DiscardHandler),
					Notifiers: map[string]oncall.Notifier{"sip": &chainChannel{name: "sip", log: log, answers: tt.answers, reaches: hasSIP}}}
				svc.SetMemoryPager(eng)
				svc.Subscribe(func(tickets.Change) { eng.Trigger() })
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{}, 2)
				go func() { eng.Run(ctx); done <- struct{}{} }()
				go func() { svc.RetryPending(ctx, 10*time.Second); done <- struct{}{} }()
				defer func() { cancel(); <-done; <-done }()

				tk := &astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent,
					Case: astreinte.CaseOutOfHours, CreatedAt: time.Now(), Recording: "/data/recordings/x.wav"}
				if err := svc.Create(context.Background(), tk); !errors.Is(err, tickets.ErrKept) || !errors.Is(err, errFull) {
					t.Fatalf("create on a full disk: %v, want ErrKept wrapping the store's error", err)
				}
				time.Sleep(tt.freeAt - time.Second)
				if n := svc.Pending(); n != 1 || !svc.Degraded() {
					t.Fatalf("%d tickets pending before the disk is freed, want 1", n)
				}
				disk.full.Store(false)
				time.Sleep(time.Hour)
				synctest.Wait()
				if n := svc.Pending(); n != 0 {
					t.Fatalf("%d tickets still pending", n)
				}
				if st := svc.PendingStats(); st.Kept != 1 || st.Written != 1 {
					t.Errorf("stats %+v", st)
				}
				if got := log.got(); !slices.Equal(got, tt.want) {
					t.Errorf("notices:\n got %q\nwant %q", got, tt.want)
				}
				got, err := db.TicketByRecording(context.Background(), "/data/recordings/x.wav")
				if err != nil {
					t.Fatalf("the ticket was not written: %v", err)
				}
				if got.Status != tt.status {
					t.Errorf("ticket %s, want %s", got.Status, tt.status)
				}
				p, err := db.PageByTicket(context.Background(), got.ID)
				if err != nil || p.State != tt.state {
					t.Errorf("page %s (%v), want %s", p.State, err, tt.state)
				}
				evs, _ := db.Timeline(context.Background(), got.ID)
				i := 0
				var all []string
				for _, e := range evs {
					all = append(all, e.Detail)
					if i < len(tt.timeline) && strings.Contains(e.Detail, tt.timeline[i]) {
						i++
					}
				}
				if i < len(tt.timeline) {
					t.Errorf("timeline lacks %q (in order) in:\n  %s", tt.timeline[i], strings.Join(all, "\n  "))
				}
			})
		})
	}
}

// twoTiers: alice (SIP and email) then bob (SIP), each on call all the
// time, the policy run twice with 5 minutes per tier.
func twoTiers(t *testing.T, cal *calendar.Calendar) *oncall.Schedule {
	t.Helper()
	sched, err := oncall.NewSchedule(oncall.ScheduleConfig{
		People: []oncall.Person{{ID: "alice", Name: "Alice", SIP: "sip:alice@127.0.0.1", Email: "alice@example.com"}, {ID: "bob", Name: "Bob", SIP: "sip:bob@127.0.0.1"}},
		Rotations: []oncall.RotationConfig{
			{Name: "first", Participants: []string{"alice"}, Shift: "1w", Start: "1999-12-27 09:00", Coverage: "all"},
			{Name: "second", Participants: []string{"bob"}, Shift: "1w", Start: "1999-12-27 09:00", Coverage: "all"},
		},
		Escalation: oncall.PolicyConfig{Repeat: 2, Tiers: []oncall.TierConfig{
			{Name: "primary", Rotation: "first", Delay: "5m"},
			{Name: "secondary", Rotation: "second", Delay: "5m"},
		}},
	}, cal)
	if err != nil {
		t.Fatal(err)
	}
	return sched
}
