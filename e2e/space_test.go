package e2e

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCustomerSpace: the customer space as a customer uses it, in
// a phone-sized Chromium, against the built binary with a real SMTP
// server. A contact of the second agreement's customer asks for a sign-in
// link, reads it in the mail, signs in, opens a request (a verified
// ticket, due in two business days); a technician proposes a quote and
// asks for the confirmation of an intervention past the threshold from
// the CLI (each mailed to the contact), the work log refuses that work
// until the contact accepts and confirms in the space; the contact books
// a 45-minute video appointment (invitations to the contact and the desk)
// and cancels it. A contact of the other customer gets a 404 for each of
// the first one's tickets, recordings, attachments and statements, by URL
// and by API; a used link and an expired one are refused.
func TestBrowserCustomerSpace(t *testing.T) {
	exe := requireChromium(t)
	sink := startMailSink(t)
	o := customersOverrides(map[string]any{})
	o["clock"] = map[string]any{"now": inHours}
	o["paging"] = map[string]any{"email": map[string]any{"smtp": sink.addr, "from": "support@e2e.test", "tls": "none"}}
	svc := startAstreinte(t, o)
	importCustomers(t, svc)
	base := "http://" + svc.cfg["http"].(map[string]any)["listen"].(string)
	const contact = "client@sondages.test"

	bctx := startBrowser(t, exe)
	con := &consoleLog{}
	con.listen(bctx)
	browse(t, bctx, con, "ask for a link", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/lang/fr"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), contact),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("sent")),
	))
	link := signInLink(t, sink, contact, 1)
	browse(t, bctx, con, "sign in", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("use-link")),
		chromedp.WaitVisible(chromedp.ID("tickets")),
	))
	screenshot(t, bctx, "space-1-tickets.png")

	// A request: a verified ticket.
	browse(t, bctx, con, "open a request", 30*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.ID("new-request")),
		chromedp.WaitVisible(chromedp.ID("subject")),
		chromedp.SendKeys(chromedp.ID("subject"), "Changer le mot de passe admin"),
		chromedp.SendKeys(chromedp.ID("text"), "Le questionnaire 42 doit avoir un nouveau mot de passe."),
		chromedp.Click(chromedp.ID("send-request")),
		chromedp.WaitVisible(chromedp.ID("number")),
	))
	number := browse(t, bctx, con, "ticket number", 5*time.Second, chromedp.Text(chromedp.ID("number")))
	if v := browse(t, bctx, con, "verified", 5*time.Second, chromedp.Text(chromedp.ID("verified"))); v != "oui" {
		t.Errorf("the space's ticket is verified %q, want oui", v)
	}
	out, err := svc.cli("tickets", "show", number)
	if err != nil || !strings.Contains(out, "Verified") || strings.Contains(out, "UNVERIFIED") || !strings.Contains(out, base+"/client/") ||
		!strings.Contains(out, "space") {
		t.Errorf("tickets show %s (err=%v):\n%s", number, err, out)
	}
	// Due in the contract's two business days: Tuesday 10:00 → Thursday 10:00.
	if !strings.Contains(out, "Thu 26 Nov") {
		t.Errorf("due time of %s: want Thursday 26 November:\n%s", number, out)
	}
	screenshot(t, bctx, "space-2-ticket.png")

	// A quote, mailed, accepted in the space.
	if out, err := svc.cli("quote", "set", number, "--amount", "120.00", "--description", "Nouveau mot de passe et audit"); err != nil ||
		!strings.Contains(out, "mailed a link") {
		t.Fatalf("quote set: %v\n%s", err, out)
	}
	if m := waitSubject(t, sink, contact, "Devis"); !strings.Contains(m.text, base+"/client/tickets/"+number) || !strings.Contains(m.text, "120,00\u202f€") {
		t.Fatalf("quote mail: %+v", m)
	}
	// The request's acknowledgement (the mail desk) names the ticket.
	waitSubject(t, sink, contact, "["+number+"]")
	browse(t, bctx, con, "accept the quote", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.Click(chromedp.ID("quote-accept")),
		chromedp.WaitVisible(chromedp.ID("quote-state")),
	))
	if st := browse(t, bctx, con, "quote state", 5*time.Second, chromedp.Text(chromedp.ID("quote-state"))); !strings.Contains(st, contact) {
		t.Errorf("quote state %q: want accepted by %s", st, contact)
	}

	// A confirmation before the work; the work log refuses it until then.
	if out, err := svc.cli("tickets", "ask-confirmation", number, "--units", "4", "--note", "Refonte des quotas"); err != nil {
		t.Fatalf("ask-confirmation: %v\n%s", err, out)
	}
	waitSubject(t, sink, contact, "Intervention à confirmer")
	if out, err := svc.cli("worklog", "add", number, "3h"); err == nil || !strings.Contains(out, "confirm") {
		t.Errorf("worklog add 3h before the confirmation: want refused, got err=%v\n%s", err, out)
	}
	browse(t, bctx, con, "confirm", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.Click(chromedp.ID("confirm-yes")),
		chromedp.WaitVisible(chromedp.ID("confirm-state")),
	))
	if out, err := svc.cli("worklog", "add", number, "3h", "--note", "quotas refaits"); err != nil {
		t.Errorf("worklog add 3h after the confirmation: %v\n%s", err, out)
	}
	out, _ = svc.cli("tickets", "show", number)
	if !strings.Contains(out, "quote accepted by the customer") || !strings.Contains(out, contact) ||
		!strings.Contains(out, "confirmed the intervention") {
		t.Errorf("the timeline does not say who accepted what:\n%s", out)
	}

	// An appointment: booked, invited, cancelled.
	browse(t, bctx, con, "book", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.Click(chromedp.ID("book")),
		chromedp.WaitVisible(chromedp.ID("slots")),
		chromedp.Click(chromedp.CSS(`#slots input[name="slot"]`)),
		chromedp.Click(chromedp.ID("book-slot")),
		chromedp.WaitVisible(chromedp.ID("appt")),
	))
	screenshot(t, bctx, "space-3-appointment.png")
	appt := browse(t, bctx, con, "appointment", 5*time.Second, chromedp.Text(chromedp.ID("appt")))
	if !strings.Contains(appt, "https://meet.jit.si/astreinte-"+number+"-") {
		t.Errorf("appointment %q: want a Jitsi room", appt)
	}
	for _, to := range []string{contact, "support@e2e.test"} {
		ics := calendarPart(t, waitSubject(t, sink, to, "] Rendez-vous").raw)
		if !strings.Contains(ics, "METHOD:REQUEST") || !strings.Contains(ics, "DTSTART") || !strings.Contains(ics, "meet.jit.si") {
			t.Errorf("invitation to %s:\n%s", to, ics)
		}
	}
	if out, err := svc.cli("appointments", "--day", "2026-11-24"); err != nil || !strings.Contains(out, number) {
		// The first free slot is this Tuesday (10:30) unless the day is full.
		if out2, _ := svc.cli("appointments", "--day", "2026-11-25"); !strings.Contains(out2, number) {
			t.Errorf("appointments of the day: %v\n%s\n%s", err, out, out2)
		}
	}
	browse(t, bctx, con, "cancel", 30*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.ID("appt-cancel")),
		chromedp.WaitVisible(chromedp.ID("appointments")),
	))
	if !strings.Contains(calendarPart(t, waitSubject(t, sink, contact, "Annulé").raw), "METHOD:CANCEL") {
		t.Errorf("no cancellation to the contact")
	}
	browse(t, bctx, con, "slot free again", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.WaitVisible(chromedp.ID("book")),
	))
	for _, l := range con.all() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Failed to load") {
			t.Errorf("console: %s", l)
		}
	}

	// The other customer's contact: 404 for everything of the first.
	other := signInHTTP(t, base, sink, "admin@heberge.test")
	for _, p := range []string{
		"/client/tickets/" + number,
		"/client/tickets/" + number + "/recordings/1",
		"/client/tickets/" + number + "/attachments/1",
		"/client/tickets/" + number + "/appointment",
		"/client/api/tickets/" + number,
		"/client/api/tickets/" + number + "/recordings/1",
		"/client/api/tickets/" + number + "/attachments/1",
		"/client/customers/C002/statements",
		"/client/api/customers/C002",
		"/client/statements/C002",
		"/client/api/statements/C002",
	} {
		resp, err := other.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "Changer le mot de passe") {
			t.Errorf("other customer GET %s: %d, want 404\n%s", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/client/api/statements/2026-11", "/client/api/tickets", "/client/statements/2026-11"} {
		resp, err := other.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), number) {
			t.Errorf("other customer GET %s: %d, must not show %s\n%s", p, resp.StatusCode, number, body)
		}
	}
	// Without a session the API says 401; the space answers under the
	// pages' security headers.
	if resp, err := http.Get(base + "/client/api/tickets/" + number); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without a session: %v %v", resp.StatusCode, err)
	} else if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the space's security headers: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}

	// A used link is refused; so is an expired one (the clock moved on).
	if code, body := useLink(t, link); code != http.StatusForbidden || !strings.Contains(body, "déjà servi") {
		t.Errorf("reused link: %d\n%s", code, body)
	}
	askLinkHTTP(t, base, "admin@heberge.test")
	late := signInLink(t, sink, "admin@heberge.test", 2)
	svc.cfg["clock"] = map[string]any{"now": "2026-11-24T11:00:00+01:00"}
	svc.writeConfig()
	svc.restart()
	if code, body := useLink(t, late); code != http.StatusForbidden || !strings.Contains(body, "expiré") {
		t.Errorf("expired link: %d\n%s", code, body)
	}
}

// waitSubject waits for a mail to addr whose subject contains sub and
// returns the latest.
func waitSubject(t *testing.T, sink *mailSink, addr, sub string) mailMsg {
	t.Helper()
	find := func() *mailMsg {
		ms := sink.to(addr)
		for i := len(ms) - 1; i >= 0; i-- {
			if strings.Contains(ms[i].subject, sub) {
				return &ms[i]
			}
		}
		return nil
	}
	m, ok := poll(15*time.Second, find, func(m *mailMsg) bool { return m != nil })
	if !ok {
		t.Fatalf("no mail to %s with %q in its subject", addr, sub)
	}
	return *m
}

var linkRe = regexp.MustCompile(`http://\S+/client/link\?token=\S+`)

// signInLink waits for the n-th mail to addr and returns its link.
func signInLink(t *testing.T, sink *mailSink, addr string, n int) string {
	t.Helper()
	var link string
	_, ok := poll(15*time.Second, func() string {
		k := n
		for _, m := range sink.to(addr) {
			if l := linkRe.FindString(m.text); l != "" {
				if k--; k == 0 {
					return l
				}
			}
		}
		return ""
	}, func(l string) bool { link = l; return l != "" })
	if !ok {
		t.Fatalf("no sign-in link mailed to %s: %+v", addr, sink.to(addr))
	}
	return link
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func formCSRF(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no csrf in %s:\n%s", u, b)
	}
	return string(m[1])
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func askLinkHTTP(t *testing.T, base, addr string) {
	t.Helper()
	c := newClient()
	tok := formCSRF(t, c, base+"/client/")
	resp, err := c.PostForm(base+"/client/login/link", url.Values{"csrf": {tok}, "email": {addr}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ask link for %s: %v %v", addr, err, resp)
	}
	resp.Body.Close()
}

// useLink opens a sign-in link and presses its button, in a fresh client.
func useLink(t *testing.T, link string) (int, string) {
	t.Helper()
	c := newClient()
	u, _ := url.Parse(link)
	tok := formCSRF(t, c, link)
	resp, err := c.PostForm(u.Scheme+"://"+u.Host+"/client/link", url.Values{"csrf": {tok}, "token": {u.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signInHTTP signs addr in with a link, as a program would: a client
// holding the session cookie.
func signInHTTP(t *testing.T, base string, sink *mailSink, addr string) *http.Client {
	t.Helper()
	askLinkHTTP(t, base, addr)
	link := signInLink(t, sink, addr, 1)
	c := newClient()
	u, _ := url.Parse(link)
	tok := formCSRF(t, c, link)
	resp, err := c.PostForm(base+"/client/link", url.Values{"csrf": {tok}, "token": {u.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `id="tickets"`) {
		t.Fatalf("sign in %s: %d\n%s", addr, resp.StatusCode, b)
	}
	return c
}

// calendarPart is the text/calendar part of a raw message.
func calendarPart(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return ""
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/calendar") {
			b, _ := io.ReadAll(p)
			d, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", ""), "\n", ""))
			return string(d)
		}
	}
}
