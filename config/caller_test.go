package config

import (
	"strings"
	"testing"

	"github.com/astreinte/astreinte"
)

func TestLineCaller(t *testing.T) {
	cfg, err := Parse([]byte("lines:\n  - name: support\n    numbers: [support]\n    country: be\n    missed_calls: page\n    desk_email: desk@example.com\n    sensitive_notice: false\n"), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Lines[0]; l.Country != "BE" || l.MissedCalls != astreinte.MissedPage || l.DeskEmail != "desk@example.com" || l.SaysSensitiveNotice() {
		t.Errorf("line caller options %+v", l.LineCaller)
	}
	cfg, err = Parse([]byte("lines:\n  - name: support\n    numbers: [support]\n"), "default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Lines[0]; l.Country != "FR" || l.MissedCalls != astreinte.MissedTicket || l.DeskEmail != "" || !l.SaysSensitiveNotice() {
		t.Errorf("defaults %+v, want FR, ticket, no desk, the sensitive-requests notice", l.LineCaller)
	}
	_, err = Parse([]byte("lines:\n  - name: support\n    numbers: [support]\n    country: XX\n    missed_calls: sometimes\n    desk_email: not an email\n"), "bad.yaml")
	if err == nil {
		t.Fatal("bad caller options accepted")
	}
	for _, want := range []string{"lines[0].country", "lines[0].missed_calls", "lines[0].desk_email", "bad.yaml:4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
