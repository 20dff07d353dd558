package tickets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// lastNote is the detail of the ticket's latest note.
func lastNote(t *testing.T, svc *Service, id int64) string {
	t.Helper()
	evs, err := svc.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == astreinte.EventNote {
			return evs[i].Detail
		}
	}
	return ""
}

// TestJoinReplans: a later call makes the ticket as urgent as its most
// urgent call, due by the earliest due time, and gives it the customer it
// lacked; the timeline says which message it is and what changed.
func TestJoinReplans(t *testing.T) {
	ctx := context.Background()
	svc, db, clk := newContractService(t, false)
	first := astreinte.Ticket{Line: "support", CallerNumber: "+33611111111", Urgency: astreinte.NotUrgent,
		Case: astreinte.CaseOutOfHours, Recording: "/rec/a.wav", Duration: 12 * time.Second, CreatedAt: clk.t}
	if f, err := svc.Take(ctx, &first); err != nil || f.Merged || f.Paging {
		t.Fatalf("first call: %+v, %v; want a new ticket, no page", f, err)
	}
	if first.Customer != "" {
		t.Fatalf("first call identified as %q, want unidentified", first.Customer)
	}
	clk.t = clk.t.Add(30 * time.Minute)
	second := astreinte.Ticket{Line: "support", CallerNumber: "+33611111111", Urgency: astreinte.Urgent, Customer: "C001",
		Case: astreinte.CaseOutOfHours, Recording: "/rec/b.wav", Duration: 20 * time.Second, CreatedAt: clk.t}
	f, err := svc.Take(ctx, &second)
	if err != nil || !f.Merged || !f.Paging || second.ID != first.ID {
		t.Fatalf("second call: %+v, %v on ticket %d; want joined to %d, paging", f, err, second.ID, first.ID)
	}
	got, err := svc.ByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Urgency != astreinte.Urgent || got.Customer != "C001" || got.Contract != "isp" || !got.DueAt.Equal(clk.t) {
		t.Errorf("joined ticket: %s, customer %q (%s), due %v; want urgent, C001 (isp), due %v", got.Urgency, got.Customer, got.Contract, got.DueAt, clk.t)
	}
	if len(got.Recordings) != 2 || got.Recordings[0].Path != "/rec/b.wav" || got.Recordings[0].Urgency != astreinte.Urgent ||
		got.Recordings[1].Urgency != astreinte.NotUrgent {
		t.Errorf("recordings %+v: want b (urgent) then a (normal)", got.Recordings)
	}
	note := lastNote(t, svc, first.ID)
	for _, want := range []string{"2nd message (urgent, 20s)", "urgency normal → urgent", "due ", "→ Tue 01 Dec 22:30 CET", "customer C001 matched (contract isp)"} {
		if !strings.Contains(note, want) {
			t.Errorf("timeline note %q lacks %q", note, want)
		}
	}
	// A third, normal call changes nothing but adds its message.
	clk.t = clk.t.Add(10 * time.Minute)
	third := astreinte.Ticket{Line: "support", CallerNumber: "+33611111111", Urgency: astreinte.NotUrgent,
		Case: astreinte.CaseOutOfHours, Recording: "/rec/c.wav", Duration: 5 * time.Second, CreatedAt: clk.t}
	if _, err := svc.Take(ctx, &third); err != nil {
		t.Fatal(err)
	}
	if note := lastNote(t, svc, first.ID); note != "3rd message (normal, 5s)" {
		t.Errorf("third call's note %q, want only the message", note)
	}
	if got, _ := db.TicketByID(ctx, first.ID); got.Urgency != astreinte.Urgent || got.RecordingCount != 3 {
		t.Errorf("after the third call: %s with %d recordings; want urgent, 3", got.Urgency, got.RecordingCount)
	}
}

// TestAmend: the caller still on the line presses 1 after the ticket was
// filed, then speaks again: the ticket becomes urgent, due at once and
// paged at once; the recording gets its new length and marks; a repeated
// amendment changes nothing; a ticket already paging is not paged twice.
func TestAmend(t *testing.T) {
	ctx := context.Background()
	svc, db := newService(t, map[string]Policy{"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent}})
	var changes []Change
	svc.Subscribe(func(c Change) { changes = append(changes, c) })
	tk := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.NotUrgent,
		Case: astreinte.CaseOutOfHours, Recording: "/rec/a.wav", Duration: 8 * time.Second, CreatedAt: pt("2026-12-01 22:00")}
	if f, err := svc.Take(ctx, &tk); err != nil || f.Paging {
		t.Fatalf("take: %+v, %v; want no page", f, err)
	}
	marks := []astreinte.Mark{{At: 2 * time.Second, Kind: astreinte.MarkBeep}, {At: 9 * time.Second, Kind: astreinte.MarkKey, Name: "1"}}
	steps := []struct {
		name       string
		a          astreinte.Amendment
		wantPaging bool
		wantPages  int    // pages queued on the timeline so far
		wantNote   string // a fragment of the latest note
		wantDur    time.Duration
	}{
		{"pressed 1", astreinte.Amendment{Recording: "/rec/a.wav", Duration: 8 * time.Second, Urgent: true}, true, 1,
			"the caller pressed 1: urgent; urgency normal → urgent; due Fri 04 Dec 18:00 CET → Tue 01 Dec 22:00 CET", 8 * time.Second},
		{"pressed 1 again", astreinte.Amendment{Recording: "/rec/a.wav", Duration: 8 * time.Second, Urgent: true}, true, 1,
			"due Fri 04 Dec 18:00 CET → Tue 01 Dec 22:00 CET", 8 * time.Second},
		{"spoke again", astreinte.Amendment{Recording: "/rec/a.wav", Duration: 30 * time.Second, Marks: marks, Urgent: true}, true, 1,
			"message 1 is now 30s (was 8s)", 30 * time.Second},
		{"same again", astreinte.Amendment{Recording: "/rec/a.wav", Duration: 30 * time.Second, Marks: marks, Urgent: true}, true, 1,
			"message 1 is now 30s (was 8s)", 30 * time.Second},
	}
	for _, st := range steps {
		f, err := svc.Amend(ctx, tk.ID, st.a)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := svc.ByID(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		queued := 0
		evs, _ := svc.Timeline(ctx, tk.ID)
		for _, e := range evs {
			if e.Kind == astreinte.EventPageQueued {
				queued++
			}
		}
		if f.Paging != st.wantPaging || f.Merged || queued != st.wantPages {
			t.Errorf("%s: %+v with %d page(s) queued; want paging %v, %d", st.name, f, queued, st.wantPaging, st.wantPages)
		}
		if note := lastNote(t, svc, tk.ID); !strings.Contains(note, st.wantNote) {
			t.Errorf("%s: latest note %q, want %q in it", st.name, note, st.wantNote)
		}
		if got.Urgency != astreinte.Urgent || !got.DueAt.Equal(pt("2026-12-01 22:00")) || got.Recordings[0].Duration != st.wantDur ||
			got.Duration != st.wantDur || got.Recordings[0].Urgency != astreinte.Urgent {
			t.Errorf("%s: ticket %s due %v, recording %+v; want urgent, due at once, %v", st.name, got.Urgency, got.DueAt, got.Recordings[0], st.wantDur)
		}
	}
	if got, _ := svc.ByID(ctx, tk.ID); len(got.Marks) != 2 || got.Marks[1].Name != "1" {
		t.Errorf("marks %+v, want the amendment's", got.Marks)
	}
	if n := len(changes); n != 3 { // created, urgent, grew
		t.Errorf("%d changes announced, want 3: %+v", n, changes)
	}
	if p, err := db.PageByTicket(ctx, tk.ID); err != nil || p.State != oncall.PageActive {
		t.Errorf("page %+v (%v), want active", p, err)
	}
	if _, err := svc.Amend(ctx, tk.ID, astreinte.Amendment{Recording: "/rec/other.wav", Duration: time.Minute}); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("unknown recording: %v, want ErrNotFound", err)
	}
}

// TestAmendJoined: the caller of a later, normal call presses 1 after it
// joined a ticket that is acknowledged: its message becomes urgent, the
// ticket too, and nobody is paged (someone has it).
func TestAmendJoined(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, map[string]Policy{"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent}})
	call := func(rec string) astreinte.Ticket {
		tk := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.NotUrgent,
			Case: astreinte.CaseOutOfHours, Recording: rec, Duration: 4 * time.Second, CreatedAt: pt("2026-12-01 22:00")}
		if _, err := svc.Take(ctx, &tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	first := call("/rec/a.wav")
	if _, err := svc.Acknowledge(ctx, first.ID, "alice", "cli"); err != nil {
		t.Fatal(err)
	}
	call("/rec/b.wav")
	f, err := svc.Amend(ctx, first.ID, astreinte.Amendment{Recording: "/rec/b.wav", Duration: 6 * time.Second, Urgent: true})
	if err != nil || !f.Merged || f.Paging {
		t.Fatalf("amend: %+v, %v; want a joined recording, no page", f, err)
	}
	got, _ := svc.ByID(ctx, first.ID)
	if got.Urgency != astreinte.Urgent || got.Recordings[0].Urgency != astreinte.Urgent || got.Recordings[1].Urgency != astreinte.NotUrgent ||
		got.Recordings[0].Duration != 6*time.Second {
		t.Errorf("ticket %s, recordings %+v: want urgent, b urgent (6s), a normal", got.Urgency, got.Recordings)
	}
	if note := lastNote(t, svc, first.ID); !strings.Contains(note, "message 2 is now 6s (was 4s)") {
		t.Errorf("note %q", note)
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		if got := Ordinal(n); got != want {
			t.Errorf("Ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestRecoverJoinedRecording: after a crash, the repair finds a later
// call's recording already filed with the ticket it joined: no new ticket.
func TestRecoverJoinedRecording(t *testing.T) {
	ctx := context.Background()
	svc, db := newService(t, map[string]Policy{"support": {DueNormal: 3, Page: astreinte.PageUrgent}})
	for _, rec := range []string{"/rec/a.wav", "/rec/b.wav"} {
		tk := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.NotUrgent,
			Case: astreinte.CaseOutOfHours, Recording: rec, Duration: time.Second}
		if _, err := svc.Take(ctx, &tk); err != nil {
			t.Fatal(err)
		}
	}
	made, err := svc.Recover(ctx, &astreinte.Ticket{Recording: "/rec/b.wav", CallerNumber: "+33612345678"})
	if err != nil || made {
		t.Errorf("Recover of a joined recording: made %v, %v; want nothing made", made, err)
	}
	if list, _ := db.Tickets(ctx, astreinte.TicketFilter{}); len(list) != 1 {
		t.Errorf("%d tickets, want 1", len(list))
	}
}
