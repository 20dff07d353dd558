package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The agreements in the call and the mail: customers imported with the CLI
// into the running service's database; a call from a customer whose
// contract includes on-call wakes the technician (a real SMTP server
// receives the page and a webhook receiver its post), a call from a
// customer without on-call does not (no page is queued with its ticket),
// and an email piped to `astreinte mail-in` is a ticket due in two
// business days.

// customersOverrides adds the two agreements as contracts. A test with
// nobody on call accepts the gaps (serve refuses them under isp's on-call).
func customersOverrides(o map[string]any) map[string]any {
	_, onCall := o["oncall"]
	o["customers"] = map[string]any{
		"region":     "FR",
		"allow_gaps": !onCall,
		"contracts": map[string]any{
			"isp": map[string]any{"on_call": true,
				"billing": map[string]any{"mode": "hourly", "rate": "60.00", "rounding": "30m", "vat": "19.6", "quote_cap": true}},
			"tickets": map[string]any{"on_call": false,
				"billing":  map[string]any{"mode": "units", "unit": "60m", "rate": "90.00", "vat": "20"},
				"due":      map[string]any{"email": 2, "phone": 3},
				"warranty": "168h", "confirm_above": 2},
		},
	}
	return o
}

func importCustomers(t *testing.T, svc *service) {
	t.Helper()
	csv := filepath.Join(testDir(t), "customers.csv")
	if err := os.WriteFile(csv, []byte("number,name,phones,contract,emails\n"+
		"C001,Hébergé SARL,06 12 34 56 78,isp,admin@heberge.test\n"+
		"C002,Sondages & Co,+33 6 98 76 54 32,tickets,client@sondages.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.cli("customers", "import", csv); err != nil || !strings.Contains(out, "2 customer(s) added") {
		t.Fatalf("customers import (err=%v):\n%s", err, out)
	}
}

func TestCustomerContractDecidesPaging_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	mail := startMailSink(t)
	var svc *service
	hook := startHookSink(t, hookSecret, func() time.Time { return svc.clock() })
	people := []tech{{"alice", "Alice Martin", "", "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "5m"}}
	// The line pages every message left out of hours; the contract decides.
	svc = startAstreinte(t, customersOverrides(pagingOverrides(people, nil, tiers, mail, hook, "out_of_hours")))
	importCustomers(t, svc)

	// First the customer without on-call, then the one with it.
	leaveMessageSIPp(t, svc, "0698765432")
	leaveMessageSIPp(t, svc, "0612345678")
	ts, ok := poll(15*time.Second, svc.tickets, func(ts []ticketRow) bool { return len(ts) >= 2 })
	if !ok {
		t.Fatalf("want two tickets, have %+v", ts)
	}
	noOnCall, onCall := ts[0], ts[1]

	msgs, ok := mail.waitTo("alice@e2e.test", 1, 30*time.Second)
	if !ok {
		t.Fatalf("alice was not paged for the on-call customer's ticket; timeline:\n%s", timeline(svc.events(onCall.ID)))
	}
	if !strings.Contains(msgs[0].subject+msgs[0].text, onCall.Number) {
		t.Errorf("the page names another ticket than %s: %q", onCall.Number, msgs[0].subject)
	}
	posts, ok := hook.wait(1, 10*time.Second)
	if !ok || posts[0].payload.Ticket.Number != onCall.Number {
		t.Fatalf("webhook: %d posts, want one for %s", len(posts), onCall.Number)
	}
	// The decision is taken with the ticket, in its transaction: a ticket
	// without a page row can never page.
	if hasEvent(svc.events(noOnCall.ID), "page_queued", "", "", "") {
		t.Errorf("the customer without on-call paged:\n%s", timeline(svc.events(noOnCall.ID)))
	}
	for _, p := range hook.all() {
		if p.payload.Ticket.Number == noOnCall.Number {
			t.Errorf("webhook posted for %s (no on-call)", noOnCall.Number)
		}
	}

	// Each identified customer's contact gets the call's acknowledgement,
	// with the ticket number and the customer space's address.
	for _, c := range []struct{ addr, number string }{{"admin@heberge.test", onCall.Number}, {"client@sondages.test", noOnCall.Number}} {
		acks, ok := mail.waitTo(c.addr, 1, 15*time.Second)
		if !ok {
			t.Errorf("no acknowledgement of the call to %s; timeline:\n%s", c.addr, timeline(svc.events(onCall.ID)))
			continue
		}
		if a := acks[0]; !strings.Contains(a.subject, "["+c.number+"] Message reçu") || !strings.Contains(a.text, "/client/") {
			t.Errorf("acknowledgement to %s: %q\n%s", c.addr, a.subject, a.text)
		}
	}

	// The technician sees who called, under which contract, and the rule.
	out, err := svc.cli("tickets", "show", onCall.Number)
	if err != nil || !strings.Contains(out, "C001 Hébergé SARL, contract isp") || !strings.Contains(out, "UNVERIFIED") {
		t.Errorf("tickets show %s (err=%v):\n%s", onCall.Number, err, out)
	}
	// Tuesday 03:00, phone, no on-call: due in 3 business days from the
	// 09:00 opening, i.e. Thursday evening.
	out, err = svc.cli("tickets", "show", noOnCall.Number)
	if err != nil || !strings.Contains(out, "C002 Sondages & Co, contract tickets") || !dueLine(out, "Thu 26 Nov 18:00") {
		t.Errorf("tickets show %s (err=%v):\n%s", noOnCall.Number, err, out)
	}
}

func TestMailInMakesTicketDueInTwoBusinessDays(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, customersOverrides(map[string]any{}))
	importCustomers(t, svc)

	msg := "From: =?UTF-8?Q?Client_Sondag=C3=A9s?= <Client@Sondages.test>\r\nTo: support@e2e.test\r\n" +
		"Subject: =?UTF-8?Q?Quotas_cass=C3=A9s?=\r\nMessage-ID: <1@sondages.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Bonjour,\r\nles quotas ne marchent plus.\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mail-in: %v\n%s", err, out)
	}
	// Tuesday 24 November 03:00: the clock starts at the 09:00 opening,
	// two business days on is Thursday 09:00, the start of the day, so
	// Wednesday's closing.
	if !strings.Contains(string(out), "(customer C002), due Wed 25 Nov 18:00") {
		t.Fatalf("mail-in said:\n%s", out)
	}
	tk, ok := svc.waitTicket(5 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	db := svc.openDB()
	defer db.Close()
	var channel, customer, due string
	var pages int
	if err := db.QueryRow(`SELECT channel, customer, due_at, (SELECT COUNT(*) FROM pages WHERE ticket_id = tickets.id)
		FROM tickets WHERE id = ?`, tk.ID).Scan(&channel, &customer, &due, &pages); err != nil {
		t.Fatal(err)
	}
	dueAt, _ := time.Parse(time.RFC3339Nano, due)
	if channel != "email" || customer != "C002" || pages != 0 || !dueAt.Equal(time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("ticket: channel %q customer %q pages %d due %s; want email, C002, no page, 2026-11-25 18:00 Paris", channel, customer, pages, due)
	}
	if !hasEvent(svc.events(tk.ID), "email", "client@sondages.test", "email", "Quotas cassés") {
		t.Errorf("the email is not on the timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	// A reply naming the ticket is added to it, no new ticket.
	cmd = exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("From: client@sondages.test\r\nSubject: Re: [" + tk.Number + "] Quotas\r\n\r\nMerci.\r\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "added to ticket "+tk.Number) {
		t.Fatalf("reply: %v\n%s", err, out)
	}
	if n := len(svc.tickets()); n != 1 {
		t.Errorf("%d tickets after the reply, want 1", n)
	}
}

// dueLine says whether the "Due" line of tickets show names when.
func dueLine(out, when string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Due") && strings.Contains(l, when) {
			return true
		}
	}
	return false
}
