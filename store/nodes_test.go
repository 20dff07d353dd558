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
