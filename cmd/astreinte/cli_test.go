package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/store"
)

// The CLI a technician uses at 3 am, run in-process on a real SQLite file:
// who is on call, the schedule, gaps, overrides, the calendar and its
// manual override, tickets on an empty database, config check.

const cliConfig = `data_dir: %DATA%
clock: {now: "2026-11-24T03:00:00+01:00"}   # a Tuesday night
http: {listen: "off"}
oncall:
  people:
    - {id: alice, name: Alice Martin, sip: "sip:alice@pbx", email: alice@example.com}
    - {id: bob, name: Bob Durand, email: bob@example.com}
    - {id: carol, name: Carol Petit, phone: "+33 6 00 00 00 03"}
  rotations:
    - {name: nights, participants: [bob, alice], shift: 1w, start: "%START%", coverage: out_of_hours}
  escalation:
    tiers:
      - {name: primary, rotation: nights, delay: 5m}
      - {name: manager, person: carol, delay: 10m}
`

type cli struct {
	t   *testing.T
	cfg string
}

func newCLI(t *testing.T, rotationStart string) *cli {
	dir := t.TempDir()
	cfg := strings.NewReplacer("%DATA%", filepath.Join(dir, "data"), "%START%", rotationStart).Replace(cliConfig)
	path := filepath.Join(dir, "astreinte.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, cfg: path}
}

// run runs a command; it returns stdout+stderr and the exit status.
func (c *cli) run(args ...string) (string, int) {
	c.t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), append(args, "--config", c.cfg), strings.NewReader(""), &out, &out)
	return out.String(), code
}

// want runs a command that must succeed and print every string of want.
func (c *cli) want(args []string, want ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("astreinte %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			c.t.Errorf("astreinte %s: %q missing from\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

func line(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestOncallWhoScheduleAndOverrides(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00") // Bob last week, Alice this week
	out := c.want([]string{"oncall", "who"}, "Support is CLOSED (out of hours) until Tue 24 Nov 09:00", "Carol Petit")
	if l := line(out, "primary"); !strings.Contains(l, "Alice Martin") || !strings.Contains(l, "sip:alice@pbx") {
		t.Errorf("primary at 03:00 should be Alice with her contact: %q", l)
	}
	// In opening hours an out-of-hours rotation has nobody; the manager stays.
	out = c.want([]string{"oncall", "who", "--at", "2026-11-24 10:00"}, "Support is OPEN (opening hours)")
	if l := line(out, "primary"); !strings.Contains(l, "(nobody)") {
		t.Errorf("primary in opening hours: %q", l)
	}
	c.want([]string{"oncall", "schedule", "--days", "10"},
		"Alice Martin  Mon 23 Nov 09:00 CET  Mon 30 Nov 09:00 CET", "Bob Durand    Mon 30 Nov 09:00 CET")

	// Bob replaces Alice tonight 02:00-06:00: who, schedule and list show it.
	c.want([]string{"oncall", "override", "add", "--replace", "alice", "--by", "bob", "--from", "2026-11-24 02:00", "--to", "2026-11-24 06:00", "--note", "swap"},
		"bob replaces alice")
	out = c.want([]string{"oncall", "who"})
	if l := line(out, "primary"); !strings.Contains(l, "Bob Durand") || !strings.Contains(l, "06:00") || !strings.Contains(l, "override") {
		t.Errorf("with the override, primary should be Bob until 06:00: %q", l)
	}
	c.want([]string{"oncall", "schedule", "--days", "2"}, "Bob Durand    Tue 24 Nov 02:00 CET  Tue 24 Nov 06:00 CET", "Alice Martin  Tue 24 Nov 06:00 CET")
	c.want([]string{"oncall", "override", "list"}, "alice", "bob", "swap")
	// An override crossing the hand-off (Monday 30 November 09:00).
	c.want([]string{"oncall", "override", "add", "--replace", "bob", "--by", "carol", "--from", "2026-11-30 07:00", "--to", "2026-11-30 20:00"})
	if l := line(c.want([]string{"oncall", "who", "--at", "2026-11-30 08:00"}), "primary"); !strings.Contains(l, "Alice Martin") {
		t.Errorf("before the hand-off Alice is still on call (the override replaces bob): %q", l)
	}
	if l := line(c.want([]string{"oncall", "who", "--at", "2026-11-30 19:00"}), "primary"); !strings.Contains(l, "Carol Petit") || !strings.Contains(l, "20:00") {
		t.Errorf("after the hand-off Carol replaces Bob until 20:00: %q", l)
	}
	c.want([]string{"oncall", "override", "remove", "1"}, "removed")
	if l := line(c.want([]string{"oncall", "who"}), "primary"); !strings.Contains(l, "Alice Martin") {
		t.Errorf("override removed: primary should be Alice again: %q", l)
	}
	c.want([]string{"oncall", "check", "--weeks", "2"}, "No gap")
	if out, code := c.run("oncall", "override", "add", "--replace", "nobody", "--from", "2026-11-24 02:00", "--to", "2026-11-24 06:00"); code == 0 {
		t.Errorf("an override for an unknown technician should fail:\n%s", out)
	}
}

func TestOncallCheckFindsGaps(t *testing.T) {
	c := newCLI(t, "2026-11-30 09:00") // the rotation starts next Monday: gaps until then
	out, code := c.run("oncall", "check", "--weeks", "2")
	if code == 0 {
		t.Fatalf("gaps must exit non-zero:\n%s", out)
	}
	for _, w := range []string{"5 gaps", "primary  Tue 24 Nov 03:00 CET  Tue 24 Nov 09:00 CET  6h", "Fri 27 Nov 18:00 CET  Mon 30 Nov 09:00 CET  2d 15h"} {
		if !strings.Contains(out, w) {
			t.Errorf("%q missing from\n%s", w, out)
		}
	}
}

func TestCalendarAndForce(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"calendar", "--days", "35"}, "Sat 28 Nov 00:00 CET  Mon 30 Nov 00:00 CET  2d      closed  weekend",
		"Tue 24 Nov 09:00 CET  Tue 24 Nov 18:00 CET  9h      OPEN    opening hours", "holiday: Noël")
	c.want([]string{"calendar", "at", "2026-12-25 10:00"}, "CLOSED (holiday: Noël) until Mon 28 Dec 09:00")
	c.want([]string{"calendar", "at", "2026-11-24 10:00"}, "OPEN (opening hours) until Tue 24 Nov 18:00")
	c.want([]string{"calendar", "force", "closed", "--until", "2026-11-24 14:00", "--reason", "team meeting"}, "forced closed until Tue 24 Nov 14:00")
	c.want([]string{"calendar", "at", "2026-11-24 10:00"}, "CLOSED (forced closed: team meeting) until Tue 24 Nov 14:00")
	c.want([]string{"calendar", "at", "2026-11-24 15:00"}, "OPEN (opening hours)")
	if l := line(c.want([]string{"oncall", "who", "--at", "2026-11-24 10:00"}), "primary"); !strings.Contains(l, "Alice Martin") {
		t.Errorf("forced closed: the out-of-hours rotation is on call: %q", l)
	}
	c.want([]string{"calendar", "force", "clear"}, "cleared")
	c.want([]string{"calendar", "at", "2026-11-24 10:00"}, "OPEN (opening hours)")
	if out, code := c.run("calendar", "force", "sideways"); code != 2 {
		t.Errorf("a bad force argument: exit %d\n%s", code, out)
	}
}

func TestTicketsOnEmptyDatabaseAndConfigCheck(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"tickets"})
	if out, code := c.run("tickets", "show", "2026-000001"); code != 1 || !strings.Contains(out, "no ticket") {
		t.Errorf("unknown ticket: exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("sip:\n  listen: nowhere\nlines:\n  - name: support\n    page: sometimes\n"), 0o600)
	var out bytes.Buffer
	if code := run(context.Background(), []string{"config", "check", bad}, nil, &out, &out); code == 0 ||
		!strings.Contains(out.String(), "bad.yaml:2") || !strings.Contains(out.String(), "bad.yaml:5") {
		t.Errorf("config check of a broken file: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"config", "example"}, nil, &out, &out); code != 0 || !strings.Contains(out.String(), "oncall:") {
		t.Errorf("config example: exit %d", code)
	}
}

// tickets play hands the recording to the first audio player on PATH; a
// stand-in player (a script) notes what it was given.
func TestTicketsPlay(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"tickets"}) // creates the database
	dir := t.TempDir()
	wav := filepath.Join(dir, "msg.wav")
	os.WriteFile(wav, []byte("RIFF"), 0o600)
	cfg, err := config.Load(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours,
		Recording: wav, Duration: 42 * time.Second, CreatedAt: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)}
	if err := db.CreateTicket(context.Background(), tk, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	bin := t.TempDir()
	got := filepath.Join(dir, "played")
	os.WriteFile(filepath.Join(bin, "aplay"), []byte("#!/bin/sh\necho \"$@\" > "+got+"\n"), 0o755)
	t.Setenv("PATH", bin)
	t.Setenv("ASTREINTE_PLAYER", "")
	c.want([]string{"tickets", "play", tk.Number}, "Playing ticket "+tk.Number, "06 12 34 56 78", "42s", "aplay")
	if b, _ := os.ReadFile(got); !strings.Contains(string(b), wav) {
		t.Errorf("the player was given %q, want the recording %s", b, wav)
	}

	t.Setenv("PATH", t.TempDir())
	if out, code := c.run("tickets", "play", tk.Number); code != 1 || !strings.Contains(out, "no audio player found") || !strings.Contains(out, wav) {
		t.Errorf("no player: exit %d\n%s", code, out)
	}
}
