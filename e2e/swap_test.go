package e2e

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

// TestOncallSwapAndPay: on the command line against the running service,
// alice offers Wednesday night; carol, off that night, cannot take it (the
// swap would leave a gap, named); bob takes it and is on call then; the
// month's pay export uses the configured rates.
func TestOncallSwapAndPay(t *testing.T) {
	t.Parallel()
	mail := startMailSink(t)
	people := []tech{{"alice", "Alice Martin", "", "alice@e2e.test"}, {"bob", "Bob Durand", "", "bob@e2e.test"},
		{"carol", "Carol Petit", "", "carol@e2e.test"}}
	rotations := []any{map[string]any{"name": "week", "participants": []any{"alice", "bob", "carol"}, "shift": "1w",
		"start": "2026-11-23 09:00"}}
	tiers := []any{map[string]any{"name": "primary", "rotation": "week"}}
	over := pagingOverrides(people, rotations, tiers, mail, nil, "urgent")
	oc := over["oncall"].(map[string]any)
	oc["pay"] = map[string]any{"weekday_night": 150, "weekend": 300, "holiday": 500, "intervention": 4000}
	svc := startAstreinte(t, over)

	if out, err := svc.cli("oncall", "override", "add", "--replace", "carol", "--from", "2026-11-25 12:00", "--to", "2026-11-26 12:00",
		"--note", "congé"); err != nil {
		t.Fatalf("override add: %v\n%s", err, out)
	}
	out, err := svc.cli("oncall", "swap", "offer", "--person", "alice", "--from", "2026-11-25 18:00", "--to", "2026-11-26 08:00", "--note", "dentiste")
	if err != nil || !strings.Contains(out, "Swap 1: alice offers") {
		t.Fatalf("swap offer: %v\n%s", err, out)
	}
	out, err = svc.cli("oncall", "swap", "take", "1", "--person", "carol")
	if err == nil || !strings.Contains(out, "would leave nobody on call") || !strings.Contains(out, "2026-11-25 18:00") {
		t.Fatalf("carol, off that night, takes it: %v\n%s", err, out)
	}
	out, err = svc.cli("oncall", "swap", "take", "1", "--person", "bob")
	if err != nil || !strings.Contains(out, "Swap 1 done: bob replaces alice") {
		t.Fatalf("bob takes it: %v\n%s", err, out)
	}
	if out, err := svc.cli("oncall", "swap", "list"); err != nil || !strings.Contains(out, "done") || !strings.Contains(out, "dentiste") {
		t.Errorf("swap list: %v\n%s", err, out)
	}
	if out, err := svc.cli("oncall", "who", "--at", "2026-11-25T23:00:00+01:00"); err != nil || !strings.Contains(out, "Bob Durand") {
		t.Errorf("oncall who during the swapped night: %v\n%s", err, out)
	}

	out, err = svc.cli("oncall", "pay", "--month", "2026-11")
	if err != nil {
		t.Fatalf("oncall pay: %v\n%s", err, out)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("pay CSV: %v\n%s", err, out)
	}
	rates := []int64{150, 300, 500}
	for _, r := range rows[1:] {
		var want int64
		for i, col := range []int{3, 4, 5} {
			m, _ := strconv.ParseInt(r[col], 10, 64)
			want += (m*rates[i] + 30) / 60
		}
		m, _ := strconv.ParseInt(r[7], 10, 64)
		want += (m*4000 + 30) / 60
		if got, _ := strconv.ParseInt(r[8], 10, 64); got != want || got == 0 {
			t.Errorf("%s: %d cents, want %d at the configured rates:\n%s", r[1], got, want, out)
		}
	}
}
