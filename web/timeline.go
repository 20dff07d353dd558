package web

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/tickets"
)

// eventRow is one timeline entry as the reader reads it: a sentence in
// their language (What), the words someone wrote (Text: a note, an email's
// subject) and, for what the system wrote, its diagnostic (Detail: an
// error a SIP peer or SMTP server gave, kept as it came, under "technical
// detail").
type eventRow struct {
	When, Kind, What, Text, Detail string
	Late                           bool // a failure or an escalation
}

var channelWords = map[string]tr{
	"sip": {"appel SIP", "SIP call"}, "email": {"e-mail", "email"}, "webhook": {"webhook", "webhook"},
	"message": {"message SIP", "SIP message"}, "web": {"page web", "web page"}, "api": {"API", "API"},
	"cli": {"ligne de commande", "command line"}, "phone": {"téléphone", "phone"},
}

func channelWord(l lang.Tag, ch string) string {
	if w, ok := channelWords[ch]; ok {
		return w.In(l)
	}
	return ch
}

// retryRE reads the engine's "retry 1/3 at 10:26:25" (the clock already
// in the calendar's zone, localDetail) and "giving up on this channel".
var retryRE = regexp.MustCompile(`retry (\d+)/(\d+) at (\d{2}:\d{2})(?::\d{2})?(?: [A-Z+\-0-9]+)?`)

// actorOf writes who acted: "system" is nobody in particular.
func actorOf(actor string) string {
	if actor == "" || actor == "system" {
		return ""
	}
	return actor
}

// timelineRow writes e for a reader in l; detail is e's detail with its
// clock times in the calendar's zone.
func (s *Server) timelineRow(l lang.Tag, e astreinte.Event, detail string) eventRow {
	who := actorOf(e.Actor)
	ch := channelWord(l, e.Channel)
	row := eventRow{When: s.long(l, e.At), Kind: string(e.Kind)}
	human := who != "" // what a person wrote is their text; what the system wrote is a diagnostic
	switch e.Kind {
	case astreinte.EventCreated:
		row.What = l.Pick("Ticket créé", "Ticket created")
		human = false
	case astreinte.EventPageQueued:
		row.What = l.Pick("Alerte d'astreinte lancée", "On-call paging started")
		human = false
	case astreinte.EventPageSent:
		row.What = pick(l, who != "", fmt.Sprintf("%s prévenu(e) par %s", who, ch), fmt.Sprintf("%s paged by %s", who, ch),
			"Alerte envoyée par "+ch, "Page sent by "+ch)
		human = false
	case astreinte.EventPageFailed:
		row.Late = true
		row.What = pick(l, who != "", fmt.Sprintf("%s injoignable par %s", who, ch), fmt.Sprintf("%s not reached by %s", who, ch),
			"Échec de l'alerte par "+ch, "Page by "+ch+" failed")
		if m := retryRE.FindStringSubmatch(detail); m != nil {
			row.What += l.Pick(fmt.Sprintf(" : nouvel essai %s/%s à %s", m[1], m[2], m[3]),
				fmt.Sprintf(": retry %s/%s at %s", m[1], m[2], m[3]))
		} else if strings.Contains(detail, "giving up") {
			row.What += l.Pick(" : abandon de ce moyen", ": giving up on this channel")
		}
		human = false
	case astreinte.EventPageAnswered:
		row.What = pick(l, who != "", who+" a répondu à l'appel", who+" answered the call", "Appel répondu", "Call answered")
		human = false
	case astreinte.EventEscalated:
		row.Late = true
		row.What = l.Pick("Personne n'a pris le ticket : niveau suivant", "Nobody took the ticket: next tier")
		human = false
	case astreinte.EventExhausted:
		row.Late = true
		row.What = l.Pick("Personne n'a pris le ticket après tous les niveaux", "Nobody took the ticket after every tier")
		human = false
	case astreinte.EventAcknowledged:
		row.What = pick(l, who != "", fmt.Sprintf("Pris en charge par %s (%s)", who, ch), fmt.Sprintf("Taken by %s (%s)", who, ch),
			"Pris en charge", "Taken")
	case astreinte.EventNote:
		row.What = pick(l, who != "", "Note de "+who, "Note by "+who, "Note du système", "System note")
	case astreinte.EventCalledBack:
		row.What = pick(l, who != "", who+" a rappelé le client", who+" called the customer back", "Client rappelé", "Customer called back")
	case astreinte.EventResolved:
		row.What = pick(l, who != "", "Résolu par "+who, "Resolved by "+who, "Résolu", "Resolved")
	case astreinte.EventReopened:
		row.What = pick(l, who != "", "Rouvert par "+who, "Reopened by "+who, "Rouvert", "Reopened")
	case astreinte.EventWork:
		row.What = pick(l, who != "", "Temps passé, par "+who, "Time spent, by "+who, "Temps passé", "Time spent")
	case astreinte.EventQuote:
		row.What = l.Pick("Devis", "Quote")
	case astreinte.EventConfirmed:
		row.What = l.Pick("Confirmation du client", "Customer's confirmation")
	case astreinte.EventEmail:
		row.What = l.Pick("E-mail du client", "Email from the customer")
		human = true
	default:
		row.What = l.Pick("Événement", "Event")
	}
	if e.Facts != nil {
		detail = tickets.FactsText(l, *e.Facts)
	} else {
		detail = humanDurations(l, detail)
	}
	if human {
		row.Text = detail
	} else {
		row.Detail = detail
	}
	return row
}

// pick is the first pair when cond, else the second, in l.
func pick(l lang.Tag, cond bool, fr, en, fr2, en2 string) string {
	if cond {
		return l.Pick(fr, en)
	}
	return l.Pick(fr2, en2)
}
