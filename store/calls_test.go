package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

func TestCalls(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()

	first := &astreinte.Call{SIPCallID: "1@pbx", Line: "support", CallerNumber: "+33612345678", Called: "support", Case: astreinte.CaseOpen}
	if err := db.CreateCall(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || !first.StartedAt.Equal(t0) || first.Outcome != astreinte.OutcomeInProgress {
		t.Errorf("created call %+v: want an ID, started at %v, in progress", first, t0)
	}
	clk.Add(time.Minute)
	second := &astreinte.Call{SIPCallID: "2@pbx", StartedAt: clk.Now()}
	if err := db.CreateCall(ctx, second); err != nil {
		t.Fatal(err)
	}
	tk := createTicket(t, db, astreinte.Ticket{CallID: first.ID}, nil)

	// The call ends; the voicemail flow did not copy the ticket ID into its
	// call, which must not undo the link.
	upd := *first
	upd.AnsweredAt = t0.Add(2 * time.Second)
	upd.EndedAt = t0.Add(50 * time.Second)
	upd.Outcome = astreinte.OutcomeVoicemail
	upd.HangupBy = "caller"
	upd.Case = astreinte.CaseForceOpen
	if err := db.UpdateCall(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, err := db.CallByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := upd
	want.TicketID = tk.ID
	if got != want {
		t.Errorf("CallByID:\n got %+v\nwant %+v", got, want)
	}
	// A later update with zero values keeps what is stored.
	if err := db.UpdateCall(ctx, &astreinte.Call{ID: first.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.CallByID(ctx, first.ID); got != want {
		t.Errorf("after an empty update:\n got %+v\nwant %+v", got, want)
	}

	list, err := db.Calls(ctx, 0)
	if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Errorf("Calls = %+v, %v; want newest first", list, err)
	}
	if list, _ := db.Calls(ctx, 1); len(list) != 1 {
		t.Errorf("Calls(1) gave %d calls", len(list))
	}
	if _, err := db.CallByID(ctx, 404); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("CallByID(404) = %v, want ErrNotFound", err)
	}
	if err := db.UpdateCall(ctx, &astreinte.Call{ID: 404}); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("UpdateCall(404) = %v, want ErrNotFound", err)
	}
}

// On PostgreSQL a node's call log does not wait for the other nodes'
// writes: with another node holding the writers' lock (a long ticket
// transaction, a burst of pages), a call's row is still inserted and
// updated at once. Under the lock, at 50 new calls a second on two nodes,
// rows waited past their deadline and were lost.
func TestCallLogOutsideWriterLock(t *testing.T) {
	if testPG == nil {
		t.Skip("SQLite has one writer per file; the PostgreSQL run tests this")
	}
	nodes := openNodes(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	busy, err := b.db.BeginTx(ctx, nil) // takes the writers' lock, held until it ends
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Rollback()

	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c := &astreinte.Call{SIPCallID: "busy@pbx", Line: "support", CallerNumber: "+33612345678"}
	if err := a.CreateCall(wctx, c); err != nil {
		t.Fatalf("create a call while another node holds the writers' lock: %v", err)
	}
	if err := a.UpdateCall(wctx, &astreinte.Call{ID: c.ID, Outcome: astreinte.OutcomeVoicemail}); err != nil {
		t.Fatalf("update a call while another node holds the writers' lock: %v", err)
	}
	// Writes of the store's other kinds still wait for the lock.
	lctx, lcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer lcancel()
	if tx, err := a.db.BeginTx(lctx, nil); err == nil {
		tx.Rollback()
		t.Fatal("a write transaction began while another node holds the writers' lock")
	}
	if err := busy.Rollback(); err != nil {
		t.Fatal(err)
	}
	got, err := a.Calls(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != c.ID || got[0].Outcome != astreinte.OutcomeVoicemail {
		t.Errorf("calls %+v: want call %d, voicemail", got, c.ID)
	}
}

// A create retried after a timeout whose commit did go through finds the
// row it wrote: one row per call, never two.
func TestCreateCallRetried(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	c := astreinte.Call{SIPCallID: "retry@pbx", Line: "support", CallerNumber: "+33612345678"}
	if err := db.CreateCall(ctx, &c); err != nil {
		t.Fatal(err)
	}
	again := c
	again.ID = 0
	if err := db.CreateCall(ctx, &again); err != nil {
		t.Fatal(err)
	}
	other := astreinte.Call{SIPCallID: "retry@pbx", StartedAt: c.StartedAt.Add(time.Second)}
	if err := db.CreateCall(ctx, &other); err != nil {
		t.Fatal(err)
	}
	calls, err := db.Calls(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != c.ID || other.ID == c.ID || len(calls) != 2 {
		t.Errorf("created %d, again %d, a later call of the same Call-ID %d; %d rows: want the first twice and 2 rows",
			c.ID, again.ID, other.ID, len(calls))
	}
}
