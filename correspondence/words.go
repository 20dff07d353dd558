package correspondence

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/phone"
)

// ownID is a new Message-ID of the desk's, without angle brackets.
func ownID(prefix, from string) string {
	return strings.Trim(mailer.NewMessageID(prefix, from), "<>")
}

var (
	replyPrefix = regexp.MustCompile(`(?i)^\s*((re|tr|fwd?|aw|sv)\s*(\[\d+\])?\s*:\s*)+`)
	numberTag   = regexp.MustCompile(`\s*\[#?\d{4}-\d{1,9}\]\s*`)
)

// topic is a subject without its "Re:" prefixes and ticket tag.
func topic(subject string) string {
	s := replyPrefix.ReplaceAllString(subject, "")
	s = numberTag.ReplaceAllString(s, " ")
	s = replyPrefix.ReplaceAllString(strings.TrimSpace(s), "")
	return strings.TrimSpace(s)
}

// ackText is the acknowledgement's subject and text in tag's language.
func (d *Desk) ackText(tag lang.Tag, t astreinte.Ticket, name, subject string) (string, string) {
	about := topic(subject)
	var b strings.Builder
	hello := tag.Pick("Bonjour", "Hello")
	if name != "" {
		hello += " " + name
	}
	b.WriteString(hello + ",\n\n")
	switch {
	case t.Channel == astreinte.ChannelPhone:
		fmt.Fprintf(&b, tag.Pick("Nous avons bien reçu votre message téléphonique du %s (appel depuis le %s).\n",
			"We have received your phone message of %s (call from %s).\n"),
			tag.DateTime(t.CreatedAt.In(d.loc())), phone.National(t.CallerNumber, ""))
	case about != "":
		fmt.Fprintf(&b, tag.Pick("Nous avons bien reçu votre demande « %s ».\n", "We have received your request \"%s\".\n"), about)
	default:
		b.WriteString(tag.Pick("Nous avons bien reçu votre demande.\n", "We have received your request.\n"))
	}
	fmt.Fprintf(&b, tag.Pick("Numéro de ticket : %s\n", "Ticket number: %s\n"), t.Number)
	if !t.DueAt.IsZero() {
		due := t.DueAt.In(d.loc())
		fmt.Fprintf(&b, tag.Pick("Elle sera traitée au plus tard le %s (fuseau %s).\n", "It will be handled by %s (%s time).\n"),
			tag.DateTime(due), zoneName(due))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, tag.Pick("Pour compléter votre demande, répondez à ce message (gardez [%s] dans l'objet).\n",
		"To add to your request, reply to this message (keep [%s] in the subject).\n"), t.Number)
	if t.Channel == astreinte.ChannelPhone && d.BaseURL != "" {
		fmt.Fprintf(&b, tag.Pick("Votre espace client, pour suivre ce ticket ou le compléter : %s/client/\n",
			"Your customer area, to follow this ticket or add to it: %s/client/\n"), d.BaseURL)
	}
	if d.Sensitive {
		b.WriteString(tag.Pick("Pour votre sécurité, les demandes sensibles (mots de passe, modifications de compte, données personnelles) "+
			"ne sont traitées que dans l'espace client authentifié",
			"For your security, sensitive requests (passwords, account changes, personal data) "+
				"are only handled through the authenticated customer area"))
		if d.BaseURL != "" {
			b.WriteString(tag.Pick(" :\n", ":\n") + d.BaseURL + "/client/\n")
		} else {
			b.WriteString(".\n")
		}
	}
	b.WriteString("\n" + tag.Pick("Ce message est envoyé automatiquement.", "This message was sent automatically.") + "\n")
	b.WriteString("-- \n" + tag.Pick("Support technique", "Technical support") + "\n")
	s := fmt.Sprintf("[%s] %s", t.Number, tag.Pick("Demande reçue", "Request received"))
	if t.Channel == astreinte.ChannelPhone {
		s = fmt.Sprintf("[%s] %s", t.Number, tag.Pick("Message reçu", "Message received"))
	}
	if about != "" {
		s += tag.Pick(" : ", ": ") + about
	}
	return s, b.String()
}

// replySubject is the subject of a technician's reply.
func replySubject(number, subject string) string {
	if about := topic(subject); about != "" {
		return fmt.Sprintf("Re: [%s] %s", number, about)
	}
	return fmt.Sprintf("[%s]", number)
}

// replyBody is a technician's text with the desk's signature.
func replyBody(tag lang.Tag, number, text string) string {
	return strings.TrimRight(text, " \n") + "\n\n-- \n" + tag.Pick("Support technique", "Technical support") +
		" — ticket " + number + "\n" +
		tag.Pick("Répondez à ce message pour compléter votre demande.", "Reply to this message to add to your request.") + "\n"
}

// zoneName is the zone of t as people name it: "Europe/Paris", else its
// abbreviation ("CET").
func zoneName(t time.Time) string {
	if s := t.Location().String(); s != "Local" && s != "" {
		return s
	}
	return t.Format("MST")
}
