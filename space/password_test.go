package space

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/astreinte/astreinte/customers"
	"golang.org/x/crypto/bcrypt"
)

// TestSessionCookie: the session cookie a sign-in sets is HttpOnly,
// SameSite=Lax, scoped to /client/ and bounded to the session's life;
// Secure exactly when the server is told the pages are on HTTPS (what
// config.HTTP.SecureCookies says from base_url or tls_cert); signing out
// clears it and the session no longer works.
func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			f := newFixture(t, func(s *Server) { s.SecureCookies = secure })
			c := noRedirect()
			f.askLink(t, c, "client@sondages.test")
			link := f.box.link(t, "client@sondages.test", 1)
			_, page := get(t, c, link)
			u, _ := url.Parse(link)
			resp, err := c.PostForm(f.srv.URL+"/client/link", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "token": {u.Query().Get("token")}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
			var sess *http.Cookie
			for _, k := range resp.Cookies() {
				if k.Name == sessionCookie {
					sess = k
				}
			}
			if sess == nil || sess.Value == "" {
				t.Fatalf("no session cookie in %v", resp.Header["Set-Cookie"])
			}
			if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != Prefix || sess.Secure != secure ||
				sess.MaxAge != int(SessionTTL.Seconds()) {
				t.Errorf("session cookie %q: HttpOnly %v SameSite %v Path %q Secure %v (want %v) Max-Age %d",
					resp.Header.Get("Set-Cookie"), sess.HttpOnly, sess.SameSite, sess.Path, sess.Secure, secure, sess.MaxAge)
			}
			for _, h := range resp.Header["Set-Cookie"] {
				if strings.Contains(h, "Secure") != secure || !strings.Contains(h, "HttpOnly") {
					t.Errorf("cookie %q: Secure want %v, HttpOnly", h, secure)
				}
			}
			// The cookie alone is the session: sent by a fresh browser, it
			// opens the space; after sign-out it does not.
			req, _ := http.NewRequest("GET", f.srv.URL+"/client/api/session", nil)
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sess.Value})
			r2, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r2.Body.Close()
			if r2.StatusCode != 200 {
				t.Fatalf("session by its cookie: %d", r2.StatusCode)
			}
			if secure {
				return // the jar does not send a Secure cookie over http
			}
			_, acct := get(t, c, f.srv.URL+"/client/account")
			out, err := c.PostForm(f.srv.URL+"/client/logout", url.Values{"csrf": {csrfRe.FindStringSubmatch(acct)[1]}})
			if err != nil {
				t.Fatal(err)
			}
			out.Body.Close()
			cleared := false
			for _, k := range out.Cookies() {
				cleared = cleared || k.Name == sessionCookie && k.MaxAge < 0
			}
			if !cleared {
				t.Errorf("sign-out does not clear the cookie: %v", out.Header["Set-Cookie"])
			}
			if r3, err := http.DefaultClient.Do(req); err != nil || r3.StatusCode != http.StatusUnauthorized {
				t.Errorf("the old cookie after sign-out: %v %v", r3.StatusCode, err)
			}
		})
	}
}

// passwordLogin posts the password form from a fresh page of c.
func (f *fixture) passwordLogin(t *testing.T, c *http.Client, addr, pw string) (int, string, *http.Response) {
	t.Helper()
	_, page := get(t, c, f.srv.URL+"/client/")
	resp, err := c.PostForm(f.srv.URL+"/client/login/password", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]},
		"email": {addr}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String(), resp
}

// TestPasswordSignIn: a signed-in contact sets a password (too short or
// two different entries refused); with it they sign in at
// /client/login/password; a wrong password, an unknown address and a
// removed contact get the same refusal; after passwordsPerAddress
// failures even the right password is refused for a while, and a source
// trying many addresses is stopped at passwordsPerSource.
func TestPasswordSignIn(t *testing.T) {
	// The lowest bcrypt cost: the same paths, 30-odd comparisons fast
	// under the race detector.
	f := newFixture(t, func(s *Server) { s.PasswordCost = bcrypt.MinCost })
	const addr, pw = "client@sondages.test", "correct horse battery"
	c := f.signIn(t, addr)
	_, acct := get(t, c, f.srv.URL+"/client/account")
	csrf := csrfRe.FindStringSubmatch(acct)[1]
	for _, tc := range []struct {
		pw, again, want string
		code            int
	}{
		{"short", "short", "Au moins 10 caractères.", 400},
		{pw, pw + "!", "Les deux saisies diffèrent.", 400},
		{pw, pw, "Mot de passe enregistré.", 200},
	} {
		code, body := post(t, c, f.srv.URL+"/client/account/password", url.Values{"csrf": {csrf}, "password": {tc.pw}, "again": {tc.again}})
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("set password %q/%q: %d, want %d %q", tc.pw, tc.again, code, tc.code, tc.want)
		}
	}
	if code, _ := post(t, c, f.srv.URL+"/client/account/password", url.Values{"password": {pw + "x"}, "again": {pw + "x"}}); code != http.StatusForbidden {
		t.Errorf("set password without the CSRF token: %d, want 403", code)
	}

	// The password signs in, as the address is written in any case.
	b := client()
	if code, body, _ := f.passwordLogin(t, b, "Client@Sondages.TEST", pw); code != 200 || !strings.Contains(body, "secret of C002") {
		t.Fatalf("password sign-in: %d\n%s", code, body)
	}
	if code, _ := get(t, b, f.srv.URL+"/client/tickets/"+f.tkts["C002"].Number); code != 200 {
		t.Errorf("the password's session: %d", code)
	}

	// Wrong password, unknown address, an address with no password: one
	// refusal, word for word.
	var refusals []string
	for _, try := range [][2]string{{addr, pw + "x"}, {"nobody@example.test", pw}, {"admin@heberge.test", pw}} {
		code, body, _ := f.passwordLogin(t, client(), try[0], try[1])
		if code != http.StatusUnauthorized || !strings.Contains(body, "Adresse ou mot de passe incorrect.") {
			t.Errorf("sign-in %s: %d\n%s", try[0], code, body)
		}
		refusals = append(refusals, csrfRe.ReplaceAllString(strings.ReplaceAll(body, try[0], "ADDR"), ""))
	}
	for i := 1; i < len(refusals); i++ {
		if refusals[i] != refusals[0] {
			t.Errorf("refusal %d differs from the first:\n%s\n---\n%s", i, refusals[i], refusals[0])
		}
	}

	// A contact removed from the customer record cannot sign in with the
	// password they had.
	ctx := context.Background()
	if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{"autre@sondages.test"}}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := f.passwordLogin(t, client(), addr, pw); code != http.StatusUnauthorized {
		t.Errorf("removed contact's password: %d, want 401", code)
	}
	if err := f.db.UpdateCustomer(ctx, customers.Customer{Number: "C002", Name: "Sondages & Co", Contract: "tickets",
		Emails: []string{addr}}); err != nil {
		t.Fatal(err)
	}

	// Rate limit per address: the failures so far (2 for addr) and more
	// up to passwordsPerAddress; then the right password is refused too,
	// and the same for an address that does not exist.
	for i := 2; i < passwordsPerAddress; i++ {
		f.passwordLogin(t, client(), addr, "wrong password")
	}
	if code, body, _ := f.passwordLogin(t, client(), addr, pw); code != http.StatusTooManyRequests || !strings.Contains(body, "Trop d&#39;échecs") {
		t.Errorf("right password after %d failures: %d, want 429", passwordsPerAddress, code)
	}
	for range passwordsPerAddress - 1 {
		f.passwordLogin(t, client(), "nobody@example.test", "wrong password")
	}
	if code, _, _ := f.passwordLogin(t, client(), "nobody@example.test", "x"); code != http.StatusTooManyRequests {
		t.Errorf("unknown address after %d failures: %d, want 429 as for a contact", passwordsPerAddress, code)
	}
	// Past the window, the contact signs in again.
	*f.now = f.now.Add(limitWindow + 1)
	if code, _, _ := f.passwordLogin(t, client(), addr, pw); code != 200 {
		t.Errorf("after the window: %d", code)
	}

	// Per source: many addresses from one source.
	blocked := -1
	for i := range passwordsPerSource + 1 {
		code, _, _ := f.passwordLogin(t, client(), "guess"+string(rune('a'+i))+"@example.test", "x")
		if code == http.StatusTooManyRequests {
			blocked = i
			break
		}
	}
	if blocked != passwordsPerSource {
		t.Errorf("the source was stopped after %d failures, want %d", blocked, passwordsPerSource)
	}
}
