package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// config check: errors exit 1; warnings (gaps, an address no channel uses)
// exit 0, or 1 with --strict; a clean file says OK.
func TestConfigCheckExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	covered := `oncall:
  people: [{id: alice, sip: "sip:alice@pbx.example.com"}]
  rotations: [{name: all, participants: [alice], start: "2020-01-06 09:00", coverage: all}]
  escalation: {tiers: [{rotation: all}]}
`
	clean := write("clean.yaml", covered)
	warned := write("warned.yaml", strings.Replace(covered, `sip: "sip:alice@pbx.example.com"`, `sip: "sip:alice@pbx.example.com", email: alice@example.com`, 1))
	broken := write("broken.yaml", strings.Replace(covered, `"sip:alice@pbx.example.com"`, `"alice@pbx"`, 1))
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{clean}, 0, "clean.yaml: OK (1 line(s), 1 technician(s)"},
		{[]string{"--strict", clean}, 0, "clean.yaml: OK"},
		{[]string{warned}, 0, "warned.yaml:2:65: warning: oncall.people[0].email: alice is never emailed"},
		{[]string{"--strict", warned}, 1, "1 warning(s) found (--strict)"},
		{[]string{broken}, 1, `broken.yaml:2:29: oncall.people[0].sip: "alice@pbx" is not a SIP URI`},
	} {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"config", "check"}, tt.args...), nil, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("config check %v: exit %d, want %d with %q:\n%s", tt.args, code, tt.code, tt.want, out.String())
		}
	}
}

// goWords are what a user should never read in a report: Go type names and
// the YAML decoder's tags.
var goWords = regexp.MustCompile(`time\.Duration|!!\w+|\bconfig\.[A-Z]|\bint64\b|\[\][a-z]+|cannot unmarshal|not found in type`)

// config check on configurations that would fail at night: each gives all
// its messages, with file:line:column, and no Go type name; serve refuses
// every one of them and says the same.
func TestConfigCheckBadConfigurations(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, yaml string
		want       []string // each in the output, after the file name
	}{
		{"phone-only technician without a SIP route", `oncall:
  people:
    - {id: carol, name: Carol Petit, phone: "+33600000003"}
  escalation: {tiers: [{person: carol}]}
`, []string{`:3:45: oncall.people[0].phone: carol can only be called on +33600000003, and no SIP route reaches a phone number: set paging.sip.proxy or paging.sip.trunk`}},
		{"a gap at Sunday 03:00 under an on-call contract", `clock: {now: "2026-12-06T03:00:00+01:00"}   # Sunday, 3 am
customers:
  contracts:
    isp: {on_call: true}
oncall:
  people: [{id: alice, sip: "sip:alice@pbx.example.com"}]
  rotations: [{name: weekdays, participants: [alice], start: "2026-12-07 09:00", coverage: out_of_hours}]
  escalation: {tiers: [{rotation: weekdays}]}
`, []string{`:4:20: customers.contracts.isp.on_call: contract "isp" promises on-call, but nobody is on call Sun 2026-12-06 03:00 – Mon 2026-12-07 09:00 CET`, "--allow-gaps"}},
		{"a misspelled key", `pagng:
  retries: 2
`, []string{`:1:1: pagng: unknown key "pagng": want one of data_dir, log, sip`, `did you mean "paging"?`}},
		{"a duration in words", `lines:
  - name: support
    numbers: [support]
    record: {silence: 5 minutes}
oncall:
  escalation: {tiers: [{person: alice, delay: 5 minutes}]}
  people: [{id: alice, sip: "sip:alice@pbx.example.com"}]
`, []string{`:4:23: lines[0].record.silence: "5 minutes": want a duration such as 30s, 5m or 1h30m`,
			`:6:47: oncall.escalation.tiers[0].delay: bad delay "5 minutes"`}},
		{"two errors in one file", `sip:
  listen: nowhere
lines:
  - {name: support, numbers: [support], language: de}
`, []string{`:2:11: sip.listen: "nowhere": want host:port`, `:4:51: lines[0].language: "de": want fr or en`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"config", "check", file}, {"serve", "--config", file}} {
				out, errOut, code := runCLI(args...)
				all := out + errOut
				if code != 1 {
					t.Errorf("astreinte %s: exit %d, want 1:\n%s", args[0], code, all)
				}
				for _, w := range tt.want {
					if !strings.Contains(all, file+w) && !strings.Contains(all, w) {
						t.Errorf("astreinte %s: %q missing from\n%s", args[0], w, all)
					}
				}
				if m := goWords.FindString(all); m != "" {
					t.Errorf("astreinte %s says %q, a Go word:\n%s", args[0], m, all)
				}
			}
		})
	}
	// --allow-gaps accepts the gap, as a warning.
	gap := filepath.Join(dir, "a_gap_at_Sunday_03:00_under_an_on-call_contract.yaml")
	if out, _, code := runCLI("config", "check", "--allow-gaps", gap); code != 0 || !strings.Contains(out, "warning: oncall.escalation.tiers: nobody on call Sun 2026-12-06 03:00") {
		t.Errorf("config check --allow-gaps: exit %d, want 0 and the gap as a warning:\n%s", code, out)
	}
}

// A configuration with no contract section still binds the night once a
// customer in the database is on a built-in contract that promises
// on-call (isp): the gap is an error, with the first one, until
// --allow-gaps; before any such customer it is a warning.
func TestConfigCheckGapUnderBuiltInContractOfCustomers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "astreinte.yaml")
	yaml := `data_dir: ` + filepath.Join(dir, "data") + `
clock: {now: "2026-12-06T03:00:00+01:00"}   # Sunday, 3 am
oncall:
  people: [{id: alice, sip: "sip:alice@pbx.example.com"}]
  rotations: [{name: weekdays, participants: [alice], start: "2026-12-07 09:00", coverage: out_of_hours}]
  escalation: {tiers: [{rotation: weekdays}]}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runCLI("config", "check", file); code != 0 || !strings.Contains(out, "warning: oncall.escalation.tiers: nobody on call Sun 2026-12-06 03:00") {
		t.Fatalf("no database, no contract: exit %d, want 0 and a warning:\n%s", code, out)
	}
	if out, errOut, code := runCLI("customers", "add", "C001", "--name", "Hébergé", "--contract", "tickets", "--config", file); code != 0 {
		t.Fatalf("customers add: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := runCLI("config", "check", file); code != 0 {
		t.Fatalf("a customer on tickets (no on-call): exit %d, want 0:\n%s", code, out)
	}
	if out, errOut, code := runCLI("customers", "add", "C002", "--name", "Sondages", "--contract", "isp", "--config", file); code != 0 {
		t.Fatalf("customers add: exit %d\n%s%s", code, out, errOut)
	}
	want := `customers: contract "isp" promises on-call to 1 customer(s) in the database, but nobody is on call Sun 2026-12-06 03:00 – Mon 2026-12-07 09:00 CET`
	for _, args := range [][]string{{"config", "check", file}, {"serve", "--config", file}} {
		out, errOut, code := runCLI(args...)
		if code != 1 || !strings.Contains(out+errOut, want) || !strings.Contains(out+errOut, "--allow-gaps") {
			t.Errorf("astreinte %s with a customer on isp: exit %d, want 1 and %q:\n%s%s", args[0], code, want, out, errOut)
		}
	}
	if out, _, code := runCLI("config", "check", "--allow-gaps", file); code != 0 || !strings.Contains(out, "warning: oncall.escalation.tiers: nobody on call Sun 2026-12-06 03:00") {
		t.Errorf("--allow-gaps: exit %d, want 0 and the gap as a warning:\n%s", code, out)
	}
}
