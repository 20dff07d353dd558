package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/store"
)

// decode runs a command with --json (after the command, or before it:
// the flag is global) and decodes what it prints into v.
func (c *cli) decode(v any, args ...string) {
	c.t.Helper()
	out := c.want(args)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("astreinte %s: not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Every command that prints a table prints JSON with --json, which a
// script can parse: calls, customers (list and show), users, tokens, the
// on-call schedule, gaps and overrides. Empty lists are [], not null.
func TestTableCommandsJSON(t *testing.T) {
	c := newCustomersCLI(t) // clock.now Tue 2026-11-24 03:00 Paris, Bob then Alice
	for _, cmd := range [][]string{{"calls", "--json"}, {"--json", "customers"}, {"users", "--json"}, {"tokens", "--json"}, {"oncall", "override", "list", "--json"}} {
		out := c.want(cmd)
		if strings.TrimSpace(out) != "[]" {
			t.Errorf("astreinte %s on an empty database: %q, want []", strings.Join(cmd, " "), out)
		}
	}

	c.want([]string{"customers", "add", "C001", "--name", "Hébergé SARL", "--contract", "isp", "--phones", "0493918009;+33612345678"})
	c.want([]string{"oncall", "override", "add", "--replace", "alice", "--by", "bob", "--from", "2026-11-24 02:00", "--to", "2026-11-24 06:00", "--note", "swap"})
	if out, code := c.runStdin("nuit-blanche-2026\n", "users", "add", "alice", "--person", "alice"); code != 0 {
		t.Fatalf("users add: %d\n%s", code, out)
	}
	c.want([]string{"tokens", "add", "monitoring"})

	cfg, err := config.Load(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 24, 1, 30, 0, 0, time.UTC)
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Customer: "C001", Contract: "isp", Urgency: astreinte.Urgent,
		Case: astreinte.CaseOutOfHours, CreatedAt: started.Add(time.Minute)}
	if err := db.CreateTicket(context.Background(), tk, nil); err != nil {
		t.Fatal(err)
	}
	call := &astreinte.Call{Line: "support", CallerNumber: "+33612345678", Case: astreinte.CaseOutOfHours, StartedAt: started,
		AnsweredAt: started.Add(2 * time.Second), EndedAt: started.Add(time.Minute), Outcome: astreinte.OutcomeVoicemail, HangupBy: "caller", TicketID: tk.ID}
	if err := db.CreateCall(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var calls []callJSON
	c.decode(&calls, "calls", "--json")
	if len(calls) != 1 || calls[0].Ticket != tk.Number || calls[0].Outcome != "voicemail" || !calls[0].StartedAt.Equal(started) ||
		calls[0].EndedAt == nil || calls[0].HangupBy != "caller" {
		t.Errorf("calls --json: %+v", calls)
	}

	var cs []customerJSON
	c.decode(&cs, "customers", "list", "--json")
	if len(cs) != 1 || cs[0].Number != "C001" || cs[0].Contract != "isp" || strings.Join(cs[0].Phones, " ") != "+33493918009 +33612345678" || cs[0].Emails == nil {
		t.Errorf("customers --json: %+v", cs)
	}
	var one customerJSON
	c.decode(&one, "customers", "show", "C001", "--json")
	if one.Name != "Hébergé SARL" || !strings.Contains(one.Rules, "on-call included") || one.Tickets == nil || len(*one.Tickets) != 1 ||
		(*one.Tickets)[0].Number != tk.Number {
		t.Errorf("customers show --json: %+v", one)
	}

	var us []userJSON
	c.decode(&us, "users", "--json")
	if len(us) != 1 || us[0].Name != "alice" || us[0].Role != "technician" || us[0].Person != "alice" || us[0].CreatedAt.IsZero() {
		t.Errorf("users --json: %+v", us)
	}
	var toks []tokenJSON
	c.decode(&toks, "tokens", "--json")
	if len(toks) != 1 || toks[0].Name != "monitoring" || toks[0].LastUsed != nil {
		t.Errorf("tokens --json: %+v", toks)
	}

	var shifts []shiftJSON
	c.decode(&shifts, "--json", "oncall", "schedule", "--days", "2")
	if len(shifts) == 0 || shifts[0].Rotation != "nights" || shifts[0].Person != "bob" || shifts[0].Override == 0 {
		t.Errorf("oncall schedule --json: %+v", shifts)
	}
	var ovs []overrideJSON
	c.decode(&ovs, "oncall", "override", "list", "--json")
	if len(ovs) != 1 || ovs[0].Replaced != "alice" || ovs[0].By != "bob" || ovs[0].Note != "swap" {
		t.Errorf("oncall override list --json: %+v", ovs)
	}
	var gaps []gapJSON
	c.decode(&gaps, "oncall", "check", "--json")
	if gaps == nil {
		t.Errorf("oncall check --json: null, want a list")
	}

	if out, code := c.run("version", "--json"); code != 2 || !strings.Contains(out, "calls") {
		t.Errorf("--json on a command without a table: exit %d\n%s", code, out)
	}
}
