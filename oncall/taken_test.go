package oncall_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

// texts is a message channel that keeps what it was asked to say.
type texts struct {
	mu  sync.Mutex
	got []string
}

func (x *texts) Notify(_ context.Context, n oncall.Notice) (oncall.Result, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := fmt.Sprintf("%s %s", n.Person.ID, n.Event)
	if n.Event == oncall.NoticeTaken {
		s += ": " + oncall.TakenText(n.Person.Language, n.Ticket.Number, n.TakenBy, n.TakenAt, time.UTC)
	}
	x.got = append(x.got, s)
	return oncall.Result{Detail: "delivered"}, nil
}

func (x *texts) Reaches(p oncall.Person) bool { return p.SIP != "" }

func (x *texts) Rings() bool { return false }

func (x *texts) all() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.got)
}

// TestFirstAckStopsTheOthersAndTellsThem: alice's phone is answered and
// she listens for 6 minutes; bob, paged at 5 minutes, is still ringing
// when she presses 1. Bob's call stops at that very moment, and bob, who
// was paged, gets "taken by Alice at …" by SIP MESSAGE (his call-out's
// channel for text); alice, who took it, does not.
func TestFirstAckStopsTheOthersAndTellsThem(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		var bobStopped time.Duration
		rec := &recorder{}
		rec.answer = func(n oncall.Notice) (oncall.Result, error) {
			switch n.Person.ID {
			case "alice":
				time.Sleep(6 * time.Minute)
				taken, by, err := n.Acknowledge(context.Background())
				if err != nil || !taken {
					t.Errorf("alice's key 1: taken %v by %q, %v", taken, by, err)
				}
				return oncall.Result{Acked: true, Detail: "key 1"}, nil
			default:
				<-n.Stop
				bobStopped = time.Since(rec.start)
				return oncall.Result{}, errors.New("stopped ringing")
			}
		}
		msg := &texts{}
		w := newWorld(t, dir, rec, func(e *oncall.Engine) {
			e.Notifiers["message"] = msg
			e.Location = time.UTC
		})
		defer w.stop()
		tk := w.urgentTicket(t)
		time.Sleep(time.Hour)
		synctest.Wait()
		expectCalls(t, w.rec, "alice@00:00", "bob@05:00")
		if bobStopped != 6*time.Minute {
			t.Errorf("bob's ringing call stopped at %s, want 6m0s (when alice pressed 1)", bobStopped)
		}
		at := rec.start.Add(6 * time.Minute).UTC().Format("15:04")
		want := []string{"alice page", "bob page", "bob ticket.taken: " + tk.Number + " pris en charge par Alice à " + at}
		if got := msg.all(); !slices.Equal(got, want) {
			t.Errorf("messages:\n got %q\nwant %q", got, want)
		}
		for _, s := range mustSends(t, w, tk.ID) {
			if s.State == oncall.SendPending || s.State == oncall.SendSending {
				t.Errorf("send still %s after the acknowledgement: %+v", s.State, s)
			}
		}
	})
}

// TestSecondAckHearsWhoHasIt: bob takes the ticket on the web while alice
// listens to her call; her key 1 then learns that Bob has it, and she is
// told by message that Bob took it.
func TestSecondAckHearsWhoHasIt(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		var w *world
		var heard string
		rec := &recorder{}
		rec.answer = func(n oncall.Notice) (oncall.Result, error) {
			time.Sleep(time.Minute)
			if ok, err := w.svc.Acknowledge(context.Background(), n.Ticket.ID, "bob", "web"); err != nil || !ok {
				t.Errorf("bob's acknowledgement: %v %v", ok, err)
			}
			taken, by, err := n.Acknowledge(context.Background())
			if err != nil || taken {
				t.Errorf("alice's key 1 after bob: taken %v, %v", taken, err)
			}
			heard = oncall.AlreadyTakenText("en", n.Ticket.Number, by)
			return oncall.Result{Detail: "already taken"}, nil
		}
		msg := &texts{}
		w = newWorld(t, dir, rec, func(e *oncall.Engine) { e.Notifiers["message"] = msg; e.Location = time.UTC })
		defer w.stop()
		tk := w.urgentTicket(t)
		time.Sleep(time.Hour)
		synctest.Wait()
		if want := tk.Number + " is already taken by Bob."; heard != want {
			t.Errorf("alice heard %q, want %q", heard, want)
		}
		got, err := w.db.TicketByID(context.Background(), tk.ID)
		if err != nil || got.AckedBy != "bob" {
			t.Fatalf("ticket acknowledged by %q (%v), want bob", got.AckedBy, err)
		}
		at := rec.start.Add(time.Minute).UTC().Format("15:04")
		want := []string{"alice page", "alice ticket.taken: " + tk.Number + " pris en charge par Bob à " + at}
		if got := msg.all(); !slices.Equal(got, want) {
			t.Errorf("messages:\n got %q\nwant %q", got, want)
		}
	})
}

func mustSends(t *testing.T, w *world, ticketID int64) []oncall.Send {
	t.Helper()
	p, err := w.db.PageByTicket(context.Background(), ticketID)
	if err != nil {
		t.Fatal(err)
	}
	sends, err := w.db.Sends(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sends
}
