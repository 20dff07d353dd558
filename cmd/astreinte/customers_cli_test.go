package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The two agreements as a support desk uses them from the command line,
// in-process on a real SQLite file: customers imported, emails piped in,
// time logged, a quote, the month's statements.

const customersConfig = `
customers:
  region: FR
  contracts:
    isp:
      on_call: true
      billing: {mode: hourly, rate: "60.00", rounding: 30m, vat: "19.6", quote_cap: true, quote_required: true}
    tickets:
      on_call: false
      billing: {mode: units, unit: 60m, rate: "90.00", vat: "20"}
      due: {email: 2, phone: 3}
      warranty: 168h
      confirm_above: 2
`

func newCustomersCLI(t *testing.T) *cli {
	c := newCLI(t, "2026-11-16 09:00")
	f, err := os.OpenFile(c.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(customersConfig); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return c
}

// runStdin runs a command with stdin; stdout and stderr together.
func (c *cli) runStdin(stdin string, args ...string) (string, int) {
	c.t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), append(args, "--config", c.cfg), strings.NewReader(stdin), &out, &out)
	return out.String(), code
}

func (c *cli) file(name, content string) string {
	p := filepath.Join(c.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func TestCustomersImportListShowEditRemove(t *testing.T) {
	c := newCustomersCLI(t)
	bad := c.file("bad.csv", "number,name,phones,contract\nC001,Hébergé,0493918009,isp\nC002,Sondages,12,tickets\nC003,X,,gold\n")
	out, code := c.run("customers", "import", bad)
	if code != 1 || !strings.Contains(out, "nothing imported") || !strings.Contains(out, "line 3:") || !strings.Contains(out, "line 4:") || strings.Contains(out, "line 2:") {
		t.Fatalf("bad import: exit %d\n%s", code, out)
	}
	c.want([]string{"customers"}, "No customers")

	good := c.file("good.csv", "number,name,phones,contract,emails\nC001,Hébergé SARL,04 93 91 80 09;+33612345678,isp,admin@heberge.test\nC002,Sondages & Co,0698765432,tickets,client@sondages.test\n")
	c.want([]string{"customers", "import", good}, "2 customer(s) added, 0 updated")
	c.want([]string{"customers", "list"}, "C001", "+33493918009 +33612345678", "C002", "tickets")
	c.want([]string{"customers", "show", "C002"}, "Sondages & Co", "no on-call", "units of 1h at €90.00 excl. VAT", "email due in 2 business day(s)",
		"confirmation above 2 unit(s)", "warranty 168h0m0s")
	c.want([]string{"customers", "show", "C001"}, "on-call included", "hourly €60.00 excl. VAT/h, every started unit of 30m due, VAT 19.60 %, only quoted work billed, capped by an accepted quote")
	c.want([]string{"customers", "add", "C004", "--name", "Nouveau", "--contract", "isp", "--phones", "+44 20 7946 0958"}, "Customer C004 (Nouveau) added")
	if out, code := c.run("customers", "add", "C005", "--name", "X", "--contract", "gold"); code != 2 || !strings.Contains(out, "isp, tickets") {
		t.Errorf("unknown contract: exit %d\n%s", code, out)
	}
	if out, code := c.run("customers", "add", "C006", "--name", "X", "--contract", "isp", "--phones", "0612345678"); code != 1 || !strings.Contains(out, "another customer") {
		t.Errorf("a phone of C001: exit %d\n%s", code, out)
	}
	c.want([]string{"customers", "edit", "C004", "--contract", "tickets", "--notes", "VIP"}, "updated")
	c.want([]string{"customers", "show", "C004"}, "Nouveau", "tickets", "+442079460958", "VIP", "Language  fr")
	c.want([]string{"customers", "edit", "C004", "--language", "English"}, "updated")
	c.want([]string{"customers", "show", "C004"}, "Language  en")
	if out, code := c.run("customers", "edit", "C004", "--language", "de"); code != 2 || !strings.Contains(out, `language "de": want fr or en`) {
		t.Errorf("--language de: exit %d\n%s", code, out)
	}
	c.want([]string{"customers", "import", c.file("lang.csv", "number,name,phones,contract,language\nC004,Nouveau,,tickets,fr\n")}, "0 customer(s) added, 1 updated")
	c.want([]string{"customers", "show", "C004", "--json"}, `"language": "fr"`)
	c.want([]string{"customers", "remove", "C004"}, "removed")
	// From standard input, re-importing updates.
	if out, code := c.runStdin("number,name,phones,contract\nC001,Hébergé SAS,0493918009,isp\n", "customers", "import", "-"); code != 0 || !strings.Contains(out, "0 customer(s) added, 1 updated") {
		t.Errorf("import from stdin: exit %d\n%s", code, out)
	}
	c.want([]string{"customers", "show", "C001"}, "Hébergé SAS")
	if _, code := c.run("customers", "show", "C004"); code != 1 {
		t.Error("a removed customer is still shown")
	}
}

func mail(from, subject, body string) string {
	return "From: " + from + "\r\nTo: support@example.com\r\nSubject: " + subject + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
}

func TestMailInWorklogQuoteStatement(t *testing.T) {
	c := newCustomersCLI(t)
	good := c.file("good.csv", "number,name,phones,contract,emails\nC001,Hébergé SARL,0493918009,isp,admin@heberge.test\nC002,Sondages & Co,0698765432,tickets,client@sondages.test\n")
	c.want([]string{"customers", "import", good})

	// Tuesday 24 November 03:00: an email from the tickets customer is due
	// in 2 business days (counted from the opening at 09:00: Wednesday
	// evening, the same amount of open time).
	out, code := c.runStdin(mail("Client <client@sondages.test>", "Quotas cassés", "Les quotas ne marchent plus."), "mail-in")
	if code != 0 || !strings.Contains(out, "Ticket 2026-000001 made from client@sondages.test (customer C002), due Wed 25 Nov 18:00") {
		t.Fatalf("mail-in: exit %d\n%s", code, out)
	}
	c.want([]string{"tickets", "show", "2026-000001"}, "C002 Sondages & Co, contract tickets", "Channel", "email", "UNVERIFIED",
		"passwords", "Quotas cassés", "Les quotas ne marchent plus.")
	if out, code := c.runStdin("not a message", "mail-in"); code != 65 {
		t.Errorf("garbage on stdin: exit %d, want 65\n%s", code, out)
	}

	// Work: 61 minutes are two tickets; a third needs the customer's confirmation.
	c.want([]string{"worklog", "add", "2026-000001", "61m", "--by", "alice", "--note", "quotas"}, "total 1h1m0s = 2 unit(s) of 1h",
		"confirmation is needed above 2")
	out, code = c.run("worklog", "add", "2026-000001", "1h", "--by", "alice")
	if code != 1 || !strings.Contains(out, "Refused") || !strings.Contains(out, "astreinte tickets confirm 2026-000001") {
		t.Fatalf("a third ticket without confirmation: exit %d\n%s", code, out)
	}
	c.want([]string{"tickets", "confirm", "2026-000001", "--by", "alice", "--note", "email du 24/11"}, "confirmation is recorded")
	// 2h1m: the third unit is partial, and counts whole; the work log and
	// the month's statement say it the same way.
	c.want([]string{"worklog", "add", "2026-000001", "1:00", "--by", "alice"}, "total 2h1m0s = 3 unit(s) of 1h", "confirmed by the customer")
	c.want([]string{"tickets", "show", "2026-000001"}, "Work", "3 unit(s)", "confirmed")

	// The customer answers on the ticket: the email is added to it.
	out, code = c.runStdin(mail("client@sondages.test", "Re: [2026-000001] Quotas cassés", "Merci !"), "mail-in")
	if code != 0 || !strings.Contains(out, "added to ticket 2026-000001") {
		t.Fatalf("reply: exit %d\n%s", code, out)
	}

	// The ISP customer: a quote of one hour, accepted, caps three hours' work.
	c.want([]string{"tickets", "confirm", "2026-000001"})
	out, code = c.runStdin(mail("admin@heberge.test", "Migration", "Migrer le site."), "mail-in")
	if code != 0 || !strings.Contains(out, "Ticket 2026-000002") || !strings.Contains(out, "customer C001") {
		t.Fatalf("isp mail-in: exit %d\n%s", code, out)
	}
	c.want([]string{"quote", "set", "2026-000002", "--hours", "1h", "--by", "alice"}, "quote proposed")
	c.want([]string{"quote", "accept", "2026-000002", "--by", "alice"}, "quote accepted")
	c.want([]string{"worklog", "add", "2026-000002", "3h", "--by", "alice"}, "6 unit(s) of 30m")
	if out, code := c.run("quote", "refuse", "2026-000002"); code != 1 || !strings.Contains(out, "no proposed quote") {
		t.Errorf("refusing an accepted quote: exit %d\n%s", code, out)
	}
	// And 30 minutes on another quoted ticket: 35.88 € TTC.
	out, _ = c.runStdin(mail("admin@heberge.test", "DNS", "Zone."), "mail-in")
	if !strings.Contains(out, "2026-000003") {
		t.Fatalf("third ticket: %s", out)
	}
	c.want([]string{"quote", "set", "2026-000003", "--amount", "100", "--by", "alice"})
	c.want([]string{"quote", "accept", "2026-000003", "--by", "alice"})
	c.want([]string{"worklog", "add", "2026-000003", "30", "--by", "alice"})
	c.want([]string{"tickets", "show", "2026-000003"}, "at most €100.00 excl. VAT, accepted", "1 unit(s) of 30m")
	// Advice, unquoted: free support.
	out, _ = c.runStdin(mail("admin@heberge.test", "Question", "Comment configurer SPF ?"), "mail-in")
	if !strings.Contains(out, "2026-000004") {
		t.Fatalf("fourth ticket: %s", out)
	}
	c.want([]string{"worklog", "add", "2026-000004", "1h", "--by", "alice"})
	// A quoted job that could not be done: waived.
	out, _ = c.runStdin(mail("admin@heberge.test", "Restauration", "Restaurer la base."), "mail-in")
	if !strings.Contains(out, "2026-000005") {
		t.Fatalf("fifth ticket: %s", out)
	}
	c.want([]string{"quote", "set", "2026-000005", "--amount", "500", "--flat", "--by", "alice"})
	c.want([]string{"quote", "accept", "2026-000005", "--by", "alice"})
	c.want([]string{"worklog", "add", "2026-000005", "2h", "--by", "alice"})
	if out, code := c.run("tickets", "waive", "2026-000005"); code != 2 {
		t.Errorf("waive without a reason: exit %d\n%s", code, out)
	}
	c.want([]string{"tickets", "waive", "2026-000005", "--by", "alice", "--note", "backup unreadable"}, "will not be billed")

	c.want([]string{"statement", "C002", "--month", "2026-11"}, "Statement for customer C002 Sondages & Co, November 2026",
		"2026-000001", "3 unit(s) of 1h", "270.00", "54.00", "324.00")
	out = c.want([]string{"statement", "C002", "--month", "2026-11", "--format", "csv"})
	if !strings.Contains(out, "C002,2026-11,2026-000001,tickets,121,0,3,60,27000,5400,32400,false,") {
		t.Errorf("CSV statement:\n%s", out)
	}
	out = c.want([]string{"statement", "C001", "--month", "2026-11"}, "capped by the accepted quote", "€35.88")
	if l := lineWith(out, "2026-000004"); !strings.Contains(l, "free support (no accepted quote)") || !strings.Contains(l, "0.00") {
		t.Errorf("unquoted advice should be free: %q", l)
	}
	if l := lineWith(out, "2026-000005"); !strings.Contains(l, "waived: backup unreadable") || !strings.Contains(l, "0.00") {
		t.Errorf("waived ticket: %q", l)
	}
	if l := lineWith(out, "TOTAL"); !strings.Contains(l, "€90.00") || !strings.Contains(l, "€17.64") || !strings.Contains(l, "€107.64") {
		t.Errorf("C001 total: 60.00 (capped) + 30.00 HT = 90.00 HT, 17.64 VAT, 107.64 TTC; got %q\n%s", l, out)
	}
	c.want([]string{"statement", "C002", "--month", "2026-12"}, "No work this month")
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// A configuration written by hand, with no customers section: the built-in
// contracts are in force, a customer on isp is imported and shows its
// rate; config show says where each contract comes from.
func TestBuiltInContractsWithoutAContractSection(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	csv := c.file("customers.csv", "number,name,phones,contract,emails\nC001,Hébergé SARL,06 12 34 56 78,isp,admin@heberge.test\n")
	c.want([]string{"customers", "import", csv}, "1 customer(s) added")
	c.want([]string{"customers", "show", "C001"}, "isp", "on-call included", "€60.00 excl. VAT/h")
	c.want([]string{"config", "show"}, "isp ", "built in", "tickets ")
	c.want([]string{"config", "show", "--effective"}, "isp: # built in", `rate: "60.00"`, "clock:")
}
