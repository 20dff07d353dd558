package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// TestOpenTicketFrom: the repeat caller's ticket is the newest open one of
// the line whose caller or callback number is theirs; a resolved ticket, or
// one of another line, is not. On SQLite the look-up goes by index, not
// through every open ticket of the line.
func TestOpenTicketFrom(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	mk := func(line, caller, callback string, at time.Duration) astreinte.Ticket {
		return createTicket(t, db, astreinte.Ticket{Line: line, CallerNumber: caller, CallbackNumber: callback,
			Urgency: astreinte.NotUrgent, CreatedAt: t0.Add(at)}, nil)
	}
	mk("support", "+33612345678", "", 0) // an older one of the same number
	newer := mk("support", "+33612345678", "", time.Minute)
	typed := mk("support", "anonymous", "+33698765432", 2*time.Minute)
	other := mk("ventes", "+33611111111", "", 3*time.Minute)
	gone := mk("support", "+33622222222", "", 4*time.Minute)
	if err := db.SetStatus(ctx, gone.ID, astreinte.StatusResolved, "alice", ""); err != nil {
		t.Fatal(err)
	}
	acked := mk("support", "+33633333333", "", 5*time.Minute)
	if ok, err := db.Acknowledge(ctx, acked.ID, "alice", "web"); err != nil || !ok {
		t.Fatalf("Acknowledge = %v, %v", ok, err)
	}
	for _, tt := range []struct {
		line, number string
		want         int64 // 0: none
	}{
		{"support", "+33612345678", newer.ID},
		{"support", "+33698765432", typed.ID}, // the callback number typed
		{"support", "+33611111111", 0},        // another line's
		{"ventes", "+33611111111", other.ID},
		{"support", "+33622222222", 0}, // resolved
		{"support", "+33633333333", acked.ID},
		{"support", "+33644444444", 0},
		{"support", "", 0},
	} {
		got, err := db.OpenTicketFrom(ctx, tt.line, tt.number)
		switch {
		case tt.want == 0 && !errors.Is(err, astreinte.ErrNotFound):
			t.Errorf("OpenTicketFrom(%s, %q) = ticket %d, %v; want not found", tt.line, tt.number, got.ID, err)
		case tt.want != 0 && (err != nil || got.ID != tt.want):
			t.Errorf("OpenTicketFrom(%s, %q) = ticket %d, %v; want %d", tt.line, tt.number, got.ID, err, tt.want)
		}
	}
	if db.Postgres() {
		return
	}
	rows, err := db.rdb.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM tickets
		WHERE caller_number = ? AND line = ? AND status IN ('new', 'acknowledged')`, "+33612345678", "support")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "tickets_open_caller") {
		t.Errorf("the caller's open tickets are found by %q, not by their index", p)
	}
}
