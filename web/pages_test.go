package web

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// app is the web server over a real SQLite store, the real tickets
// service, accounts and schedule, on a clock the test moves.
type app struct {
	t    testing.TB
	ts   *httptest.Server
	db   *store.DB
	svc  *tickets.Service
	acc  *accounts.Service
	mu   sync.Mutex
	now  time.Time
	loc  *time.Location
	dir  string
	tick map[string]astreinte.Ticket // by caller number
	srv  *Server
}

func (a *app) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *app) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

func newApp(t testing.TB, server ...func(*http.Server)) *app {
	t.Helper()
	return newAppWith(t, nil, server...)
}

// newAppWith is newApp with the schedule's configuration and the server
// changed first by cfg and srv (each may be nil).
func newAppWith(t testing.TB, change func(*oncall.ScheduleConfig, *Server), server ...func(*http.Server)) *app {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sc := oncall.ScheduleConfig{
		People: []oncall.Person{{ID: "alice", Name: "Alice"}, {ID: "bob", Name: "Bob"}},
		Rotations: []oncall.RotationConfig{{Name: "nights", Participants: []string{"bob", "alice"}, Shift: "1w",
			Start: "2026-11-30 09:00"}},
		Escalation: oncall.PolicyConfig{Tiers: []oncall.TierConfig{{Rotation: "nights"}}},
	}
	if change != nil {
		change(&sc, nil)
	}
	sched, err := oncall.NewSchedule(sc, cal)
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 1 December 2026, 23:10 in Paris: closed, bob's week.
	a := &app{t: t, db: db, loc: paris, dir: dir, now: time.Date(2026, 12, 1, 22, 10, 0, 0, time.UTC),
		tick: map[string]astreinte.Ticket{}}
	db.Now = a.clock
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a.svc = tickets.New(db, cal, tickets.Options{Now: a.clock, Log: log,
		Lines: map[string]tickets.Policy{"support": {DueUrgent: 0, DueNormal: 2, Page: astreinte.PageUrgent}}})
	a.acc = accounts.New(db, a.clock, log)
	a.acc.Cost = 4 // bcrypt.MinCost: the tests log in often
	for _, u := range []struct {
		name   string
		role   accounts.Role
		person string
	}{{"alice", accounts.Technician, "alice"}, {"root", accounts.Admin, ""}} {
		if _, err := a.acc.AddUser(context.Background(), u.name, u.role, u.person, "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{Tickets: a.svc, Key: testKey, Now: a.clock, Log: log, Location: paris, Service: a.svc,
		Accounts: a.acc, Schedule: sched, Overrides: db, Channels: []string{"email", "sip"}, Paging: db,
		Swaps: &swaps.Service{Schedule: sched, Store: db, RequireApproval: sched.SwapApproval(), Now: a.clock}, Pay: db}
	if change != nil {
		change(&sc, s)
	}
	a.srv = s
	a.ts = httptest.NewUnstartedServer(s.Handler())
	for _, f := range server {
		f(a.ts.Config)
	}
	a.ts.Start()
	t.Cleanup(func() { s.CloseStreams(); a.ts.Close() })
	return a
}

// ticket makes a ticket through the service, with a recording of n bytes.
func (a *app) ticket(caller string, urgency astreinte.Urgency, age time.Duration) astreinte.Ticket {
	a.t.Helper()
	rec := filepath.Join(a.dir, caller+".wav")
	b := make([]byte, 16000)
	copy(b, "RIFF")
	for i := 44; i < len(b); i++ {
		b[i] = byte(i)
	}
	if err := os.WriteFile(rec, b, 0o600); err != nil {
		a.t.Fatal(err)
	}
	tk := astreinte.Ticket{Line: "support", CallerNumber: caller, CallerName: "Client " + caller, Urgency: urgency,
		Case: astreinte.CaseOutOfHours, Recording: rec, Duration: 12 * time.Second, CreatedAt: a.clock().Add(-age)}
	if err := a.svc.Create(context.Background(), &tk); err != nil {
		a.t.Fatal(err)
	}
	a.tick[caller] = tk
	return tk
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	a *app
	c *http.Client
}

func (a *app) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{a: a, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(method, path string, form url.Values, hdr ...string) (*http.Response, string) {
	b.a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.a.ts.URL+path, body)
	if err != nil {
		b.a.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, html.UnescapeString(string(out))
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// login logs in and returns the CSRF token of the session's pages.
func (b *browser) login(name, password string) (*http.Response, string) {
	b.a.t.Helper()
	_, page := b.do("GET", "/login", nil)
	return b.do("POST", "/login", url.Values{"csrf": {csrfOf(b.a.t, page)}, "name": {name}, "password": {password},
		"next": {"/tickets"}})
}

func (b *browser) mustLogin(name string) string {
	b.a.t.Helper()
	resp, body := b.login(name, "correct horse")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets" {
		b.a.t.Fatalf("login %s: %d %s\n%s", name, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, page := b.do("GET", "/tickets", nil)
	return csrfOf(b.a.t, page)
}

func TestLogin(t *testing.T) {
	a := newApp(t)
	t.Run("anonymous pages go to the login page", func(t *testing.T) {
		b := a.browser()
		for _, p := range []string{"/tickets", "/oncall", "/calls", "/status", "/tickets/2026-000001"} {
			resp, _ := b.do("GET", p, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
				t.Errorf("GET %s: %d → %q", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		resp, _ := b.do("POST", "/tickets/2026-000001/acknowledge", url.Values{})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous POST: %d", resp.StatusCode)
		}
	})
	t.Run("session cookie is HttpOnly and SameSite", func(t *testing.T) {
		b := a.browser()
		resp, _ := b.login("alice", "correct horse")
		var c *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == sessionCookie && k.Value != "" {
				c = k
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Fatalf("session cookie %+v", c)
		}
	})
	t.Run("login form needs its CSRF token", func(t *testing.T) {
		b := a.browser()
		b.do("GET", "/login", nil)
		resp, _ := b.do("POST", "/login", url.Values{"csrf": {"forged"}, "name": {"alice"}, "password": {"correct horse"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged login CSRF: %d", resp.StatusCode)
		}
	})
	t.Run("wrong password, then rate limited per account", func(t *testing.T) {
		b := a.browser()
		for i := range accounts.MaxPerAccount {
			resp, body := b.login("root", "wrong password")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Nom ou mot de passe incorrect") {
				t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := b.login("root", "correct horse")
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Trop d'échecs") {
			t.Fatalf("after %d failures, the right password: %d\n%s", accounts.MaxPerAccount, resp.StatusCode, body)
		}
		// Another account from the same address is not locked yet.
		if resp, _ := a.browser().login("alice", "correct horse"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice locked out by root's failures: %d", resp.StatusCode)
		}
		a.advance(accounts.Window + time.Second)
		if resp, _ := b.login("root", "correct horse"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the window: %d", resp.StatusCode)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		b := a.browser()
		csrf := b.mustLogin("alice")
		resp, _ := b.do("POST", "/logout", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if resp, _ := b.do("GET", "/tickets", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout: %d", resp.StatusCode)
		}
	})
	t.Run("security headers", func(t *testing.T) {
		b := a.browser()
		b.mustLogin("alice")
		resp, _ := b.do("GET", "/tickets", nil)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows inline: %q", csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("headers %v", resp.Header)
		}
	})
}

func TestTicketsList(t *testing.T) {
	a := newApp(t)
	old := a.ticket("+33100000001", astreinte.NotUrgent, 5*24*time.Hour) // due after 2 business days: overdue
	urg := a.ticket("+33100000002", astreinte.Urgent, time.Hour)
	fresh := a.ticket("+33100000003", astreinte.NotUrgent, time.Minute)
	if _, err := a.svc.Acknowledge(context.Background(), urg.ID, "alice", "sip"); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Resolve(context.Background(), fresh.ID, "bob", ""); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.mustLogin("alice")
	numbers := regexp.MustCompile(`data-number="([^"]+)"`)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{urg.Number, old.Number}}, // open, newest first
		{"?f=urgent", []string{urg.Number}},
		{"?f=mine", []string{urg.Number}},
		{"?f=all", []string{fresh.Number, urg.Number, old.Number}},
		{"?f=all&q=0003", []string{fresh.Number}},
		{"?f=open&q=" + url.QueryEscape(old.Number), []string{old.Number}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, page := b.do("GET", "/tickets"+tt.query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var got []string
			for _, m := range numbers.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("tickets %v, want %v", got, tt.want)
			}
		})
	}
	_, page := b.do("GET", "/tickets", nil)
	if !regexp.MustCompile(`class="ticket overdue[^"]*" data-number="` + old.Number).MatchString(page) {
		t.Errorf("old ticket not marked overdue:\n%s", page)
	}
	if resp, _ := b.do("GET", "/tickets?f=bogus", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bogus filter: %d", resp.StatusCode)
	}
}
