package config

import (
	"cmp"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// Report is what Check found in a configuration: errors (it does not load,
// or a technician cannot be paged as written) and warnings (it loads and
// pages, but something is likely not meant: an address no channel uses,
// closed hours with nobody on call).
type Report struct {
	Errors   Problems
	Warnings Problems
}

// GapHorizon is how far ahead Check looks for closed hours with nobody on
// call.
const GapHorizon = 8 * 7 * 24 * time.Hour

// CheckOptions says what Check accepts.
type CheckOptions struct {
	// AllowGaps accepts closed hours with nobody on call although a
	// contract promises on-call: they are warnings, not errors.
	AllowGaps bool
	// Customers, when set, counts the customers of each contract in the
	// database of the configuration checked (cfg.DataDir): a contract
	// that promises on-call binds the night when the file defines it or
	// when customers are on it (a built-in contract such as isp, which a
	// file need not mention). A failure is a warning.
	Customers func(cfg *Config) (map[string]int, error)
}

// Check parses a configuration as Parse does, then checks that the night
// works as the configuration promises: every technician has a channel
// that can deliver (a SIP URI, or a phone number with a SIP route: proxy
// or trunk; an email address with an SMTP server), addresses are well
// formed, the fallback can be emailed, and when a contract promises
// on-call (one of the file, or one opt.Customers says customers are on),
// someone is on call at every closed minute from now to GapHorizon (an
// error with the first gap, unless opt.AllowGaps; without such a
// contract, gaps are warnings). It also warns of addresses given
// for a channel that is not configured. serve refuses to start on any
// error. cfg is nil when the file does not parse at all.
func Check(b []byte, file string, now time.Time, opt CheckOptions) (*Config, *Report) {
	r := &Report{Errors: Problems{File: file}, Warnings: Problems{File: file}}
	cfg, root, probs := parse(b, file)
	r.Errors.List = probs.List
	if cfg == nil {
		return nil, r
	}
	add := func(list *Problems, path, format string, args ...any) {
		line, col := posOf(root, path)
		list.List = append(list.List, Problem{Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	pg := cfg.Paging
	onRota := onRota(cfg)
	for i, p := range cfg.OnCall.People {
		path := fmt.Sprintf("oncall.people[%d]", i)
		if p.SIP != "" {
			if err := checkSIPURI(p.SIP); err != nil {
				add(&r.Errors, path+".sip", "%v", err)
			}
		}
		if p.Email != "" {
			if err := checkEmail(p.Email); err != nil {
				add(&r.Errors, path+".email", "%v", err)
			}
		}
		chans := Reaching(pg, p)
		if p.Email != "" && pg.Email.SMTP == "" {
			add(&r.Warnings, path+".email", "%s is never emailed: paging.email.smtp is not set", p.ID)
		}
		if (p.SIP != "" || p.Phone != "") && !pg.SIPEnabled() {
			add(&r.Warnings, path, "%s is never called: paging.sip.enabled is false", p.ID)
		}
		switch {
		case len(chans) > 0:
		case !onRota[p.ID]:
			add(&r.Warnings, path, "no configured channel can page %s, who is on no rotation or tier", orID(p))
		case p.Phone != "" && p.SIP == "" && pg.SIPEnabled() && (p.Email == "" || pg.Email.SMTP == ""):
			add(&r.Errors, path+".phone", "%s can only be called on %s, and no SIP route reaches a phone number: set paging.sip.proxy or paging.sip.trunk, or give %s a sip URI or an email address (with paging.email.smtp)", orID(p), p.Phone, orID(p))
		default:
			add(&r.Errors, path, "no configured channel can page %s (want a sip URI, or a phone number with paging.sip.proxy or paging.sip.trunk, or an email address with paging.email.smtp)", orID(p))
		}
	}
	for i, a := range pg.Fallback.Emails {
		path := fmt.Sprintf("paging.fallback.emails[%d]", i)
		if err := checkEmail(a); err != nil {
			add(&r.Errors, path, "%v", err)
		}
		if pg.Email.SMTP == "" {
			add(&r.Errors, path, "%s cannot be emailed: paging.email.smtp is not set", a)
		}
	}
	if pg.Webhook.URL == "" && pg.Webhook.Secret != "" {
		add(&r.Errors, "paging.webhook.secret", "a webhook secret without a URL: set paging.webhook.url (http:// or https://), or remove the secret")
	}
	if len(r.Errors.List) == 0 {
		var inUse map[string]int
		if opt.Customers != nil {
			var err error
			if inUse, err = opt.Customers(cfg); err != nil {
				add(&r.Warnings, "data_dir", "the customers' contracts were not checked: %v", err)
			}
		}
		r.gaps(cfg, now, opt, inUse, add)
	}
	r.Errors.sort()
	r.Warnings.sort()
	return cfg, r
}

// onRota is who can be paged: the people a tier names and the
// participants of every rotation.
func onRota(cfg *Config) map[string]bool {
	out := map[string]bool{}
	for _, t := range cfg.OnCall.Escalation.Tiers {
		if t.Person != "" {
			out[t.Person] = true
		}
	}
	for _, r := range cfg.OnCall.Rotations {
		for _, id := range r.Participants {
			out[id] = true
		}
	}
	return out
}

// promisesOnCall names the first contract that promises on-call, and its
// path: one written in the configuration, else one in force (built in)
// that inUse says customers are on, with how many ("" when none does).
func promisesOnCall(cfg *Config, inUse map[string]int) (name, path string, customers int) {
	names := make([]string, 0, len(cfg.Customers.Contracts))
	for n, k := range cfg.Customers.Contracts {
		if k.OnCall {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return names[0], "customers.contracts." + names[0] + ".on_call", inUse[names[0]]
	}
	ks, _ := cfg.Contracts()
	for n, k := range ks {
		if k.OnCall && inUse[n] > 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", "", 0
	}
	slices.Sort(names)
	return names[0], "customers", inUse[names[0]]
}

// gaps reports the closed hours ahead with nobody on the first tier: an
// error with the first one when a contract promises on-call (unless
// opt.AllowGaps), else warnings.
func (r *Report) gaps(cfg *Config, now time.Time, opt CheckOptions, inUse map[string]int, add func(*Problems, string, string, ...any)) {
	cal, err := calendar.New(cfg.Calendar)
	if err != nil {
		return
	}
	sched, err := oncall.NewSchedule(cfg.OnCall, cal)
	if err != nil {
		return
	}
	gaps := sched.Gaps(now, now.Add(GapHorizon), nil, nil)
	if len(gaps) == 0 {
		return
	}
	path := "oncall.escalation.tiers"
	if len(cfg.OnCall.Escalation.Tiers) == 0 {
		path = "oncall"
	}
	var total time.Duration
	for _, g := range gaps {
		total += g.To.Sub(g.From)
	}
	loc := cal.Location()
	span := func(g oncall.Gap) string {
		return g.From.In(loc).Format("Mon 2006-01-02 15:04") + " – " + g.To.In(loc).Format("Mon 2006-01-02 15:04 MST")
	}
	weeks := int(GapHorizon / (7 * 24 * time.Hour))
	if name, cpath, n := promisesOnCall(cfg, inUse); name != "" && !opt.AllowGaps && !cfg.Customers.AllowGaps {
		who := ""
		if n > 0 {
			who = fmt.Sprintf(" to %d customer(s) in the database", n)
		}
		add(&r.Errors, cpath, "contract %q promises on-call%s, but nobody is on call %s (the first of %d stretch(es) of closed hours with nobody in the next %d weeks, %s in all): add people or rotations to oncall.escalation.tiers so that every closed hour has someone, or accept the gaps with --allow-gaps or customers.allow_gaps: true",
			name, who, span(gaps[0]), len(gaps), weeks, fmtHours(total))
		return
	}
	add(&r.Warnings, path, "nobody on call for %d stretch(es) of closed hours in the next %d weeks (%s in all; shift overrides in the database not counted)",
		len(gaps), weeks, fmtHours(total))
	const shown = 5
	for i, g := range gaps {
		if i == shown {
			add(&r.Warnings, path, "… and %d more (astreinte oncall check lists them)", len(gaps)-shown)
			break
		}
		add(&r.Warnings, path, "nobody on call %s", span(g))
	}
}

func fmtHours(d time.Duration) string {
	h := d.Round(time.Minute).Hours()
	if h == float64(int(h)) {
		return fmt.Sprintf("%d h", int(h))
	}
	return fmt.Sprintf("%.1f h", h)
}

func orID(p oncall.Person) string {
	if p.ID == "" {
		return "this person"
	}
	return p.ID
}

// Reaching lists the channels the service builds from pg that can page p,
// in the order they are paged, for checking a configuration without
// starting anything. It asks the rules the notifiers follow: sipcall calls
// p.SIPTarget(paging.sip.proxy) (a SIP URI, or a phone number through the
// proxy, which a paging.sip.trunk sets to its registrar when Parse fills
// the defaults); sipmessage writes to p.MessageTarget (MessagesPhones);
// email an address.
func Reaching(pg Paging, p oncall.Person) []string {
	var out []string
	if pg.SIPEnabled() && p.SIPTarget(pg.SIP.Proxy) != "" {
		out = append(out, "sip")
	}
	if pg.Email.SMTP != "" && p.Email != "" {
		out = append(out, "email")
	}
	if pg.SIP.Message && p.MessageTarget(pg.SIP.Proxy, pg.MessagesPhones()) != "" {
		out = append(out, "message")
	}
	return out
}

// checkSIPURI accepts sip:[user@]host[:port][;params] and sips:.
func checkSIPURI(u string) error {
	rest, ok := strings.CutPrefix(u, "sip:")
	if !ok {
		rest, ok = strings.CutPrefix(u, "sips:")
	}
	if !ok {
		hint := ""
		if !strings.Contains(u, ":") || strings.Contains(u, "@") {
			hint = fmt.Sprintf(", e.g. %q", "sip:"+u)
		}
		return fmt.Errorf("%q is not a SIP URI: want sip:user@host%s", u, hint)
	}
	host := rest
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		if i == 0 {
			return fmt.Errorf("%q: empty user before @", u)
		}
		host = rest[i+1:]
	}
	host, _, _ = strings.Cut(host, ";")
	if host == "" || strings.ContainsAny(rest, " \t<>\"") {
		return fmt.Errorf("%q is not a SIP URI: want sip:user@host", u)
	}
	return nil
}

// checkEmail accepts one address, bare or with a display name.
func checkEmail(a string) error {
	addr, err := mail.ParseAddress(a)
	if err != nil || !strings.Contains(addr.Address, "@") {
		return fmt.Errorf("%q is not an email address", a)
	}
	return nil
}

// String writes the report as the lines `config check` prints: errors,
// then warnings (marked), each with its file and line.
func (r *Report) String() string {
	var b strings.Builder
	if len(r.Errors.List) > 0 {
		b.WriteString(r.Errors.Error())
		b.WriteByte('\n')
	}
	for _, w := range r.Warnings.List {
		file := r.Warnings.File
		if file == "" {
			file = "(default config)"
		}
		b.WriteString(w.where(file) + "warning: ")
		if w.Path != "" {
			b.WriteString(w.Path + ": ")
		}
		b.WriteString(w.Msg + "\n")
	}
	return b.String()
}

// sort orders the problems as they appear in the file (those without a
// line last), keeping the order of those at the same place.
func (p *Problems) sort() {
	slices.SortStableFunc(p.List, func(a, b Problem) int {
		if (a.Line == 0) != (b.Line == 0) {
			return cmp.Compare(b.Line, a.Line) // no line: last
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}
