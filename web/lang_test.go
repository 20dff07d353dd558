package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
)

var (
	tagRE   = regexp.MustCompile(`(?s)<details.*?</details>|<[^>]+>`)
	spaceRE = regexp.MustCompile(`\s+`)
	// Each language's labels the pages show; the last ones are only
	// looked for as absent (the pages show them in other cases).
	frLabels = []string{"Reçu", "Prendre en charge", "Client rappelé", "Résolu", "Historique", "Ticket créé", "Appeler", "Ligne", "mar.", "déc.", "hors heures", "Maintenant", "jusqu'à", "Échanges de gardes", "nouveau", "échéance", "appel manqué", "essai",
		"Aucun appel", "Numéro masqué"}
	enLabels = []string{"Received", "Take it", "Called back", "Resolved", "Timeline", "Ticket created", "Call ", "Line", "Tue", "Dec", "out of hours", "Now", "until", "Shift swaps", "new", "due", "missed call", "retry",
		"No calls", "Hidden number", "Acknowledge", " / "}
	frWant, enWant = frLabels[:len(frLabels)-2], enLabels[:len(enLabels)-4]
	pagePaths      = []string{"/tickets", "/tickets/%s", "/tickets/%m", "/oncall", "/calls", "/status", "/me"}
)

// visible is the text a reader sees: tags, attributes (tokens, links) and
// technical details (a SIP peer's error, as it came) left out.
func visible(page string) string {
	return spaceRE.ReplaceAllString(tagRE.ReplaceAllString(page, " "), " ")
}

// TestOneLanguage: every technician's page is in one language, the
// reader's: French by default and for a French browser, English for an
// English one, and the user's own setting over the browser's. Each page is
// checked for its own language's labels and for the absence of the other
// language's.
func TestOneLanguage(t *testing.T) {
	a := newApp(t)
	tk := a.ticket("+33612345678", astreinte.Urgent, 20*time.Minute) // overdue: nobody took it within 15 min
	missed := astreinte.Ticket{Line: "support", CallerNumber: "+33622334455", Kind: astreinte.KindMissedCall, Urgency: astreinte.NotUrgent,
		Case: astreinte.CaseOutOfHours, CreatedAt: a.clock()}
	if err := a.svc.Create(context.Background(), &missed); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []astreinte.Event{
		{TicketID: tk.ID, At: a.clock().Add(-19 * time.Minute), Kind: astreinte.EventPageQueued, Actor: "system"},
		{TicketID: tk.ID, At: a.clock().Add(-18 * time.Minute), Kind: astreinte.EventPageFailed, Actor: "bob", Channel: "sip",
			Detail: "bob via sip: 486 Busy Here; retry 1/3 at 21:53:00"},
		{TicketID: tk.ID, At: a.clock().Add(-10 * time.Minute), Kind: astreinte.EventNote, Actor: "system",
			Detail: "paging stopped after 1h0m0s"},
	} {
		if err := a.db.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	c := astreinte.Call{Line: "support", CallerNumber: "+33611111111", StartedAt: a.clock().Add(-time.Minute),
		Case: astreinte.CaseOutOfHours, Outcome: astreinte.OutcomeNoMessage, EndedAt: a.clock()}
	if err := a.svc.StartCall(ctx, &c); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.EndCall(ctx, &c); err != nil {
		t.Fatal(err)
	}

	check := func(t *testing.T, b *browser, accept string, want, not []string) {
		t.Helper()
		for _, p := range pagePaths {
			p = strings.NewReplacer("%s", tk.Number, "%m", missed.Number).Replace(p)
			resp, page := b.do("GET", p, nil, "Accept-Language", accept)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			text := visible(page)
			for _, w := range not {
				if strings.Contains(text, w) {
					i := strings.Index(text, w)
					t.Errorf("%s (Accept-Language %q) has %q: …%s…", p, accept, w, text[max(0, i-60):min(len(text), i+60)])
				}
			}
			for _, w := range want {
				if strings.Contains(text, w) {
					want = slicesDelete(want, w)
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("Accept-Language %q: no page has %q", accept, want)
		}
	}
	alice := a.browser()
	csrf := alice.mustLogin("alice")
	t.Run("French by default", func(t *testing.T) {
		check(t, alice, "", frWant, enLabels)
	})
	t.Run("French browser", func(t *testing.T) {
		check(t, alice, "fr-FR,fr;q=0.9,en;q=0.5", frWant, enLabels)
	})
	t.Run("English browser", func(t *testing.T) {
		check(t, alice, "en-GB,en;q=0.9", enWant, frLabels)
		_, page := alice.do("GET", "/tickets/"+tk.Number, nil, "Accept-Language", "en")
		mustHave(t, "English ticket", page, `<html lang="en">`, "Tue 1 Dec 2026 at 22:50", "overdue", "bob not reached by SIP call: retry 1/3 at 22:53",
			"paging stopped after 1 h", `href="tel:+33612345678"`, "06 12 34 56 78")
	})
	t.Run("the user's setting wins over the browser", func(t *testing.T) {
		resp, _ := alice.do("POST", "/me/language", url.Values{"csrf": {csrf}, "language": {"en"}})
		if resp.StatusCode != 303 {
			t.Fatalf("set language: %d", resp.StatusCode)
		}
		check(t, alice, "fr-FR,fr", enWant, frLabels)
		if resp, _ := alice.do("POST", "/me/language", url.Values{"csrf": {csrf}, "language": {"de"}}); resp.StatusCode != 400 {
			t.Errorf("German: %d, want 400", resp.StatusCode)
		}
		alice.do("POST", "/me/language", url.Values{"csrf": {csrf}, "language": {""}})
		check(t, alice, "fr", frWant, enLabels)
	})
	t.Run("the acknowledge link's page", func(t *testing.T) {
		for _, tc := range []struct {
			accept    string
			want, not []string
		}{
			{"en", []string{"Take it", "Caller", "Received", "Tue 1 Dec 2026 at 22:50"}, []string{"Prendre en charge", "Appelant", "Reçu", " / "}},
			{"fr", []string{"Prendre en charge", "Appelant", "Reçu", "mar. 1 déc. 2026 à 22:50"}, []string{"Take it", "Caller", "Received", " / "}},
		} {
			_, page := a.browser().do("GET", "/ack?"+ackQuery(tk.ID, "alice", a.clock().Add(time.Hour)), nil, "Accept-Language", tc.accept)
			text := visible(page)
			mustHave(t, "ack page "+tc.accept, text, tc.want...)
			mustNotHave(t, "ack page "+tc.accept, text, tc.not...)
		}
	})
}

func slicesDelete(s []string, v string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func ackQuery(id int64, person string, exp time.Time) string {
	return acklink.SignAck(testKey, id, person, exp)
}

// TestLoginLanguage: before anyone logs in, the login page speaks the
// browser's language.
func TestLoginLanguage(t *testing.T) {
	a := newApp(t)
	_, page := a.browser().do("GET", "/login", nil, "Accept-Language", "en-US,en;q=0.9")
	mustHave(t, "English login", page, `<html lang="en">`, "User name", "Password", "Log in")
	mustNotHave(t, "English login", visible(page), "Utilisateur", "Mot de passe", "Se connecter")
	_, page = a.browser().do("GET", "/login", nil)
	mustHave(t, "French login", page, `<html lang="fr">`, "Utilisateur", "Mot de passe", "Se connecter")
}
