package space

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// outbox keeps what the space mailed (the e2e test uses a real SMTP
// server).
type outbox struct {
	mu   sync.Mutex
	msgs []*mailer.Message
}

func (o *outbox) Send(_ context.Context, m *mailer.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, m)
	return nil
}

var linkRe = regexp.MustCompile(`http://\S+/client/link\?token=\S+`)

// link waits for a mail to addr and returns its link.
func (o *outbox) link(t *testing.T, addr string, n int) string {
	t.Helper()
	for range 200 {
		o.mu.Lock()
		k := n
		for _, m := range o.msgs {
			if m.To[0].Address == addr {
				if k--; k == 0 {
					o.mu.Unlock()
					return linkRe.FindString(m.Text)
				}
			}
		}
		o.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no link mailed to %s", addr)
	return ""
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

type fixture struct {
	srv    *httptest.Server
	box    *outbox
	svc    *tickets.Service
	ledger *tickets.Ledger
	db     *store.DB
	path   string // the database file
	now    *time.Time
	tkts   map[string]astreinte.Ticket // by customer
}

func newFixture(t *testing.T, opts ...func(*Server)) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "astreinte.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, loc)
	f := &fixture{box: &outbox{}, db: db, path: path, now: &now, tkts: map[string]astreinte.Ticket{}}
	clock := func() time.Time { return *f.now }
	db.Now = clock
	ctx := context.Background()
	for _, c := range []customers.Customer{
		{Number: "C001", Name: "Hébergé SARL", Contract: "isp", Emails: []string{"admin@heberge.test"}},
		{Number: "C002", Name: "Sondages & Co", Contract: "tickets", Emails: []string{"client@sondages.test"}},
	} {
		if err := db.AddCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cal, _ := calendar.New(calendar.Config{})
	dir := &customers.Directory{Store: db, Region: "FR", Contracts: map[string]customers.Contract{
		"isp": {Name: "isp", Billing: billing.Policy{Mode: billing.Hourly, Rate: 9000, Unit: 30 * time.Minute, VAT: 2000}}, "tickets": {Name: "tickets", Due: map[astreinte.Channel]int{astreinte.ChannelEmail: 2}}}}
	f.svc = tickets.New(db, cal, tickets.Options{DefaultLine: "support", Now: clock, Customers: dir})
	s := &Server{Contacts: db, Auth: db, Records: db, Requests: db, Tickets: f.svc, Ledger: tickets.NewLedger(f.svc, db),
		Mail: f.box, Location: loc, Now: clock}
	for _, o := range opts {
		o(s)
	}
	f.ledger = s.Ledger
	f.srv = httptest.NewServer(s.Handler())
	s.BaseURL = f.srv.URL
	t.Cleanup(f.srv.Close)
	for _, c := range []string{"C001", "C002"} {
		tk, err := f.svc.FromSpace(ctx, db, tickets.Request{Customer: c, Contact: "x@test", Subject: "secret of " + c}, "", astreinte.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		f.tkts[c] = tk
	}
	return f
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) askLink(t *testing.T, c *http.Client, addr string) (int, string) {
	t.Helper()
	_, page := get(t, c, f.srv.URL+"/client/")
	return post(t, c, f.srv.URL+"/client/login/link", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "email": {addr}})
}

func (f *fixture) useLink(t *testing.T, c *http.Client, link string) (int, string) {
	t.Helper()
	_, page := get(t, c, link)
	u, _ := url.Parse(link)
	return post(t, c, f.srv.URL+"/client/link", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}, "token": {u.Query().Get("token")}})
}

// TestSignInAndIsolation: a link signs a contact in once; they see their
// customer's ticket and nothing of the other customer's (404 by page and
// API); a form without the session's token is refused.
func TestSignInAndIsolation(t *testing.T) {
	f := newFixture(t)
	c := client()
	if code, _ := f.askLink(t, c, "client@sondages.test"); code != http.StatusOK {
		t.Fatalf("ask link: %d", code)
	}
	link := f.box.link(t, "client@sondages.test", 1)
	if code, body := f.useLink(t, c, link); code != http.StatusOK || !strings.Contains(body, "secret of C002") || strings.Contains(body, "secret of C001") {
		t.Fatalf("sign in: %d\n%s", code, body)
	}
	mine, theirs := f.tkts["C002"].Number, f.tkts["C001"].Number
	for _, p := range []string{"/client/tickets/" + mine, "/client/api/tickets/" + mine} {
		if code, body := get(t, c, f.srv.URL+p); code != http.StatusOK || !strings.Contains(body, "secret of C002") {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	for _, p := range []string{"/client/tickets/" + theirs, "/client/api/tickets/" + theirs, "/client/tickets/" + theirs + "/recordings/1",
		"/client/tickets/" + theirs + "/attachments/1", "/client/api/tickets/" + theirs + "/attachments/1", "/client/tickets/2026-999999",
		"/client/statements/nope", "/client/api/statements/C001", "/client/admin"} {
		if code, body := get(t, c, f.srv.URL+p); code != http.StatusNotFound || strings.Contains(body, "secret of C001") {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}
	if code, _ := post(t, c, f.srv.URL+"/client/tickets/"+theirs+"/quote", url.Values{"decision": {"accept"}}); code != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d, want 403", code)
	}
	// The link worked once.
	if code, body := f.useLink(t, client(), link); code != http.StatusForbidden || !strings.Contains(body, "déjà servi") {
		t.Errorf("reused link: %d", code)
	}
	// Past 15 minutes a link is refused.
	f.askLink(t, client(), "admin@heberge.test")
	late := f.box.link(t, "admin@heberge.test", 1)
	*f.now = f.now.Add(LinkTTL + time.Second)
	if code, body := f.useLink(t, client(), late); code != http.StatusForbidden || !strings.Contains(body, "expiré") {
		t.Errorf("expired link: %d", code)
	}
}

// TestLinkAnswerSaysNothing: an address of no customer gets the same page
// as a contact's, and no mail; asking too often is refused per address
// (whether it exists or not) and per source.
func TestLinkAnswerSaysNothing(t *testing.T) {
	f := newFixture(t)
	c := client()
	_, known := f.askLink(t, c, "client@sondages.test")
	f.box.link(t, "client@sondages.test", 1)
	_, unknown := f.askLink(t, c, "nobody@example.test")
	strip := func(s string) string {
		return csrfRe.ReplaceAllString(strings.ReplaceAll(s, "nobody@example.test", "client@sondages.test"), "")
	}
	if strip(known) != strip(unknown) {
		t.Errorf("the answers differ:\n%s\n---\n%s", known, unknown)
	}
	time.Sleep(50 * time.Millisecond)
	if n := f.box.count(); n != 1 {
		t.Errorf("%d mails, want 1 (none for an unknown address)", n)
	}
	for i := 0; i < linksPerAddress-1; i++ {
		f.askLink(t, client(), "nobody@example.test")
	}
	if code, _ := f.askLink(t, client(), "nobody@example.test"); code != http.StatusTooManyRequests {
		t.Errorf("link %d for one address: %d, want 429", linksPerAddress+1, code)
	}
	for i := 0; ; i++ {
		code, _ := f.askLink(t, client(), "x"+string(rune('a'+i))+"@example.test")
		if code == http.StatusTooManyRequests {
			if i+linksPerAddress+1 != linksPerSource {
				t.Errorf("the source was refused after %d links, want %d", i+linksPerAddress+1, linksPerSource)
			}
			break
		}
		if i > linksPerSource {
			t.Fatal("the source is never refused")
		}
	}
}
