package e2e

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// The caller's side: nothing said is lost, prompts are short
// and skippable, missed calls and hidden numbers leave something to call
// back, and the caller is promised only what will happen.

// key is one RFC 2833 key press in uac_caller.xml.
type key struct {
	Pcap    string
	PauseMS int // after the previous press (the first: after the answer)
}

// callerCall is a uac_caller.xml caller.
type callerCall struct {
	scenario
	Keys []key
}

// keyPresses turns "0123#" pressed every gap from first on into keys.
func keyPresses(t *testing.T, first, gap time.Duration, digits string) []key {
	t.Helper()
	var ks []key
	for i := 0; i < len(digits); i++ {
		name := digits[i]
		var p string
		switch name {
		case '#':
			p = strings.Replace(dtmfPcap(t, '0'), "_0.pcap", "_pound.pcap", 1)
		case '*':
			p = strings.Replace(dtmfPcap(t, '0'), "_0.pcap", "_star.pcap", 1)
		default:
			p = dtmfPcap(t, name)
		}
		pause := gap
		if i == 0 {
			pause = first
		}
		ks = append(ks, key{Pcap: p, PauseMS: int(pause / time.Millisecond)})
	}
	return ks
}

// runCaller has a SIPp caller play pcm (PCMU) with its keys and hang up
// or wait for astreinte's BYE, and returns what astreinte sent it.
func runCaller(t *testing.T, svc *service, c callerCall, pcm []int16) []rtpPacket {
	t.Helper()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	if c.Caller == "" {
		c.Caller = "0612345678"
	}
	if c.ByeTimeoutMS == 0 {
		c.ByeTimeoutMS = 120000
	}
	c.Stream = writeCallerStream(t, pcm, false)
	c.Formats, c.RTPMaps = offerG711(false)
	tpl, err := template.ParseFiles(filepath.Join("testdata", "uac_caller.xml"))
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, c); err != nil {
		t.Fatalf("scenario: %v", err)
	}
	path := filepath.Join(testDir(t), "uac_caller-run.xml")
	writeFile(t, path, b.Bytes())
	capt := startCapture(t, fmt.Sprintf("udp and src host 127.0.0.1 and src portrange %d-%d", svc.rtpLo, svc.rtpHi))
	runSIPp(t, svc, path, sippOptions{})
	return toCaller(t, capt.stop(t), path)
}

// beepAt finds the beep in what the caller heard and returns when it
// started and ended, from astreinte's first RTP packet: the answer (its
// first prompt starts as it answers).
func beepAt(t *testing.T, heard []int16) (start, end time.Duration) {
	t.Helper()
	beep := prompt(t, "fr", "beep")
	peak, lag := ncc(heard, beep)
	if peak < 0.8 {
		t.Fatalf("no beep heard (best correlation %.3f in %.1fs)", peak, durationOf(len(heard)).Seconds())
	}
	return durationOf(lag), durationOf(lag + len(beep))
}

// notHeard wants a prompt absent from what the caller heard.
func notHeard(t *testing.T, heard []int16, lang, name string) {
	t.Helper()
	if peak, at := ncc(heard, prompt(t, lang, name)); peak > 0.5 {
		t.Errorf("heard %s (correlation %.3f at %.1fs), which must not be said here", name, peak, durationOf(at).Seconds())
	}
}

// callerRow is what the flow adds to a ticket (table ticket_caller).
type callerRow struct {
	Kind           string
	CallbackNumber string
	MessageAtMS    int64
}

func (s *service) ticketCaller(id int64) callerRow {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	var r callerRow
	err := db.QueryRow(`SELECT kind, callback_number, message_at_ms FROM ticket_caller WHERE ticket_id = ?`, id).
		Scan(&r.Kind, &r.CallbackNumber, &r.MessageAtMS)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		s.t.Fatalf("ticket_caller %d: %v", id, err)
	}
	return r
}

// silence is a caller who says nothing for d.
func silence(d time.Duration) []int16 { return make([]int16, samplesIn(d)) }

// urgencyAfter is how long the urgency question after the message takes
// with its wait for key 1: a caller who talked over the greeting hears it
// before the questions on the callback number.
func urgencyAfter(t testing.TB) time.Duration {
	return promptLen(t, "fr", "urgency_after") + 4*time.Second
}

// TestTalkFromFirstSecondHangupAt12s_SIPp: out of hours, a caller talks
// over the greeting from the first second and hangs up 12 s after the
// answer, without a key. Their voice cuts the greeting short (barge-in),
// and the ticket's recording holds what they said, from before the beep.
func TestTalkFromFirstSecondHangupAt12s_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	// The pattern from 0.5 s after the answer, over and over.
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0611111111", HangupAfterMS: 12000}},
		callerAudio(0, 6, 5*time.Second))
	heard := heardAudio(pkts)
	beepStart, beepEnd := beepAt(t, heard)
	greeting := promptLen(t, "fr", "greeting_closed")
	t.Logf("barge-in: the beep started %.2fs after the answer (ended %.2fs); the greeting alone lasts %.2fs",
		beepStart.Seconds(), beepEnd.Seconds(), greeting.Seconds())
	if beepStart >= greeting {
		t.Errorf("the caller's voice did not cut the greeting short: beep at %.2fs, greeting %.2fs", beepStart.Seconds(), greeting.Seconds())
	}

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0611111111", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "caller")
	// 12 s of talk: three whole patterns at least, the first one started
	// before the beep.
	pcm := checkRecordingPattern(t, tk, 3)
	tc := svc.ticketCaller(tk.ID)
	if tc.Kind != "voicemail" || tc.CallbackNumber != "+33611111111" {
		t.Errorf("ticket caller details %+v, want a voicemail to call back on +33611111111", tc)
	}
	if tc.MessageAtMS <= 0 {
		t.Errorf("message_at_ms = %d: what was said before the beep should be kept in front of the message", tc.MessageAtMS)
	}
	if out, err := svc.cli("tickets", "show", tk.Number); err != nil || !strings.Contains(out, "Before the beep") || !strings.Contains(out, "06 11 11 11 11") {
		t.Errorf("tickets show %s (err=%v) should say what was said before the beep and whom to call back:\n%s", tk.Number, err, out)
	}
	if d := durationOf(len(pcm)); d < 10*time.Second {
		t.Errorf("recording lasts %s, want ≥ 10s of the 12s call", d)
	}
	segs := scanTones(pcm)
	if len(segs) == 0 || segs[0].start > time.Second || !strings.Contains(describeSegments(segs[:min(3, len(segs))]), "600") {
		t.Errorf("the recording should start with the caller's first words (600 Hz within 1 s): %s", describeSegments(segs))
	}
}

// TestTimeToBeep: with no key and a silent caller, how long after the
// answer the beep comes, out of hours (≤ 10 s) and in hours (≤ 8 s). A
// caller who then hangs up without a word leaves, out of hours from a
// known number, a missed-call ticket; in hours nothing.
func TestTimeToBeep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		clock  string
		limit  time.Duration
		missed bool
	}{
		{"out_of_hours", outOfHours, 10 * time.Second, true},
		{"in_hours", inHours, 8 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": tc.clock}})
			// Silent, then hangs up 3 s after the longest allowed beep.
			hangup := tc.limit + 3*time.Second
			pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0622222222", HangupAfterMS: int(hangup / time.Millisecond)}},
				silence(hangup+5*time.Second))
			start, end := beepAt(t, heardAudio(pkts))
			t.Logf("time to the beep %s: started %.2fs after the answer, ended %.2fs (target ≤ %s)", tc.name, start.Seconds(), end.Seconds(), tc.limit)
			if end > tc.limit {
				t.Errorf("the beep ended %.2fs after the answer, want ≤ %s", end.Seconds(), tc.limit)
			}
			cs := svc.waitCalls(20*time.Second, allEnded(1))
			if len(cs) != 1 {
				t.Fatalf("want 1 call, have %d", len(cs))
			}
			checkCall(t, cs[0], "no_message", "caller")
			ts := svc.tickets()
			switch {
			case tc.missed && len(ts) != 1:
				t.Fatalf("want a missed-call ticket, have %d tickets", len(ts))
			case !tc.missed && len(ts) != 0:
				t.Fatalf("in hours a silent call should leave no ticket, have %+v", ts)
			case tc.missed:
				checkTicket(t, ts[0], ticketRow{Status: "new", CallerNumber: "0622222222", Case: "out_of_hours"})
				if c := svc.ticketCaller(ts[0].ID); c.Kind != "missed_call" || c.CallbackNumber != "+33622222222" {
					t.Errorf("ticket caller details %+v, want a missed call to call back on +33622222222", c)
				}
				if ts[0].Recording != "" {
					t.Errorf("a missed call has a recording: %s", ts[0].Recording)
				}
			}
		})
	}
}

// TestHangupDuringGreetingMissedCall_SIPp: a known number hangs up during
// the greeting out of hours: a "missed call, no message" ticket with the
// number; calling again and hanging up again joins that ticket.
func TestHangupDuringGreetingMissedCall_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	for i := range 2 {
		runCaller(t, svc, callerCall{scenario: scenario{Caller: "0633333333", HangupAfterMS: 1500}}, silence(5*time.Second))
		cs := svc.waitCalls(20*time.Second, allEnded(i+1))
		checkCall(t, cs[i], "no_message", "caller")
	}
	ts := svc.tickets()
	if len(ts) != 1 {
		t.Fatalf("two missed calls from one number: want 1 ticket, have %d: %+v", len(ts), ts)
	}
	checkTicket(t, ts[0], ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0633333333", Case: "out_of_hours"})
	if c := svc.ticketCaller(ts[0].ID); c.Kind != "missed_call" || c.CallbackNumber != "+33633333333" {
		t.Errorf("ticket caller details %+v, want a missed call to call back on +33633333333", c)
	}
	out, err := svc.cli("tickets", "show", ts[0].Number)
	if err != nil || !strings.Contains(out, "missed call") || !strings.Contains(out, "called again") {
		t.Errorf("tickets show %s (err=%v) should tell a missed call, then another:\n%s", ts[0].Number, err, out)
	}
}

// TestHiddenNumberTypesCallback_SIPp: a caller with a hidden number leaves
// a message, ends it with #, is asked for a number, types 01 23 45 67 89
// and #, hears it read back and confirms with #: the ticket has it.
func TestHiddenNumberTypesCallback_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	// Talks from the answer for two patterns (the greeting stops: the
	// urgency question comes after the message), presses # at 7 s, lets
	// the urgency question pass, then types the number 2 s into the next
	// question (a key cuts it short and counts) and stops (the pause ends
	// it), and 8 s after the last digit, while it is read back, confirms
	// with #.
	keys := keyPresses(t, 7*time.Second, 0, "#")
	keys = append(keys, keyPresses(t, urgencyAfter(t)+2*time.Second, 400*time.Millisecond, "0123456789")...)
	keys = append(keys, keyPresses(t, 8*time.Second, 0, "#")...)
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "anonymous"}, Keys: keys},
		callerAudio(0, 2, 60*time.Second))
	heard := heardAudio(pkts)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Status: "new", CallerNumber: "anonymous", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 1)
	if c := svc.ticketCaller(tk.ID); c.CallbackNumber != "+33123456789" {
		t.Errorf("callback number %q, want +33123456789 (typed 0123456789)", c.CallbackNumber)
	}
	checkHeardAll(t, heard, "fr", "callback_enter", "callback_typed", "saved_ticket", "sensitive_requests")
	notHeard(t, heard, "fr", "callback_other")
	notHeard(t, heard, "fr", "customer_number") // no customer listed: not asked
	if out, err := svc.cli("tickets", "show", tk.Number); err != nil || !strings.Contains(out, "01 23 45 67 89") {
		t.Errorf("tickets show %s (err=%v) should give the number to call back in national format:\n%s", tk.Number, err, out)
	}
}

// TestUrgentNobodyReachable_SIPp: out of hours with nobody on call (the
// built-in default), a caller presses 1 during the greeting: the key cuts
// the greeting short, the ticket is urgent, and the caller is told that
// nobody is on call now and by when they will be called back — never that
// the technician is being called.
func TestUrgentNobodyReachable_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0644444444"}, Keys: keyPresses(t, time.Second, 0, "1")},
		callerAudio(2500*time.Millisecond, 2, 75*time.Second))
	heard := heardAudio(pkts)
	start, _ := beepAt(t, heard)
	t.Logf("key 1 at 1s: the beep started %.2fs after the answer (the greeting lasts %.2fs)", start.Seconds(), promptLen(t, "fr", "greeting_closed").Seconds())
	if start > 2*time.Second {
		t.Errorf("key 1 at 1 s did not cut the greeting short: beep at %.2fs", start.Seconds())
	}
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", CallerNumber: "0644444444", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 1)
	checkHeardAll(t, heard, "fr", "saved_ticket", "nobody_on_call", "callback_by")
	for _, p := range []string{"urgent_callback", "nobody_reachable", "contract_hours"} {
		notHeard(t, heard, "fr", p)
	}
}

// TestUrgentContractWithoutOnCall_SIPp: Alice is on call and reachable,
// but the caller's contract covers working hours only: pressing 1 at night
// makes the ticket urgent, nobody is paged, and the caller hears that
// their contract covers working hours and by when they will be called
// back — not that no technician can be reached, nor that one is called.
func TestUrgentContractWithoutOnCall_SIPp(t *testing.T) {
	t.Parallel()
	mail := startMailSink(t)
	people := []tech{{"alice", "Alice Martin", "", "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	svc := startAstreinte(t, customersOverrides(pagingOverrides(people, nil, tiers, mail, nil, "urgent")))
	importCustomers(t, svc)
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0698765432"}, Keys: keyPresses(t, time.Second, 0, "1")},
		callerAudio(2500*time.Millisecond, 2, 75*time.Second))
	heard := heardAudio(pkts)
	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", CallerNumber: "0698765432", Case: "out_of_hours"})
	checkHeardAll(t, heard, "fr", "saved_ticket", "contract_hours", "callback_by")
	for _, p := range []string{"urgent_callback", "nobody_reachable", "nobody_on_call"} {
		notHeard(t, heard, "fr", p)
	}
	if hasEvent(svc.events(tk.ID), "page_queued", "", "", "") {
		t.Errorf("the customer without on-call paged:\n%s", timeline(svc.events(tk.ID)))
	}
}

// TestUrgentSomeoneReachable_SIPp: the same urgent call with Alice on call
// and reachable by email: now, and only now, the caller hears that the
// on-call technician is being called; she gets the page.
func TestUrgentSomeoneReachable_SIPp(t *testing.T) {
	t.Parallel()
	mail := startMailSink(t)
	people := []tech{{"alice", "Alice Martin", "", "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	svc := startAstreinte(t, pagingOverrides(people, nil, tiers, mail, nil, "urgent"))
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0655555555"}, Keys: keyPresses(t, time.Second, 0, "1")},
		callerAudio(2500*time.Millisecond, 2, 75*time.Second))
	heard := heardAudio(pkts)
	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", CallerNumber: "0655555555", Case: "out_of_hours"})
	checkHeardAll(t, heard, "fr", "saved_ticket", "urgent_callback")
	notHeard(t, heard, "fr", "nobody_reachable")
	if _, ok := mail.waitTo("alice@e2e.test", 1, 30*time.Second); !ok {
		t.Errorf("alice was promised to the caller and got no page")
	}
}

// TestDeskEmailInHours: in opening hours, with a desk address on the line,
// the desk gets an email for a message (with its recording) and for a
// missed call from a known number, which is a ticket too.
func TestDeskEmailInHours(t *testing.T) {
	t.Parallel()
	mail := startMailSink(t)
	svc := startAstreinte(t, map[string]any{
		"clock":  map[string]any{"now": inHours},
		"line":   map[string]any{"desk_email": "desk@e2e.test"},
		"paging": map[string]any{"email": map[string]any{"smtp": mail.addr, "from": "astreinte@e2e.test", "tls": "none"}},
	})
	// A message: talks from the answer, hangs up at 9 s.
	runCaller(t, svc, callerCall{scenario: scenario{Caller: "0677777777", HangupAfterMS: 9000}}, callerAudio(0, 3, 5*time.Second))
	// A missed call: hangs up during the greeting.
	runCaller(t, svc, callerCall{scenario: scenario{Caller: "0688888888", HangupAfterMS: 1500}}, silence(5*time.Second))
	svc.waitCalls(20*time.Second, allEnded(2))
	ts := svc.tickets()
	if len(ts) != 2 {
		t.Fatalf("want 2 tickets (a message, a missed call), have %+v", ts)
	}
	msgs, ok := mail.waitTo("desk@e2e.test", 2, 30*time.Second)
	if !ok {
		t.Fatalf("the desk got %d emails, want 2", len(msgs))
	}
	for _, tk := range ts {
		found := false
		for _, m := range msgs {
			found = found || strings.Contains(m.subject, tk.Number)
		}
		if !found {
			t.Errorf("no desk email for ticket %s (%s)", tk.Number, tk.CallerNumber)
		}
	}
	if c := svc.ticketCaller(ts[1].ID); c.Kind != "missed_call" || c.CallbackNumber != "+33688888888" {
		t.Errorf("second ticket %+v, want a missed call from +33688888888", c)
	}
}

// TestKnownNumberGivesAnother_SIPp: a caller with a caller ID ends the
// message with #, presses 2 when offered another number, types it and
// confirms: the ticket is to be called back on the typed number.
func TestKnownNumberGivesAnother_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	keys := keyPresses(t, 6*time.Second, 0, "#")
	keys = append(keys, keyPresses(t, urgencyAfter(t)+1500*time.Millisecond, 0, "2")...)
	// SIPp replays a key's pcap with the same timestamp every time, and a
	// receiver takes a repeat of one of the last 8 presses as a straggler:
	// the typed 2 comes 8 presses after the menu's, and the # that
	// confirms 11 after the one that ended the message (the pause ends
	// the number).
	keys = append(keys, keyPresses(t, 2*time.Second, 400*time.Millisecond, "0134567829")...)
	keys = append(keys, keyPresses(t, 6*time.Second, 0, "#")...)
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0699999999"}, Keys: keys}, callerAudio(0, 2, 60*time.Second))
	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{CallerNumber: "0699999999", Case: "out_of_hours"})
	if c := svc.ticketCaller(tk.ID); c.CallbackNumber != "+33134567829" {
		t.Errorf("callback number %q, want the typed +33134567829 rather than the caller ID", c.CallbackNumber)
	}
	checkHeardAll(t, heardAudio(pkts), "fr", "callback_enter", "callback_typed")
}

// TestCannotRecordStillCallback_SIPp: when no recording can be made (here
// a file stands where the recordings directory should be), an urgent caller
// is not lost: they hear the greeting, press 1, are told of the technical
// problem, and their number is an urgent callback ticket.
func TestCannotRecordStillCallback_SIPp(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	recs := filepath.Join(svc.dataDir, "recordings")
	if err := os.RemoveAll(recs); err != nil {
		t.Fatal(err)
	}
	writeFile(t, recs, []byte("not a directory"))
	pkts := runCaller(t, svc, callerCall{scenario: scenario{Caller: "0612121212"}, Keys: keyPresses(t, 3*time.Second, 0, "1")},
		silence(30*time.Second))
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", CallerNumber: "0612121212", Case: "out_of_hours"})
	checkCall(t, call, "failed", "us")
	if c := svc.ticketCaller(tk.ID); c.Kind != "missed_call" || c.CallbackNumber != "+33612121212" {
		t.Errorf("ticket caller details %+v, want a missed call to call back on +33612121212", c)
	}
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "greeting_closed", "error")
	notHeard(t, heard, "fr", "beep")
}

// sippMedia is the RTP port the SIPp caller of scenarioPath offered (its
// INVITE's m= line, in its message trace).
var sippMedia = regexp.MustCompile(`m=audio (\d+) RTP`)

// toCaller keeps the packets sent to the SIPp caller of scenarioPath: on a
// machine shared with other test runs, another run's astreinte may use a
// port of this one's RTP range, and its audio would land in the capture.
func toCaller(t testing.TB, pkts []rtpPacket, scenarioPath string) []rtpPacket {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(scenarioPath), ".xml")
	b, err := os.ReadFile(filepath.Join(testDir(t), name+"_messages.log"))
	if err != nil {
		t.Fatalf("sipp message trace: %v", err)
	}
	m := sippMedia.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no m=audio line in the sipp message trace")
	}
	port, _ := strconv.Atoi(string(m[1]))
	var out []rtpPacket
	for _, p := range pkts {
		if int(p.dst.Port()) == port {
			out = append(out, p)
		}
	}
	if dropped := len(pkts) - len(out); dropped > 0 {
		t.Logf("capture: %d packets were not for this caller (port %d): another run's audio", dropped, port)
	}
	return out
}
