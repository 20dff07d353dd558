package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

var checkNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// A configuration that config check once said OK to, where a type error
// hid the rest.
func TestCheckReportsEveryProblemAtOnce(t *testing.T) {
	yaml := `lines:
  - name: support
    numbers: [support]
    answer_after: soon
oncall:
  people:
    - id: alice
      sip: "alice@pbx"
    - id: bob
      email: "not an email"
    - id: carol
      email: carol@example.com
    - id: dave
  rotations:
    - name: nights
      participants: [alice, bob, carol, dave]
      start: "2026-11-23 18:00"
      shift: 1d
  escalation:
    tiers:
      - {name: primary, rotation: nights}
paging:
  retries: many
  fallback:
    emails: [desk.example.com]
`
	_, r := Check([]byte(yaml), "c.yaml", checkNow, CheckOptions{})
	errs := r.Errors.Error() + "\n" + noColumns(r.Errors.Error())
	for _, want := range []string{
		`c.yaml:4:19: lines[0].answer_after: "soon": want a duration such as 30s, 5m or 1h30m`,
		`c.yaml:23:12: paging.retries: "many": want a whole number`,
		`c.yaml:8: oncall.people[0].sip: "alice@pbx" is not a SIP URI: want sip:user@host, e.g. "sip:alice@pbx"`,
		`c.yaml:10: oncall.people[1].email: "not an email" is not an email address`,
		`c.yaml:9: oncall.people[1]: no configured channel can page bob`,
		`c.yaml:11: oncall.people[2]: no configured channel can page carol`,
		`c.yaml:13: oncall.people[3]: no configured channel can page dave`,
		`c.yaml:25: paging.fallback.emails[0]: "desk.example.com" is not an email address`,
		`paging.fallback.emails[0]: desk.example.com cannot be emailed: paging.email.smtp is not set`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q in:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "people[0]: no configured channel") {
		t.Errorf("alice has a SIP address (malformed, reported as such), SIP paging is on:\n%s", errs)
	}
	warns := noColumns(r.String())
	if !strings.Contains(warns, `c.yaml:12: warning: oncall.people[2].email: carol is never emailed: paging.email.smtp is not set`) {
		t.Errorf("warnings:\n%s", warns)
	}
}

func TestCheckWarnsOfGapsOutOfHours(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		gaps       bool
	}{
		{"nobody at all (the default)", "", true},
		{"a night rotation starting in two weeks", `oncall:
  people: [{id: alice, sip: "sip:alice@pbx"}]
  rotations: [{name: nights, participants: [alice], start: "2026-12-08 09:00", coverage: out_of_hours}]
  escalation: {tiers: [{rotation: nights}]}
`, true},
		{"covered", `oncall:
  people: [{id: alice, sip: "sip:alice@pbx"}]
  rotations: [{name: nights, participants: [alice], start: "2026-11-02 09:00", coverage: out_of_hours}]
  escalation: {tiers: [{rotation: nights}]}
`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, r := Check([]byte(tt.yaml), "g.yaml", checkNow, CheckOptions{})
			if cfg == nil || len(r.Errors.List) > 0 {
				t.Fatalf("errors: %v", r.Errors.Error())
			}
			s := r.String()
			if got := strings.Contains(s, "warning: ") && strings.Contains(s, "nobody on call for "); got != tt.gaps {
				t.Fatalf("gap warning %v, want %v:\n%s", got, tt.gaps, s)
			}
			if tt.gaps && !strings.Contains(s, "nobody on call Tue 2026-11-24 ") {
				t.Errorf("the first gap starts this evening, in Paris time:\n%s", s)
			}
		})
	}
}

func TestCheckSIPURIAndEmail(t *testing.T) {
	for _, tt := range []struct {
		uri string
		ok  bool
	}{
		{"sip:alice@pbx.example.com", true}, {"sips:alice@pbx:5061;transport=tls", true}, {"sip:pbx.example.com", true},
		{"alice@pbx", false}, {"sip:", false}, {"sip:@pbx", false}, {"sip:alice@", false}, {"tel:+33612345678", false},
		{"sip:alice smith@pbx", false},
	} {
		if err := checkSIPURI(tt.uri); (err == nil) != tt.ok {
			t.Errorf("checkSIPURI(%q) = %v, want ok %v", tt.uri, err, tt.ok)
		}
	}
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"alice@example.com", true}, {"Alice Martin <alice@example.com>", true},
		{"not an email", false}, {"alice", false}, {"alice@example.com, bob@example.com", false},
	} {
		if err := checkEmail(tt.addr); (err == nil) != tt.ok {
			t.Errorf("checkEmail(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}
}

var column = regexp.MustCompile(`(\.yaml:\d+):\d+:`)

// noColumns drops the columns from a report, for tests that look at
// lines only.
func noColumns(s string) string { return column.ReplaceAllString(s, "$1:") }

// Which channels page a person: a phone number is called through the
// proxy or the trunk, and sent SIP MESSAGEs only through a proxy of one's
// own (a carrier's trunk carries no MESSAGE to a mobile number).
func TestReaching(t *testing.T) {
	phoneOnly := oncall.Person{ID: "carol", Phone: "+33611223344"}
	withURI := oncall.Person{ID: "bob", SIP: "sip:bob@pbx"}
	for _, tt := range []struct {
		name string
		sip  SIPPage
		p    oncall.Person
		want []string
	}{
		{"URI, messages on", SIPPage{Message: true}, withURI, []string{"sip", "message"}},
		{"phone, no route", SIPPage{Message: true}, phoneOnly, nil},
		{"phone through a proxy, messages on", SIPPage{Proxy: "pbx:5060", Message: true}, phoneOnly, []string{"sip", "message"}},
		{"phone through a proxy, messages off", SIPPage{Proxy: "pbx:5060"}, phoneOnly, []string{"sip"}},
		{"phone through a trunk, messages on", SIPPage{Trunk: "carrier", Proxy: "carrier:5060", Message: true}, phoneOnly, []string{"sip"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reaching(Paging{SIP: tt.sip}, tt.p); !slices.Equal(got, tt.want) {
				t.Errorf("Reaching = %q, want %q", got, tt.want)
			}
		})
	}
}
