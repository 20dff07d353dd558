package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Paging end to end: a caller leaves a message at night, astreinte pages the
// technician on call by SIP, email and webhook, escalates when nobody
// acknowledges, and carries on where it was after a crash.

const hookSecret = "e2e-webhook-secret"

// tech describes a technician for the configuration.
type tech struct {
	id, name, sip, email string
}

func (p tech) config() map[string]any {
	m := map[string]any{"id": p.id, "name": p.name, "language": "fr"}
	if p.sip != "" {
		m["sip"] = p.sip
	}
	if p.email != "" {
		m["email"] = p.email
	}
	return m
}

// pagingOverrides is the configuration of people, tiers and channels.
func pagingOverrides(people []tech, rotations []any, tiers []any, mail *mailSink, hook *hookSink, page string) map[string]any {
	var ps []any
	for _, p := range people {
		ps = append(ps, p.config())
	}
	paging := map[string]any{
		"retries": 1,
		"sip":     map[string]any{"enabled": true, "ring_timeout": "20s"},
	}
	if mail != nil {
		paging["email"] = map[string]any{"smtp": mail.addr, "from": "astreinte@e2e.test", "tls": "none"}
	}
	if hook != nil {
		paging["webhook"] = map[string]any{"url": hook.url, "secret": hookSecret, "timeout": "5s"}
	}
	if rotations == nil {
		rotations = []any{}
	}
	return map[string]any{
		"line":   map[string]any{"page": page},
		"oncall": map[string]any{"people": ps, "rotations": rotations, "escalation": map[string]any{"repeat": 1, "tiers": tiers}},
		"paging": paging,
	}
}

// leaveMessageSIPp has a SIPp caller (not urgent) hang up three seconds
// into the message; it returns when SIPp is done.
func leaveMessageSIPp(t testing.TB, svc *service, caller string) {
	t.Helper()
	beepEnd := closedBeepEnd(t)
	stream := writeCallerStream(t, callerAudio(beepEnd+300*time.Millisecond, 3, 10*time.Second), false)
	formats, maps := offerG711(false)
	sc := writeScenario(t, "uac_message.xml", scenario{Caller: caller, Formats: formats, RTPMaps: maps, Stream: stream,
		HangupAfterMS: int((beepEnd + 3*time.Second) / time.Millisecond)})
	runSIPp(t, svc, sc, sippOptions{})
}

// TestPageAcknowledgedByKey_Baresip: an urgent message at 3 am pages the
// technician of the week (alice, not bob) on all her channels at once. Her
// phone (baresip) rings within a second of the caller hanging up, she hears
// the announcement and presses 1; the ticket is acknowledged by her over
// SIP. The email carries the recording, the webhook is signed.
func TestPageAcknowledgedByKey_Baresip(t *testing.T) {
	t.Parallel()
	requirePeer(t, "baresip")
	mail := startMailSink(t)
	var svc *service
	hook := startHookSink(t, hookSecret, func() time.Time { return svc.clock() })

	phoneMic := filepath.Join(testDir(t), "phone.wav")
	if err := writeWAV(phoneMic, make([]int16, samplesIn(170*time.Second))); err != nil {
		t.Fatal(err)
	}
	phone := startBaresip(t, "alice", phoneMic)
	people := []tech{
		{"bob", "Bob Durand", "sip:bob@127.0.0.1:9", "bob@e2e.test"},
		{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), "alice@e2e.test"},
	}
	// Bob had last week, Alice has this one (Monday 23 November 09:00 on).
	rotations := []any{map[string]any{"name": "nights", "participants": []any{"bob", "alice"}, "shift": "1w",
		"start": "2026-11-16 09:00", "coverage": "out_of_hours"}}
	tiers := []any{map[string]any{"name": "primary", "rotation": "nights", "delay": "5m"}}
	svc = startAstreinte(t, pagingOverrides(people, rotations, tiers, mail, hook, "urgent"))
	if out, err := svc.cli("oncall", "who"); err != nil || !strings.Contains(out, "Alice Martin") {
		t.Fatalf("oncall who should name Alice Martin (err=%v):\n%s", err, out)
	}
	rec := svc.watchRecording()

	// The caller: presses 1 during the menu, talks, hangs up mid-message.
	keyAt := promptLen(t, "fr", "greeting_closed") + 1500*time.Millisecond
	callerMic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(callerMic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	caller := startBaresip(t, "0612345678", callerMic)
	if err := caller.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, ok := caller.waitEvent("CALL_ESTABLISHED", 15*time.Second); !ok {
		t.Fatal("call not established within 15s")
	}
	if !caller.waitHeard(keyAt, keyAt+20*time.Second) {
		t.Fatalf("the caller heard only %s, want %s before pressing 1", caller.heardSoFar(), keyAt)
	}
	if err := caller.command("sndcode", "1"); err != nil {
		t.Fatal(err)
	}
	recAt, ok := rec.wait(30 * time.Second)
	if !ok {
		t.Fatal("astreinte did not start recording")
	}
	sleepUntil(recAt.Add(2*patternLen + 500*time.Millisecond))
	hangupAt := time.Now()
	if err := caller.command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := caller.waitEvent("CALL_CLOSED", 10*time.Second); !ok {
		t.Fatal("the caller's hang-up did not close the call")
	}

	// Alice's phone rings.
	ring, ok := phone.waitEvent("CALL_INCOMING", 30*time.Second)
	if !ok {
		t.Fatal("the technician's phone did not ring within 30s of the caller hanging up")
	}
	t.Logf("page latency: caller hang-up → technician's phone rings: %d ms", ring.at.Sub(hangupAt).Milliseconds())
	if err := phone.command("accept", ""); err != nil {
		t.Fatal(err)
	}
	answered, ok := phone.waitEvent("CALL_ESTABLISHED", 10*time.Second)
	if !ok {
		t.Fatal("the page call was not established")
	}
	tk, ok := svc.waitTicket(5 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	// She listens to "urgent call, ticket number 1, from 0612345678", the
	// caller's message, and presses 1 early in the menu that follows.
	message := readWAV8k(t, tk.Recording)
	menuAt := 600*time.Millisecond + promptLen(t, "fr", "page_intro") + spokenDigits(t, "1") +
		promptLen(t, "fr", "page_from") + spokenDigits(t, "0612345678") + 300*time.Millisecond +
		promptLen(t, "fr", "page_message") + 300*time.Millisecond + durationOf(len(message)) + 300*time.Millisecond
	pressAt := menuAt + 1500*time.Millisecond
	if !phone.waitHeard(pressAt, pressAt+20*time.Second) {
		t.Fatalf("the technician heard only %s, want %s", phone.heardSoFar(), pressAt)
	}
	if err := phone.command("sndcode", "1"); err != nil {
		t.Fatal(err)
	}
	closed, ok := phone.waitEvent("CALL_CLOSED", 30*time.Second)
	if !ok {
		t.Fatal("astreinte did not end the page call after key 1")
	}
	t.Logf("page call: answered, key 1 after %.1fs, closed by astreinte %.1fs after the answer (%s)",
		pressAt.Seconds(), closed.at.Sub(answered.at).Seconds(), closed.Param)
	phone.quit()

	checkTicket(t, tk, ticketRow{Urgency: "urgent", Line: "support", CallerNumber: "0612345678", Case: "out_of_hours"})
	deadline := time.Now().Add(10 * time.Second)
	// Key 1 acknowledges at once; the call's outcome is written when it
	// has said goodbye.
	for time.Now().Before(deadline) {
		if st, _ := svc.ticketState(tk.ID); st == "acknowledged" && hasEvent(svc.events(tk.ID), "page_answered", "alice", "sip", "key 1") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	evs := svc.events(tk.ID)
	if st, by := svc.ticketState(tk.ID); st != "acknowledged" || by != "alice" {
		t.Errorf("ticket %s is %s by %q, want acknowledged by alice; timeline:\n%s", tk.Number, st, by, timeline(evs))
	}
	if !hasEvent(evs, "page_answered", "alice", "sip", "key 1") || !hasEvent(evs, "acknowledged", "alice", "sip", "") {
		t.Errorf("the timeline should show alice answering and acknowledging over sip:\n%s", timeline(evs))
	}
	if hasEvent(evs, "page_queued", "", "", "Bob") {
		t.Errorf("bob is not on call this week and was paged:\n%s", timeline(evs))
	}
	if st, _ := svc.pageState(tk.ID); st != "acked" {
		t.Errorf("page state %s, want acked", st)
	}
	heard := phone.heard()
	checkHeardAll(t, heard, "fr", "page_intro", "page_from", "page_message", "page_acked")
	// The caller's own message, played to the technician.
	if peak, lag := ncc(heard, message); peak < 0.6 {
		t.Errorf("the technician did not hear the caller's message: correlation %.3f", peak)
	} else {
		t.Logf("technician heard the caller's message: correlation %.3f at %.2fs", peak, durationOf(lag).Seconds())
	}

	// The email, sent at the same time as the call.
	msgs, ok := mail.waitTo("alice@e2e.test", 1, 20*time.Second)
	if !ok {
		t.Fatalf("no email to alice@e2e.test; mails: %d", len(mail.all()))
	}
	m := msgs[0]
	t.Logf("page latency: caller hang-up → email accepted by the SMTP server: %d ms", m.at.Sub(hangupAt).Milliseconds())
	if !strings.Contains(m.subject, tk.Number) || !strings.Contains(m.subject, "06 12 34 56 78") {
		t.Errorf("subject %q should carry the ticket number %s and the number to call back (national, grouped)", m.subject, tk.Number)
	}
	if want, err := os.ReadFile(tk.Recording); err != nil || !bytes.Equal(m.wav, want) {
		t.Errorf("the attachment (%s, %d bytes) should be the recording %s (%d bytes, err %v)", m.wavName, len(m.wav), tk.Recording, len(want), err)
	}
	if !strings.Contains(m.text, "/ack?") {
		t.Errorf("the email has no acknowledge link:\n%s", m.text)
	}
	if len(mail.to("bob@e2e.test")) != 0 {
		t.Error("bob was emailed")
	}

	// The webhook, signed.
	posts, ok := hook.wait(1, 10*time.Second)
	if !ok {
		t.Fatal("no webhook")
	}
	p := posts[0]
	t.Logf("page latency: caller hang-up → webhook received: %d ms", p.at.Sub(hangupAt).Milliseconds())
	if p.verifyErr != nil {
		t.Errorf("webhook signature: %v", p.verifyErr)
	}
	if p.payload.Ticket.Number != tk.Number || p.payload.Ticket.Urgency != "urgent" || p.payload.Step != 0 {
		t.Errorf("webhook payload: %s", p.body)
	}
}

// TestPageEscalates_SIPp: the technician on call does not acknowledge, her
// phone (SIPp) being busy (486), ringing unanswered until astreinte gives
// up, or answered by a voicemail box that never presses a key; after the tier's delay the page goes to tier 2 (bob, by email), who
// acknowledges with the email's link. Alice's pending retry is cancelled.
func TestPageEscalates_SIPp(t *testing.T) {
	for _, tt := range []struct {
		name, scenario, why string
	}{
		{"busy", "uas_busy.xml", "486"},
		{"no answer", "uas_ringing.xml", "not answered within 3s"},
		{"voicemail box", "uas_voicemail.xml", "hung up without pressing a key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testPageEscalates(t, tt.scenario, tt.why)
		})
	}
}

func testPageEscalates(t testing.TB, phoneScenario, why string) {
	requirePeer(t, "sipp")
	mail := startMailSink(t)
	var svc *service
	hook := startHookSink(t, hookSecret, func() time.Time { return svc.clock() })
	phone := startSIPpUAS(t, phoneScenario)

	people := []tech{
		{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), ""},
		{"bob", "Bob Durand", "", "bob@e2e.test"},
	}
	tiers := []any{
		map[string]any{"name": "primary", "person": "alice", "delay": "6s"},
		map[string]any{"name": "secondary", "person": "bob", "delay": "10m"},
	}
	o := pagingOverrides(people, nil, tiers, mail, hook, "out_of_hours")
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "3s"}
	svc = startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0698765432")

	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	msgs, ok := mail.waitTo("bob@e2e.test", 1, 40*time.Second)
	if !ok {
		t.Fatalf("bob was not emailed after alice did not answer; timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	if posts, _ := hook.wait(2, 10*time.Second); len(posts) < 2 {
		t.Fatalf("want a webhook per step (2), have %d", len(posts))
	}
	evs := svc.events(tk.ID)
	if !hasEvent(evs, "page_failed", "alice", "sip", why) {
		t.Errorf("the timeline should say why alice's call failed (%q):\n%s", why, timeline(evs))
	}
	if !hasEvent(evs, "escalated", "system", "", "Bob Durand") {
		t.Errorf("the timeline should show the escalation to bob:\n%s", timeline(evs))
	}
	// Alice's only channel failed: tier 2 was paged then, without waiting
	// for the rest of tier 1's 6 s delay (astreinte's clock).
	queued, failed, escalated := eventTime(t, evs, "page_queued"), eventTime(t, evs, "page_failed"), eventTime(t, evs, "escalated")
	if wait := escalated.Sub(queued); wait >= 6*time.Second || escalated.Before(failed) {
		t.Errorf("tier 2 was paged %s after tier 1, %s after alice's call failed: want when it failed, within the 6s delay",
			wait, escalated.Sub(failed))
	} else {
		t.Logf("tier 2 paged %s after tier 1, when alice's call failed (delay 6s)", wait.Round(time.Millisecond))
	}
	if phone.invites() < 1 {
		t.Errorf("alice's phone saw no INVITE")
	}

	// Bob follows the link in the email: GET shows a confirmation, POST acknowledges.
	link := regexp.MustCompile(`https?://\S+/ack\?\S+`).FindString(msgs[0].text)
	if link == "" {
		t.Fatalf("no acknowledge link in the email:\n%s", msgs[0].text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := svc.cfg["http"].(map[string]any)["listen"].(string)
	u.Host = httpAddr
	res, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), tk.Number) {
		t.Fatalf("GET the link: %s\n%s", res.Status, page)
	}
	if st, _ := svc.ticketState(tk.ID); st != "new" {
		t.Fatalf("opening the link (GET) must not acknowledge: ticket is %s", st)
	}
	res, err = http.PostForm(u.Scheme+"://"+u.Host+u.Path, u.Query())
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST the link: %s\n%s", res.Status, page)
	}
	evs = svc.events(tk.ID)
	if st, by := svc.ticketState(tk.ID); st != "acknowledged" || by != "bob" {
		t.Errorf("ticket is %s by %q, want acknowledged by bob; timeline:\n%s", st, by, timeline(evs))
	}
	if !hasEvent(evs, "acknowledged", "bob", "", "") {
		t.Errorf("no acknowledgement by bob on the timeline:\n%s", timeline(evs))
	}
	// The webhook hears of the acknowledgement; then nothing is left to send.
	ackedBob := func(ps []hookPost) bool {
		return slices.ContainsFunc(ps, func(p hookPost) bool {
			return p.payload.Event == "ticket.acknowledged" && p.payload.Person != nil && p.payload.Person.ID == "bob"
		})
	}
	if _, ok := poll(10*time.Second, hook.all, ackedBob); !ok {
		t.Errorf("the webhook did not hear that bob acknowledged")
	}
	sends, _ := poll(10*time.Second, func() []sendRow { return svc.sends(tk.ID) }, func(ss []sendRow) bool {
		return !slices.ContainsFunc(ss, func(s sendRow) bool { return s.State == "pending" || s.State == "sending" })
	})
	for _, s := range sends {
		if s.State == "pending" || s.State == "sending" {
			t.Errorf("after the acknowledgement a send is still %s: %+v", s.State, s)
		}
	}
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "bob") || !strings.Contains(out, why) {
		t.Errorf("tickets show should tell the story (err=%v):\n%s", err, out)
	}
}

// TestPageResumesAfterKill9: astreinte is killed (SIGKILL) right after the
// first tier was paged; restarted, it pages tier 2 when the delay is up,
// once, and never pages tier 1 again.
func TestPageResumesAfterKill9(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	// The SMTP relay wants STARTTLS (its certificate from a private CA that
	// paging.email.ca_file trusts) and a login.
	mail := startSecureMailSink(t, "astreinte", "relay-s3cret")
	var svc *service
	hook := startHookSink(t, hookSecret, func() time.Time { return svc.clock() })
	people := []tech{
		{"alice", "Alice Martin", "", "alice@e2e.test"},
		{"bob", "Bob Durand", "", "bob@e2e.test"},
	}
	tiers := []any{
		map[string]any{"name": "primary", "person": "alice", "delay": "8s"},
		map[string]any{"name": "secondary", "person": "bob", "delay": "10m"},
	}
	o := pagingOverrides(people, nil, tiers, mail, hook, "out_of_hours")
	o["paging"].(map[string]any)["email"] = map[string]any{"smtp": mail.addr, "from": "astreinte@e2e.test",
		"tls": "required", "ca_file": mail.caFile, "username": mail.user, "password": mail.password}
	svc = startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0611111111")

	if _, ok := mail.waitTo("alice@e2e.test", 1, 20*time.Second); !ok {
		t.Fatal("alice was not emailed")
	}
	if _, ok := hook.wait(1, 10*time.Second); !ok {
		t.Fatal("no webhook for tier 1")
	}
	svc.kill9()
	killedAt := time.Now()
	time.Sleep(time.Second)
	svc.restart()
	t.Logf("killed, restarted after %s", time.Since(killedAt).Round(time.Millisecond))

	if _, ok := mail.waitTo("bob@e2e.test", 1, 30*time.Second); !ok {
		t.Fatalf("bob was not emailed after the restart; log:\n%s", tail(svc.log(), 40))
	}
	// Give a duplicate every chance to show up.
	time.Sleep(3 * time.Second)
	tk := svc.tickets()[0]
	if n := len(mail.to("alice@e2e.test")); n != 1 {
		t.Errorf("alice got %d emails, want 1", n)
	}
	if n := len(mail.to("bob@e2e.test")); n != 1 {
		t.Errorf("bob got %d emails, want 1", n)
	}
	if mail.logins() < 2 {
		t.Errorf("%d logins over TLS, want one per email", mail.logins())
	}
	steps := map[int]int{}
	for _, p := range hook.all() {
		steps[p.payload.Step]++
		if p.verifyErr != nil {
			t.Errorf("webhook: %v", p.verifyErr)
		}
	}
	if steps[0] != 1 || steps[1] != 1 || len(steps) != 2 {
		t.Errorf("webhooks per step %v, want one for step 0 and one for step 1", steps)
	}
	if st, step := svc.pageState(tk.ID); st != "active" || step != 2 {
		t.Errorf("page %s at step %d, want active at step 2", st, step)
	}

	// Bob acknowledges from the CLI; twice is harmless.
	out, err := svc.cli("tickets", "ack", tk.Number, "--by", "bob")
	if err != nil || !strings.Contains(out, "acknowledged by bob") {
		t.Fatalf("tickets ack (err=%v):\n%s", err, out)
	}
	out, err = svc.cli("tickets", "ack", tk.Number, "--by", "alice")
	if err != nil || !strings.Contains(out, "already") {
		t.Errorf("a second ack should say it was already done (err=%v):\n%s", err, out)
	}
	if st, by := svc.ticketState(tk.ID); st != "acknowledged" || by != "bob" {
		t.Errorf("ticket %s by %q, want acknowledged by bob", st, by)
	}
	if st, _ := svc.pageState(tk.ID); st != "acked" {
		t.Errorf("page %s, want acked", st)
	}
	evs := svc.events(tk.ID)
	if !hasEvent(evs, "acknowledged", "bob", "cli", "") {
		t.Errorf("timeline:\n%s", timeline(evs))
	}
}

// sippUAS is SIPp playing a technician's phone.
type sippUAS struct {
	p    *proc
	port int
	dir  string
	name string
}

// startSIPpUAS runs a SIPp UAS scenario from testdata on a free port.
func startSIPpUAS(t testing.TB, scenarioFile string) *sippUAS {
	t.Helper()
	requirePeer(t, "sipp")
	dir := testDir(t)
	name := strings.TrimSuffix(scenarioFile, ".xml")
	u := &sippUAS{port: freeUDPPort(t, false), dir: dir, name: name}
	args := []string{
		"-sf", filepath.Join(moduleRoot, "e2e", "testdata", scenarioFile),
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(freeUDPPort(t, false)),
		"-p", fmt.Sprint(u.port),
		"-mp", fmt.Sprint(freeUDPPort(t, true)),
		"-nostdin",
		"-trace_msg", "-message_file", filepath.Join(dir, name+"_messages.log"),
		"-trace_err", "-error_file", filepath.Join(dir, name+"_errors.log"),
	}
	u.p = startProc(t, 10*time.Minute, dir, name+"_sipp", syscall.SIGTERM, "sipp", args...)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, name+"_messages.log"))
			t.Logf("==== sipp %s messages ====\n%s", name, tail(string(b), 60))
		}
	})
	return u
}

// invites counts the INVITEs the UAS received.
func (u *sippUAS) invites() int { return u.received("INVITE") }

// received counts the requests of method the UAS received (its message
// trace; a UAS sends no requests in these scenarios but BYE).
func (u *sippUAS) received(method string) int {
	b, _ := os.ReadFile(filepath.Join(u.dir, u.name+"_messages.log"))
	return strings.Count(string(b), "\n"+method+" sip:")
}

// spokenDigits is how long astreinte takes to say digits (voicemail's
// Number: the digit prompts 120 ms apart).
func spokenDigits(t *testing.T, digits string) time.Duration {
	var d time.Duration
	for i, c := range digits {
		if i > 0 {
			d += 120 * time.Millisecond
		}
		d += promptLen(t, "fr", "digit_"+string(c))
	}
	return d
}

// eventTime is when the first event of kind happened.
func eventTime(t testing.TB, evs []eventRow, kind string) time.Time {
	t.Helper()
	for _, e := range evs {
		if e.Kind == kind {
			at, err := time.Parse(time.RFC3339Nano, e.At)
			if err != nil {
				t.Fatalf("event time %q: %v", e.At, err)
			}
			return at
		}
	}
	t.Fatalf("no %s event:\n%s", kind, timeline(evs))
	return time.Time{}
}

// TestPageBySIPMessage_SIPp: with paging.sip.message on and call-outs off,
// the technician's phone (SIPp) receives a SIP MESSAGE with the ticket, the
// caller and a link to acknowledge.
func TestPageBySIPMessage_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	phone := startSIPpUAS(t, "uas_text.xml")
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), ""}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	o := pagingOverrides(people, nil, tiers, nil, nil, "out_of_hours")
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": false, "message": true}
	svc := startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0622222222")

	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	deadline := time.Now().Add(20 * time.Second)
	var evs []eventRow
	for time.Now().Before(deadline) {
		if evs = svc.events(tk.ID); hasEvent(evs, "page_sent", "alice", "message", "delivered") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !hasEvent(evs, "page_sent", "alice", "message", "delivered") {
		t.Fatalf("no SIP MESSAGE delivered on the timeline:\n%s", timeline(evs))
	}
	b, _ := os.ReadFile(filepath.Join(phone.dir, phone.name+"_messages.log"))
	log := string(b)
	for _, want := range []string{"MESSAGE sip:alice@127.0.0.1", "Ticket " + tk.Number, "06 22 22 22 22", "/ack?"} {
		if !strings.Contains(log, want) {
			t.Errorf("the MESSAGE the phone received lacks %q:\n%s", want, tail(log, 40))
		}
	}
	if phone.invites() != 0 {
		t.Errorf("call-outs are off, yet the phone got %d INVITE(s)", phone.invites())
	}
}

// TestAckWhileRinging_SIPp: the technician's phone (SIPp) is ringing when
// someone acknowledges from the CLI: astreinte cancels the call within
// seconds instead of letting it ring out, and does not call again.
func TestAckWhileRinging_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	phone := startSIPpUAS(t, "uas_ringing.xml")
	// Bob, on nobody's tier, acknowledges from the CLI while alice's phone rings.
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), ""}, {"bob", "Bob Durand", "", ""}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	o := pagingOverrides(people, nil, tiers, nil, nil, "out_of_hours")
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "60s"}
	svc := startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0633333333")
	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	if _, ok := poll(20*time.Second, phone.invites, func(n int) bool { return n > 0 }); !ok {
		t.Fatal("alice's phone did not ring")
	}
	ackAt := time.Now()
	if out, err := svc.cli("tickets", "ack", tk.Number, "--by", "bob"); err != nil {
		t.Fatalf("tickets ack: %v\n%s", err, out)
	}
	if _, ok := poll(15*time.Second, func() int { return phone.received("CANCEL") }, func(n int) bool { return n > 0 }); !ok {
		t.Fatalf("the ringing call was not cancelled after the acknowledgement; timeline:\n%s", timeline(svc.events(tk.ID)))
	}
	t.Logf("ringing call cancelled %s after the CLI acknowledged", time.Since(ackAt).Round(100*time.Millisecond))
	evs, _ := poll(5*time.Second, func() []eventRow { return svc.events(tk.ID) }, func(evs []eventRow) bool {
		return hasEvent(evs, "note", "alice", "sip", "acknowledged elsewhere")
	})
	if !hasEvent(evs, "note", "alice", "sip", "acknowledged elsewhere") {
		t.Errorf("the timeline should say the call was stopped:\n%s", timeline(evs))
	}
	time.Sleep(2 * time.Second)
	if n := phone.invites(); n != 1 {
		t.Errorf("alice's phone rang %d times, want once", n)
	}
	for _, s := range svc.sends(tk.ID) {
		if s.State == "pending" || s.State == "sending" {
			t.Errorf("a send is still %s after the acknowledgement: %+v", s.State, s)
		}
	}
}

// TestPageThroughTrunkWithDigest_SIPp: a technician known by phone number
// only is called through the configured trunk (SIPp), which challenges the
// INVITE (401); astreinte answers with its digest credentials and the trunk,
// having checked them and the number, says busy. A wrong password would get
// 403 instead: the timeline tells which.
func TestPageThroughTrunkWithDigest_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	trunk := startSIPpUAS(t, "uas_trunk_auth.xml")
	people := []tech{{"carol", "Carol Petit", "", ""}}
	o := pagingOverrides(nil, nil, []any{map[string]any{"name": "primary", "person": "carol", "delay": "10m"}}, nil, nil, "out_of_hours")
	o["oncall"].(map[string]any)["people"] = []any{map[string]any{"id": people[0].id, "name": people[0].name, "phone": "06 00 00 00 03"}}
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "10s",
		"proxy": fmt.Sprintf("127.0.0.1:%d", trunk.port), "username": "tech", "password": "s3cret"}
	svc := startAstreinte(t, o)
	leaveMessageSIPp(t, svc, "0666666666")
	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	evs, ok := poll(20*time.Second, func() []eventRow { return svc.events(tk.ID) }, func(evs []eventRow) bool {
		return hasEvent(evs, "page_failed", "carol", "sip", "")
	})
	if !ok {
		t.Fatalf("no outcome for the call-out through the trunk:\n%s", timeline(evs))
	}
	if !hasEvent(evs, "page_failed", "carol", "sip", "486") {
		t.Errorf("the trunk should have accepted the digest and said busy (486); timeline:\n%s", timeline(evs))
	}
	if n := trunk.invites(); n != 2 {
		t.Errorf("the trunk saw %d INVITEs, want 2 (challenged, then with credentials)", n)
	}
}

// TestOncallTestPage: `astreinte oncall test alice`, run next to the
// service, pages her now with a test ticket on each channel and reports:
// her phone (SIPp) is busy, her email is accepted; nothing is stored.
func TestOncallTestPage(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	mail := startMailSink(t)
	phone := startSIPpUAS(t, "uas_busy.xml")
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	svc := startAstreinte(t, pagingOverrides(people, nil, tiers, mail, nil, "urgent"))

	out, err := svc.cli("oncall", "test", "alice")
	t.Logf("astreinte oncall test alice:\n%s", out)
	if err == nil {
		t.Errorf("a busy phone should make the test page fail:\n%s", out)
	}
	for _, want := range []string{"Test page to Alice Martin", "sip", "FAILED", "486", "email", "OK", "accepted"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from the report:\n%s", want, out)
		}
	}
	if phone.invites() != 1 {
		t.Errorf("the phone got %d INVITE(s), want 1", phone.invites())
	}
	msgs, ok := mail.waitTo("alice@e2e.test", 1, 5*time.Second)
	if !ok || !strings.Contains(msgs[0].subject, "0000-000000") {
		t.Fatalf("test email: %d message(s)", len(msgs))
	}
	if strings.Contains(msgs[0].text, "/ack?") {
		t.Errorf("a test page has no acknowledge link:\n%s", msgs[0].text)
	}
	if out, err := svc.cli("oncall", "test", "alice", "--channel", "email"); err != nil || !strings.Contains(out, "OK") {
		t.Errorf("email only (err=%v):\n%s", err, out)
	}
	if out, err := svc.cli("oncall", "test", "nobody"); err == nil || !strings.Contains(out, "unknown technician") {
		t.Errorf("unknown technician (err=%v):\n%s", err, out)
	}
	if ts := svc.tickets(); len(ts) != 0 {
		t.Errorf("a test page stored %d ticket(s)", len(ts))
	}
}
