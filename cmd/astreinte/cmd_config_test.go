package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
		{[]string{warned}, 0, "warned.yaml:2: warning: oncall.people[0].email: alice is never emailed"},
		{[]string{"--strict", warned}, 1, "1 warning(s) found (--strict)"},
		{[]string{broken}, 1, `broken.yaml:2: oncall.people[0].sip: "alice@pbx" is not a SIP URI`},
	} {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"config", "check"}, tt.args...), nil, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("config check %v: exit %d, want %d with %q:\n%s", tt.args, code, tt.code, tt.want, out.String())
		}
	}
}
