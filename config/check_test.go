package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/notify/sipcall"
	"github.com/astreinte/astreinte/oncall/notify/sipmessage"
	"github.com/astreinte/astreinte/sip"
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
		// A trunk that named no registered trunk set no proxy: the call
		// cannot be placed.
		{"phone, trunk without its registrar", SIPPage{Trunk: "nope", Message: true}, phoneOnly, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reaching(Paging{SIP: tt.sip}, tt.p); !slices.Equal(got, tt.want) {
				t.Errorf("Reaching = %q, want %q", got, tt.want)
			}
		})
	}
}

// Reaching says what the notifiers will do: for each paging section (as
// config check reads it, a trunk's registrar filled in as the proxy) and
// each kind of person, "sip" is listed exactly when the SIP call-out
// notifier, built as serve builds it, has an address to call, and
// "message" exactly when the MESSAGE notifier has one to write to.
func TestReachingAgreesWithTheNotifiers(t *testing.T) {
	people := []oncall.Person{
		{ID: "uri", SIP: "sip:bob@pbx.example.net"},
		{ID: "phone", Phone: "+33 6 11 22 33 44"},
		{ID: "both", SIP: "sip:eve@pbx.example.net", Phone: "+33611223344"},
		{ID: "email", Email: "dan@example.com"},
	}
	const trunks = `
trunks:
  register:
    - name: ovh
      host: sip.example.net
      username: "0033493918009"
      password: secret
`
	for _, tt := range []struct{ name, paging string }{
		{"no route", "paging: {sip: {message: true}}"},
		{"proxy", `paging: {sip: {proxy: "pbx.example.net:5060", message: true}}`},
		{"proxy, messages off", `paging: {sip: {proxy: "pbx.example.net:5060"}}`},
		{"trunk", trunks + "paging: {sip: {trunk: ovh, message: true}}"},
		{"trunk and proxy", trunks + `paging: {sip: {trunk: ovh, proxy: "sbc.example.net:5060", message: true}}`},
		{"unknown trunk", trunks + "paging: {sip: {trunk: nope, message: true}}"},
		{"call-outs off", `paging: {sip: {enabled: false, proxy: "pbx.example.net:5060", message: true}}`},
	} {
		cfg, _ := Check([]byte("lines:\n  - name: support\n    numbers: [\"0493918009\"]\n"+tt.paging+"\n"), "t.yaml", checkNow, CheckOptions{})
		if cfg == nil {
			t.Fatalf("%s: the configuration does not parse", tt.name)
		}
		pg := cfg.Paging
		// As cmd/astreinte/paging.go builds them.
		opts := sip.DialOptions{Proxy: pg.SIP.Proxy}
		call := &sipcall.Notifier{Options: opts}
		message := &sipmessage.Notifier{Options: opts, PhoneByProxy: pg.MessagesPhones()}
		for _, p := range people {
			got := Reaching(pg, p)
			_, err := call.Target(p)
			if want := pg.SIPEnabled() && err == nil; slices.Contains(got, "sip") != want {
				t.Errorf("%s, %s: Reaching = %q, but the call-out notifier's target error is %v", tt.name, p.ID, got, err)
			}
			if want := pg.SIP.Message && message.Reaches(p); slices.Contains(got, "message") != want {
				t.Errorf("%s, %s: Reaching = %q, but the MESSAGE notifier reaches them: %v", tt.name, p.ID, got, want)
			}
		}
	}
}
