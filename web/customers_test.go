package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// custApp is the web server over a real store with the built-in
// contracts (isp, tickets), two customers added as `customers add` does,
// and their tickets with logged work.
type custApp struct {
	*app
	ledger            *tickets.Ledger
	isp, units, alien astreinte.Ticket
}

func newCustomerApp(t *testing.T, opts ...func(*custApp, *Server)) *custApp {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Default()
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
	// Tuesday 1 December 2026, 23:10 in Paris.
	a := &app{t: t, db: db, loc: paris, dir: dir, now: time.Date(2026, 12, 1, 22, 10, 0, 0, time.UTC),
		tick: map[string]astreinte.Ticket{}}
	db.Now = a.clock
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	contracts := cfg.ContractPolicies()
	dirc := &customers.Directory{Store: db, Contracts: contracts, Region: "FR"}
	a.svc = tickets.New(db, cal, tickets.Options{Now: a.clock, Log: log, Customers: dirc,
		Lines: map[string]tickets.Policy{"support": {DueUrgent: 0, DueNormal: 2, Page: astreinte.PageUrgent}}})
	a.acc = accounts.New(db, a.clock, log)
	a.acc.Cost = 4
	ctx := context.Background()
	for _, u := range []struct {
		name   string
		role   accounts.Role
		person string
	}{{"alice", accounts.Technician, "alice"}, {"root", accounts.Admin, ""}} {
		if _, err := a.acc.AddUser(ctx, u.name, u.role, u.person, "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ number, name, contract, phone, notes string }{
		{"C001", "Mairie de Nice", "isp", "04 93 91 80 09", "Accès par l'entrée B"},
		{"C002", "Boulangerie Martin", "tickets", "06 12 34 56 78", ""},
	} {
		p, err := customers.NormalizePhone(c.phone, "FR")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddCustomer(ctx, customers.Customer{Number: c.number, Name: c.name, Contract: c.contract,
			Phones: []string{p}, Notes: c.notes}); err != nil {
			t.Fatal(err)
		}
	}
	c := &custApp{app: a, ledger: tickets.NewLedger(a.svc, db)}
	s := &Server{Tickets: a.svc, Key: testKey, Now: a.clock, Log: log, Location: paris, Service: a.svc, Accounts: a.acc,
		Customers: &CustomerPages{Store: db, Contracts: contracts, Ledger: c.ledger}}
	for _, o := range opts {
		o(c, s)
	}
	a.ts = httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.CloseStreams(); a.ts.Close() })

	mk := func(caller string) astreinte.Ticket {
		tk := astreinte.Ticket{Line: "support", CallerNumber: caller, Urgency: astreinte.Urgent,
			Case: astreinte.CaseOutOfHours, CreatedAt: a.clock()}
		if err := a.svc.Create(ctx, &tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	// C001 (isp): a quote of one hour accepted, 30 minutes of work.
	c.isp = mk("0493918009")
	if err := c.ledger.SetQuote(ctx, c.isp, 0, time.Hour, false, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := c.ledger.DecideQuote(ctx, c.isp, true, "alice"); err != nil {
		t.Fatal(err)
	}
	a.advance(10 * time.Minute)
	if _, err := c.ledger.AddWork(ctx, c.isp, 30*time.Minute, "alice", "router reset"); err != nil {
		t.Fatal(err)
	}
	// C002 (tickets): 61 minutes (two units), resolved, reopened the next
	// day within the week's warranty, 20 more minutes free.
	c.units = mk("+33612345678")
	if _, err := c.ledger.AddWork(ctx, c.units, 61*time.Minute, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Resolve(ctx, c.units.ID, "alice", "fixed"); err != nil {
		t.Fatal(err)
	}
	a.advance(24 * time.Hour)
	if err := a.svc.Reopen(ctx, c.units.ID, "alice", "same problem"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ledger.AddWork(ctx, c.units, 20*time.Minute, "alice", ""); err != nil {
		t.Fatal(err)
	}
	c.alien = mk("0140000000")
	if c.isp.Customer != "C001" || c.units.Customer != "C002" || c.alien.Customer != "" {
		t.Fatalf("identification: %q %q %q", c.isp.Customer, c.units.Customer, c.alien.Customer)
	}
	return c
}

func mustHave(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s: no %q in\n%s", what, w, page)
		}
	}
}

func mustNotHave(t *testing.T, what, page string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(page, w) {
			t.Errorf("%s: %q should not be in\n%s", what, w, page)
		}
	}
}

var customerRowRE = regexp.MustCompile(`data-number="(C\d+)"`)

// The words of a statement in each language, each looked for as absent
// from a statement in the other.
var (
	frStatement = []string{"Relevé", "Contrat", "Temps", "Facturé", "TVA", "TTC", "sous garantie", "non facturé", "client n°", " / ", "janvier", "décembre"}
	enStatement = []string{"Statement", "Contract", "Worked", "Billed", "VAT", "Incl.", "under warranty", "not billed", "customer ", " / ", "December", "€3"}
)

const nnbsp = "\u202f"

func TestCustomerPages(t *testing.T) {
	a := newCustomerApp(t)
	tech := a.browser()
	tech.mustLogin("alice")

	t.Run("list and search", func(t *testing.T) {
		for q, want := range map[string]string{"": "C001 C002", "nice": "C001", "MARTIN": "C002", "entree": "", "mairie de NICE": "C001", "boulangérie": "C002", "c002": "C002",
			"06 12 34": "C002", "0493918009": "C001", "zzz": ""} {
			resp, page := tech.do("GET", "/customers?q="+strings.ReplaceAll(q, " ", "+"), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("q=%q: %d", q, resp.StatusCode)
			}
			var got []string
			for _, m := range customerRowRE.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, " ") != want {
				t.Errorf("q=%q: customers %v, want %q", q, got, want)
			}
		}
	})

	t.Run("customer page", func(t *testing.T) {
		_, page := tech.do("GET", "/customers/C001", nil)
		mustHave(t, "C001", page, "Mairie de Nice", `href="tel:+33493918009"`, "Contrat", "isp",
			"oui : réveille le technicien", "60,00"+nnbsp+"€ HT de l'heure", "30 min", "TVA 19,60\u00a0%",
			"jamais plus que le devis accepté", "Accès par l'entrée B", `href="/tickets/`+a.isp.Number+`"`)
		mustNotHave(t, "C001 for a technician", page, "/statement", a.units.Number)
		_, page = tech.do("GET", "/customers/C002", nil)
		mustHave(t, "C002", page, "non : rappel le jour ouvré suivant", "unités de 1 h", "téléphone : 3 jours ouvrés",
			"e-mail : 2 jours ouvrés", "7 j après résolution", "au-delà de 2 unités", a.units.Number)
		resp, _ := tech.do("GET", "/customers/C999", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown customer: %d", resp.StatusCode)
		}
	})

	t.Run("ticket page shows customer, contract, rule, time spent", func(t *testing.T) {
		_, page := tech.do("GET", "/tickets/"+a.isp.Number, nil)
		mustHave(t, "isp ticket", page, `href="/customers/C001"`, "Mairie de Nice", `id="contract"`, "60,00"+nnbsp+"€ HT",
			`id="unverified"`, "aucune demande sensible", "Temps passé", `id="units">1 × 30 min`, "1 h de travail (accepté)")
		_, page = tech.do("GET", "/tickets/"+a.units.Number, nil)
		mustHave(t, "units ticket", page, `href="/customers/C002"`, "Unités", `id="units">2 × 1 h`, "1 h 21")
		_, page = tech.do("GET", "/tickets/"+a.alien.Number, nil)
		mustHave(t, "unidentified ticket", page, `id="unidentified">non identifié`, `id="unverified"`)
		mustNotHave(t, "unidentified ticket", page, `id="contract"`, `id="usage"`)
	})

	t.Run("statement is for admins", func(t *testing.T) {
		resp, _ := tech.do("GET", "/customers/C001/statement?month=2026-12", nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("technician's statement: %d, want 403", resp.StatusCode)
		}
	})

	admin := a.browser()
	admin.mustLogin("root")
	t.Run("statement figures", func(t *testing.T) {
		_, page := admin.do("GET", "/customers/C001", nil)
		mustHave(t, "admin's customer page", page, `href="/customers/C001/statement?month=2026-12"`)
		resp, page := admin.do("GET", "/customers/C001/statement?month=2026-12", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("statement: %d\n%s", resp.StatusCode, page)
		}
		row := regexp.MustCompile(`(?s)<tr data-ticket="` + a.isp.Number + `">.*?</tr>`).FindString(page)
		mustHave(t, "isp line", row, ">30 min<", ">1 × 30 min<", `class="num ht" data-label="HT" data-cents="3000">30,00`+nnbsp+`€<`,
			`class="num vat" data-label="TVA" data-cents="588">5,88`+nnbsp+`€<`, `class="num ttc" data-label="TTC" data-cents="3588">35,88`+nnbsp+`€<`)
		total := regexp.MustCompile(`(?s)<tr id="total">.*?</tr>`).FindString(page)
		mustHave(t, "isp total", total, `data-cents="3588">35,88`+nnbsp+`€<`, `data-cents="3000">30,00`+nnbsp+`€<`)
		mustHave(t, "isp statement", page, "Relevé décembre 2026", "Mairie de Nice", "/static/app.css")
		mustNotHave(t, "French statement", visible(page), enStatement...)

		_, page = admin.do("GET", "/customers/C002/statement?month=2026-12", nil)
		row = regexp.MustCompile(`(?s)<tr data-ticket="` + a.units.Number + `">.*?</tr>`).FindString(page)
		mustHave(t, "units line", row, ">1 h 01<", ">2 × 1 h<", `data-label="TTC" data-cents="0">0,00`+nnbsp+`€<`)
		mustHave(t, "units notes", page, "20 min sous garantie, non facturé")
		mustNotHave(t, "French statement", visible(page), enStatement...)

		for _, c := range []string{"C001", "C002"} {
			_, page = admin.do("GET", "/customers/"+c+"/statement?month=2026-12", nil, "Accept-Language", "en-GB,en")
			mustNotHave(t, "English statement "+c, visible(page), frStatement...)
			if c == "C001" {
				mustHave(t, "English statement", page, "Statement, December 2026", `data-cents="3588">€35.88<`, ">Incl. VAT<")
			} else {
				mustHave(t, "English statement", page, "20 min under warranty, not billed")
			}
		}

		_, page = admin.do("GET", "/customers/C001/statement?month=2026-11", nil)
		mustHave(t, "empty month", page, "Aucun travail ce mois-ci")
		resp, _ = admin.do("GET", "/customers/C001/statement?month=december", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bad month: %d, want 400", resp.StatusCode)
		}
	})
}

func TestCustomerAPI(t *testing.T) {
	a := newCustomerApp(t)
	ctx := context.Background()
	tech, _, err := a.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice")
	if err != nil {
		t.Fatal(err)
	}
	boss, _, err := a.acc.AddToken(ctx, "billing", accounts.Admin, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/customers", "/api/customers/C001", "/api/customers/C001/statement?month=2026-12"} {
		resp, body := a.api("GET", p, "", "")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s without a token: %d %s", p, resp.StatusCode, body)
		}
	}
	get := func(path, token string, status int, v any) {
		t.Helper()
		resp, body := a.api("GET", path, token, "")
		if resp.StatusCode != status {
			t.Fatalf("%s: %d, want %d\n%s", path, resp.StatusCode, status, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}

	var list []apiCustomerJSON
	get("/api/customers?q=nice", tech, 200, &list)
	if len(list) != 1 || list[0].Number != "C001" || list[0].Contract != "isp" || len(list[0].Phones) != 1 ||
		list[0].Phones[0] != "+33493918009" {
		t.Errorf("search nice: %+v", list)
	}
	get("/api/customers", tech, 200, &list)
	if len(list) != 2 {
		t.Errorf("all customers: %+v", list)
	}

	var one struct {
		Number        string `json:"number"`
		ContractTerms struct {
			OnCall    bool           `json:"on_call"`
			Rate      int64          `json:"rate_cents"`
			Unit      int64          `json:"unit_min"`
			VAT       int64          `json:"vat_bp"`
			Due       map[string]int `json:"due_business_days"`
			Warranty  int64          `json:"warranty_min"`
			Confirm   int            `json:"confirm_above"`
			Mode      string         `json:"billing_mode"`
			QuoteCap  bool           `json:"quote_cap"`
			Configred bool           `json:"configured"`
		} `json:"contract_terms"`
		Tickets []struct {
			Number string `json:"number"`
		} `json:"tickets"`
	}
	get("/api/customers/C001", tech, 200, &one)
	if ct := one.ContractTerms; !ct.OnCall || ct.Rate != 6000 || ct.Unit != 30 || ct.VAT != 1960 || !ct.QuoteCap ||
		ct.Mode != "hourly" || len(one.Tickets) != 1 || one.Tickets[0].Number != a.isp.Number {
		t.Errorf("C001: %+v", one)
	}
	get("/api/customers/C002", tech, 200, &one)
	if ct := one.ContractTerms; ct.OnCall || ct.Mode != "units" || ct.Unit != 60 || ct.Due["phone"] != 3 ||
		ct.Due["email"] != 2 || ct.Warranty != 7*24*60 || ct.Confirm != 2 {
		t.Errorf("C002: %+v", one)
	}
	var e apiError
	get("/api/customers/C999", tech, 404, &e)
	get("/api/customers/C001/statement?month=2026-12", tech, 403, &e)
	get("/api/customers/C001/statement?month=12-2026", boss, 400, &e)

	var st apiStatementJSON
	get("/api/customers/C001/statement?month=2026-12", boss, 200, &st)
	if st.Customer != "C001" || st.Month != "2026-12" || st.HT != 3000 || st.VAT != 588 || st.TTC != 3588 ||
		st.WorkedMin != 30 || len(st.Lines) != 1 {
		t.Fatalf("C001 statement: %+v", st)
	}
	if l := st.Lines[0]; l.Ticket != a.isp.Number || l.Units != 1 || l.UnitMin != 30 || l.TTC != 3588 || l.Capped {
		t.Errorf("C001 line: %+v", l)
	}
	get("/api/customers/C002/statement?month=2026-12", boss, 200, &st)
	if len(st.Lines) != 1 || st.Lines[0].Units != 2 || st.Lines[0].UnitMin != 60 || st.Lines[0].WorkedMin != 61 ||
		st.Lines[0].WarrantyMin != 20 || st.WarrantyMin != 20 || st.TTC != 0 {
		t.Errorf("C002 statement: %+v", st)
	}
	// A customer removed since keeps its statement while its tickets had work.
	if err := a.db.RemoveCustomer(ctx, "C002"); err != nil {
		t.Fatal(err)
	}
	get("/api/customers/C002/statement?month=2026-12", boss, 200, &st)
	if st.Customer != "C002" || st.Name != "" || len(st.Lines) != 1 || st.Lines[0].Units != 2 {
		t.Errorf("removed customer's statement: %+v", st)
	}
	get("/api/customers/C002/statement?month=2026-11", boss, 404, &e)
	get("/api/customers/C001/statement?month=2026-11", boss, 200, &st)
	if len(st.Lines) != 0 || st.TTC != 0 || st.Lines == nil {
		t.Errorf("empty month: %+v", st)
	}
}
