package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserCustomerStatement: customers imported with the CLI, an email
// from one of them is a ticket (mail-in), 30 minutes are logged on it
// (worklog add); an admin finds the customer on the Customers tab of a
// phone-sized Chromium, sees the contract and the ticket (whose page names
// the customer, the unverified rule and the time spent), and opens the
// printable statement: 35.88 € TTC for 30 minutes under the first
// agreement, and in print the menu and the month links are gone. Nothing
// is refused by the Content-Security-Policy.
func TestBrowserCustomerStatement(t *testing.T) {
	exe := requireChromium(t)
	svc := startAstreinte(t, customersOverrides(map[string]any{}))
	importCustomers(t, svc)
	cmd := exec.Command(astreinteBin, "users", "add", "root", "--role", "admin", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("compta-2026\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mail := exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	mail.Stdin = strings.NewReader("From: <admin@heberge.test>\r\nTo: support@e2e.test\r\nSubject: Serveur DNS\r\n" +
		"Message-ID: <1@heberge.test>\r\n\r\nLe DNS ne répond plus.\r\n")
	if out, err := mail.CombinedOutput(); err != nil || !strings.Contains(string(out), "(customer C001)") {
		t.Fatalf("mail-in: %v\n%s", err, out)
	}
	tk, ok := svc.waitTicket(5 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	if out, err := svc.cli("worklog", "add", tk.Number, "30m", "--note", "DNS relancé"); err != nil {
		t.Fatalf("worklog add: %v\n%s", err, out)
	}

	bctx := startBrowser(t, exe)
	con := &consoleLog{}
	con.listen(bctx)
	base := "http://" + svc.cfg["http"].(map[string]any)["listen"].(string)
	browse(t, bctx, con, "log in", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/customers"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "root"),
		chromedp.SendKeys(chromedp.ID("password"), "compta-2026"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("customers")),
	))
	browse(t, bctx, con, "search", 20*time.Second, chromedp.Steps(
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "06 12 34"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#customers li[data-number="C002"]`)),
		chromedp.Click(chromedp.CSS(`#customers li[data-number="C001"] a`)),
		chromedp.WaitVisible(chromedp.ID("contract")),
	))
	page := browse(t, bctx, con, "customer page", 5*time.Second, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"Hébergé SARL", "06 12 34 56 78", "60,00\u202f€ HT de l'heure", tk.Number} {
		if !strings.Contains(page, want) {
			t.Errorf("customer page: no %q in\n%s", want, page)
		}
	}
	screenshot(t, bctx, "1-customer.png")

	// The ticket's page names the customer, the rule and the time spent.
	browse(t, bctx, con, "ticket", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#tickets li[data-number="`+tk.Number+`"] a`)),
		chromedp.WaitVisible(chromedp.ID("ticket-customer")),
	))
	box := browse(t, bctx, con, "ticket's customer", 5*time.Second, chromedp.Text(chromedp.ID("ticket-customer")))
	rule := browse(t, bctx, con, "unverified rule", 5*time.Second, chromedp.Text(chromedp.ID("unverified")))
	if !strings.Contains(box, "C001 — Hébergé SARL") || !strings.Contains(box, "30 min") || !strings.Contains(box, "1 × 30 min") ||
		!strings.Contains(rule, "système de tickets authentifié") {
		t.Errorf("ticket page: customer box %q, rule %q", box, rule)
	}
	// An email's ticket is answered by email, not with a tel: link.
	if call := browse(t, bctx, con, "reply link", 5*time.Second, chromedp.AttributeValue(chromedp.ID("call"), "href")); call.Value != "mailto:admin@heberge.test" {
		t.Errorf("reply link %q, want mailto:admin@heberge.test", call.Value)
	}
	screenshot(t, bctx, "2-ticket.png")
	browse(t, bctx, con, "back to the customer", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#ticket-customer a[href="/customers/C001"]`)),
		chromedp.WaitVisible(chromedp.ID("statement")),
	))

	browse(t, bctx, con, "statement", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.ID("statement")),
		chromedp.WaitVisible(chromedp.ID("lines")),
	))
	total := browse(t, bctx, con, "total", 5*time.Second, chromedp.Text(chromedp.ID("total")))
	if ok, _ := regexp.MatchString(`30 min\s+30,00\x{202f}€\s+5,88\x{202f}€\s+35,88\x{202f}€`, total); !ok {
		t.Errorf("statement total: %q, want 30 min, 30,00 € HT, 5,88 € TVA, 35,88 € TTC", total)
	}
	screenshot(t, bctx, "3-statement.png")
	browse(t, bctx, con, "A4 width", 10*time.Second, chromedp.EmulateViewport(794, 1123, chromedp.EmulateScale(1)))
	browse(t, bctx, con, "print media", 10*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	hidden := browse(t, bctx, con, "print layout", 5*time.Second, chromedp.Evaluate[string](
		`[".top", "nav.tabs", "#statement"].map(s => getComputedStyle(document.querySelector(s)).display).join(" ")`))
	if hidden != "none none block" {
		t.Errorf("in print, menu / month links / statement display %q, want none none block", hidden)
	}
	screenshot(t, bctx, "4-statement-print.png")
	for _, l := range con.all() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Failed to load") {
			t.Errorf("console: %s", l)
		}
	}
}
