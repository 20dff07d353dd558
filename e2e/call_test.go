package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The flows' timings come from the prompts themselves, so the tests follow
// when a prompt is re-recorded.

// closedBeepEnd is when, after the answer, the beep ends out of hours when
// the caller presses no key and says nothing: the greeting, when support
// reopens (at the base clock, Tuesday 03:00: "aujourd'hui à 9 heures"),
// the urgency key, the beep. Nothing waits for a key any more.
func closedBeepEnd(t testing.TB) time.Duration {
	return promptLen(t, "fr", "greeting_closed") + reopening(t, "today", "hour_9") +
		promptLen(t, "fr", "menu_urgency") + promptLen(t, "fr", "beep")
}

// reopening is how long "Réouverture <day> <hour>" lasts.
func reopening(t testing.TB, day, hour string) time.Duration {
	return promptLen(t, "fr", "reopens") + promptLen(t, "fr", day) + promptLen(t, "fr", hour)
}

// openBeepEnd is when the beep ends in opening hours.
func openBeepEnd(t testing.TB) time.Duration {
	return promptLen(t, "fr", "greeting_open") + promptLen(t, "fr", "record_instructions") + promptLen(t, "fr", "beep")
}

var patternLen = func() time.Duration {
	var d time.Duration
	for _, p := range patternUnit {
		d += p.dur
	}
	return d
}()

// messageAudio is a SIPp caller's audio: silence until a second before the
// beep should end, the pattern six times (17 s: astreinte may start
// recording late on a loaded host and still hear two whole ones), then
// silence, five seconds of which end the message, and long enough that
// SIPp, which loops the file, does not start talking again over the
// prompts after the message (that would be more message).
func messageAudio(beepEnd time.Duration) []int16 {
	return callerAudio(beepEnd-time.Second, 6, 75*time.Second)
}

// logRecordingStart says when astreinte started recording compared with
// when its prompts alone would have it start: seconds of difference mean a
// starved host stretched the prompts.
func logRecordingStart(t testing.TB, rec *recordingWatch, invite time.Time, expected time.Duration) {
	t.Helper()
	at := rec.started()
	if at.IsZero() {
		t.Logf("astreinte never started recording")
		return
	}
	got := at.Sub(invite)
	t.Logf("recording started %.2fs after the INVITE; the prompts alone take %.2fs (late by %.2fs)",
		got.Seconds(), expected.Seconds(), (got - expected).Seconds())
}

const ringTime = 500 * time.Millisecond // answer_after in the base config

// oneTicket waits for the call to end and returns its only ticket.
func oneTicket(t testing.TB, svc *service) (ticketRow, callRow) {
	t.Helper()
	cs := svc.waitCalls(20*time.Second, allEnded(1))
	if len(cs) != 1 {
		t.Fatalf("want 1 call row, have %d: %+v", len(cs), cs)
	}
	ts := svc.tickets()
	if len(ts) != 1 {
		t.Fatalf("want 1 ticket, have %d: %+v (call: %+v)", len(ts), ts, cs[0])
	}
	return ts[0], cs[0]
}

// checkTicket compares a ticket's fields with want (empty: not checked).
func checkTicket(t testing.TB, got ticketRow, want ticketRow) {
	t.Helper()
	check := func(field, g, w string) {
		if w != "" && g != w {
			t.Errorf("ticket %s: %s = %q, want %q", got.Number, field, g, w)
		}
	}
	check("urgency", got.Urgency, want.Urgency)
	check("status", got.Status, want.Status)
	check("line", got.Line, want.Line)
	check("caller_number", got.CallerNumber, want.CallerNumber)
	check("calendar_case", got.Case, want.Case)
}

// checkCall compares a call row's outcome and hang-up side.
func checkCall(t testing.TB, c callRow, outcome, hangupBy string) {
	t.Helper()
	if c.Outcome != outcome {
		t.Errorf("call %d: outcome %q, want %q", c.ID, c.Outcome, outcome)
	}
	if hangupBy != "" && c.HangupBy != hangupBy {
		t.Errorf("call %d: hung up by %q, want %q", c.ID, c.HangupBy, hangupBy)
	}
}

// checkRecordingPattern reads a ticket's WAV and wants at least min whole
// tone patterns in it; it returns the recording.
func checkRecordingPattern(t testing.TB, tk ticketRow, min int) []int16 {
	t.Helper()
	if tk.Recording == "" {
		t.Fatalf("ticket %s has no recording", tk.Number)
	}
	if !strings.HasSuffix(tk.Recording, ".wav") {
		t.Errorf("ticket %s: recording %s is not a .wav", tk.Number, tk.Recording)
	}
	pcm := readWAV8k(t, tk.Recording)
	segs := scanTones(pcm)
	found := findPattern(segs)
	t.Logf("recording %s: %.1fs, %d pattern(s) at %v", filepath.Base(tk.Recording), durationOf(len(pcm)).Seconds(), len(found), found)
	if len(found) < min {
		t.Errorf("recording holds %d tone pattern(s), want ≥ %d; segments: %s", len(found), min, describeSegments(segs))
	}
	if d := time.Duration(tk.DurationMS) * time.Millisecond; !near(d, durationOf(len(pcm)), 0.1) {
		t.Errorf("ticket says the message lasts %s, the WAV %s", d, durationOf(len(pcm)))
	}
	return pcm
}

// checkHeard wants ref (a prompt) in what the caller heard.
func checkHeard(t testing.TB, heard []int16, lang, name string) float64 {
	t.Helper()
	peak, lag := ncc(heard, prompt(t, lang, name))
	t.Logf("heard %s: correlation %.3f at %.2fs", name, peak, durationOf(lag).Seconds())
	if peak < 0.6 {
		t.Errorf("not heard: %s/%s: correlation peak %.3f (want > 0.6) in %.1fs of audio",
			lang, name, peak, durationOf(len(heard)).Seconds())
	}
	return peak
}

// checkHeardAll checks that each prompt was heard.
func checkHeardAll(t *testing.T, heard []int16, lang string, names ...string) {
	t.Helper()
	for _, n := range names {
		checkHeard(t, heard, lang, n)
	}
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// messageCallHeard has a SIPp caller (PCMA first when alaw, else PCMU)
// leave messageAudio(beepEnd) and wait for astreinte's BYE, while a capture
// on lo keeps what astreinte sent: the caller's ear.
func messageCallHeard(t *testing.T, svc *service, rec *recordingWatch, beepEnd time.Duration, alaw bool) []rtpPacket {
	t.Helper()
	stream := writeCallerStream(t, messageAudio(beepEnd), alaw)
	formats, maps := offerG711(alaw)
	sc := writeScenario(t, "uac_message.xml", scenario{Formats: formats, RTPMaps: maps, Stream: stream})
	capt := startCapture(t, fmt.Sprintf("udp and src host 127.0.0.1 and src portrange %d-%d", svc.rtpLo, svc.rtpHi))
	invite := time.Now()
	runSIPp(t, svc, sc, sippOptions{})
	pkts := toCaller(t, capt.stop(t), sc)
	logRecordingStart(t, rec, invite, ringTime+beepEnd)
	t.Logf("astreinte's sending fell at most %s behind real time", playbackLag(pkts))
	return pkts
}

// startLongMessage starts an in-hours SIPp caller who talks on and on (the
// pattern over and over: whatever is recorded holds whole ones) and waits
// for astreinte's BYE; it returns once astreinte started recording.
func startLongMessage(t *testing.T, svc *service, rec *recordingWatch) (*sipp, time.Time) {
	t.Helper()
	beepEnd := openBeepEnd(t)
	stream := writeCallerStream(t, callerAudio(beepEnd-time.Second, 20, 10*time.Second), false)
	formats, maps := offerG711(false)
	sc := writeScenario(t, "uac_message.xml", scenario{Formats: formats, RTPMaps: maps, Stream: stream, ByeTimeoutMS: 90000})
	caller := startSIPp(t, svc, sc, sippOptions{timeout: 120 * time.Second})
	recStart, ok := rec.wait(beepEnd + 30*time.Second)
	if !ok {
		t.Fatal("no recording started")
	}
	return caller, recStart
}

// TestOutOfHoursUrgentMessage_Baresip: a caller at night hears the closed
// greeting, presses 1 during the menu (which goes straight to the beep),
// talks, presses #; its caller ID ("caller") is no phone number, so it is
// asked for one and types none; astreinte gives the ticket number and, as
// nobody is on call (the built-in default), says so and by when the caller
// will be called back, and hangs up.
//
// The keys are timed on what the caller actually heard (baresip's decoder
// dump grows as astreinte's packets arrive) and on the recording's start,
// not on the clock: on a loaded host astreinte's prompts run late.
func TestOutOfHoursUrgentMessage_Baresip(t *testing.T) {
	t.Parallel()
	requirePeer(t, "baresip")
	svc := startAstreinte(t, nil)
	rec := svc.watchRecording()

	// The key during the menu, so the whole greeting is heard.
	keyAt := promptLen(t, "fr", "greeting_closed") + 1500*time.Millisecond
	// The caller talks from the key on, the pattern over and over.
	mic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(mic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}

	b := startBaresip(t, "caller", mic)
	if err := b.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	ev, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	if !ok {
		t.Fatal("call not established within 15s")
	}
	if !b.waitHeard(keyAt, keyAt+20*time.Second) {
		t.Fatalf("baresip heard only %s of audio, want %s before pressing 1", b.heardSoFar(), keyAt)
	}
	t.Logf("pressing 1 after %s heard, %.1fs after the answer", b.heardSoFar(), time.Since(ev.at).Seconds())
	if err := b.command("sndcode", "1"); err != nil {
		t.Fatalf("sndcode 1: %v", err)
	}
	recAt, ok := rec.wait(30 * time.Second)
	if !ok {
		t.Fatal("astreinte did not beep after key 1")
	}
	// Long enough for at least one whole pattern whatever its phase.
	sleepUntil(recAt.Add(2*patternLen + 500*time.Millisecond))
	if err := b.command("sndcode", "#"); err != nil {
		t.Fatalf("sndcode #: %v", err)
	}
	closed, ok := b.waitEvent("CALL_CLOSED", 60*time.Second)
	if !ok {
		t.Fatal("astreinte did not end the call within 60s of #")
	}
	t.Logf("beep %.1fs after the answer; call closed %.1fs after it: %s",
		recAt.Sub(ev.at).Seconds(), closed.at.Sub(ev.at).Seconds(), closed.Param)
	b.quit()

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", Line: "support", CallerNumber: "caller", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 1)

	heard := b.heard()
	checkHeardAll(t, heard, "fr", "greeting_closed", "callback_enter", "nobody_on_call", "callback_by")
	notHeard(t, heard, "fr", "urgent_callback")
}

// TestOutOfHoursNotUrgent_SIPp: no key pressed → not urgent. SIPp offers
// PCMA first, so astreinte answers PCMA; a capture on lo is the caller's ear.
func TestOutOfHoursNotUrgent_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	svc := startAstreinte(t, nil)
	rec := svc.watchRecording()

	pkts := messageCallHeard(t, svc, rec, closedBeepEnd(t), true)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0612345678", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 2)

	types := map[uint8]int{}
	for _, p := range pkts {
		types[p.pt]++
	}
	if len(pkts) == 0 || types[8] == 0 || types[0] != 0 {
		t.Errorf("astreinte should send PCMA (offered first): RTP payload types seen %v", types)
	}
	pc := measurePacing(pkts)
	t.Logf("RTP from astreinte: %d audio packets, gap median %s, mean %s, p95 %s, max %s",
		pc.packets, pc.median, pc.mean, pc.p95, pc.max)
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "greeting_closed", "reopens", "menu_urgency", "callback_other", "callback_by")
}

// TestCancelBeforeAnswer_SIPp: the caller gives up while it rings.
func TestCancelBeforeAnswer_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{"line": map[string]any{"answer_after": "3s"}})
	sc := writeScenario(t, "uac_cancel.xml", scenario{})
	runSIPp(t, svc, sc, sippOptions{timeout: 30 * time.Second})

	cs := svc.waitCalls(10*time.Second, allEnded(1))
	if len(cs) != 1 {
		t.Fatalf("want 1 call row, have %d: %+v", len(cs), cs)
	}
	checkCall(t, cs[0], "cancelled", "")
	if cs[0].AnsweredAt.Valid {
		t.Errorf("cancelled call has answered_at %s", cs[0].AnsweredAt.String)
	}
	if ts := svc.tickets(); len(ts) != 0 {
		t.Errorf("a cancelled call left %d ticket(s): %+v", len(ts), ts)
	}
}

// TestHangupMidMessage_SIPp: the caller hangs up 3 s into the message; what
// was said is kept as a ticket.
func TestHangupMidMessage_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": inHours}})
	rec := svc.watchRecording()

	// The pattern starts just after the beep; the caller hangs up 3 s
	// after it. SIPp keeps time from the answer: this test needs a host
	// that lets astreinte play its prompts on time (see the log line about
	// the recording's start when it fails).
	beepEnd := openBeepEnd(t)
	stream := writeCallerStream(t, callerAudio(beepEnd+300*time.Millisecond, 3, 10*time.Second), false)
	formats, maps := offerG711(false)
	sc := writeScenario(t, "uac_message.xml", scenario{Formats: formats, RTPMaps: maps, Stream: stream,
		HangupAfterMS: int((beepEnd + 3*time.Second) / time.Millisecond)})
	invite := time.Now()
	runSIPp(t, svc, sc, sippOptions{})
	logRecordingStart(t, rec, invite, ringTime+beepEnd)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", Case: "open"})
	checkCall(t, call, "voicemail", "caller")
	d := time.Duration(tk.DurationMS) * time.Millisecond
	if d < 1500*time.Millisecond || d > 4500*time.Millisecond {
		t.Errorf("partial message lasts %s, want 3s ± 1.5s", d)
	}
	pcm := readWAV8k(t, tk.Recording)
	segs := scanTones(pcm)
	var tones []segment
	for _, s := range segs {
		if s.kind == "600" || s.kind == "2400" {
			tones = append(tones, s)
		}
	}
	if len(tones) == 0 || tones[0].kind != "600" || !near(tones[0].dur, time.Second, 0.2) {
		t.Errorf("the recording should start with the 1 s 600 Hz tone; segments: %s", describeSegments(segs))
	}
}

// TestInHoursMessage: in opening hours there is no urgency menu; the ticket
// is not urgent and its case is open.
func TestInHoursMessage(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": inHours}})
	rec := svc.watchRecording()

	pkts := messageCallHeard(t, svc, rec, openBeepEnd(t), false)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", Case: "open"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 2)
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "(open)") || !strings.Contains(out, "normal") {
		t.Errorf("astreinte tickets show %s (err=%v) should say normal and (open):\n%s", tk.Number, err, out)
	}

	types := map[uint8]int{}
	for _, p := range pkts {
		types[p.pt]++
	}
	if types[0] == 0 || types[8] != 0 {
		t.Errorf("astreinte should send PCMU (offered first): RTP payload types seen %v", types)
	}
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "greeting_open", "record_instructions")
	if peak, _ := ncc(heard, prompt(t, "fr", "menu_urgency")); peak > 0.5 {
		t.Errorf("the urgency menu was played in opening hours (correlation %.3f)", peak)
	}
	if peak, _ := ncc(heard, prompt(t, "fr", "greeting_closed")); peak > 0.5 {
		t.Errorf("the closed greeting was played in opening hours (correlation %.3f)", peak)
	}
}

// TestNoCommonCodec_SIPp: an offer of G.722 only gets 488.
func TestNoCommonCodec_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, nil)
	sc := writeScenario(t, "uac_rejected.xml", scenario{Formats: "9", RTPMaps: "      a=rtpmap:9 G722/8000\n", Status: 488})
	runSIPp(t, svc, sc, sippOptions{timeout: 20 * time.Second})
	if ts := svc.tickets(); len(ts) != 0 {
		t.Errorf("a refused call left %d ticket(s)", len(ts))
	}
}

// TestUnknownNumber_SIPp: a number no line answers gets 404.
func TestUnknownNumber_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, nil)
	formats, maps := offerG711(false)
	sc := writeScenario(t, "uac_rejected.xml", scenario{Formats: formats, RTPMaps: maps, Status: 404})
	runSIPp(t, svc, sc, sippOptions{service: "nobody", timeout: 20 * time.Second})
	if ts := svc.tickets(); len(ts) != 0 {
		t.Errorf("a refused call left %d ticket(s)", len(ts))
	}
}

// TestSIGTERMDuringRecording: astreinte is stopped while a caller talks; with
// a 2 s drain it ends the call, and the message is a ticket with what was said.
func TestSIGTERMDuringRecording(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{
		"clock": map[string]any{"now": inHours},
		"sip":   map[string]any{"drain_timeout": "2s"},
	})
	rec := svc.watchRecording()
	caller, recStart := startLongMessage(t, svc, rec)
	part := rec.path
	sleepUntil(recStart.Add(3500 * time.Millisecond))
	code := svc.stop(20 * time.Second)
	stopped := time.Since(recStart)
	if code != 0 {
		t.Errorf("astreinte exited with status %d on SIGTERM, want 0", code)
	}
	log := svc.log()
	if !strings.Contains(log, "shutting down") {
		t.Errorf("no \"shutting down\" in the log")
	}
	t.Logf("recording %s started; SIGTERM 3.5s later; exited %.1fs after the start", filepath.Base(part), stopped.Seconds())

	// The caller got a BYE at the hard stop.
	if sippCode, ok := caller.p.wait(10 * time.Second); !ok || sippCode != 0 {
		t.Errorf("the caller was not hung up on cleanly at shutdown (sipp status %d, finished %v)", sippCode, ok)
	}

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", Case: "open"})
	t.Logf("call: outcome %s, hung up by %s", call.Outcome, call.HangupBy)
	checkCall(t, call, "voicemail", "shutdown")
	pcm := checkRecordingPattern(t, tk, 1)
	// 3.5 s before SIGTERM plus the 2 s drain: the WAV holds it all.
	if d := durationOf(len(pcm)); d < 4500*time.Millisecond {
		t.Errorf("recording lasts %s, want ≥ 4.5s (3.5s before SIGTERM + 2s drain)", d)
	}
	if files := svc.recordingFiles(); slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ".part") }) {
		t.Errorf("a .part file was left behind: %v", files)
	}
}

// TestConcurrentCalls_SIPp: 20 callers at once each leave a short message. A
// load check, not a timing one: every message must become a ticket.
func TestConcurrentCalls_SIPp(t *testing.T) {
	// Not parallel: it runs alone, before the others, so that its load does
	// not shift their timings.
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": inHours}})
	const n = 20
	beepEnd := openBeepEnd(t)
	// Each caller talks from a second before the beep and hangs up 5 s
	// after it: a message of ~5 s, or less if the host makes astreinte's
	// prompts late, but never empty.
	stream := writeCallerStream(t, callerAudio(beepEnd-time.Second, 6, 75*time.Second), false)
	formats, maps := offerG711(false)
	// Each from its own number: calls from one number join its open ticket.
	sc := writeScenario(t, "uac_message.xml", scenario{Caller: "0600[call_number]", Formats: formats, RTPMaps: maps, Stream: stream,
		HangupAfterMS: int((beepEnd + 5*time.Second) / time.Millisecond)})
	runSIPp(t, svc, sc, sippOptions{calls: n, limit: n, rate: 10, timeout: 120 * time.Second})

	cs := svc.waitCalls(30*time.Second, allEnded(n))
	ts := svc.tickets()
	if len(ts) != n {
		t.Errorf("%d calls left %d tickets, want %d", len(cs), len(ts), n)
	}
	outcomes := map[string]int{}
	for _, c := range cs {
		outcomes[c.Outcome+"/"+c.HangupBy]++
	}
	t.Logf("call outcomes: %v", outcomes)
	short := 0
	for _, tk := range ts {
		if tk.DurationMS < 2000 {
			short++
		}
		if !fileExists(tk.Recording) {
			t.Errorf("ticket %s: recording %s missing", tk.Number, tk.Recording)
		}
	}
	if short > 0 {
		t.Logf("%d of %d messages are shorter than 2s (each caller talked ~5s after the beep): astreinte's prompts ran late", short, len(ts))
	}
	t.Logf("simultaneous calls held: %d (from the call log)", maxOverlap(t, cs))
}

// maxOverlap is the largest number of calls in progress at once.
func maxOverlap(t testing.TB, cs []callRow) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, c := range cs {
		start, err1 := time.Parse(time.RFC3339Nano, c.StartedAt)
		end, err2 := time.Parse(time.RFC3339Nano, c.EndedAt.String)
		if err1 != nil || err2 != nil || !c.EndedAt.Valid {
			t.Logf("call %d: unreadable times %q %q", c.ID, c.StartedAt, c.EndedAt.String)
			continue
		}
		edges = append(edges, edge{start, 1}, edge{end, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}

// TestKill9DuringRecordingRecovered: a crash mid-message (kill -9) loses
// nothing: the next start-up turns the cut recording into a ticket.
func TestKill9DuringRecordingRecovered(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": inHours}})
	rec := svc.watchRecording()
	caller, recStart := startLongMessage(t, svc, rec)
	sleepUntil(recStart.Add(7 * time.Second))
	svc.kill9()
	caller.p.stop(syscall.SIGTERM, 5*time.Second) // the caller gives up: nobody answers any more
	if ts := svc.tickets(); len(ts) != 0 {
		t.Fatalf("a ticket exists before the restart: %+v", ts)
	}
	svc.restart()
	if !svc.waitLog("recovered an interrupted recording", 10*time.Second) {
		t.Errorf("no \"recovered an interrupted recording\" in the log after the restart")
	}
	ts := svc.tickets()
	if len(ts) != 1 {
		t.Fatalf("want 1 recovered ticket, have %d", len(ts))
	}
	checkTicket(t, ts[0], ticketRow{Status: "new", Line: "support", CallerNumber: "0612345678", Case: "open"})
	checkRecordingPattern(t, ts[0], 1)
}

// closedMessageScenario renders a caller scenario from testdata for a call
// out of hours with no key: PCMU first, the caller talks from a second
// before the beep (messageAudio) and waits for astreinte's BYE.
func closedMessageScenario(t *testing.T, file string, sc scenario) string {
	t.Helper()
	sc.Stream = writeCallerStream(t, messageAudio(closedBeepEnd(t)), false)
	sc.Formats, sc.RTPMaps = offerG711(false)
	return writeScenario(t, file, sc)
}

// checkClosedMessage checks the one ticket and call such a call leaves.
func checkClosedMessage(t *testing.T, svc *service, caller string) {
	t.Helper()
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: caller, Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 2)
}

// TestCallOverTCP_SIPp: the whole call over SIP on TCP (astreinte listens on
// UDP and TCP on the same port); astreinte's BYE goes back over TCP.
func TestCallOverTCP_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, nil)
	sc := closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0644444444", ContactParams: ";transport=tcp"})
	runSIPp(t, svc, sc, sippOptions{tcp: true})
	checkClosedMessage(t, svc, "0644444444")
}

// TestCallThroughProxy_SIPp: a call relayed by a proxy (two Vias, a
// Record-Route): the 200 OK keeps the Vias and the Record-Route, astreinte's
// BYE carries the route (SIPp checks all three), and the ticket is made.
func TestCallThroughProxy_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, nil)
	sc := closedMessageScenario(t, "uac_proxied.xml", scenario{Caller: "0655555555"})
	runSIPp(t, svc, sc, sippOptions{})
	checkClosedMessage(t, svc, "0655555555")
}

// TestHolidayCall_SIPp: on Christmas Day at 10:00 (a Friday, open hours on
// any other Friday) the line is closed for the holiday: the caller hears
// the holiday greeting, then the out-of-hours menu; the ticket says why.
func TestHolidayCall_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	svc := startAstreinte(t, map[string]any{"clock": map[string]any{"now": "2026-12-25T10:00:00+01:00"}})
	rec := svc.watchRecording()
	// Reopens on Monday 28 December at 9.
	beepEnd := closedBeepEnd(t) - promptLen(t, "fr", "greeting_closed") + promptLen(t, "fr", "greeting_holiday") -
		reopening(t, "today", "hour_9") + reopening(t, "weekday_1", "hour_9")
	pkts := messageCallHeard(t, svc, rec, beepEnd, false)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0612345678", Case: "holiday"})
	checkCall(t, call, "voicemail", "us")
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "greeting_holiday", "weekday_1", "menu_urgency")
	if out, err := svc.cli("tickets", "show", tk.Number); err != nil || !strings.Contains(out, "holiday") {
		t.Errorf("tickets show should say the holiday applied (err=%v):\n%s", err, out)
	}
}

// TestSymmetricRTP_SIPp: a caller behind NAT advertises an address and port
// in its SDP (127.0.0.2:9, where nothing listens) that are not where its RTP
// comes from. astreinte answers to where the RTP really comes from: the
// caller hears the prompts, and its message is recorded.
func TestSymmetricRTP_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	svc := startAstreinte(t, nil)
	sc := closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0677777777", SDPAddr: "127.0.0.2", SDPPort: 9})
	capt := startCapture(t, fmt.Sprintf("udp and src host 127.0.0.1 and dst host 127.0.0.1 and src portrange %d-%d", svc.rtpLo, svc.rtpHi))
	runSIPp(t, svc, sc, sippOptions{})
	pkts := capt.stop(t) // not by the SDP's port: it names 127.0.0.2:9, where nothing is sent
	checkClosedMessage(t, svc, "0677777777")
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "menu_urgency", "callback_by")
}

// TestOutOfHoursUrgent_SIPp2833: SIPp presses 1 with RFC 2833 events (the
// key press pcap SIPp ships) during the menu: the beep comes at once, the
// ticket is urgent, and with nobody on call the caller is told so.
func TestOutOfHoursUrgent_SIPp2833(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	svc := startAstreinte(t, nil)
	rec := svc.watchRecording()
	keyAt := promptLen(t, "fr", "greeting_closed") + 1500*time.Millisecond
	beepEnd := keyAt + promptLen(t, "fr", "beep")
	stream := writeCallerStream(t, messageAudio(beepEnd), false)
	formats, maps := offerG711(false)
	sc := writeScenario(t, "uac_message.xml", scenario{Caller: "0688888888", Formats: formats, RTPMaps: maps, Stream: stream,
		DTMFPcap: dtmfPcap(t, '1'), DTMFAtMS: int(keyAt / time.Millisecond)})
	capt := startCapture(t, fmt.Sprintf("udp and src host 127.0.0.1 and src portrange %d-%d", svc.rtpLo, svc.rtpHi))
	invite := time.Now()
	runSIPp(t, svc, sc, sippOptions{})
	pkts := toCaller(t, capt.stop(t), sc)
	logRecordingStart(t, rec, invite, ringTime+beepEnd)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", Line: "support", CallerNumber: "0688888888", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 2)
	heard := heardAudio(pkts)
	checkHeardAll(t, heard, "fr", "greeting_closed", "nobody_on_call", "callback_by")
	notHeard(t, heard, "fr", "urgent_callback")
}
