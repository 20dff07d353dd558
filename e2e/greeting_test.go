package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCustomerTypesNumber_SIPp: out of hours, a caller whose number is no
// customer's leaves a message and ends it with #; asked for a customer
// number, they type 4720 (RFC 2833), hear it read back and confirm with #:
// the ticket is the customer's, under its contract. Before goodbye they
// hear the first agreement's rule on sensitive requests.
func TestCustomerTypesNumber_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, customersOverrides(map[string]any{}))
	csv := filepath.Join(testDir(t), "customers.csv")
	if err := os.WriteFile(csv, []byte("number,name,phones,contract\n4720,Hébergé SARL,,isp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.cli("customers", "import", csv); err != nil || !strings.Contains(out, "1 customer(s) added") {
		t.Fatalf("customers import (err=%v):\n%s", err, out)
	}
	// Talks from the answer for two patterns (5.6 s; the greeting stops,
	// so the urgency question comes after the message), then is quiet:
	// 5 s of it end the message; the urgency question and its 4 s pass,
	// then "2 for another number" and its 3 s; once the customer-number
	// question is over, within its 4 s, types 4720 and stops (the 4 s
	// pause ends the number); 9.5 s after the last digit, while "#
	// to confirm" follows the read-back, # (the message was not ended with
	// #: SIPp's second # would be the same RFC 2833 event replayed, which
	// astreinte rightly takes for a straggler of the first).
	first := 2*patternLen + 5*time.Second + urgencyAfter(t) + promptLen(t, "fr", "callback_other") + 3*time.Second +
		promptLen(t, "fr", "customer_number") + 1500*time.Millisecond
	keys := keyPresses(t, first, 400*time.Millisecond, "4720")
	keys = append(keys, keyPresses(t, 9500*time.Millisecond, 0, "#")...)
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0611111111"}, Keys: keys}, callerAudio(0, 2, 60*time.Second))
	heard := heardAudio(pkts)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Status: "new", CallerNumber: "0611111111", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkHeardAll(t, heard, "fr", "customer_number", "customer_number_readback", "saved_ticket", "sensitive_requests", "goodbye")
	notHeard(t, heard, "fr", "customer_unknown")
	// # cut the confirmation short: the ticket was filed at once, not
	// after the whole question and its 5 s wait (a number not objected
	// to stands too, so the timing is what shows the key counted).
	_, readAt := ncc(heard, prompt(t, "fr", "customer_number_readback"))
	_, savedAt := ncc(heard, prompt(t, "fr", "saved_ticket"))
	// Read-back, about 2 s of digits, then the question: 8 s; unanswered, 13 s.
	whole := promptLen(t, "fr", "customer_number_readback") + promptLen(t, "fr", "customer_number_confirm") + 3*time.Second
	if took := durationOf(savedAt - readAt); took <= 0 || took > whole {
		t.Errorf("the ticket was filed %.2fs after the read-back started, want within %.2fs (# pressed during it)", took.Seconds(), whole.Seconds())
	}
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "4720 Hébergé SARL, contract isp") {
		t.Errorf("tickets show %s (err=%v) should name customer 4720 under contract isp:\n%s", tk.Number, err, out)
	}
}
