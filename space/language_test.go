package space

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
)

// TestLinkInCustomersLanguage: a reader whose browser states no language
// gets the sign-in link in their customer's language (English for C002
// once its record says so); a browser that asks for French gets French.
func TestLinkInCustomersLanguage(t *testing.T) {
	f := newFixture(t)
	if err := f.db.UpdateCustomer(context.Background(), customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{"client@sondages.test"}, Language: lang.EN}); err != nil {
		t.Fatal(err)
	}
	f.askLink(t, client(), "client@sondages.test")
	f.box.link(t, "client@sondages.test", 1)
	f.askLink(t, client(), "admin@heberge.test")
	f.box.link(t, "admin@heberge.test", 1)

	c := client()
	_, page := get(t, c, f.srv.URL+"/client/")
	form := url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "email": {"client@sondages.test"}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/client/login/link", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.box.link(t, "client@sondages.test", 2)
	// A browser asking only for a language astreinte does not speak
	// states none: the customer's language again.
	form = url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "email": {"client@sondages.test"}}
	req, _ = http.NewRequest("POST", f.srv.URL+"/client/login/link", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.box.link(t, "client@sondages.test", 3)

	f.box.mu.Lock()
	defer f.box.mu.Unlock()
	want := []struct{ to, subject string }{
		{"client@sondages.test", "Your sign-in link to the customer space"},
		{"admin@heberge.test", "Votre lien de connexion à l'espace client"},
		{"client@sondages.test", "Votre lien de connexion à l'espace client"},
		{"client@sondages.test", "Your sign-in link to the customer space"},
	}
	if len(f.box.msgs) != len(want) {
		t.Fatalf("%d mails", len(f.box.msgs))
	}
	for i, w := range want {
		if m := f.box.msgs[i]; m.To[0].Address != w.to || m.Subject != w.subject {
			t.Errorf("mail %d: to %s %q, want %s %q", i, m.To[0].Address, m.Subject, w.to, w.subject)
		}
	}
}

// frenchRe finds French in a page's text: accented letters and words of
// the French pages and formats (dates "24 nov.", "à 10:00", amounts
// "45,00 €", sizes "Mo").
var frenchRe = regexp.MustCompile(`[àâçéèêëîïôûùüœÀÂÇÉÈÊÎÔÛ]|\b(?:le|la|les|des|du|de|et|ou|un|une|oui|non|Objet|Ouvert|Relevés?|Demande|Compte|Travail|Historique|Total :|Mo|nov|déc|janv|mar|mer|jeu|ven|sam|dim|lun|novembre|décembre|Montants|Rien|Aucun|reçu|téléphone)\b|\d,\d\d|\d[\x{202f}\x{a0}]€|\(\d+ o\)`)

// TestSpaceInEnglish: every page of the space for an English reader
// (their choice, their browser, or, stating neither, their customer's
// record) is English only: no French word, dates and money as English
// writes them ("Tue 24 Nov 2026 at 11:00", "€45.00").
func TestSpaceInEnglish(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.richTicket(t, "C001")
	*f.now = f.now.Add(time.Hour)
	if _, err := f.ledger.AddWork(ctx, r.T, 40*time.Minute, "alice", "quota restored"); err != nil {
		t.Fatal(err)
	}
	// What customers and technicians wrote is theirs: not checked.
	data := strings.NewReplacer("Hébergé SARL", "", "Français", "", r.Subject, "", "Body "+r.Secret, "", "contrat-C001.pdf", "",
		"secret of C001", "", "quota restored", "")
	pages := []string{"/client/tickets", "/client/tickets/" + r.T.Number, "/client/tickets/new", "/client/statements",
		"/client/statements/2026-11", "/client/account", "/client/tickets/2026-999999"}
	check := func(t *testing.T, c *http.Client, accept string) {
		t.Helper()
		for _, p := range pages {
			req, _ := http.NewRequest("GET", f.srv.URL+p, nil)
			if accept != "" {
				req.Header.Set("Accept-Language", accept)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && !strings.Contains(p, "999999") {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			text := data.Replace(visible(string(b)))
			if m := frenchRe.FindStringIndex(text); m != nil {
				t.Errorf("GET %s: French %q in …%s…", p, text[m[0]:m[1]], text[max(0, m[0]-60):min(len(text), m[1]+60)])
			}
			if resp.StatusCode == 200 && !strings.Contains(string(b), `<html lang="en">`) {
				t.Errorf("GET %s: not marked English", p)
			}
			switch p {
			case "/client/tickets/" + r.T.Number:
				mustContain(t, p, text, "Tue 24 Nov 2026 at 11:00 40 min", "Total: 40 min (2 × 30 min)", "Work done", "History", "(29 bytes)")
			case "/client/statements/2026-11":
				mustContain(t, p, text, "Statement — November 2026", "€90.00", "€18.00", "€108.00", "Amounts in euros.")
			case "/client/tickets/new":
				mustContain(t, p, text, "10 MB")
			}
		}
	}
	t.Run("the check sees French", func(t *testing.T) {
		c := f.signIn(t, "admin@heberge.test")
		for _, p := range pages[:6] {
			if _, page := get(t, c, f.srv.URL+p); !frenchRe.MatchString(data.Replace(visible(page))) {
				t.Errorf("GET %s in French: the check finds no French", p)
			}
		}
	})
	t.Run("the reader's choice", func(t *testing.T) {
		c := f.signIn(t, "admin@heberge.test")
		get(t, c, f.srv.URL+"/client/lang/en")
		check(t, c, "fr-FR,fr;q=0.9")
	})
	t.Run("the reader's browser", func(t *testing.T) {
		check(t, f.signIn(t, "admin@heberge.test"), "en-GB,en;q=0.8")
	})
	t.Run("the customer's language", func(t *testing.T) {
		*f.now = f.now.Add(limitWindow + time.Minute) // links asked for the address so far
		if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C001", Name: "Hébergé SARL", Contract: "isp",
			Emails: []string{"admin@heberge.test"}, Language: lang.EN}); err != nil {
			t.Fatal(err)
		}
		check(t, f.signIn(t, "admin@heberge.test"), "")
	})
	t.Run("before sign-in", func(t *testing.T) {
		c := client()
		get(t, c, f.srv.URL+"/client/lang/en")
		for _, p := range []string{"/client/", "/client/link?token=abc"} {
			_, page := get(t, c, f.srv.URL+p)
			if text := visible(page); frenchRe.MatchString(data.Replace(text)) {
				t.Errorf("GET %s: French in %s", p, text)
			}
		}
		_, page := f.askLink(t, c, "someone@example.test")
		if text := data.Replace(visible(page)); frenchRe.MatchString(text) || !strings.Contains(text, "Check your email") {
			t.Errorf("link sent: %s", text)
		}
	})
}

func mustContain(t *testing.T, where, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", where, w, text)
		}
	}
}
