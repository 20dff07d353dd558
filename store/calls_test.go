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
