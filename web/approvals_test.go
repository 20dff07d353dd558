package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailer/mailertest"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
)

// asksApp is the customer app with approvals and appointments mailed
// through a real SMTP server; C002's contact is it@boulangerie.test.
type asksApp struct {
	*custApp
	sink  *mailertest.Sink
	appts *appointments.Service
	tok   string // alice's API token
}

func newAsksApp(t *testing.T) *asksApp {
	t.Helper()
	x := &asksApp{sink: mailertest.Start(t)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	x.custApp = newCustomerApp(t, func(c *custApp, s *Server) {
		m := &mailer.Config{Addr: x.sink.Addr, From: "support@desk.test", TLS: mailer.TLSNone, Timeout: 5 * time.Second}
		s.Approvals = &approvals.Service{Ledger: c.ledger, Store: c.db, Quotes: c.db, Customers: c.db, Mail: m,
			BaseURL: "https://support.test", Log: log}
		cal, err := calendar.New(calendar.Config{})
		if err != nil {
			t.Fatal(err)
		}
		x.appts = &appointments.Service{Store: c.db, Calendar: cal, Mail: m, Customers: c.db, Now: c.clock, Log: log}
		s.Appointments = x.appts
	})
	ctx := context.Background()
	cu, err := x.db.CustomerByNumber(ctx, "C002")
	if err != nil {
		t.Fatal(err)
	}
	cu.Emails = []string{"it@boulangerie.test"}
	if err := x.db.UpdateCustomer(ctx, cu); err != nil {
		t.Fatal(err)
	}
	if x.tok, _, err = x.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice"); err != nil {
		t.Fatal(err)
	}
	return x
}

func (x *asksApp) mail(t *testing.T, n int) mailin.Message {
	t.Helper()
	ms := x.sink.Wait(n, 5*time.Second)
	if len(ms) < n {
		t.Fatalf("%d mail(s), want %d", len(ms), n)
	}
	m, err := mailin.Parse(strings.NewReader(string(ms[n-1].Data)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAsksFromTheTicketPage: a technician (not an admin) proposes a quote
// and asks for the confirmation from the ticket page; the customer is
// mailed each time; the page shows them waiting, then who answered and
// when; the API shows the same state; bad input gets a clear error.
func TestAsksFromTheTicketPage(t *testing.T) {
	x := newAsksApp(t)
	ctx := context.Background()
	n := x.units.Number
	tech := x.browser()
	csrf := tech.mustLogin("alice")

	_, page := tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "ticket page", page, `id="asks"`, `action="/tickets/`+n+`/quotes"`, `action="/tickets/`+n+`/confirmations"`,
		"au-delà de 2 unités")
	// One way to propose a quote: the ask form (the customer mailed and
	// answering in the space), not the older admin form beside the time.
	root := x.browser()
	root.mustLogin("root")
	_, page = root.do("GET", "/tickets/"+n, nil)
	mustHave(t, "admin's ticket page", page, `id="ask-quote-send"`, `id="work-add"`)
	mustNotHave(t, "admin's ticket page", page, `id="quote-set"`, `action="/tickets/`+n+`/quote"`)
	// A ticket of no customer asks nobody: no such part.
	_, page = tech.do("GET", "/tickets/"+x.alien.Number, nil)
	mustNotHave(t, "unidentified ticket", page, `id="asks"`)

	// Each error body is in the reader's language only.
	for _, tc := range []struct {
		name    string
		form    url.Values
		accept  string
		status  int
		says    string
		saysNot string
	}{
		{"no CSRF token", url.Values{"amount": {"480.00"}}, "", http.StatusForbidden, "formulaire expiré", "reload"},
		{"no CSRF token, English", url.Values{"amount": {"480.00"}}, "en", http.StatusForbidden, "invalid form token", "formulaire"},
		{"neither amount nor time", url.Values{"csrf": {csrf}, "description": {"x"}}, "", http.StatusBadRequest, "indiquez un montant ou une durée", "give"},
		{"neither amount nor time, English", url.Values{"csrf": {csrf}, "description": {"x"}}, "en-GB", http.StatusBadRequest, "give an amount or hours", "indiquez"},
		{"bad amount", url.Values{"csrf": {csrf}, "amount": {"beaucoup"}}, "fr", http.StatusBadRequest, `montant "beaucoup"`, "want"},
		{"bad amount, English", url.Values{"csrf": {csrf}, "amount": {"beaucoup"}}, "en", http.StatusBadRequest, `amount "beaucoup"`, "euros au-dessus"},
	} {
		resp, body := tech.do("POST", "/tickets/"+n+"/quotes", tc.form, "Accept-Language", tc.accept)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) || strings.Contains(body, tc.saysNot) || strings.Contains(body, " / ") {
			t.Errorf("%s: %d %q", tc.name, resp.StatusCode, body)
		}
	}
	if len(x.sink.Messages()) != 0 {
		t.Fatal("a refused quote was mailed")
	}

	resp, _ := tech.do("POST", "/tickets/"+n+"/quotes", url.Values{"csrf": {csrf}, "amount": {"480.00"},
		"description": {"Remplacement de la caisse enregistreuse"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+n+"?done=asked-quote#asks" {
		t.Fatalf("propose: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	m := x.mail(t, 1)
	if m.Subject != "["+n+"] Devis à accepter" || !strings.Contains(m.Text, "au plus 480,00\u202f€ HT") ||
		!strings.Contains(m.Text, "https://support.test/client/tickets/"+n) {
		t.Errorf("quote mail: %q\n%s", m.Subject, m.Text)
	}
	_, page = tech.do("GET", "/tickets/"+n+"?done=asked-quote", nil)
	mustHave(t, "quote waiting", page, "le client est prévenu par e-mail", `id="ask-quote" data-state="proposed"`,
		"Remplacement de la caisse enregistreuse", "proposé par alice le", "en attente du client")

	// The customer accepts in the space (the space's own tests drive its
	// form): the page says who and when.
	x.advance(15 * time.Minute)
	if err := x.svcApprovals(t).DecideQuote(ctx, x.units, true, "it@boulangerie.test"); err != nil {
		t.Fatal(err)
	}
	when := x.clock().In(x.loc)
	_, page = tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "quote accepted", page, `data-state="accepted"`, "accepté par it@boulangerie.test le "+lang.FR.DateTime(when))
	_, page = tech.do("GET", "/tickets/"+n, nil, "Accept-Language", "en")
	mustHave(t, "quote accepted, in English", page, "accepted by it@boulangerie.test on "+lang.EN.DateTime(when))
	mustNotHave(t, "quote accepted, in English", page, "accepté par")
	mustNotHave(t, "quote accepted", page, `action="/tickets/`+n+`/quotes"`)

	resp, body := tech.do("POST", "/tickets/"+n+"/confirmations", url.Values{"csrf": {csrf}, "units": {"deux"}, "note": {"x"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "nombre entier") {
		t.Errorf("units deux: %d %q", resp.StatusCode, body)
	}
	resp, _ = tech.do("POST", "/tickets/"+n+"/confirmations", url.Values{"csrf": {csrf}, "units": {"4"}, "note": {"Changer la carte mère"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+n+"?done=asked-confirmation#asks" {
		t.Fatalf("ask confirmation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if m := x.mail(t, 2); m.Subject != "["+n+"] Intervention à confirmer" || !strings.Contains(m.Text, "Changer la carte mère") {
		t.Errorf("confirmation mail: %q\n%s", m.Subject, m.Text)
	}
	_, page = tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "confirmation waiting", page, `id="ask-confirmation" data-state="asked"`, "jusqu'à 4 unité(s) — Changer la carte mère",
		"demandée par alice le")

	// The API: the same state in GET /api/tickets/{number}.
	resp, raw := x.api("GET", "/api/tickets/"+n, x.tok, "")
	var got struct {
		Number    string        `json:"number"`
		Approvals approvalsJSON `json:"approvals"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET ticket: %d %v\n%s", resp.StatusCode, err, raw)
	}
	q, c := got.Approvals.Quote, got.Approvals.Confirmation
	if got.Number != n || q == nil || q.State != "accepted" || q.AmountHT != 48000 || q.AskedBy != "alice" || q.DecidedBy != "it@boulangerie.test" ||
		q.DecidedAt == nil || !q.DecidedAt.Equal(when) || c == nil || c.State != "asked" || c.Units != 4 || c.DecidedAt != nil {
		t.Errorf("approvals in the API: %s", raw)
	}
}

// svcApprovals is the server's approvals service (as the space uses it).
func (x *asksApp) svcApprovals(t *testing.T) *approvals.Service {
	return &approvals.Service{Ledger: x.ledger, Store: x.db, Quotes: x.db, Customers: x.db,
		Mail: &mailer.Config{Addr: x.sink.Addr, From: "support@desk.test", TLS: mailer.TLSNone}}
}

// TestAsksAPI: POST /api/tickets/{number}/quotes and /confirmations ask
// the customer and answer the state; errors are JSON with their status.
func TestAsksAPI(t *testing.T) {
	x := newAsksApp(t)
	n := x.units.Number
	// C002 reads English: its mails are in English.
	cu, _ := x.db.CustomerByNumber(context.Background(), "C002")
	cu.Language = lang.EN
	if err := x.db.UpdateCustomer(context.Background(), cu); err != nil {
		t.Fatal(err)
	}
	if _, body := x.api("GET", "/api/customers/C002", x.tok, ""); !strings.Contains(string(body), `"language": "en"`) {
		t.Errorf("customer's language in the API:\n%s", body)
	}
	for _, tc := range []struct {
		path, body string
		status     int
		says       string
	}{
		{"/api/tickets/" + n + "/quotes", `{"hours": "3h", "description": "Audit"}`, http.StatusCreated, `"state": "proposed"`},
		{"/api/tickets/" + n + "/quotes", `{"amount": "1", "hours": "3h"}`, http.StatusBadRequest, "give an amount or hours"},
		{"/api/tickets/" + n + "/quotes", `not json`, http.StatusBadRequest, `body: want {\"amount\"`},
		{"/api/tickets/" + x.alien.Number + "/quotes", `{"amount": "10"}`, http.StatusConflict, "no customer to ask"},
		{"/api/tickets/2026-999999/quotes", `{"amount": "10"}`, http.StatusNotFound, "no ticket"},
		{"/api/tickets/" + n + "/confirmations", `{"units": 0, "note": "x"}`, http.StatusBadRequest, "give the units"},
		{"/api/tickets/" + n + "/confirmations", `{"units": 3, "note": "Reinstall"}`, http.StatusCreated, `"state": "asked"`},
	} {
		resp, body := x.api("POST", tc.path, x.tok, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.says) {
			t.Errorf("POST %s %s: %d\n%s", tc.path, tc.body, resp.StatusCode, body)
		}
	}
	if resp, _ := x.api("POST", "/api/tickets/"+n+"/quotes", "", `{"amount": "10"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	_, body := x.api("POST", "/api/tickets/"+n+"/confirmations", x.tok, `{"units": 5, "note": "Reinstall twice"}`)
	var out askResultJSON
	if err := json.Unmarshal(body, &out); err != nil || !out.Mailed || out.Approvals.Quote == nil || out.Approvals.Quote.Minutes != 180 ||
		out.Approvals.Confirmation.Units != 5 || out.Approvals.Confirmation.AskedBy != "alice" {
		t.Errorf("answer: %v\n%s", err, body)
	}
	if got := len(x.sink.Wait(3, 5*time.Second)); got != 3 {
		t.Errorf("%d mails, want 3 (a quote, two confirmations)", got)
	}
	for i, want := range []string{"Quote to accept", "Intervention to confirm", "Intervention to confirm"} {
		if m := x.mail(t, i+1); m.Subject != "["+n+"] "+want || m.Language != "en" {
			t.Errorf("mail %d to an English customer: %q (%s)", i+1, m.Subject, m.Language)
		}
	}
}

// TestDayOfAppointments: the technicians' page of the day lists a booked
// appointment with its ticket, customer, kind and link, the ticket page
// links to it, the API lists it; cancelling frees the slot and mails the
// customer the cancellation.
func TestDayOfAppointments(t *testing.T) {
	x := newAsksApp(t)
	ctx := context.Background()
	free, err := x.appts.Free(ctx)
	if err != nil || len(free) == 0 {
		t.Fatalf("free slots: %d %v", len(free), err)
	}
	slot := free[0].Start
	a, err := x.appts.Book(ctx, appointments.Booking{Ticket: x.units, Contact: "it@boulangerie.test", Kind: store.AppointmentVideo, Start: slot})
	if err != nil {
		t.Fatal(err)
	}
	x.mail(t, 1) // the invitation
	day := slot.In(x.loc).Format(time.DateOnly)
	tech := x.browser()
	csrf := tech.mustLogin("alice")

	_, page := tech.do("GET", "/appointments?day="+day, nil)
	mustHave(t, "day page", page, `id="appt-`, `data-ticket="`+x.units.Number+`"`, slot.In(x.loc).Format("15:04")+"–",
		"Boulangerie Martin", a.Room, "it@boulangerie.test", `action="/appointments/`)
	_, page = tech.do("GET", "/appointments?day="+slot.In(x.loc).AddDate(0, 0, 1).Format(time.DateOnly), nil)
	mustHave(t, "next day", page, `id="no-appointments"`, `<a href="/appointments" aria-current="page">RDV</a>`)
	if resp, _ := tech.do("GET", "/appointments?day=demain", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad day: %d", resp.StatusCode)
	}
	_, page = tech.do("GET", "/tickets/"+x.units.Number, nil)
	mustHave(t, "ticket page", page, `id="ticket-appointment"`, `href="/appointments?day=`+day+`"`)

	resp, body := x.api("GET", "/api/appointments?day="+day, x.tok, "")
	var list struct {
		Day          string            `json:"day"`
		Appointments []appointmentJSON `json:"appointments"`
	}
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != http.StatusOK || list.Day != day || len(list.Appointments) != 1 ||
		list.Appointments[0].Ticket != x.units.Number || list.Appointments[0].Kind != "video" || !list.Appointments[0].Start.Equal(slot) {
		t.Fatalf("API day: %d %v\n%s", resp.StatusCode, err, body)
	}

	if resp, _ := tech.do("POST", "/appointments/"+strconv.FormatInt(a.ID, 10)+"/cancel", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cancel without CSRF: %d", resp.StatusCode)
	}
	resp, _ = tech.do("POST", "/appointments/"+strconv.FormatInt(a.ID, 10)+"/cancel", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/appointments?day="+day+"&done=appointment-cancelled" {
		t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	m := x.mail(t, 2)
	if !strings.HasPrefix(m.Subject, "["+x.units.Number+"] Annulé : ") || !strings.Contains(m.Text, "le créneau est libéré") {
		t.Errorf("cancellation mail: %q\n%s", m.Subject, m.Text)
	}
	_, page = tech.do("GET", "/appointments?day="+day+"&done=appointment-cancelled", nil)
	mustHave(t, "after cancel", page, `id="no-appointments"`, "Rendez-vous annulé")
	free, _ = x.appts.Free(ctx)
	if len(free) == 0 || !free[0].Start.Equal(slot) {
		t.Errorf("the slot %v is not free again", slot)
	}
	resp, _ = tech.do("POST", "/appointments/"+strconv.FormatInt(a.ID, 10)+"/cancel", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("cancel twice: %d", resp.StatusCode)
	}
	if resp, _ := x.api("POST", "/api/appointments/999/cancel", x.tok, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("cancel an unknown appointment: %d", resp.StatusCode)
	}
	evs, _ := x.db.Timeline(ctx, x.units.ID)
	if last := evs[len(evs)-1]; last.Actor != "alice" || !strings.Contains(last.Detail, "appointment cancelled") {
		t.Errorf("timeline: %+v", last)
	}
}

// TestMenuWithoutAppointments: the menu links to the appointments page
// only when appointments are configured (TestDayOfAppointments has the
// link).
func TestMenuWithoutAppointments(t *testing.T) {
	a := newApp(t)
	b := a.browser()
	b.mustLogin("alice")
	for _, p := range []string{"/tickets", "/oncall", "/me"} {
		_, page := b.do("GET", p, nil)
		mustHave(t, p, page, `href="/calls"`)
		mustNotHave(t, p, page, `href="/appointments"`, ">RDV<")
	}
}
