package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/store"
)

// tickets export gives the tickets created in [--from, --to) (the store
// filters them), as CSV or JSON; the default period is the last 30 days.
func TestTicketsExportPeriod(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00") // clock.now 2026-11-24 03:00 Paris
	c.want([]string{"tickets"})        // creates the database
	cfg, err := config.Load(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	number := map[string]string{}
	for _, at := range []string{"2026-10-01T10:00:00+02:00", "2026-11-02T23:59:00+01:00", "2026-11-03T00:00:00+01:00", "2026-11-20T10:00:00+01:00"} {
		created, _ := time.Parse(time.RFC3339, at)
		tk := &astreinte.Ticket{Line: "support", CallerNumber: "0612345678", Urgency: astreinte.NotUrgent, Case: astreinte.CaseOpen, CreatedAt: created}
		if err := db.CreateTicket(context.Background(), tk, nil); err != nil {
			t.Fatal(err)
		}
		number[at] = tk.Number
	}
	db.Close()

	exported := func(args ...string) []string {
		out := c.want(append([]string{"tickets", "export"}, args...))
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) == 0 || rows[0][0] != "number" {
			t.Fatalf("export %v: %v\n%s", args, err, out)
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
		return got
	}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{number["2026-11-20T10:00:00+01:00"], number["2026-11-03T00:00:00+01:00"], number["2026-11-02T23:59:00+01:00"]}},
		{[]string{"--from", "2026-11-03 00:00", "--to", "2026-11-21 00:00"}, []string{number["2026-11-20T10:00:00+01:00"], number["2026-11-03T00:00:00+01:00"]}},
		{[]string{"--from", "2026-09-01 00:00", "--to", "2026-11-03 00:00"}, []string{number["2026-11-02T23:59:00+01:00"], number["2026-10-01T10:00:00+02:00"]}},
		{[]string{"--from", "2025-01-01 00:00", "--to", "2025-02-01 00:00"}, nil},
	}
	for _, tt := range tests {
		if got := exported(tt.args...); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("export %v: %v, want %v", tt.args, got, tt.want)
		}
	}
	out := c.want([]string{"tickets", "export", "--format", "json", "--from", "2026-11-03 00:00", "--to", "2026-11-04 00:00"})
	var js []map[string]any
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js) != 1 || js[0]["number"] != number["2026-11-03T00:00:00+01:00"] {
		t.Errorf("export as JSON: %v\n%s", err, out)
	}
}
