package email

import (
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/tickets"
)

// words are the fixed texts of a page in one language.
type words struct {
	urgent, notUrgent, callFrom, hidden            string
	caller, line, received, message, due, escalate string
	tierRound                                      string // tier name, round number
	noRecording, attached, missing, tooBig         string
	ackLink, orCLI, noLink                         string
	repeat, earlier                                string // "%s message from the same caller", earlier messages
	nothingToDo                                    string // after "taken by"
	nth                                            func(n int) string
	weekdays                                       [7]string
	dateTime                                       string // time.Format layout after the weekday
	colon                                          string // " : " in French
}

var lang = map[string]*words{
	"fr": {
		urgent: "URGENT", notUrgent: "non urgent", callFrom: "appel de", hidden: "numéro masqué",
		caller: "Appelant", line: "Ligne", received: "Reçu", message: "Message", due: "À traiter avant",
		escalate: "Astreinte", tierRound: "niveau « %s », tour %d",
		noRecording: "pas d'enregistrement",
		attached:    "enregistrement en pièce jointe (%s)",
		missing:     "enregistrement illisible sur le serveur (%s) : %s",
		tooBig:      "enregistrement trop volumineux pour être joint (%s) ; il est sur le serveur : %s",
		ackLink:     "Prendre en charge (lien valable jusqu'au %s) :",
		orCLI:       "ou : astreinte tickets ack %s",
		noLink:      "Prendre en charge : astreinte tickets ack %s",
		repeat:      "%s message du même appelant",
		earlier:     "Messages précédents",
		nothingToDo: "Vous n'avez rien à faire : les relances de ce ticket sont arrêtées.",
		nth:         ordinalFR,
		weekdays:    [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."},
		dateTime:    "02/01/2006 15:04 MST",
		colon:       " : ",
	},
	"en": {
		urgent: "URGENT", notUrgent: "not urgent", callFrom: "call from", hidden: "hidden number",
		caller: "Caller", line: "Line", received: "Received", message: "Message", due: "Due",
		escalate: "On call", tierRound: "tier %q, round %d",
		noRecording: "no recording",
		attached:    "recording attached (%s)",
		missing:     "recording unreadable on the server (%s): %s",
		tooBig:      "recording too big to attach (%s); it is on the server: %s",
		ackLink:     "Acknowledge (link valid until %s):",
		orCLI:       "or: astreinte tickets ack %s",
		noLink:      "Acknowledge: astreinte tickets ack %s",
		repeat:      "%s message from the same caller",
		earlier:     "Earlier messages",
		nothingToDo: "Nothing for you to do: paging for this ticket has stopped.",
		nth:         tickets.Ordinal,
		weekdays:    [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
		dateTime:    "2006-01-02 15:04 MST",
		colon:       ": ",
	},
}

// wordsFor returns the texts in the person's language, French by default.
func wordsFor(language string) *words {
	if w, ok := lang[strings.ToLower(language)]; ok {
		return w
	}
	return lang["fr"]
}

func (w *words) when(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return w.weekdays[t.Weekday()] + " " + t.Format(w.dateTime)
}

// hiddenNumber reports whether the caller withheld their number (trunks
// send nothing or a placeholder).
func hiddenNumber(n string) bool {
	switch strings.ToLower(strings.TrimSpace(n)) {
	case "", "anonymous", "unknown", "restricted", "private", "unavailable":
		return true
	}
	return false
}

// clean replaces control characters (a caller name comes from the
// outside: it must not add lines to the subject or the text).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// callerOf is the number to call back as people of region write it
// ("06 11 22 33 44"), with the caller's name.
func (w *words) callerOf(t astreinte.Ticket, region string) string {
	s := clean(t.ReachAt())
	if hiddenNumber(s) {
		s = w.hidden
	} else {
		s = phone.National(s, region)
	}
	if name := clean(t.CallerName); name != "" && name != t.CallerNumber && name != t.ReachAt() {
		s += " (" + name + ")"
	}
	return s
}

func (w *words) urgency(t astreinte.Ticket) string {
	if t.Urgency == astreinte.Urgent {
		return w.urgent
	}
	return w.notUrgent
}

// subject is e.g. "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78",
// with ", 2e message du même appelant" when later calls joined it.
func (w *words) subject(t astreinte.Ticket, region string) string {
	s := fmt.Sprintf("[%s] Ticket %s — %s %s", w.urgency(t), t.Number, w.callFrom, w.callerOf(t, region))
	if n := len(t.Recordings); n > 1 {
		s += ", " + fmt.Sprintf(w.repeat, w.nth(n))
	}
	return s
}

// ordinalFR is 1er, 2e, 3e…
func ordinalFR(n int) string {
	if n == 1 {
		return "1er"
	}
	return fmt.Sprintf("%de", n)
}

// minSec writes a message's length: "1 min 05 s".
func minSec(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

// newest is the ticket's latest message, the one a page is about: the
// first of Recordings, or the ticket's own recording when they were not
// read (a ticket paged from memory).
func newest(t astreinte.Ticket) astreinte.Recording {
	if len(t.Recordings) > 0 {
		return t.Recordings[0]
	}
	return astreinte.Recording{Path: t.Recording, Duration: t.Duration, At: t.CreatedAt, Urgency: t.Urgency}
}

// attachment says what became of the recording.
type attachment struct {
	name string // file name in the message; "" when not attached
	note string // why not, when not
}

// body is the text part: the facts first, then how to acknowledge.
func (w *words) body(no oncall.Notice, loc *time.Location, region string, att attachment, ackURL string, linkUntil time.Time) string {
	t := no.Ticket
	var b strings.Builder
	fmt.Fprintf(&b, "%s — Ticket %s\n\n", strings.ToUpper(w.urgency(t)), t.Number)
	row := func(k, v string) {
		if v != "" {
			b.WriteString(k + w.colon + v + "\n")
		}
	}
	row(w.caller, w.callerOf(t, region))
	row(w.line, clean(t.Line))
	rec := newest(t)
	if n := len(t.Recordings); n > 1 {
		b.WriteString(fmt.Sprintf(w.repeat, w.nth(n)) + "\n")
	}
	if !rec.At.IsZero() {
		row(w.received, w.when(rec.At, loc))
	}
	msg := ""
	if rec.Duration > 0 {
		msg = minSec(rec.Duration) + ", "
	}
	if att.name != "" {
		msg += fmt.Sprintf(w.attached, att.name)
	} else {
		msg += att.note
	}
	row(w.message, msg)
	if len(t.Recordings) > 1 {
		b.WriteString(w.earlier + strings.TrimRight(w.colon, " ") + "\n")
		for i, r := range t.Recordings[1:] {
			u := w.notUrgent
			if r.Urgency == astreinte.Urgent {
				u = w.urgent
			}
			fmt.Fprintf(&b, "  %d. %s, %s, %s\n", len(t.Recordings)-1-i, w.when(r.At, loc), minSec(r.Duration), u)
		}
	}
	if !t.DueAt.IsZero() {
		row(w.due, w.when(t.DueAt, loc))
	}
	if no.Tier != "" {
		row(w.escalate, fmt.Sprintf(w.tierRound, no.Tier, no.Round+1))
	}
	b.WriteString("\n")
	if ackURL != "" {
		fmt.Fprintf(&b, w.ackLink+"\n%s\n\n", w.when(linkUntil, loc), ackURL)
		fmt.Fprintf(&b, w.orCLI+"\n", t.Number)
	} else {
		fmt.Fprintf(&b, w.noLink+"\n", t.Number)
	}
	return b.String()
}
