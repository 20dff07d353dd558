package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	netsmtp "net/smtp"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Email both ways, as a customer lives it: a request delivered by a relay
// to the inbound SMTP listener makes a ticket and its sender receives the
// acknowledgement (number, due time) from the real SMTP server; a
// technician replies through the API and the customer receives it; the
// ticket is resolved; the customer answers the reply (In-Reply-To only, a
// subject without the number) through the mail server's pipe, and the
// answer joins the ticket and reopens it within the warranty. A request
// piped to `mail-in` is acknowledged too.

// headerOf reads one header field of a raw message, RFC 2047 decoded.
func headerOf(t *testing.T, raw []byte, key string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read sent mail: %v", err)
	}
	v, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get(key))
	if err != nil {
		return m.Header.Get(key)
	}
	return v
}

func TestEmailBothWays(t *testing.T) {
	t.Parallel()
	sink := startMailSink(t)
	mailPort := freeTCPPort(t)
	svc := startAstreinte(t, customersOverrides(map[string]any{
		"paging": map[string]any{"email": map[string]any{"smtp": sink.addr, "from": "Support <astreinte@e2e.test>", "tls": "none"}},
		"mail":   map[string]any{"addresses": []any{"support@e2e.test"}, "listen": fmt.Sprintf("127.0.0.1:%d", mailPort)},
	}))
	importCustomers(t, svc)
	if !svc.waitLog("mail listening", 10*time.Second) {
		t.Fatal("the mail listener did not start")
	}
	const customer = "client@sondages.test"

	// 1. The relay delivers a request to the listener.
	req := "From: Client Sondages <Client@Sondages.test>\r\nTo: support@e2e.test\r\nSubject: Quotas en panne\r\n" +
		"Message-ID: <e2e-req-1@sondages.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLes quotas ne marchent plus.\r\n"
	if err := netsmtp.SendMail(fmt.Sprintf("127.0.0.1:%d", mailPort), nil, customer, []string{"support@e2e.test"}, []byte(req)); err != nil {
		t.Fatalf("delivery to the listener: %v", err)
	}
	// Another address is refused at RCPT.
	if err := netsmtp.SendMail(fmt.Sprintf("127.0.0.1:%d", mailPort), nil, customer, []string{"root@e2e.test"}, []byte(req)); err == nil ||
		!strings.Contains(err.Error(), "550") {
		t.Errorf("delivery to another address: %v, want 550", err)
	}
	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket from the email")
	}
	acks, ok := sink.waitTo(customer, 1, 15*time.Second)
	if !ok {
		t.Fatalf("no acknowledgement reached %s; sent: %d", customer, len(sink.all()))
	}
	ack := acks[0]
	// Tuesday 03:00, contract tickets: due in two business days, Wednesday 18:00.
	if s := headerOf(t, ack.raw, "Subject"); !strings.Contains(s, "["+tk.Number+"]") || !strings.Contains(s, "Quotas en panne") {
		t.Errorf("acknowledgement subject %q", s)
	}
	if !strings.Contains(ack.text, "Numéro de ticket : "+tk.Number) || !strings.Contains(ack.text, "mer. 25 nov. 2026 à 18:00") {
		t.Errorf("acknowledgement text:\n%s", ack.text)
	}
	if irt := headerOf(t, ack.raw, "In-Reply-To"); irt != "<e2e-req-1@sondages.test>" || headerOf(t, ack.raw, "Auto-Submitted") != "auto-replied" {
		t.Errorf("acknowledgement In-Reply-To %q, Auto-Submitted %q", irt, headerOf(t, ack.raw, "Auto-Submitted"))
	}

	// 2. A technician replies through the API.
	out, err := exec.Command(astreinteBin, "tokens", "add", "helpdesk", "--config", svc.cfgPath).Output()
	token := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(token, "ast_") {
		t.Fatalf("tokens add: %v %q", err, out)
	}
	httpCfg := svc.cfg["http"].(map[string]any)
	body, _ := json.Marshal(map[string]string{"text": "Le quota est rétabli, pouvez-vous vérifier ?"})
	hreq, _ := http.NewRequest("POST", "http://"+httpCfg["listen"].(string)+"/api/tickets/"+tk.Number+"/replies", bytes.NewReader(body))
	hreq.Header.Set("Authorization", "Bearer "+token)
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(rb), `"state": "sent"`) || !strings.Contains(string(rb), `"to": "`+customer+`"`) {
		t.Fatalf("POST replies: %d %s", resp.StatusCode, rb)
	}
	got, ok := sink.waitTo(customer, 2, 15*time.Second)
	if !ok {
		t.Fatal("the reply did not reach the customer")
	}
	reply := got[1]
	replyID := headerOf(t, reply.raw, "Message-ID")
	if !strings.Contains(reply.text, "Le quota est rétabli, pouvez-vous vérifier ?") || replyID == "" {
		t.Errorf("reply (Message-ID %q):\n%s", replyID, reply.text)
	}
	evs := svc.events(tk.ID)
	if !hasEvent(evs, "reply", "api:helpdesk", "email", "Le quota est rétabli") {
		t.Errorf("the reply is not on the timeline:\n%s", timeline(evs))
	}

	// 3. Resolved; the customer answers the reply, In-Reply-To only, through
	// the pipe: it joins the ticket and reopens it.
	if out, err := svc.cli("tickets", "resolve", tk.Number); err != nil {
		t.Fatalf("resolve: %v\n%s", err, out)
	}
	answer := "From: client@sondages.test\r\nTo: support@e2e.test\r\nSubject: Re: ça ne marche toujours pas\r\n" +
		"Message-ID: <e2e-req-2@sondages.test>\r\nIn-Reply-To: " + replyID + "\r\n\r\nToujours en panne ce matin.\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader(answer)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "added to ticket "+tk.Number) {
		t.Fatalf("mail-in of the answer: %v\n%s", err, out)
	}
	if n := len(svc.tickets()); n != 1 {
		t.Errorf("%d tickets after the answer, want 1", n)
	}
	if st, _ := svc.ticketState(tk.ID); st != "new" {
		t.Errorf("ticket %s after the answer: %s, want new (reopened)", tk.Number, st)
	}
	evs = svc.events(tk.ID)
	if !hasEvent(evs, "email", customer, "email", "Toujours en panne") || !hasEvent(evs, "reopened", customer, "", "within the 7-day warranty") {
		t.Errorf("the answer did not join and reopen the ticket:\n%s", timeline(evs))
	}

	// 4. A request piped to mail-in makes a ticket, acknowledged by mail-in.
	cmd = exec.CommandContext(ctx, astreinteBin, "mail-in", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("From: admin@heberge.test\r\nTo: support@e2e.test\r\nSubject: Nouvelle boîte mail\r\n" +
		"Message-ID: <e2e-req-3@heberge.test>\r\nContent-Language: en\r\n\r\nPlease add a mailbox.\r\n")
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "made from admin@heberge.test") {
		t.Fatalf("mail-in of a new request: %v\n%s", err, out)
	}
	if acks, ok := sink.waitTo("admin@heberge.test", 1, 15*time.Second); !ok || !strings.Contains(acks[0].text, "Ticket number: ") {
		t.Errorf("no English acknowledgement from mail-in: %+v", acks)
	}
}
