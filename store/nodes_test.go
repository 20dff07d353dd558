package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// Ticket numbers stay unique and gap-free per year when several nodes
// create tickets at once, some of them in transactions that fail after
// taking a number (a call that does not exist): those give theirs back.
func TestTicketNumbersAcrossNodes(t *testing.T) {
	nodes := openNodes(t, 3)
	const perWorker = 12
	var (
		mu      sync.Mutex
		numbers []string
		wg      sync.WaitGroup
	)
	for i, db := range nodes {
		for w := range 2 {
			wg.Go(func() {
				for k := range perWorker {
					tk := astreinte.Ticket{CallerNumber: fmt.Sprintf("+3361234%d%d%02d", i, w, k)}
					if k%4 == 3 {
						tk.CallID = 999999 // no such call: the transaction fails after its number
						if err := db.CreateTicket(context.Background(), &tk, nil); err == nil {
							t.Errorf("ticket for a call that does not exist: no error")
						}
						continue
					}
					if err := db.CreateTicket(context.Background(), &tk, &NewPage{Policy: "default"}); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					numbers = append(numbers, tk.Number)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	want := len(nodes) * 2 * perWorker * 3 / 4
	slices.Sort(numbers)
	if len(numbers) != want || len(slices.Compact(slices.Clone(numbers))) != want {
		t.Fatalf("%d numbers, %d distinct, want %d", len(numbers), len(slices.Compact(slices.Clone(numbers))), want)
	}
	for i, n := range numbers {
		if w := fmt.Sprintf("2026-%06d", i+1); n != w {
			t.Fatalf("number #%d is %s, want %s: the sequence has a gap", i+1, n, w)
		}
	}
}

// Regression: a node that has taken a send's lock and is about to claim its
// row (still pending) keeps it: another node's claim in between fails,
// instead of both claiming it (found with two engines under -race).
func TestClaimSendWhileAnotherNodeHoldsTheLock(t *testing.T) {
	if testPG == nil {
		t.Skip("PostgreSQL only: SQLite claims are plain conditional updates")
	}
	nodes := openNodes(t, 2)
	ctx := context.Background()
	_, p := paged(t, nodes[0], "alice")
	sends, err := nodes[0].Sends(ctx, p.ID)
	if err != nil || len(sends) != 1 {
		t.Fatalf("sends %v, %v", sends, err)
	}
	id := sends[0].ID
	ok, err := nodes[0].leases.claim(ctx, id, func(newly bool) (bool, error) {
		if !newly {
			t.Error("the first claim did not take the lock")
		}
		if ok, err := nodes[1].ClaimSend(ctx, id, t0.Add(time.Minute)); ok || err != nil {
			t.Errorf("the other node's claim while the lock is held = %v, %v; want false", ok, err)
		}
		return nodes[0].pgClaimUpdate(ctx, id, t0.Add(time.Minute), newly)
	})
	if err != nil || !ok {
		t.Fatalf("the lock holder's claim = %v, %v", ok, err)
	}
	if ok, _ := nodes[1].ClaimSend(ctx, id, t0.Add(time.Minute)); ok {
		t.Error("the other node claimed a send being delivered")
	}
}

// A call in progress on a node whose lease is gone (its connection closed,
// as when the process is killed) is found by the other nodes, and filed as
// a ticket by exactly one of them however many try at once; a call whose
// node lives is not touched.
func TestCutCallFiledOnceAcrossNodes(t *testing.T) {
	if testPG == nil {
		t.Skip("PostgreSQL only: on SQLite one node per file, start-up recovery files a previous run's calls")
	}
	nodes := openNodes(t, 3)
	ctx := context.Background()
	for i, db := range nodes {
		if _, err := db.StartNode(ctx, fmt.Sprintf("host-%d:%d", i, 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := nodes[0].StartNode(ctx, "again"); err == nil {
		t.Error("a second StartNode on one store: no error")
	}
	live := astreinte.Call{SIPCallID: "live", CallerNumber: "+33611111111", Line: "support"}
	cut := astreinte.Call{SIPCallID: "cut", CallerNumber: "+33622222222", Line: "support"}
	if err := nodes[1].CreateCall(ctx, &live); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].CreateCall(ctx, &cut); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].UpdateCall(ctx, &astreinte.Call{ID: cut.ID, Recording: "/data/a/rec.wav"}); err != nil {
		t.Fatal(err)
	}
	got, err := nodes[2].CallByID(ctx, cut.ID)
	if err != nil || got.Node != nodes[0].NodeID() || got.Recording != "/data/a/rec.wav" {
		t.Fatalf("call row %+v, %v: want node %d and its recording", got, err, nodes[0].NodeID())
	}
	if cs, err := nodes[2].CutCalls(ctx, 0); err != nil || len(cs) != 0 {
		t.Fatalf("cut calls while every node lives: %v, %v", cs, err)
	}
	tk := &astreinte.Ticket{CallID: cut.ID, CallerNumber: cut.CallerNumber, Kind: astreinte.KindMissedCall}
	if ok, err := nodes[2].FileCutCall(ctx, tk, nil, t0, ""); ok || err != nil {
		t.Fatalf("filed the call of a live node: %v, %v", ok, err)
	}

	// Node 0 dies mid-call: its lease's connection goes.
	close(nodes[0].node.stop)
	<-nodes[0].node.done
	nodes[0].node.stop = nil
	nodes[0].node.conn.Close()
	nodes[0].node.conn = nil

	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := nodes[2].CutCalls(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 && cs[0].ID == cut.ID {
			break
		}
		if len(cs) > 1 || time.Now().After(deadline) {
			t.Fatalf("cut calls %+v: want only call %d", cs, cut.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		filed []string
	)
	for _, db := range nodes[1:] {
		for range 3 {
			wg.Go(func() {
				tk := &astreinte.Ticket{CallID: cut.ID, CallerNumber: cut.CallerNumber, Kind: astreinte.KindMissedCall}
				ok, err := db.FileCutCall(ctx, tk, &NewPage{Policy: "default"}, t0.Add(time.Minute), "call cut")
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					filed = append(filed, tk.Number)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(filed) != 1 {
		t.Fatalf("filed %v: want exactly one ticket", filed)
	}
	got, err = nodes[1].CallByID(ctx, cut.ID)
	if err != nil || got.Outcome != astreinte.OutcomeCut || got.HangupBy != HangupNodeLost || got.TicketID == 0 {
		t.Fatalf("cut call row %+v, %v", got, err)
	}
	ticket, err := nodes[1].TicketByID(ctx, got.TicketID)
	if err != nil || ticket.Number != filed[0] {
		t.Fatalf("ticket %+v, %v: want %s", ticket, err, filed[0])
	}
	tl, err := nodes[1].Timeline(ctx, ticket.ID)
	if err != nil {
		t.Fatal(err)
	}
	notes := 0
	for _, e := range tl {
		if e.Kind == astreinte.EventNote && e.Detail == "call cut" {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("timeline %+v: want the note once", tl)
	}
	if n, err := nodes[1].Tickets(ctx, astreinte.TicketFilter{}); err != nil || len(n) != 1 {
		t.Errorf("tickets %d, %v: want 1 (numbers given back by the losers)", len(n), err)
	}
	if cs, err := nodes[1].CutCalls(ctx, 0); err != nil || len(cs) != 0 {
		t.Errorf("cut calls once filed: %v, %v", cs, err)
	}
	if c, err := nodes[2].CallByID(ctx, live.ID); err != nil || c.Outcome != astreinte.OutcomeInProgress {
		t.Errorf("the live node's call %+v, %v", c, err)
	}
}
