package email

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
)

// TestTakenNotice: a person already paged is told in a few words who took
// the ticket, without the recording.
func TestTakenNotice(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	n := &Notifier{Cfg: Config{Config: mailer.Config{From: "astreinte@example.com"}, Location: loc}}
	at := time.Date(2026, 12, 3, 2, 12, 0, 0, time.UTC)
	for _, tt := range []struct{ lang, subject, text string }{
		{"fr", "Ticket 2026-000123 pris en charge par Alice Martin à 03:12", "rien à faire"},
		{"en", "Ticket 2026-000123 taken by Alice Martin at 03:12", "Nothing for you to do"},
	} {
		no := oncall.Notice{Event: oncall.NoticeTaken, TakenBy: "Alice Martin", TakenAt: at,
			Person: oncall.Person{ID: "bob", Name: "Bob", Email: "bob@example.com", Language: tt.lang},
			Ticket: astreinte.Ticket{ID: 123, Number: "2026-000123", Recording: "/nonexistent.wav"}}
		m, release := n.compose(no, &mail.Address{Address: "astreinte@example.com"}, &mail.Address{Address: "bob@example.com"}, at)
		release()
		if m.Subject != tt.subject {
			t.Errorf("%s: subject %q, want %q", tt.lang, m.Subject, tt.subject)
		}
		if !strings.Contains(m.Text, tt.text) || len(m.Parts) != 0 {
			t.Errorf("%s: text %q (attachments %d)", tt.lang, m.Text, len(m.Parts))
		}
	}
}
