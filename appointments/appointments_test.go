package appointments

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/calendar/calendartest"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
)

// TestFree: 45-minute slots laid from the opening (09:00, 09:45 …
// 17:15), after now, within three business days, holidays left out,
// taken slots left out.
func TestFree(t *testing.T) {
	cal := calendartest.New(t, calendar.Config{})
	at := calendartest.At
	for _, tc := range []struct {
		name        string
		now         time.Time
		taken       []store.Appointment
		first, last time.Time
		n           int
		not         []time.Time
	}{
		{name: "Tuesday 10:00: until Friday 10:00", now: at("2026-11-24 10:00"),
			first: at("2026-11-24 10:30"), last: at("2026-11-27 09:00"), n: 10 + 12 + 12 + 1},
		{name: "Armistice day is left out: Tuesday 10:00 until Monday 10:00", now: at("2026-11-10 10:00"),
			first: at("2026-11-10 10:30"), last: at("2026-11-16 09:00"), n: 10 + 12 + 12 + 1,
			not: []time.Time{at("2026-11-11 09:00"), at("2026-11-11 14:15")}},
		{name: "Friday night: from Monday", now: at("2026-11-27 20:00"),
			first: at("2026-11-30 09:00"), last: at("2026-12-02 17:15"), n: 36},
		{name: "a taken slot, and a cancelled one that is free again", now: at("2026-11-24 10:00"),
			taken: []store.Appointment{{Start: at("2026-11-24 10:30"), End: at("2026-11-24 11:15")},
				{Start: at("2026-11-24 11:15"), End: at("2026-11-24 12:00"), CancelledAt: at("2026-11-24 09:00")}},
			first: at("2026-11-24 11:15"), last: at("2026-11-27 09:00"), n: 34, not: []time.Time{at("2026-11-24 10:30")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Free(cal, tc.now, Window, tc.taken)
			if len(got) != tc.n || !got[0].Start.Equal(tc.first) || !got[len(got)-1].Start.Equal(tc.last) {
				t.Fatalf("%d slots from %v to %v, want %d from %v to %v", len(got), got[0].Start, got[len(got)-1].Start, tc.n, tc.first, tc.last)
			}
			for _, s := range got {
				if s.End.Sub(s.Start) != Length {
					t.Errorf("slot %v lasts %v", s.Start, s.End.Sub(s.Start))
				}
				for _, n := range tc.not {
					if s.Start.Equal(n) {
						t.Errorf("slot %v offered", n)
					}
				}
			}
		})
	}
}

// sent keeps what the service mailed (the edge: the e2e test sends
// through a real SMTP server).
type sent struct {
	mu   sync.Mutex
	msgs []*mailer.Message
}

func (s *sent) Send(_ context.Context, m *mailer.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func newService(t *testing.T) (*Service, *store.DB, []astreinte.Ticket, *sent) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := calendartest.At("2026-11-24 10:00")
	db.Now = func() time.Time { return now }
	var ts []astreinte.Ticket
	for i, cust := range []string{"C001", "C002", "C001", "C002", "C001", "C002", "C001", "C002"} {
		tk := astreinte.Ticket{Line: "support", Channel: astreinte.ChannelSpace, Customer: cust, CallerNumber: "c@x.test",
			Urgency: astreinte.NotUrgent, Case: astreinte.CaseOpen, CreatedAt: now.Add(time.Duration(i) * time.Second)}
		if err := db.CreateTicket(context.Background(), &tk, nil); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tk)
	}
	m := &sent{}
	return &Service{Store: db, Calendar: calendartest.New(t, calendar.Config{}), Mail: m, Desk: "desk@x.test",
		Room: "https://bbb.example.com/rooms/{token}/join", Now: func() time.Time { return now }}, db, ts, m
}

// TestBookOneSlotConcurrently: eight tickets of two customers take the
// same slot at once: one booking wins, the others are told the slot is
// not free; cancelling frees it for the next.
func TestBookOneSlotConcurrently(t *testing.T) {
	s, _, ts, m := newService(t)
	slot := calendartest.At("2026-11-25 14:15")
	var wg sync.WaitGroup
	errs := make([]error, len(ts))
	for i, tk := range ts {
		wg.Go(func() {
			_, errs[i] = s.Book(context.Background(), Booking{Ticket: tk, Contact: "c@x.test", Kind: store.AppointmentVideo, Start: slot})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case err == nil:
			t.Fatalf("tickets %d and %d both booked %v", won, i, slot)
		case !errors.Is(err, ErrNotFree):
			t.Errorf("ticket %d: %v, want ErrNotFree", i, err)
		}
	}
	if won < 0 {
		t.Fatal("nobody booked the slot")
	}
	day, err := s.Day(context.Background(), slot)
	if err != nil || len(day) != 1 || day[0].TicketID != ts[won].ID || !strings.HasPrefix(day[0].Room, "https://bbb.example.com/rooms/") {
		t.Fatalf("the day's appointments: %+v, %v", day, err)
	}
	if len(m.msgs) != 2 || m.msgs[0].To[0].Address != "c@x.test" || m.msgs[1].To[0].Address != "desk@x.test" {
		t.Fatalf("invitations: %d mails", len(m.msgs))
	}
	// Cancelled, the slot is free again for another ticket.
	if err := s.Cancel(context.Background(), day[0], "c@x.test"); err != nil {
		t.Fatal(err)
	}
	other := ts[(won+1)%len(ts)]
	if _, err := s.Book(context.Background(), Booking{Ticket: other, Contact: "c@x.test", Kind: store.AppointmentPhone,
		Phone: "+33612345678", Start: slot}); err != nil {
		t.Fatalf("book the freed slot: %v", err)
	}
	// A slot outside the calendar is not free.
	if _, err := s.Book(context.Background(), Booking{Ticket: ts[won], Contact: "c@x.test", Kind: store.AppointmentVideo,
		Start: calendartest.At("2026-11-25 20:00")}); !errors.Is(err, ErrNotFree) {
		t.Errorf("book 20:00: %v, want ErrNotFree", err)
	}
}

// TestInvitation: the invitation is RFC 5545 a calendar program reads:
// METHOD, UID, start and end, the room, the attendee; the cancellation
// cancels the same UID with a higher sequence.
func TestInvitation(t *testing.T) {
	a := store.Appointment{Number: "2026-000007", Contact: "c@x.test", Kind: store.AppointmentVideo, Room: "https://meet.jit.si/x-abc",
		UID: "2026-000007-abc@astreinte", Start: calendartest.At("2026-11-25 14:15"), End: calendartest.At("2026-11-25 15:00"),
		CreatedAt: calendartest.At("2026-11-24 10:00")}
	for _, cancel := range []bool{false, true} {
		raw := Invitation(a, "desk@x.test", lang.FR, calendartest.Paris, cancel, calendartest.At("2026-11-24 10:00"))
		cal, err := ics.ParseCalendar(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		evs := cal.Events()
		if len(evs) != 1 || evs[0].Id() != a.UID {
			t.Fatalf("events: %d", len(evs))
		}
		start, err1 := evs[0].GetStartAt()
		end, err2 := evs[0].GetEndAt()
		if err1 != nil || err2 != nil || !start.Equal(a.Start) || end.Sub(start) != Length {
			t.Errorf("start %v end %v (%v %v)", start, end, err1, err2)
		}
		s := string(raw)
		want := []string{"METHOD:REQUEST", "LOCATION:https://meet.jit.si/x-abc", "mailto:c@x.test", "ORGANIZER:mailto:desk@x.test"}
		if cancel {
			want = []string{"METHOD:CANCEL", "STATUS:CANCELLED", "SEQUENCE:1"}
		}
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("cancel=%v: no %q in\n%s", cancel, w, s)
			}
		}
	}
}
