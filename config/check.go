package config

import (
	"fmt"
	"net/mail"
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

// Check parses a configuration as Parse does, then looks at what Parse
// lets through so that the service starts and answers calls whatever a
// technician's entry says (serve logs these as warnings): people no
// configured channel can page, addresses given for a channel that is not
// configured, malformed SIP URIs and email addresses, the fallback, and
// the closed hours from now to GapHorizon when the first tier has nobody.
// cfg is nil when the file does not parse at all.
func Check(b []byte, file string, now time.Time) (*Config, *Report) {
	r := &Report{Errors: Problems{File: file}, Warnings: Problems{File: file}}
	cfg, root, probs := parse(b, file)
	r.Errors.List = probs.List
	if cfg == nil {
		return nil, r
	}
	add := func(list *Problems, path, format string, args ...any) {
		list.List = append(list.List, Problem{Line: lineOf(root, path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	pg := cfg.Paging
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
		if len(chans) == 0 {
			add(&r.Errors, path, "no configured channel can page %s (a sip URI or phone with SIP paging enabled, or an email with paging.email.smtp)", orID(p))
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
	if len(probs.List) == 0 {
		r.gaps(cfg, now, add)
	}
	return cfg, r
}

// gaps warns of the closed hours ahead with nobody on the first tier.
func (r *Report) gaps(cfg *Config, now time.Time, add func(*Problems, string, string, ...any)) {
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
	add(&r.Warnings, path, "nobody on call for %d stretch(es) of closed hours in the next %d weeks (%s in all; shift overrides in the database not counted)",
		len(gaps), int(GapHorizon/(7*24*time.Hour)), fmtHours(total))
	const shown = 5
	for i, g := range gaps {
		if i == shown {
			add(&r.Warnings, path, "… and %d more (astreinte oncall check lists them)", len(gaps)-shown)
			break
		}
		add(&r.Warnings, path, "nobody on call %s – %s", g.From.In(loc).Format("Mon 2006-01-02 15:04"), g.To.In(loc).Format("Mon 2006-01-02 15:04 MST"))
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
// in the order they are paged. It mirrors each notifier's Reaches (sipcall:
// a SIP URI or a phone number; sipmessage: a SIP URI; email: an address),
// for checking a configuration without starting anything.
func Reaching(pg Paging, p oncall.Person) []string {
	var out []string
	if pg.SIPEnabled() && (p.SIP != "" || p.Phone != "") {
		out = append(out, "sip")
	}
	if pg.Email.SMTP != "" && p.Email != "" {
		out = append(out, "email")
	}
	if pg.SIP.Message && p.SIP != "" {
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
		one := Problems{File: r.Warnings.File, List: []Problem{{Line: w.Line, Path: w.Path, Msg: w.Msg}}}
		s := one.Error()
		// "file:12: path: msg" → "file:12: warning: path: msg"
		head := r.Warnings.File
		if head == "" {
			head = "(default config)"
		}
		if w.Line > 0 {
			head = fmt.Sprintf("%s:%d", head, w.Line)
		}
		b.WriteString(head + ": warning: " + strings.TrimPrefix(s, head+": ") + "\n")
	}
	return b.String()
}
