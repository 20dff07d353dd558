package space

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
