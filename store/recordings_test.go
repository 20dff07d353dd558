package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// TestRecordingsNewestFirst: a ticket read in full carries every message,
// the later calls' first, each with its urgency, time and marks; a listing
// carries their count.
func TestRecordingsNewestFirst(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	beep := []astreinte.Mark{{At: 3 * time.Second, Kind: astreinte.MarkBeep}, {At: 1 * time.Second, Kind: astreinte.MarkKey, Name: "1"}}
	tk := createTicket(t, db, astreinte.Ticket{CreatedAt: t0, Line: "support", CallerNumber: "+33612345678",
		Urgency: astreinte.NotUrgent, Recording: "/rec/a.wav", Duration: 10 * time.Second, MessageAt: 3 * time.Second, Marks: beep}, nil)
	later := astreinte.Ticket{CreatedAt: t0.Add(time.Hour), Recording: "/rec/b.wav", Duration: 20 * time.Second,
		Urgency: astreinte.Urgent, Marks: []astreinte.Mark{{At: 2 * time.Second, Kind: astreinte.MarkBeep}}}
	due := t0.Add(2 * time.Hour)
	if err := db.MergeIntoTicket(ctx, tk.ID, &later, Replan{Urgency: astreinte.Urgent, DueAt: due, Detail: "2nd message"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.TicketByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := []astreinte.Recording{
		{Path: "/rec/b.wav", Duration: 20 * time.Second, At: t0.Add(time.Hour), Urgency: astreinte.Urgent, Marks: later.Marks},
		{Path: "/rec/a.wav", Duration: 10 * time.Second, At: t0, Urgency: astreinte.NotUrgent, MessageAt: 3 * time.Second, Marks: beep},
	}
	if !reflect.DeepEqual(got.Recordings, want) {
		t.Errorf("recordings:\n got %+v\nwant %+v", got.Recordings, want)
	}
	if got.RecordingCount != 2 || got.Urgency != astreinte.Urgent || !got.DueAt.Equal(due) || !reflect.DeepEqual(got.Marks, beep) {
		t.Errorf("ticket: count %d, urgency %s, due %v, marks %v; want 2, urgent, %v, the first call's", got.RecordingCount, got.Urgency, got.DueAt, got.Marks, due)
	}
	if tl := timeline(t, db, tk.ID); len(tl) != 2 || tl[1] != "note caller  2nd message" {
		t.Errorf("timeline %q: want the re-plan's note", tl)
	}
	list, err := db.Tickets(ctx, astreinte.TicketFilter{})
	if err != nil || len(list) != 1 || list[0].RecordingCount != 2 || list[0].Recordings != nil {
		t.Errorf("list %+v (%v): want one ticket counting 2 recordings, none loaded", list, err)
	}
	none := createTicket(t, db, astreinte.Ticket{CreatedAt: t0, Kind: astreinte.KindMissedCall}, nil)
	if got, err := db.TicketByID(ctx, none.ID); err != nil || got.RecordingCount != 0 || got.Recordings != nil {
		t.Errorf("missed call: %+v (%v), want no recordings", got, err)
	}
}

// TestTicketByRecordingJoined: the start-up repair finds a later call's
// recording merged into a ticket, not only the ticket's first.
func TestTicketByRecordingJoined(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tk := createTicket(t, db, astreinte.Ticket{CreatedAt: t0, Recording: "/rec/a.wav"}, nil)
	createTicket(t, db, astreinte.Ticket{CreatedAt: t0, Recording: "/rec/z.wav"}, nil)
	later := astreinte.Ticket{Recording: "/rec/b.wav", Duration: time.Second}
	if err := db.MergeIntoTicket(ctx, tk.ID, &later, Replan{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/rec/a.wav", "/rec/b.wav"} {
		got, err := db.TicketByRecording(ctx, p)
		if err != nil || got.ID != tk.ID || got.RecordingCount != 2 {
			t.Errorf("%s: ticket %d (%v) with %d recordings, want %d with 2", p, got.ID, err, got.RecordingCount, tk.ID)
		}
	}
	if _, err := db.TicketByRecording(ctx, "/rec/c.wav"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("unknown recording: %v, want ErrNotFound", err)
	}
}

// TestAmendTicket: a recording that grew gets its new duration and marks
// where it is stored (the ticket's own or a joined one); an unknown one
// changes nothing.
func TestAmendTicket(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	tk := createTicket(t, db, astreinte.Ticket{CreatedAt: t0, Recording: "/rec/a.wav", Duration: time.Second, Urgency: astreinte.NotUrgent}, nil)
	later := astreinte.Ticket{Recording: "/rec/b.wav", Duration: time.Second, Urgency: astreinte.NotUrgent}
	if err := db.MergeIntoTicket(ctx, tk.ID, &later, Replan{}, nil); err != nil {
		t.Fatal(err)
	}
	marks := []astreinte.Mark{{At: 500 * time.Millisecond, Kind: astreinte.MarkKey, Name: "1"}}
	tests := []struct {
		a    astreinte.Amendment
		i    int // index in Recordings, newest first
		want astreinte.Urgency
	}{
		{astreinte.Amendment{Recording: "/rec/a.wav", Duration: 5 * time.Second, Marks: marks}, 1, astreinte.NotUrgent},
		{astreinte.Amendment{Recording: "/rec/b.wav", Duration: 7 * time.Second, Marks: marks, Urgent: true}, 0, astreinte.Urgent},
	}
	for _, tt := range tests {
		t.Run(tt.a.Recording, func(t *testing.T) {
			if err := db.AmendTicket(ctx, tk.ID, tt.a, Replan{}, nil); err != nil {
				t.Fatal(err)
			}
			got, err := db.TicketByID(ctx, tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			r := got.Recordings[tt.i]
			if r.Path != tt.a.Recording || r.Duration != tt.a.Duration || !reflect.DeepEqual(r.Marks, marks) || r.Urgency != tt.want {
				t.Errorf("recording %+v: want %s of %v with the marks, %s", r, tt.a.Recording, tt.a.Duration, tt.want)
			}
		})
	}
	err := db.AmendTicket(ctx, tk.ID, astreinte.Amendment{Recording: "/rec/x.wav", Duration: time.Hour}, Replan{Urgency: astreinte.Urgent}, nil)
	if !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("unknown recording: %v, want ErrNotFound", err)
	}
	if got, _ := db.TicketByID(ctx, tk.ID); got.Urgency != astreinte.NotUrgent {
		t.Errorf("a refused amendment changed the ticket: %s", got.Urgency)
	}
}
