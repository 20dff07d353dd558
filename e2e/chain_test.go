package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The chain never ends in silence: a crash during a call-out costs
// seconds, the phone rings once at a time, and when nobody answers the
// fallback hears of it.

// sippCalls reads a SIPp UAS message trace (chronological) into the
// requests it received: method and Call-ID, in order.
func sippCalls(t testing.TB, u *sippUAS) [][2]string {
	t.Helper()
	b, _ := os.ReadFile(u.dir + "/" + u.name + "_messages.log")
	var out [][2]string
	for _, block := range strings.Split(string(b), "\n-----") {
		if !strings.Contains(block, "message received") {
			continue
		}
		var method, callID string
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			if method == "" {
				if m, _, ok := strings.Cut(line, " sip:"); ok && m != "" && !strings.Contains(m, " ") {
					method = m
				}
			}
			if v, ok := strings.CutPrefix(line, "Call-ID:"); ok && callID == "" {
				callID = strings.TrimSpace(v)
			}
		}
		if method != "" {
			out = append(out, [2]string{method, callID})
		}
	}
	return out
}

// TestKill9DuringCallOutRedialsAtOnce: astreinte is killed (SIGKILL) while
// the technician's phone (SIPp) rings and restarted at once. The send left
// "sending" is taken back at start: the phone rings again within seconds
// (not when its 5-minute lease runs out), and the second round, due
// meanwhile, waits for that call to end instead of ringing alongside it.
// Nobody answers: the fallback address is emailed, the webhook gets
// escalation.exhausted, and tickets show says EXHAUSTED.
func TestKill9DuringCallOutRedialsAtOnce(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	mail := startMailSink(t)
	var svc *service
	hook := startHookSink(t, hookSecret, func() time.Time { return svc.clock() })
	phone := startSIPpUAS(t, "uas_ringing.xml")
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), ""}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "4s"}}
	o := pagingOverrides(people, nil, tiers, mail, hook, "out_of_hours")
	o["oncall"].(map[string]any)["escalation"].(map[string]any)["repeat"] = 2
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "6s"}
	o["paging"].(map[string]any)["fallback"] = map[string]any{"emails": []any{"desk@e2e.test"}}
	svc = startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0611111111")

	if _, ok := poll(20*time.Second, phone.invites, func(n int) bool { return n >= 1 }); !ok {
		t.Fatal("alice's phone was not called")
	}
	svc.kill9() // while it rings
	restartAt := time.Now()
	svc.restart()

	if _, ok := poll(15*time.Second, phone.invites, func(n int) bool { return n >= 2 }); !ok {
		t.Fatalf("alice's phone was not called again within 15 s of the restart; log:\n%s", tail(svc.log(), 40))
	}
	t.Logf("called again %s after the restart began (the lease was 5 min)", time.Since(restartAt).Round(100*time.Millisecond))

	if _, ok := mail.waitTo("desk@e2e.test", 1, 40*time.Second); !ok {
		t.Fatalf("the fallback was not emailed; log:\n%s", tail(svc.log(), 40))
	}
	tk := svc.tickets()[0]
	if _, ok := poll(10*time.Second, func() []sendRow { return svc.sends(tk.ID) }, func(ss []sendRow) bool {
		for _, s := range ss {
			if s.State == "pending" || s.State == "sending" {
				return false
			}
		}
		return true
	}); !ok {
		t.Errorf("sends still to make after the end: %+v", svc.sends(tk.ID))
	}

	// Alice's phone: the call of the dead process, the one taken back, the
	// second round's; the last two one after the other.
	calls := sippCalls(t, phone)
	var invites []string
	cancelled := map[string]bool{}
	for _, c := range calls {
		switch c[0] {
		case "INVITE":
			for _, prev := range invites[min(1, len(invites)):] { // the dead process's call cannot be cancelled
				if !cancelled[prev] {
					t.Errorf("INVITE %s while %s was still ringing: called twice at once", c[1], prev)
				}
			}
			invites = append(invites, c[1])
		case "CANCEL":
			cancelled[c[1]] = true
		}
	}
	if len(invites) != 3 {
		t.Errorf("%d calls to alice, want 3 (before the kill, taken back, round 2): %v", len(invites), calls)
	}
	if st, _ := svc.pageState(tk.ID); st != "exhausted" {
		t.Errorf("page %s, want exhausted", st)
	}
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "EXHAUSTED") || !strings.Contains(out, "desk@e2e.test by email (done)") {
		t.Errorf("tickets show should mark the exhausted escalation and its fallback (err=%v):\n%s", err, out)
	}

	posts, _ := hook.wait(3, 10*time.Second)
	var exhausted, pagedAlice int
	for _, p := range posts {
		if p.verifyErr != nil {
			t.Errorf("webhook: %v", p.verifyErr)
		}
		switch p.payload.Event {
		case "escalation.exhausted":
			exhausted++
			if p.payload.Person != nil || p.payload.PageKey != fmt.Sprintf("%d/escalation.exhausted", tk.ID) {
				t.Errorf("escalation.exhausted: person %v, page_key %q", p.payload.Person, p.payload.PageKey)
			}
		case "page":
			if p.payload.Person != nil && p.payload.Person.ID == "alice" && strings.Contains(p.payload.AckURL, "/ack?") {
				pagedAlice++
			}
		}
	}
	if exhausted != 1 || pagedAlice < 2 {
		t.Errorf("webhooks: %d escalation.exhausted (want 1), %d pages naming alice with an ack_url (want one per round)", exhausted, pagedAlice)
	}
}
