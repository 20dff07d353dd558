package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// TestTicketsTwoMessages: a ticket a later call joined shows both
// messages, newest first, in text and JSON, and plays either.
func TestTicketsTwoMessages(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"tickets"}) // creates the database
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.wav"), filepath.Join(dir, "second.wav")
	os.WriteFile(first, []byte("RIFF"), 0o600)
	os.WriteFile(second, []byte("RIFF"), 0o600)
	cfg, err := config.Load(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Urgency: astreinte.NotUrgent, Case: astreinte.CaseOutOfHours,
		Recording: first, Duration: 42 * time.Second, CreatedAt: at}
	if err := db.CreateTicket(context.Background(), tk, nil); err != nil {
		t.Fatal(err)
	}
	later := &astreinte.Ticket{Recording: second, Duration: 17 * time.Second, Urgency: astreinte.Urgent, CreatedAt: at.Add(20 * time.Minute)}
	if err := db.MergeIntoTicket(context.Background(), tk.ID, later, store.Replan{Urgency: astreinte.Urgent, Detail: "2nd message"}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := c.want([]string{"tickets", "show", tk.Number}, "Message 1 (newest)", "Message 2 (first call)", second, first)
	if strings.Index(out, second) > strings.Index(out, first) || !strings.Contains(out, "17s, URGENT") || !strings.Contains(out, "42s, normal") {
		t.Errorf("tickets show: want the urgent 17s message before the normal 42s one:\n%s", out)
	}
	out = c.want([]string{"tickets", "show", "--json", tk.Number})
	var j tickets.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(j.Recordings) != 2 || j.Recordings[0].Path != second || j.Recordings[0].Urgency != "urgent" || j.Recordings[0].DurationSeconds != 17 ||
		j.Recordings[1].Path != first || j.Recordings[1].Seq != 1 || j.RecordingCount != 2 {
		t.Errorf("tickets show --json recordings %+v (count %d): want second (urgent, 17 s) then first", j.Recordings, j.RecordingCount)
	}

	bin := t.TempDir()
	got := filepath.Join(dir, "played")
	os.WriteFile(filepath.Join(bin, "aplay"), []byte("#!/bin/sh\necho \"$@\" > "+got+"\n"), 0o755)
	t.Setenv("PATH", bin)
	t.Setenv("ASTREINTE_PLAYER", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tickets", "play", tk.Number}, second},
		{[]string{"tickets", "play", "--message", "1", tk.Number}, second},
		{[]string{"tickets", "play", "--message", "2", tk.Number}, first},
	} {
		c.want(tt.args, "Playing ticket "+tk.Number)
		if b, _ := os.ReadFile(got); !strings.Contains(string(b), tt.want) {
			t.Errorf("%v: the player was given %q, want %s", tt.args, b, tt.want)
		}
	}
	if out, code := c.run("tickets", "play", "--message", "3", tk.Number); code != 1 || !strings.Contains(out, "2 message(s)") {
		t.Errorf("--message 3 of 2: exit %d\n%s", code, out)
	}
}
