package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// A send left sending by a process that died is pending again, due now,
// its attempt counted, once the next engine starts.
func TestReclaimSending(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	_, p := paged(t, db, "alice", "bob")
	sends, _ := db.Sends(ctx, p.ID)
	if ok, err := db.ClaimSend(ctx, sends[0].ID, t0.Add(5*time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimSend = %v, %v", ok, err)
	}
	clk.Add(20 * time.Second)
	n, err := db.ReclaimSending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ReclaimSending = %d, %v; want 1", n, err)
	}
	due, _ := db.DueSends(ctx, clk.Now(), 0)
	i := slices.IndexFunc(due, func(s astreinte.Send) bool { return s.ID == sends[0].ID })
	if len(due) != 2 || i < 0 || due[i].Attempts != 1 || due[i].State != astreinte.SendPending || !due[i].NextTryAt.Equal(clk.Now()) {
		t.Fatalf("due after reclaim: %+v", due)
	}
	if n, _ := db.ReclaimSending(ctx); n != 0 {
		t.Errorf("a second reclaim took %d", n)
	}
}

// An exhausted page cancels its pending pages and queues the fallback,
// which stays due although the page has ended; a retry finished after the
// end is failed, not left pending.
func TestExhaustPageQueuesTheFallback(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice", "bob")
	sends, _ := db.Sends(ctx, p.ID)
	if ok, _ := db.ClaimSend(ctx, sends[0].ID, t0.Add(time.Minute)); !ok {
		t.Fatal("claim")
	}
	fb := []astreinte.Send{
		{Step: 1, Channel: "email", Person: astreinte.FallbackPrefix + "desk@example.com", Event: astreinte.NoticeExhausted},
		{Step: 1, Channel: "webhook", Event: astreinte.NoticeExhausted},
	}
	if _, err := db.ExhaustPage(ctx, p.ID, 1, []astreinte.Send{{Step: 1, Channel: "sip", Person: "x"}}, nil); err == nil {
		t.Error("ExhaustPage took a page send as a fallback")
	}
	ok, err := db.ExhaustPage(ctx, p.ID, 1, fb, []astreinte.Event{{Kind: astreinte.EventExhausted, At: clk.Now(), Detail: "nobody"}})
	if err != nil || !ok {
		t.Fatalf("ExhaustPage = %v, %v", ok, err)
	}
	if ok, _ := db.ExhaustPage(ctx, p.ID, 1, fb, nil); ok {
		t.Error("a second ExhaustPage changed something")
	}
	if got, _ := db.PageByTicket(ctx, tk.ID); got.State != astreinte.PageExhausted {
		t.Errorf("page %s", got.State)
	}
	due, _ := db.DueSends(ctx, clk.Now(), 0)
	var got []string
	for _, s := range due {
		got = append(got, s.Channel+":"+s.Event)
	}
	if want := []string{"email:escalation.exhausted", "webhook:escalation.exhausted"}; !slices.Equal(got, want) {
		t.Fatalf("due after the end: %v, want %v", got, want)
	}
	if ok, _ := db.ClaimSend(ctx, due[0].ID, clk.Now().Add(time.Minute)); !ok {
		t.Error("the fallback could not be claimed on an exhausted page")
	}
	if _, ok, _ := db.NextWake(ctx); !ok {
		t.Error("NextWake ignores the fallback")
	}
	// alice's call, in flight at the end, fails: no retry on an ended page.
	if err := db.FinishSend(ctx, sends[0].ID, astreinte.SendPending, clk.Now().Add(time.Minute), "busy", nil); err != nil {
		t.Fatal(err)
	}
	if st := states(t, db, p.ID); !slices.Equal(st, []string{"alice:failed", "bob:done", "fallback:desk@example.com:sending", ":pending"}) {
		t.Errorf("sends %v", st)
	}
}

// Acknowledgements are announced once per channel, made here or by
// another process.
func TestAckedUnannounced(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	tk, p := paged(t, db, "alice")
	if got, _ := db.AckedUnannounced(ctx, t0.Add(-time.Hour), "webhook"); len(got) != 0 {
		t.Fatalf("before the ack: %+v", got)
	}
	clk.Add(time.Minute)
	if ok, err := db.Acknowledge(ctx, tk.ID, "bob", "cli"); err != nil || !ok {
		t.Fatal(ok, err)
	}
	got, err := db.AckedUnannounced(ctx, t0.Add(-time.Hour), "webhook")
	if err != nil || len(got) != 1 || got[0].AckedBy != "bob" {
		t.Fatalf("AckedUnannounced = %+v, %v", got, err)
	}
	if got, _ := db.AckedUnannounced(ctx, clk.Now().Add(time.Second), "webhook"); len(got) != 0 {
		t.Errorf("an acknowledgement older than since is announced: %+v", got)
	}
	ack := []astreinte.Send{{Step: -1, Channel: "webhook", Person: "bob", Event: astreinte.NoticeAcknowledged}}
	for range 2 {
		if err := db.QueueNotices(ctx, p.ID, ack); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := db.AckedUnannounced(ctx, t0.Add(-time.Hour), "webhook"); len(got) != 0 {
		t.Errorf("announced twice: %+v", got)
	}
	due, _ := db.DueSends(ctx, clk.Now(), 0)
	if len(due) != 1 || due[0].Event != astreinte.NoticeAcknowledged {
		t.Errorf("due: %+v", due)
	}
}
