package tickets

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/calendar/calendartest"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/store"
)

var (
	paris = calendartest.Paris
	pt    = calendartest.At
)

// newService is the service over a real SQLite file and the default
// calendar (Mon–Fri 09:00–18:00, Paris, French holidays).
func newService(t *testing.T, lines map[string]Policy) (*Service, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := pt("2026-12-01 22:00")
	return New(db, cal, Options{Lines: lines, DefaultLine: "support", Now: func() time.Time { return now }}), db
}

// TestPlan is the line policies' rules as a table: when a ticket is due
// and whether it pages someone.
func TestPlan(t *testing.T) {
	lines := map[string]Policy{
		"support": {DueUrgent: 0, DueNormal: 3, Page: astreinte.PageUrgent},
		"night":   {DueUrgent: 1, DueNormal: 2, Page: astreinte.PageOutOfHours},
		"quiet":   {DueNormal: 1, Page: astreinte.PageNever},
	}
	svc, _ := newService(t, lines)
	tests := []struct {
		name    string
		line    string
		urgency astreinte.Urgency
		cs      astreinte.Case
		at      string
		due     string
		pages   bool
	}{
		{"urgent at night pages, due at once", "support", astreinte.Urgent, astreinte.CaseOutOfHours, "2026-12-01 22:00", "2026-12-01 22:00", true},
		{"normal at night waits 3 business days", "support", astreinte.NotUrgent, astreinte.CaseOutOfHours, "2026-12-01 22:00", "2026-12-04 18:00", false},
		{"Friday evening: due after the weekend", "support", astreinte.NotUrgent, astreinte.CaseOutOfHours, "2026-12-04 20:00", "2026-12-09 18:00", false},
		{"over Christmas: the holiday is not a business day", "support", astreinte.NotUrgent, astreinte.CaseHoliday, "2026-12-24 20:00", "2026-12-30 18:00", false},
		{"in hours, urgent still pages on an urgent-only line", "support", astreinte.Urgent, astreinte.CaseOpen, "2026-12-01 10:00", "2026-12-01 10:00", true},
		{"out-of-hours line: a normal message at night pages", "night", astreinte.NotUrgent, astreinte.CaseOutOfHours, "2026-12-01 22:00", "2026-12-03 18:00", true},
		{"out-of-hours line: a holiday pages", "night", astreinte.NotUrgent, astreinte.CaseHoliday, "2026-12-25 10:00", "2026-12-29 18:00", true},
		{"out-of-hours line: in hours a normal message does not page", "night", astreinte.NotUrgent, astreinte.CaseOpen, "2026-12-01 10:00", "2026-12-03 10:00", false},
		{"out-of-hours line: forced open does not page", "night", astreinte.NotUrgent, astreinte.CaseForceOpen, "2026-12-01 22:00", "2026-12-03 18:00", false},
		{"out-of-hours line: forced closed pages", "night", astreinte.NotUrgent, astreinte.CaseForceClosed, "2026-12-01 10:00", "2026-12-03 10:00", true},
		{"never-page line: not even urgent", "quiet", astreinte.Urgent, astreinte.CaseOutOfHours, "2026-12-01 22:00", "2026-12-01 22:00", false},
		{"unknown line: due at once, no page", "other", astreinte.Urgent, astreinte.CaseOutOfHours, "2026-12-01 22:00", "2026-12-01 22:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := astreinte.Ticket{Line: tt.line, Urgency: tt.urgency, Case: tt.cs, CreatedAt: pt(tt.at)}
			pages := svc.Plan(&tk)
			if pages != tt.pages {
				t.Errorf("pages = %v, want %v", pages, tt.pages)
			}
			if !tk.DueAt.Equal(pt(tt.due)) {
				t.Errorf("due %s, want %s", tk.DueAt.In(paris).Format("Mon 2006-01-02 15:04"), tt.due)
			}
		})
	}
}

func TestCreateQueuesThePageAndAnnounces(t *testing.T) {
	svc, db := newService(t, map[string]Policy{"support": {DueNormal: 3, Page: astreinte.PageUrgent}})
	ctx := context.Background()
	var heard []Change
	cancel := svc.Subscribe(func(c Change) { heard = append(heard, c) })
	urgent := &astreinte.Ticket{Line: "support", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, Recording: "/r/1.wav"}
	normal := &astreinte.Ticket{Line: "support", Urgency: astreinte.NotUrgent, Case: astreinte.CaseOutOfHours, Recording: "/r/2.wav"}
	for _, tk := range []*astreinte.Ticket{urgent, normal} {
		if err := svc.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if urgent.Number == "" || urgent.Status != astreinte.StatusNew || urgent.CreatedAt.IsZero() {
		t.Fatalf("created ticket %+v: want a number, status new, a creation time", urgent)
	}
	if p, err := db.PageByTicket(ctx, urgent.ID); err != nil || p.State != oncall.PageActive || p.Policy != astreinte.EscalationDefault {
		t.Errorf("urgent ticket's page: %+v, %v; want an active page of policy %q", p, err, astreinte.EscalationDefault)
	}
	if _, err := db.PageByTicket(ctx, normal.ID); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("normal ticket's page: error %v, want not found", err)
	}
	want := []Change{
		{Kind: Created, TicketID: urgent.ID, Number: urgent.Number, Paging: true},
		{Kind: Created, TicketID: normal.ID, Number: normal.Number, Paging: false},
	}
	if len(heard) != len(want) || heard[0] != want[0] || heard[1] != want[1] {
		t.Errorf("subscriber heard %+v, want %+v", heard, want)
	}
	cancel()
	if err := svc.Note(ctx, urgent.ID, "alice", "called the customer"); err != nil {
		t.Fatal(err)
	}
	if len(heard) != 2 {
		t.Errorf("an unsubscribed function still hears changes: %+v", heard[2:])
	}
}

func TestLifecycle(t *testing.T) {
	svc, db := newService(t, map[string]Policy{"support": {Page: astreinte.PageUrgent}})
	ctx := context.Background()
	tk := &astreinte.Ticket{Line: "support", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, Recording: "/r/1.wav"}
	if err := svc.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	var kinds []ChangeKind
	svc.Subscribe(func(c Change) { kinds = append(kinds, c.Kind) })
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	changed, err := svc.Acknowledge(ctx, tk.ID, "alice", "web")
	step("acknowledge", err)
	if !changed {
		t.Fatal("first acknowledgement did not change the ticket")
	}
	again, err := svc.Acknowledge(ctx, tk.ID, "bob", "sip")
	step("acknowledge again", err)
	if again {
		t.Error("a second acknowledgement changed the ticket")
	}
	if p, _ := db.PageByTicket(ctx, tk.ID); p.State != oncall.PageAcked {
		t.Errorf("page state %s after acknowledgement, want acked", p.State)
	}
	step("note", svc.Note(ctx, tk.ID, "alice", "router rebooted"))
	if err := svc.Note(ctx, tk.ID, "alice", ""); err == nil {
		t.Error("an empty note was accepted")
	}
	step("called back", svc.CalledBack(ctx, tk.ID, "alice", "customer OK"))
	step("resolve", svc.Resolve(ctx, tk.ID, "alice", ""))
	got, err := svc.ByNumber(ctx, tk.Number)
	step("by number", err)
	if got.Status != astreinte.StatusResolved || got.ResolvedAt.IsZero() || got.AckedBy != "alice" {
		t.Errorf("after resolve: status %s resolved %v acked by %q", got.Status, got.ResolvedAt, got.AckedBy)
	}
	step("reopen", svc.Reopen(ctx, tk.ID, "bob", "customer called again"))
	if got, _ := svc.ByID(ctx, tk.ID); got.Status != astreinte.StatusNew || !got.ResolvedAt.IsZero() {
		t.Errorf("after reopen: status %s resolved %v", got.Status, got.ResolvedAt)
	}
	evs, err := svc.Timeline(ctx, tk.ID)
	step("timeline", err)
	var seen []astreinte.EventKind
	for _, e := range evs {
		seen = append(seen, e.Kind)
	}
	for _, k := range []astreinte.EventKind{astreinte.EventCreated, astreinte.EventPageQueued, astreinte.EventAcknowledged,
		astreinte.EventNote, astreinte.EventCalledBack, astreinte.EventResolved, astreinte.EventReopened} {
		found := false
		for _, s := range seen {
			found = found || s == k
		}
		if !found {
			t.Errorf("timeline %v lacks %s", seen, k)
		}
	}
	wantKinds := []ChangeKind{Acknowledged, Acknowledged, Noted, StatusSet, StatusSet, StatusSet}
	if len(kinds) != len(wantKinds) {
		t.Fatalf("changes heard %v, want %v", kinds, wantKinds)
	}
	for i := range kinds {
		if kinds[i] != wantKinds[i] {
			t.Errorf("change %d: %s, want %s", i, kinds[i], wantKinds[i])
		}
	}
	if _, err := svc.Acknowledge(ctx, 999, "alice", "cli"); !errors.Is(err, astreinte.ErrNotFound) {
		t.Errorf("acknowledging a ticket that does not exist: %v, want not found", err)
	}
}

func TestRecoverOnce(t *testing.T) {
	svc, _ := newService(t, map[string]Policy{"support": {DueNormal: 3, Page: astreinte.PageUrgent}})
	ctx := context.Background()
	rec := func() *astreinte.Ticket {
		return &astreinte.Ticket{CallerNumber: "+33612345678", Case: astreinte.CaseOutOfHours, Recording: "/r/crash.wav",
			CreatedAt: pt("2026-12-01 03:00"), Duration: 12 * time.Second}
	}
	first := rec()
	made, err := svc.Recover(ctx, first)
	if err != nil || !made {
		t.Fatalf("Recover = %v, %v; want a ticket", made, err)
	}
	if first.Line != "support" || first.Urgency != astreinte.NotUrgent {
		t.Errorf("recovered ticket line %q urgency %q, want the default line and normal", first.Line, first.Urgency)
	}
	if want := pt("2026-12-03 18:00"); !first.DueAt.Equal(want) { // Tuesday 03:00, before opening: Tuesday counts
		t.Errorf("recovered ticket due %v, want %v (the line's policy from the call's time)", first.DueAt, want)
	}
	evs, _ := svc.Timeline(ctx, first.ID)
	if len(evs) < 2 || evs[len(evs)-1].Kind != astreinte.EventNote {
		t.Errorf("timeline %+v: want a note saying the recording was recovered", evs)
	}
	made, err = svc.Recover(ctx, rec())
	if err != nil || made {
		t.Errorf("second Recover of the same recording = %v, %v; want no new ticket", made, err)
	}
	ts, _ := svc.List(ctx, astreinte.TicketFilter{})
	if len(ts) != 1 {
		t.Errorf("%d tickets, want 1", len(ts))
	}
}

func TestCalls(t *testing.T) {
	svc, _ := newService(t, nil)
	ctx := context.Background()
	c := &astreinte.Call{SIPCallID: "abc", Line: "support", CallerNumber: "+33612345678", Case: astreinte.CaseOutOfHours,
		StartedAt: pt("2026-12-01 22:00"), Outcome: astreinte.OutcomeInProgress}
	if err := svc.StartCall(ctx, c); err != nil || c.ID == 0 {
		t.Fatalf("StartCall: id %d, %v", c.ID, err)
	}
	c.Outcome, c.EndedAt = astreinte.OutcomeNoMessage, pt("2026-12-01 22:01")
	if err := svc.EndCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	calls, err := svc.Calls(ctx, 10)
	if err != nil || len(calls) != 1 || calls[0].Outcome != astreinte.OutcomeNoMessage {
		t.Errorf("Calls = %+v, %v", calls, err)
	}
}

// TestChangeForPager: the paging engine is woken by the changes that can
// give it work, not by every ticket's change.
func TestChangeForPager(t *testing.T) {
	for _, tt := range []struct {
		c    Change
		want bool
	}{
		{Change{Kind: Created}, false},
		{Change{Kind: Created, Paging: true}, true},
		{Change{Kind: Noted}, false},
		{Change{Kind: Noted, Paging: true}, true}, // a later message restarted the page
		{Change{Kind: Acknowledged}, true},
		{Change{Kind: StatusSet}, true},
		{Change{Kind: Resync}, true},
		{Change{Kind: Acknowledged, Remote: true}, true},
	} {
		if got := tt.c.ForPager(); got != tt.want {
			t.Errorf("%+v.ForPager() = %v; want %v", tt.c, got, tt.want)
		}
	}
}
