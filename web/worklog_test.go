package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
)

// TestWorkForms: the ticket page of C002 (contract "tickets": units of
// 1h, confirmation needed above 2 units, already 2 units used) logs time
// under the technician's person id, refuses past the threshold in French
// and English, and after the admin's "customer confirmed" accepts it;
// quotes are admins' only.
func TestWorkForms(t *testing.T) {
	c := newCustomerApp(t)
	a := c.app
	n := c.units.Number
	tech := a.browser()
	csrf := tech.mustLogin("alice")

	_, page := tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "ticket page", page, `action="/tickets/`+n+`/work"`, "Temps passé")
	mustNotHave(t, "technician's page", page, `id="confirm"`, `id="quote-set"`)

	// No CSRF token: refused, nothing logged.
	resp, _ := tech.do("POST", "/tickets/"+n+"/work", url.Values{"duration": {"5m"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("work without CSRF: %d", resp.StatusCode)
	}
	before, err := c.ledger.Usage(context.Background(), c.units)
	if err != nil {
		t.Fatal(err)
	}
	if before.Total != 81*time.Minute {
		t.Fatalf("total before: %v", before.Total)
	}

	// Bad duration.
	resp, _ = tech.do("POST", "/tickets/"+n+"/work", url.Values{"csrf": {csrf}, "duration": {"soon"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad duration: %d", resp.StatusCode)
	}

	// Within the two units: 81m + 30m = 111m, still 2 units.
	resp, _ = tech.do("POST", "/tickets/"+n+"/work", url.Values{"csrf": {csrf}, "duration": {"30m"}, "note": {"câblage"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+n+"?done=work" {
		t.Fatalf("work: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, _ := c.ledger.Usage(context.Background(), c.units)
	if u.Total != 111*time.Minute {
		t.Fatalf("total after 30m: %v", u.Total)
	}
	_, page = tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "timeline", page, "30 min de travail (total 1 h 51, 2 × 1 h) : câblage")
	mustNotHave(t, "French timeline", visible(page), "spent", "of work", "1h")
	_, page = tech.do("GET", "/tickets/"+n, nil, "Accept-Language", "en")
	mustHave(t, "English timeline", page, "30 min of work (total 1 h 51, 2 × 1 h): câblage")
	mustNotHave(t, "English timeline", visible(page), "de travail", "Temps passé")
	// An entry written before facts were kept is still read, its Go
	// durations written as people write them.
	if err := a.db.AddEvent(context.Background(), astreinte.Event{TicketID: c.units.ID, Kind: astreinte.EventWork, Actor: "bob",
		Detail: "1h1m0s spent (total 2h52m0s, 3 × 1h0m0s)"}); err != nil {
		t.Fatal(err)
	}
	_, page = tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "old work entry", page, "1 h 01 spent (total 2 h 52, 3 × 1 h)")
	ws, err := a.db.WorkLog(context.Background(), c.units.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := ws[len(ws)-1]; last.By != "alice" || last.Duration != 30*time.Minute || last.Note != "câblage" {
		t.Fatalf("last work: %+v", last)
	}

	// 1h15 more: 3 units, past the threshold: refused.
	resp, _ = tech.do("POST", "/tickets/"+n+"/work", url.Values{"csrf": {csrf}, "duration": {"1h15"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+n+"?done=refused" {
		t.Fatalf("work past threshold: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u, _ := c.ledger.Usage(context.Background(), c.units); u.Total != 111*time.Minute {
		t.Fatalf("refused work was logged: %v", u.Total)
	}
	_, page = tech.do("GET", "/tickets/"+n+"?done=refused", nil)
	mustHave(t, "refusal", page, `id="work-refused"`, "la confirmation du client")
	mustNotHave(t, "technician's refusal page", page, `id="confirm"`)

	// A technician may not confirm nor quote.
	for _, p := range []string{"/confirm", "/quote", "/quote/accept", "/quote/refuse"} {
		resp, _ = tech.do("POST", "/tickets/"+n+p, url.Values{"csrf": {csrf}, "amount": {"100"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("technician POST %s: %d, want 403", p, resp.StatusCode)
		}
	}

	// The admin records the customer's confirmation.
	admin := a.browser()
	acsrf := admin.mustLogin("root")
	_, page = admin.do("GET", "/tickets/"+n+"?done=refused", nil)
	mustHave(t, "admin's refusal page", page, `id="confirm"`, "Confirmation client reçue",
		`id="quote-set"`)
	resp, _ = admin.do("POST", "/tickets/"+n+"/confirm", url.Values{"csrf": {acsrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	resp, _ = tech.do("POST", "/tickets/"+n+"/work", url.Values{"csrf": {csrf}, "duration": {"1h15"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+n+"?done=work" {
		t.Fatalf("work after confirmation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u, _ := c.ledger.Usage(context.Background(), c.units); u.Total != 186*time.Minute || u.Units != 4 {
		t.Fatalf("after confirmation: %v, %d units", u.Total, u.Units)
	}
	_, page = admin.do("GET", "/tickets/"+n, nil)
	mustNotHave(t, "confirmed page", page, `id="confirm"`)

	// Quotes: the admin proposes, then the customer accepts.
	resp, _ = admin.do("POST", "/tickets/"+n+"/quote", url.Values{"csrf": {acsrf}, "amount": {"120.00"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("quote: %d", resp.StatusCode)
	}
	_, page = admin.do("GET", "/tickets/"+n, nil)
	mustHave(t, "proposed quote", page, "au plus 120,00\u202f€ HT (proposé)", `id="quote-accept"`, `id="quote-refuse"`)
	_, page = tech.do("GET", "/tickets/"+n, nil)
	mustHave(t, "technician sees the quote", page, "au plus 120,00\u202f€ HT (proposé)")
	mustNotHave(t, "technician's quote buttons", page, `id="quote-accept"`)
	resp, _ = admin.do("POST", "/tickets/"+n+"/quote/accept", url.Values{"csrf": {acsrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	_, page = admin.do("GET", "/tickets/"+n, nil)
	mustHave(t, "accepted quote", page, "au plus 120,00\u202f€ HT (accepté)")
	mustNotHave(t, "accepted quote", page, `id="quote-accept"`, `id="quote-set"`)

	// A ticket without contract has no work form.
	_, page = tech.do("GET", "/tickets/"+c.alien.Number, nil)
	mustNotHave(t, "ticket without contract", page, `/work"`)
}

func TestWorkAPI(t *testing.T) {
	c := newCustomerApp(t)
	a := c.app
	ctx := context.Background()
	tech, _, err := a.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice")
	if err != nil {
		t.Fatal(err)
	}
	adm, _, err := a.acc.AddToken(ctx, "billing", accounts.Admin, "")
	if err != nil {
		t.Fatal(err)
	}
	n := c.units.Number
	base := "/api/tickets/" + n
	type errJSON struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	fail := func(path, token, body string, want int) errJSON {
		t.Helper()
		resp, b := a.api("POST", path, token, body)
		var e errJSON
		if resp.StatusCode != want || json.Unmarshal(b, &e) != nil || e.Status != want || e.Error == "" {
			t.Fatalf("POST %s %s: %d %s, want a JSON %d", path, body, resp.StatusCode, b, want)
		}
		return e
	}
	ok := func(path, token, body string) usageJSON {
		t.Helper()
		resp, b := a.api("POST", path, token, body)
		var u usageJSON
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &u) != nil {
			t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
		}
		return u
	}

	fail(base+"/work", "", `{"duration":"30m"}`, http.StatusUnauthorized)
	fail("/api/tickets/1999-000001/work", tech, `{"duration":"30m"}`, http.StatusNotFound)
	fail(base+"/work", tech, `{"duration":"later"}`, http.StatusBadRequest)
	fail(base+"/work", tech, `{"duration":`, http.StatusBadRequest)
	u := ok(base+"/work", tech, `{"duration":"30m","note":"switch"}`)
	if u.TotalMinutes != 111 || u.Units != 2 || u.ConfirmAbove != 2 || u.Confirmed || u.Result != "work" {
		t.Fatalf("work: %+v", u)
	}
	e := fail(base+"/work", tech, `{"duration":"1h15"}`, http.StatusConflict)
	if !strings.Contains(e.Error, "confirmation") {
		t.Errorf("refusal: %q", e.Error)
	}
	for _, p := range []string{"/confirm", "/quote", "/quote/accept", "/quote/refuse"} {
		fail(base+p, tech, `{"amount":"50"}`, http.StatusForbidden)
	}
	if u := ok(base+"/confirm", adm, `{"note":"email of 2 Dec"}`); !u.Confirmed {
		t.Fatalf("confirm: %+v", u)
	}
	if u := ok(base+"/work", tech, `{"duration":"1h15"}`); u.TotalMinutes != 186 || u.Units != 4 {
		t.Fatalf("work after confirm: %+v", u)
	}

	fail(base+"/quote/accept", adm, "", http.StatusConflict) // none proposed
	fail(base+"/quote", adm, `{}`, http.StatusBadRequest)
	fail(base+"/quote", adm, `{"amount":"10","hours":"1h"}`, http.StatusBadRequest)
	u = ok(base+"/quote", adm, `{"hours":"2h"}`)
	if u.Quote == nil || u.Quote.Minutes != 120 || u.Quote.State != "proposed" {
		t.Fatalf("quote: %+v", u.Quote)
	}
	if u := ok(base+"/quote/refuse", adm, ""); u.Quote == nil || u.Quote.State != "refused" {
		t.Fatalf("refuse: %+v", u.Quote)
	}
	u = ok(base+"/quote", adm, `{"amount":"90.50","flat":true}`)
	if u.Quote == nil || u.Quote.AmountHT != 9050 || !u.Quote.Flat || u.Quote.State != "proposed" {
		t.Fatalf("second quote: %+v", u.Quote)
	}
	if u := ok(base+"/quote/accept", adm, ""); u.Quote.State != "accepted" {
		t.Fatalf("accept: %+v", u.Quote)
	}
	fail(base+"/quote", adm, `{"amount":"100"}`, http.StatusConflict) // accepted: cannot change
}
