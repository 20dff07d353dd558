package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

func createTicket(t testing.TB, db *DB, tk astreinte.Ticket, page *NewPage) astreinte.Ticket {
	t.Helper()
	if err := db.CreateTicket(context.Background(), &tk, page); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTicketNumbers(t *testing.T) {
	db, _ := openTest(t)
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2025, 12, 31, 10, 0, 0, 0, time.UTC), "2025-000001"},
		{time.Date(2025, 12, 31, 11, 0, 0, 0, time.UTC), "2025-000002"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-000001"}, // the counter restarts
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), "2025-000003"}, // a late repair: its own year
		// 23:30 UTC on 31 December is already 2026 in Paris: the year is the
		// one of CreatedAt's own location.
		{time.Date(2026, 1, 1, 0, 30, 0, 0, paris), "2026-000002"},
		{time.Date(2026, 1, 1, 0, 30, 0, 0, paris).UTC(), "2025-000004"},
	}
	for _, tt := range tests {
		tk := createTicket(t, db, astreinte.Ticket{CreatedAt: tt.at}, nil)
		if tk.Number != tt.want || tk.ID == 0 || tk.Status != astreinte.StatusNew {
			t.Errorf("ticket created at %v: number %q id %d status %q, want %s, an ID, new", tt.at, tk.Number, tk.ID, tk.Status, tt.want)
		}
	}
}

func TestCreateTicketConcurrent(t *testing.T) {
	db, _ := openTest(t)
	const workers, each = 8, 10
	var (
		mu      sync.Mutex
		numbers []string
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for range each {
				tk := astreinte.Ticket{CallerNumber: "+33612345678"}
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
	wg.Wait()
	slices.Sort(numbers)
	if len(slices.Compact(slices.Clone(numbers))) != workers*each {
		t.Fatalf("%d distinct numbers out of %d", len(slices.Compact(slices.Clone(numbers))), workers*each)
	}
	if numbers[0] != "2026-000001" || numbers[len(numbers)-1] != fmt.Sprintf("2026-%06d", workers*each) {
		t.Errorf("numbers from %s to %s, want a gapless sequence", numbers[0], numbers[len(numbers)-1])
	}
}

func TestTicketByNumber(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	for _, at := range []time.Time{
		time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC),
	} {
		createTicket(t, db, astreinte.Ticket{CreatedAt: at}, nil)
	}
	tests := []struct {
		in   string
		want string // "" for not found
	}{
		{"2026-000002", "2026-000002"},
		{"2026-2", "2026-000002"},
		{"2", "2026-000002"}, // the most recent year having it
		{"3", "2025-000003"},
		{"000003", "2025-000003"},
		{"2025-000001", "2025-000001"},
		{" #2025-2 ", "2025-000002"},
		{"2026-3", ""},
		{"2024-1", ""},
		{"7", ""},
		{"0", ""},
		{"", ""},
		{"abc", ""},
		{"2026-", ""},
		{"-1", ""},
		{"2026-+1", ""},
		{"2026-1-1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tk, err := db.TicketByNumber(ctx, tt.in)
			if tt.want == "" {
				if !errors.Is(err, astreinte.ErrNotFound) {
					t.Errorf("TicketByNumber(%q) = %s, %v; want ErrNotFound", tt.in, tk.Number, err)
				}
				return
			}
			if err != nil || tk.Number != tt.want {
				t.Errorf("TicketByNumber(%q) = %s, %v; want %s", tt.in, tk.Number, err, tt.want)
			}
		})
	}
}

func TestCreateTicketWithPage(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	call := &astreinte.Call{SIPCallID: "x@y", CallerNumber: "+33612345678", Line: "support"}
	if err := db.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	in := astreinte.Ticket{
		CallID: call.ID, Line: "support", CallerNumber: "+33612345678", CallerName: "Dupont",
		Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, Recording: "/var/rec/1.wav",
		Duration: 42*time.Second + 300*time.Millisecond, DueAt: t0.Add(time.Hour),
	}
	next := t0.Add(30 * time.Second)
	tk := createTicket(t, db, in, &NewPage{Policy: "night", NextAt: next})

	got, err := db.TicketByID(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.Number, want.Status, want.CreatedAt = tk.ID, "2026-000001", astreinte.StatusNew, t0
	want.Kind, want.RecordingCount = astreinte.KindVoicemail, 1
	want.Recordings = []astreinte.Recording{{Path: in.Recording, Duration: in.Duration, At: t0, Urgency: astreinte.Urgent, CallID: call.ID}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TicketByID:\n got %+v\nwant %+v", got, want)
	}
	p, err := db.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != astreinte.PageActive || p.Step != 0 || !p.NextAt.Equal(next) || p.Policy != "night" || !p.CreatedAt.Equal(t0) {
		t.Errorf("page = %+v, want active, step 0, next at %v, policy night", p, next)
	}
	if c, err := db.CallByID(ctx, call.ID); err != nil || c.TicketID != tk.ID {
		t.Errorf("call.TicketID = %d, %v; want %d", c.TicketID, err, tk.ID)
	}
	tl := timeline(t, db, tk.ID)
	wantTL := []string{
		"created caller  urgent voicemail from +33612345678 (Dupont) on line support, 42s",
		"page_queued system  policy night",
	}
	if !slices.Equal(tl, wantTL) {
		t.Errorf("timeline:\n got %q\nwant %q", tl, wantTL)
	}
}

func TestCreateTicketAtomic(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	// The call does not exist: nothing of the ticket may remain, not even
	// its number.
	tk := astreinte.Ticket{CallID: 999}
	if err := db.CreateTicket(ctx, &tk, &NewPage{Policy: "p"}); err == nil {
		t.Fatal("CreateTicket with a missing call succeeded")
	}
	if tk.ID != 0 || tk.Number != "" {
		t.Errorf("failed CreateTicket set ID %d, number %q", tk.ID, tk.Number)
	}
	for _, table := range []string{"tickets", "events", "pages", "ticket_counters"} {
		var n int
		if err := db.rdb.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows (%v), want 0", table, n, err)
		}
	}
	if tk := createTicket(t, db, astreinte.Ticket{}, nil); tk.Number != "2026-000001" {
		t.Errorf("next number %s, want 2026-000001", tk.Number)
	}
}

// timeline returns a ticket's timeline as "kind actor channel detail".
func timeline(t testing.TB, db *DB, id int64) []string {
	t.Helper()
	evs, err := db.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.TicketID != id || e.At.IsZero() || e.ID == 0 {
			t.Errorf("event %+v: wrong ticket, no time or no ID", e)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Kind, e.Actor, e.Channel, e.Detail))
	}
	return out
}

func TestTicketsFilter(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	mk := func(day int, caller, name string, u astreinte.Urgency) astreinte.Ticket {
		return createTicket(t, db, astreinte.Ticket{
			CreatedAt: time.Date(2026, 2, day, 12, 0, 0, 0, time.UTC), CallerNumber: caller, CallerName: name, Urgency: u,
		}, nil)
	}
	a := mk(1, "+33612345678", "Dupont", astreinte.Urgent)
	b := mk(2, "+33198765432", "Martin_SA", astreinte.NotUrgent)
	c := mk(3, "+41221234567", "100% Bio", astreinte.Urgent)
	if err := db.SetStatus(ctx, b.ID, astreinte.StatusResolved, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Acknowledge(ctx, c.ID, "bob", "web"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    astreinte.TicketFilter
		want []astreinte.Ticket
	}{
		{"all, newest first", astreinte.TicketFilter{}, []astreinte.Ticket{c, b, a}},
		{"limit", astreinte.TicketFilter{Limit: 2}, []astreinte.Ticket{c, b}},
		{"status", astreinte.TicketFilter{Status: []astreinte.Status{astreinte.StatusNew}}, []astreinte.Ticket{a}},
		{"statuses", astreinte.TicketFilter{Status: []astreinte.Status{astreinte.StatusNew, astreinte.StatusAcknowledged}}, []astreinte.Ticket{c, a}},
		{"urgency", astreinte.TicketFilter{Urgency: astreinte.Urgent}, []astreinte.Ticket{c, a}},
		{"status and urgency", astreinte.TicketFilter{Urgency: astreinte.Urgent, Status: []astreinte.Status{astreinte.StatusResolved}}, nil},
		{"caller fragment", astreinte.TicketFilter{Search: "612 345"}, []astreinte.Ticket{a}},
		{"caller prefix", astreinte.TicketFilter{Search: "+33"}, []astreinte.Ticket{b, a}},
		{"name", astreinte.TicketFilter{Search: "dupont"}, []astreinte.Ticket{a}},
		{"LIKE wildcards are literal", astreinte.TicketFilter{Search: "_"}, []astreinte.Ticket{b}},
		{"percent", astreinte.TicketFilter{Search: "100%"}, []astreinte.Ticket{c}},
		{"full number", astreinte.TicketFilter{Search: "2026-000002"}, []astreinte.Ticket{b}},
		{"short number", astreinte.TicketFilter{Search: "2026-3"}, []astreinte.Ticket{c}},
		{"created from", astreinte.TicketFilter{From: time.Date(2026, 2, 2, 12, 0, 0, 0, time.UTC)}, []astreinte.Ticket{c, b}},
		{"created before", astreinte.TicketFilter{To: time.Date(2026, 2, 2, 12, 0, 0, 0, time.UTC)}, []astreinte.Ticket{a}},
		{"period in another zone", astreinte.TicketFilter{From: time.Date(2026, 2, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
			To: time.Date(2026, 2, 3, 0, 0, 0, 0, time.FixedZone("CET", 3600))}, []astreinte.Ticket{b}},
		{"no limit", astreinte.TicketFilter{Limit: -1}, []astreinte.Ticket{c, b, a}},
		{"no match", astreinte.TicketFilter{Search: "zzz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Tickets(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := numbers(got), numbers(tt.want); !slices.Equal(g, w) {
				t.Errorf("Tickets(%+v) = %v, want %v", tt.f, g, w)
			}
		})
	}
}

func numbers(ts []astreinte.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Number)
	}
	return out
}

func TestTicketsDefaultLimit(t *testing.T) {
	db, _ := openTest(t)
	for range 55 {
		createTicket(t, db, astreinte.Ticket{}, nil)
	}
	got, err := db.Tickets(context.Background(), astreinte.TicketFilter{})
	if err != nil || len(got) != 50 {
		t.Errorf("Tickets() = %d tickets, %v; want 50", len(got), err)
	}
}

func TestAddEvent(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tk := createTicket(t, db, astreinte.Ticket{}, nil)
	if err := db.AddNote(ctx, tk.ID, "alice", "customer called again"); err != nil {
		t.Fatal(err)
	}
	// An event dated earlier sorts earlier: the timeline is in time order.
	if err := db.AddEvent(ctx, astreinte.Event{TicketID: tk.ID, At: t0.Add(-time.Minute), Kind: astreinte.EventPageSent,
		Actor: "system", Channel: "email", Detail: "250 OK"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"page_sent system email 250 OK",
		"created caller  voicemail from an unknown number",
		"note alice  customer called again",
	}
	if got := timeline(t, db, tk.ID); !slices.Equal(got, want) {
		t.Errorf("timeline:\n got %q\nwant %q", got, want)
	}
	for _, err := range []error{
		db.AddNote(ctx, 404, "alice", "x"),
		db.AddEvent(ctx, astreinte.Event{TicketID: 404, Kind: astreinte.EventNote}),
	} {
		if !errors.Is(err, astreinte.ErrNotFound) {
			t.Errorf("event on a missing ticket: %v, want ErrNotFound", err)
		}
	}
	if _, err := db.TicketByID(ctx, 404); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("TicketByID(404): %v, want ErrNotFound", err)
	}
}

// TicketByRecording is how start-up repair tells a recording that already
// has its ticket from one a crash left without.
func TestTicketByRecording(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	a := createTicket(t, db, astreinte.Ticket{CreatedAt: at, Recording: "/data/recordings/2026/11/24/a.wav", CallerNumber: "0612345678"}, nil)
	createTicket(t, db, astreinte.Ticket{CreatedAt: at, Recording: "/data/recordings/2026/11/24/b.wav"}, nil)
	got, err := db.TicketByRecording(ctx, "/data/recordings/2026/11/24/a.wav")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Number != a.Number || got.CallerNumber != "0612345678" {
		t.Errorf("got %+v, want ticket %s", got, a.Number)
	}
	for _, p := range []string{"/data/recordings/2026/11/24/c.wav", "/data/recordings/2026/11/24/a.wav.part", ""} {
		if _, err := db.TicketByRecording(ctx, p); !errors.Is(err, astreinte.ErrNotFound) {
			t.Errorf("%q: want ErrNotFound, got %v", p, err)
		}
	}
}
