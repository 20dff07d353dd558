package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFirstAckStopsTheOthers_SIPp: alice (SIPp) answers her page call and
// presses 1 six seconds in; bob, paged two seconds after her by phone
// (SIPp, ringing), email and SIP MESSAGE (paging.sip.message), is still
// ringing. Bob's call is cancelled within a second of her key, and bob
// gets "pris en charge par Alice Martin à HH:MM" by email on the real SMTP
// server and by SIP MESSAGE on his phone; alice, who took it, is told
// nothing. The page call said the number to call back in its national
// groups.
func TestFirstAckStopsTheOthers_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	mail := startMailSink(t)
	alicePhone := startSIPpUAS(t, "uas_answer_key1.xml")
	bobPhone := startSIPpUAS(t, "uas_ringing.xml")
	people := []tech{
		{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", alicePhone.port), ""},
		{"bob", "Bob Durand", fmt.Sprintf("sip:bob@127.0.0.1:%d", bobPhone.port), "bob@e2e.test"},
	}
	tiers := []any{
		map[string]any{"name": "primary", "person": "alice", "delay": "2s"},
		map[string]any{"name": "secondary", "person": "bob", "delay": "10m"},
	}
	o := pagingOverrides(people, nil, tiers, mail, nil, "out_of_hours")
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "60s", "message": true}
	svc := startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0611223344")
	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	if _, ok := poll(20*time.Second, bobPhone.invites, func(n int) bool { return n > 0 }); !ok {
		t.Fatalf("bob's phone did not ring; timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	if _, ok := poll(30*time.Second, func() string { st, _ := svc.ticketState(tk.ID); return st }, func(s string) bool { return s == "acknowledged" }); !ok {
		t.Fatalf("alice's key 1 did not acknowledge; timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	sawAck := time.Now()
	if _, ok := poll(5*time.Second, func() int { return bobPhone.received("CANCEL") }, func(n int) bool { return n > 0 }); !ok {
		t.Fatalf("bob's ringing call was not cancelled; timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	// Both SIPp traces are stamped by the wall clock: alice's INFO (key 1)
	// sent, bob's CANCEL received.
	cancelled := bobPhone.traceTime(t, "CANCEL sip:").Sub(alicePhone.traceTime(t, "INFO sip:"))
	ackAt := eventTime(t, svc.events(tk.ID), "acknowledged")
	t.Logf("bob's call cancelled %s after alice pressed 1 (seen here %s after the acknowledgement)", cancelled.Round(time.Millisecond), time.Since(sawAck).Round(time.Millisecond))
	if cancelled > time.Second || cancelled < 0 {
		t.Errorf("bob's call was cancelled %s after alice's key 1, want within a second", cancelled)
	}
	if _, by := svc.ticketState(tk.ID); by != "alice" {
		t.Errorf("acknowledged by %q, want alice", by)
	}
	want := "pris en charge par Alice Martin à " + ackAt.In(parisZone(t)).Format("15:04")
	msgs, ok := poll(10*time.Second, func() []mailMsg { return mail.to("bob@e2e.test") }, func(ms []mailMsg) bool {
		for _, m := range ms {
			if strings.Contains(m.subject, want) {
				return true
			}
		}
		return false
	})
	if !ok {
		var subjects []string
		for _, m := range msgs {
			subjects = append(subjects, m.subject)
		}
		t.Errorf("bob got no %q email; subjects: %q; timeline:\n%s", want, subjects, timeline(svc.events(tk.ID)))
	}
	// The MESSAGE: one page, then one notice, to bob's phone.
	texts, ok := poll(10*time.Second, func() []string { return bobPhone.messageBodies(t) }, func(b []string) bool {
		return slices.ContainsFunc(b, func(s string) bool { return strings.Contains(s, want) })
	})
	if !ok {
		t.Errorf("bob's phone got no SIP MESSAGE %q; got %q; timeline:\n%s", want, texts, timeline(svc.events(tk.ID)))
	} else if len(texts) != 2 || !strings.Contains(texts[0], "Ticket "+tk.Number) || texts[1] != tk.Number+" "+want+"." {
		t.Errorf("bob's phone got the MESSAGEs %q, want the page then %q", texts, tk.Number+" "+want+".")
	}
	for _, b := range alicePhone.messageBodies(t) {
		if strings.Contains(b, "pris en charge par") {
			t.Errorf("alice, who took the ticket, was told it was taken: %q", b)
		}
	}
	if !strings.Contains(svc.log(), `prompts="digit_0 digit_6 , digit_1 digit_1 , digit_2 digit_2 , digit_3 digit_3 , digit_4 digit_4"`) {
		t.Errorf("the page call should say 06 11 22 33 44 in groups; log:\n%s", tail(svc.log(), 30))
	}
	time.Sleep(time.Second)
	if n := bobPhone.invites(); n != 1 {
		t.Errorf("bob's phone rang %d times, want once", n)
	}
}

// messageBodies are the bodies of the SIP MESSAGEs the UAS received, in
// order (its message trace).
func (u *sippUAS) messageBodies(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.dir, u.name+"_messages.log"))
	if err != nil {
		return nil
	}
	var out []string
	for _, part := range strings.Split(string(b), "\nMESSAGE sip:")[1:] {
		msg, _, _ := strings.Cut(part, "\n----")
		if _, body, ok := strings.Cut(strings.ReplaceAll(msg, "\r\n", "\n"), "\n\n"); ok {
			out = append(out, strings.TrimSpace(body))
		}
	}
	return out
}

// traceTime is when the first message starting with start was sent or
// received, by the timestamp SIPp's trace puts before it.
func (u *sippUAS) traceTime(t testing.TB, start string) time.Time {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.dir, u.name+"_messages.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	i := strings.Index(log, "\n"+start)
	if i < 0 {
		t.Fatalf("no %q in %s's trace", start, u.name)
	}
	j := strings.LastIndex(log[:i], "--- ")
	if j < 0 {
		t.Fatalf("no timestamp before %q in %s's trace", start, u.name)
	}
	line := strings.TrimSpace(strings.SplitN(log[j+4:], "\n", 2)[0])
	at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", line, time.Local)
	if err != nil {
		t.Fatalf("timestamp %q: %v", line, err)
	}
	return at
}

func parisZone(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
