package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTechnicianAsksCustomer: the technician's side of the customer
// space, in one phone-sized Chromium against the built binary and a real
// SMTP server. An email from the second agreement's customer is a ticket;
// a technician (not an admin) proposes a quote from the web ticket page;
// the contact gets it by mail, signs in to the space and accepts it; the
// technician's page then says "accepted by … on … at …". The contact books
// a video appointment; the technician's page of the day lists it (ticket,
// customer, video link), the ticket page links to it, and cancelling it
// there mails the contact the cancellation and frees the slot, which the
// space offers again.
func TestBrowserTechnicianAsksCustomer(t *testing.T) {
	exe := requireChromium(t)
	sink := startMailSink(t)
	o := customersOverrides(map[string]any{})
	o["clock"] = map[string]any{"now": inHours}
	o["paging"] = map[string]any{"email": map[string]any{"smtp": sink.addr, "from": "support@e2e.test", "tls": "none"}}
	svc := startAstreinte(t, o)
	importCustomers(t, svc)
	base := "http://" + svc.cfg["http"].(map[string]any)["listen"].(string)
	const contact = "client@sondages.test"

	cmd := exec.Command(astreinteBin, "users", "add", "bruno", "--role", "technician", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("astreinte-2026\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mail := exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	mail.Stdin = strings.NewReader("From: <" + contact + ">\r\nTo: support@e2e.test\r\nSubject: Questionnaires lents\r\n" +
		"Message-ID: <q1@sondages.test>\r\n\r\nLes questionnaires mettent une minute à s'ouvrir.\r\n")
	if out, err := mail.CombinedOutput(); err != nil || !strings.Contains(string(out), "(customer C002)") {
		t.Fatalf("mail-in: %v\n%s", err, out)
	}
	tk, ok := svc.waitTicket(5 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	number := tk.Number

	bctx := startBrowser(t, exe)
	con := &consoleLog{}
	con.listen(bctx)
	browse(t, bctx, con, "technician logs in", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets/"+number),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "bruno"),
		chromedp.SendKeys(chromedp.ID("password"), "astreinte-2026"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("asks")),
	))
	browse(t, bctx, con, "propose a quote", 30*time.Second, chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("ask-quote-amount"), "350.00"),
		chromedp.SendKeys(chromedp.ID("ask-quote-description"), "Index de la base des questionnaires"),
		chromedp.Click(chromedp.ID("ask-quote-send")),
		chromedp.WaitVisible(chromedp.ID("ask-quote-state")),
	))
	if st := browse(t, bctx, con, "quote waiting", 5*time.Second, chromedp.Text(chromedp.ID("ask-quote"))); !strings.Contains(st, "en attente du client") ||
		!strings.Contains(st, "proposé par bruno") || !strings.Contains(st, "350,00") {
		t.Errorf("quote on the technician's page: %q", st)
	}
	screenshot(t, bctx, "asks-1-quote-proposed.png")
	if m := waitSubject(t, sink, contact, "Devis à accepter"); !strings.Contains(m.text, base+"/client/tickets/"+number) ||
		!strings.Contains(m.text, "Index de la base des questionnaires") {
		t.Fatalf("quote mail: %+v", m)
	}

	// The contact signs in to the space and accepts.
	browse(t, bctx, con, "ask for a link", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/lang/fr"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), contact),
		chromedp.Click(chromedp.ID("send-link")),
		chromedp.WaitVisible(chromedp.ID("sent")),
	))
	link := signInLink(t, sink, contact, 1)
	browse(t, bctx, con, "accept the quote", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(link),
		chromedp.Click(chromedp.ID("use-link")),
		chromedp.WaitVisible(chromedp.ID("tickets")),
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.Click(chromedp.ID("quote-accept")),
		chromedp.WaitVisible(chromedp.ID("quote-state")),
	))

	// The technician's page says who accepted and when.
	browse(t, bctx, con, "technician sees the answer", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets/"+number),
		chromedp.WaitVisible(chromedp.ID("ask-quote-state")),
	))
	st := browse(t, bctx, con, "quote accepted", 5*time.Second, chromedp.Text(chromedp.ID("ask-quote-state")))
	if !strings.Contains(st, "accepté par "+contact+" le mar. 24 nov. 2026 à 10:") || strings.Contains(st, "accepted by") {
		t.Errorf("quote state on the technician's page: %q", st)
	}
	if n := browse(t, bctx, con, "no second quote form", 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#ask-quote-send").length`)); n != 0 {
		t.Errorf("an accepted quote can still be proposed again")
	}
	screenshot(t, bctx, "asks-2-quote-accepted.png")

	// The contact books the first free slot, by video.
	browse(t, bctx, con, "slots", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number+"/appointment"),
		chromedp.WaitVisible(chromedp.ID("slots")),
	))
	slot := browse(t, bctx, con, "first slot", 5*time.Second, chromedp.AttributeValue(chromedp.CSS(`#slots input[name="slot"]`), "value")).Value
	browse(t, bctx, con, "book", 30*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#slots input[name="slot"]`)),
		chromedp.Click(chromedp.ID("book-slot")),
		chromedp.WaitVisible(chromedp.ID("appt")),
	))
	waitSubject(t, sink, contact, "] Rendez-vous")

	// The technician follows the ticket's link to the day's page.
	browse(t, bctx, con, "day page", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets/"+number),
		chromedp.WaitVisible(chromedp.ID("ticket-appointment")),
		chromedp.Click(chromedp.CSS(`#ticket-appointment a`)),
		chromedp.WaitVisible(chromedp.CSS(`#appointments li[data-ticket="`+number+`"]`)),
	))
	row := browse(t, bctx, con, "appointment row", 5*time.Second, chromedp.Text(chromedp.CSS(`#appointments li[data-ticket="`+number+`"]`)))
	for _, want := range []string{number, "C002", "Sondages & Co", "https://meet.jit.si/astreinte-" + number + "-", contact, "–"} {
		if !strings.Contains(row, want) {
			t.Errorf("day page row: no %q in %q", want, row)
		}
	}
	screenshot(t, bctx, "asks-3-day.png")
	browse(t, bctx, con, "cancel from the day page", 30*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#appointments li[data-ticket="`+number+`"] .appt-cancel`)),
		chromedp.WaitVisible(chromedp.ID("no-appointments")),
	))
	if ics := calendarPart(t, waitSubject(t, sink, contact, "Annulé").raw); !strings.Contains(ics, "METHOD:CANCEL") {
		t.Errorf("cancellation to the contact:\n%s", ics)
	}
	// The slot is free again: the space offers it and books it.
	browse(t, bctx, con, "slot offered again", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/client/tickets/"+number),
		chromedp.WaitVisible(chromedp.ID("book")),
		chromedp.Navigate(base+"/client/tickets/"+number+"/appointment"),
		chromedp.WaitVisible(chromedp.CSS(`#slots input[value="`+slot+`"]`)),
	))
	for _, l := range con.all() {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Failed to load") {
			t.Errorf("console: %s", l)
		}
	}
}
