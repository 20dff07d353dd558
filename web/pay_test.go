package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/pay"
)

// TestPayPage: the admin's pay page shows, per person, the same figures
// as the CSV export (astreinte oncall pay) at the configured rates; a
// technician may not see it.
func TestPayPage(t *testing.T) {
	rates := oncall.PayRates{WeekdayNight: 150, Weekend: 300, Holiday: 500, Intervention: 4000}
	a := newAppWith(t, func(c *oncall.ScheduleConfig, _ *Server) { c.Pay = rates })
	if _, err := a.db.AddShiftOverride(context.Background(), oncall.ShiftOverride{Replaced: "bob", By: "alice",
		From: a.clock().Add(-48 * time.Hour), To: a.clock().Add(-24 * time.Hour), SetBy: "root"}); err != nil {
		t.Fatal(err)
	}
	root := a.browser()
	root.mustLogin("root")
	resp, page := root.do("GET", "/oncall/pay?month=2026-12", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("pay page: %d\n%s", resp.StatusCode, page)
	}
	lines, err := pay.Report(context.Background(), a.db, a.srv.Schedule, "2026-12", rates)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pay.WriteCSV(&buf, "2026-12", lines); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if len(rows) != 3 {
		t.Fatalf("CSV %q: want alice and bob", rows)
	}
	var total int64
	for _, ln := range lines {
		total += ln.Cents
	}
	for _, r := range rows[1:] {
		cents := r[8]
		re := regexp.MustCompile(`data-person="` + r[1] + `" data-cents="` + cents + `">.*?<td class="num ttc"[^>]*>([^<]+)</td>`)
		m := re.FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no row for %s with %s cents in the page", r[1], cents)
			continue
		}
		if want := lang.FR.Money(atoi64(cents)); m[1] != want {
			t.Errorf("%s: page shows %s €, CSV %s cents", r[1], m[1], cents)
		}
	}
	if total == 0 || !strings.Contains(page, lang.FR.Money(total)) {
		t.Errorf("total %d cents not on the page", total)
	}
	mustHave(t, "pay page", page, "Indemnités d'astreinte 2026-12", "1,50\u202f€", "40,00\u202f€")

	tech := a.browser()
	tech.mustLogin("alice")
	if resp, _ := tech.do("GET", "/oncall/pay", nil); resp.StatusCode != 403 {
		t.Errorf("technician: %d, want 403", resp.StatusCode)
	}
}

func atoi64(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// TestSwapForms: alice (on call next week) offers a night on the on-call
// page; bob, who is off, cannot take it (the gap is named); with approval
// required, root approves and the override is saved.
func TestSwapForms(t *testing.T) {
	a := newAppWith(t, func(c *oncall.ScheduleConfig, _ *Server) { c.Swaps.RequireApproval = true })
	ctx := context.Background()
	if _, err := a.acc.AddUser(ctx, "bob", "technician", "bob", "correct horse"); err != nil {
		t.Fatal(err)
	}
	// alice's week starts Monday 7 December 09:00; bob is off on the
	// night of the 8th.
	if _, err := a.db.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: "bob", From: mustLocal(a, "2026-12-08T12:00"),
		To: mustLocal(a, "2026-12-09T12:00"), Note: "congé", SetBy: "root"}); err != nil {
		t.Fatal(err)
	}
	alice, bob, root := a.browser(), a.browser(), a.browser()
	acsrf, bcsrf, rcsrf := alice.mustLogin("alice"), bob.mustLogin("bob"), root.mustLogin("root")
	resp, body := alice.do("POST", "/oncall/swaps", url.Values{"csrf": {acsrf}, "from": {"2026-12-08T18:00"},
		"to": {"2026-12-09T08:00"}, "note": {"dentiste"}})
	if resp.StatusCode != 303 {
		t.Fatalf("offer: %d %s", resp.StatusCode, body)
	}
	_, page := bob.do("GET", "/oncall", nil)
	mustHave(t, "bob's on-call page", page, "dentiste", "proposée", `/oncall/swaps/1/take`)
	resp, body = bob.do("POST", "/oncall/swaps/1/take", url.Values{"csrf": {bcsrf}})
	if resp.StatusCode != 409 || !strings.Contains(body, "personne ne serait d'astreinte") || !strings.Contains(body, "mar. 8 déc. 2026 à 18:00") {
		t.Fatalf("bob, off that night, takes it: %d %s", resp.StatusCode, body)
	}
	// bob is back: his leave is removed; he takes it, it waits for root.
	ovs, _ := a.db.ShiftOverrides(ctx, mustLocal(a, "2026-12-08T00:00"), mustLocal(a, "2026-12-10T00:00"))
	if err := a.db.DeleteShiftOverride(ctx, ovs[0].ID); err != nil {
		t.Fatal(err)
	}
	if resp, body := bob.do("POST", "/oncall/swaps/1/take", url.Values{"csrf": {bcsrf}}); resp.StatusCode != 303 ||
		resp.Header.Get("Location") != "/oncall?done=swap-waiting#swaps" {
		t.Fatalf("bob takes it: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := bob.do("POST", "/oncall/swaps/1/approve", url.Values{"csrf": {bcsrf}}); resp.StatusCode != 403 {
		t.Errorf("bob approves: %d, want 403", resp.StatusCode)
	}
	if resp, body := root.do("POST", "/oncall/swaps/1/approve", url.Values{"csrf": {rcsrf}}); resp.StatusCode != 303 {
		t.Fatalf("root approves: %d %s", resp.StatusCode, body)
	}
	ovs, _ = a.db.ShiftOverrides(ctx, mustLocal(a, "2026-12-08T00:00"), mustLocal(a, "2026-12-10T00:00"))
	if len(ovs) != 1 || ovs[0].Replaced != "alice" || ovs[0].By != "bob" {
		t.Fatalf("overrides after approval: %+v", ovs)
	}
	_, page = alice.do("GET", "/oncall", nil)
	mustHave(t, "alice's page after the swap", page, "faite", "pris par bob")
}

func mustLocal(a *app, v string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04", v, a.loc)
	if err != nil {
		a.t.Fatal(err)
	}
	return t
}
