package email

import (
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// TestTakenNotice: a person already paged is told in a few words who took
// the ticket, without the recording.
func TestTakenNotice(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	n := &Notifier{Cfg: Config{From: "astreinte@example.com", Location: loc}}
	at := time.Date(2026, 12, 3, 2, 12, 0, 0, time.UTC)
	for _, tt := range []struct{ lang, subject, text string }{
		{"fr", "Ticket 2026-000123 pris en charge par Alice Martin à 03:12", "rien à faire"},
		{"en", "Ticket 2026-000123 taken by Alice Martin at 03:12", "Nothing for you to do"},
	} {
		no := oncall.Notice{Event: oncall.NoticeTaken, TakenBy: "Alice Martin", TakenAt: at,
			Person: oncall.Person{ID: "bob", Name: "Bob", Email: "bob@example.com", Language: tt.lang},
			Ticket: astreinte.Ticket{ID: 123, Number: "2026-000123", Recording: "/nonexistent.wav"}}
		m := n.compose(no, &mail.Address{Address: "astreinte@example.com"}, &mail.Address{Address: "bob@example.com"}, at)
		if !strings.Contains(m.header, mime.QEncoding.Encode("utf-8", tt.subject)) {
			t.Errorf("%s: header lacks subject %q:\n%s", tt.lang, tt.subject, m.header)
		}
		if !strings.Contains(m.text, tt.text) || m.file != nil {
			t.Errorf("%s: text %q (attachment %v)", tt.lang, m.text, m.file != nil)
		}
	}
}
