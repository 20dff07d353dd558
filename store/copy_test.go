package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/oncall"
)

// A SQLite installation copied into the store under test (PostgreSQL in
// the PostgreSQL run): every table's rows, counted and checksummed on both
// sides, the recordings read, and the copy goes on numbering where the
// original stopped.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := Open(filepath.Join(dir, "src.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	c := &clock{t: t0}
	src.Now = c.Now

	// A call and its ticket (they name each other), a paged ticket with its
	// sends, a later call's recording, a customer, overrides.
	rec1, rec2 := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	os.WriteFile(rec1, []byte("RIFF a message"), 0o600)
	os.WriteFile(rec2, []byte("RIFF another message"), 0o600)
	call := &astreinte.Call{SIPCallID: "x@y", Line: "support", CallerNumber: "+33612345678", StartedAt: t0}
	if err := src.CreateCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	first := createTicket(t, src, astreinte.Ticket{CallID: call.ID, CallerNumber: "+33612345678", Recording: rec1,
		Duration: 12 * time.Second, Urgency: astreinte.Urgent, Unverified: true}, &NewPage{Policy: "default"})
	if err := src.MergeIntoTicket(ctx, first.ID, &astreinte.Ticket{CallerNumber: "+33612345678", Recording: rec2,
		Duration: 3 * time.Second}, Replan{}, nil); err != nil {
		t.Fatal(err)
	}
	paged(t, src, "alice", "bob")
	createTicket(t, src, astreinte.Ticket{CallerNumber: "+33699999999", Recording: filepath.Join(dir, "gone.wav")}, nil)
	if err := src.AddCustomer(ctx, customers.Customer{Number: "C1", Name: "Dupont", Contract: "gold",
		Phones: []string{"+33612345678"}, Emails: []string{"d@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: "alice", By: "bob", From: t0, To: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := src.SetCalendarOverride(ctx, calendar.Override{Open: true, Reason: "move"}); err != nil {
		t.Fatal(err)
	}

	dst := openStore(t)
	defer dst.Close()
	dst.Now = c.Now
	rep, err := Copy(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{}
	for _, tc := range rep.Tables {
		rows[tc.Name] = tc.Rows
	}
	for table, want := range map[string]int64{"calls": 1, "tickets": 3, "ticket_recordings": 1, "pages": 2,
		"sends": 2, "customers": 1, "customer_phones": 1, "shift_overrides": 1, "calendar_override": 1} {
		if rows[table] != want {
			t.Errorf("%s: %d rows copied, want %d (report %+v)", table, rows[table], want, rep.Tables)
		}
	}
	if len(rep.Recordings) != 2 || len(rep.Missing) != 1 || !strings.HasSuffix(rep.Missing[0], "gone.wav") {
		t.Errorf("recordings %+v, missing %v; want a.wav and b.wav read, gone.wav missing", rep.Recordings, rep.Missing)
	}
	got, err := dst.TicketByNumber(ctx, first.Number)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := src.TicketByNumber(ctx, first.Number)
	if got.ID != want.ID || got.CallID != call.ID || got.RecordingCount != 2 || !got.Unverified || got.Duration != want.Duration {
		t.Errorf("copied ticket %+v\nwant %+v", got, want)
	}
	// The copy numbers and identifies on from where the original stopped.
	next := createTicket(t, dst, astreinte.Ticket{CallerNumber: "+33611111111"}, nil)
	if next.Number != "2026-000004" || next.ID != 4 {
		t.Errorf("next ticket in the copy: %s id %d, want 2026-000004 id 4", next.Number, next.ID)
	}
	// Into a store that has rows: refused.
	if _, err := Copy(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "empty store") {
		t.Errorf("copy into a store with rows: %v, want refused", err)
	}
}

// The checksum sees one changed value.
func TestChecksumSeesAChange(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	createTicket(t, db, astreinte.Ticket{CallerNumber: "+33612345678"}, nil)
	a, err := db.checksum(ctx, "tickets")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `UPDATE tickets SET caller_number = '+33612345679'`); err != nil {
		t.Fatal(err)
	}
	b, _ := db.checksum(ctx, "tickets")
	if a.Rows != 1 || a == b {
		t.Errorf("checksum %+v before, %+v after a change", a, b)
	}
}

func TestParseLocation(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:/var/lib/astreinte/astreinte.db": "sqlite /var/lib/astreinte/astreinte.db",
		"postgres:host=db dbname=astreinte":      "postgres host=db dbname=astreinte",
		"postgres:postgres://a@db/astreinte":     "postgres postgres://a@db/astreinte",
		"postgres://a@db/astreinte":              "postgres postgres://a@db/astreinte",
		"mysql:x":                                "error",
		"astreinte.db":                           "error",
		"sqlite:":                                "error",
	} {
		d, dsn, err := ParseLocation(in)
		got := d + " " + dsn
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseLocation(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
