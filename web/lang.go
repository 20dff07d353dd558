package web

import (
	"html/template"
	"net/http"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/tickets"
)

// Every page speaks one language, the reader's (readerLang): the
// templates are parsed once per language, with "t" (a text in French and
// English: the page keeps one) and the words of statuses and cases bound
// to it, and the handlers write dates, times and durations through the
// same lang.Tag.

// tr is a text in both languages; a page shows one of them.
type tr struct{ FR, EN string }

// In is the text in l.
func (t tr) In(l lang.Tag) string { return l.Pick(t.FR, t.EN) }

// readerLang is the language of a logged-in reader: their own setting,
// else (their person's language being English) English, else their
// browser's Accept-Language, else French. A person's "fr" is the rota's
// default, so it does not override the browser.
func (s *Server) readerLang(r *http.Request, u accounts.User) lang.Tag {
	setting := u.Language
	if setting == "" && s.Schedule != nil && u.Person != "" {
		if p, ok := s.Schedule.Person(u.Person); ok && p.Language == string(lang.EN) {
			setting = p.Language
		}
	}
	return lang.Negotiate(setting, r.Header.Get("Accept-Language"))
}

// browserLang is the language of a reader who is not logged in.
func browserLang(r *http.Request) lang.Tag {
	return lang.Negotiate("", r.Header.Get("Accept-Language"))
}

var statusWords = map[astreinte.Status]tr{
	astreinte.StatusNew:          {"nouveau", "new"},
	astreinte.StatusAcknowledged: {"pris en charge", "acknowledged"},
	astreinte.StatusCalledBack:   {"client rappelé", "called back"},
	astreinte.StatusResolved:     {"résolu", "resolved"},
}

var caseWords = map[astreinte.Case]tr{
	astreinte.CaseOpen: {"heures ouvrées", "open hours"}, astreinte.CaseOutOfHours: {"hors heures", "out of hours"},
	astreinte.CaseHoliday: {"jour férié", "holiday"}, astreinte.CaseClosure: {"fermeture", "closure"},
	astreinte.CaseForceClosed: {"fermé (forcé)", "forced closed"}, astreinte.CaseForceOpen: {"ouvert (forcé)", "forced open"},
}

// funcsFor are the template functions of pages in l.
func funcsFor(l lang.Tag) template.FuncMap {
	return template.FuncMap{
		"t":      func(fr, en string) string { return l.Pick(fr, en) },
		"status": func(st astreinte.Status) string { return statusWords[st].In(l) },
		"caseWord": func(c astreinte.Case) string {
			if w, ok := caseWords[c]; ok {
				return w.In(l)
			}
			return string(c)
		},
		"hidden":  hiddenNumber,
		"telHref": telURL,
		// national writes a number as people of the line's region do
		// ("06 12 34 56 78"); links and the API keep E.164.
		"national": func(n string) string { return phone.National(n, "") },
	}
}

// long writes an instant in the calendar's zone with its day, as l
// writes it: "mer. 2 déc. 2026 à 03:12".
func (s *Server) long(l lang.Tag, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return l.DateTime(at.In(s.loc()))
}

// clock writes an instant for a reader in a hurry: "03:12" today, "hier
// 23:40", else the short date and time.
func (s *Server) clock(l lang.Tag, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return l.When(at.In(s.loc()), s.now())
}

// humanDurations rewrites Go durations in text as l writes them ("1 h").
func humanDurations(l lang.Tag, text string) string { return tickets.HumanDurations(l, text) }
