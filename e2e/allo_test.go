package e2e

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Callers as people behave, through a real softphone (baresip): short
// utterances and pauses made by espeak-ng, noise by sox, at night with the
// built-in French prompts. Each test says what it must never lose.

// utterance is what the caller says and when, from the answer.
type utterance struct {
	at    time.Duration
	text  string
	level float64 // dBFS RMS
	keep  bool    // must be in the ticket's recording
}

// spoken is an utterance as it went into the microphone.
type spoken struct {
	utterance
	pcm []int16
}

// speakFR has espeak-ng say text in French, as telephone audio (8 kHz,
// silence trimmed) at level dBFS RMS.
func speakFR(t testing.TB, text string, level float64) []int16 {
	t.Helper()
	requirePeer(t, "espeak-ng")
	requirePeer(t, "sox")
	dir := t.TempDir()
	raw, wav := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "8k.wav")
	if out, err := exec.Command("espeak-ng", "-v", "fr", "-s", "160", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	if out, err := exec.Command("sox", "-D", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", wav,
		"silence", "1", "0.02", "-50d", "reverse", "silence", "1", "0.02", "-50d", "reverse").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	pcm, rate, err := readWAV(wav)
	if err != nil || rate != sampleRate {
		t.Fatalf("read %s: %v (rate %d)", wav, err, rate)
	}
	return atLevel(pcm, level)
}

// soxNoise is d of pink noise made by sox, at level dBFS RMS.
func soxNoise(t testing.TB, d time.Duration, level float64) []int16 {
	t.Helper()
	requirePeer(t, "sox")
	wav := filepath.Join(t.TempDir(), "noise.wav")
	if out, err := exec.Command("sox", "-D", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", wav,
		"synth", fmt.Sprintf("%.2f", d.Seconds()), "pinknoise").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	pcm, _, err := readWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	return atLevel(pcm, level)
}

// atLevel scales pcm to an RMS of level dBFS.
func atLevel(pcm []int16, level float64) []int16 {
	var sq float64
	for _, v := range pcm {
		sq += float64(v) * float64(v)
	}
	if sq == 0 {
		return pcm
	}
	g := 32768 * math.Pow(10, level/20) / math.Sqrt(sq/float64(len(pcm)))
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return out
}

// callerMic writes the caller's microphone: the utterances at their times
// over noise at noiseDB (0: none), padded to total (baresip hangs up when
// it ends). It returns the file and what was said.
func callerMic(t testing.TB, total time.Duration, noiseDB float64, us ...utterance) (string, []spoken) {
	t.Helper()
	mic := make([]int16, samplesIn(total))
	if noiseDB != 0 {
		copy(mic, soxNoise(t, total, noiseDB))
	}
	var said []spoken
	for _, u := range us {
		pcm := speakFR(t, u.text, u.level)
		off := samplesIn(u.at)
		for i, v := range pcm {
			if off+i < len(mic) {
				mic[off+i] = int16(max(-32768, min(32767, int32(mic[off+i])+int32(v))))
			}
		}
		said = append(said, spoken{u, pcm})
		t.Logf("caller says %q at %.1fs for %.1fs (%.0f dBFS)", u.text, u.at.Seconds(), durationOf(len(pcm)).Seconds(), u.level)
	}
	path := filepath.Join(testDir(t), "mic.wav")
	if err := writeWAV(path, mic); err != nil {
		t.Fatal(err)
	}
	return path, said
}

// callAs has baresip call the line with mic, press keys at their times
// after the answer, and waits until astreinte ends the call.
func callAs(t *testing.T, svc *service, user, mic string, keys map[time.Duration]rune) (*baresip, time.Time) {
	t.Helper()
	b := startBaresip(t, user, mic)
	if err := b.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	ev, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	if !ok {
		t.Fatal("call not established within 15s")
	}
	ats := make([]time.Duration, 0, len(keys))
	for at := range keys {
		ats = append(ats, at)
	}
	slices.Sort(ats)
	for _, at := range ats {
		sleepUntil(ev.at.Add(at))
		t.Logf("pressing %c %.1fs after the answer", keys[at], time.Since(ev.at).Seconds())
		if err := b.command("sndcode", string(keys[at])); err != nil {
			t.Fatalf("sndcode: %v", err)
		}
	}
	closed, ok := b.waitEvent("CALL_CLOSED", 2*time.Minute)
	if !ok {
		t.Fatal("astreinte did not end the call within 2 minutes")
	}
	t.Logf("call closed %.1fs after the answer: %s", closed.at.Sub(ev.at).Seconds(), closed.Param)
	b.quit()
	return b, ev.at
}

// checkKept wants every utterance marked keep in the ticket's recording,
// found by waveform correlation (G.711 keeps the waveform), in order.
func checkKept(t *testing.T, tk ticketRow, said []spoken) {
	t.Helper()
	if tk.Recording == "" {
		t.Fatalf("ticket %s has no recording", tk.Number)
	}
	rec := readWAV8k(t, tk.Recording)
	if d := time.Duration(tk.DurationMS) * time.Millisecond; !near(d, durationOf(len(rec)), 0.05) {
		t.Errorf("ticket says the recording lasts %s, the WAV %s", d, durationOf(len(rec)))
	}
	last := -1
	for _, s := range said {
		if !s.keep {
			continue
		}
		peak, lag := ncc(rec, s.pcm)
		t.Logf("%q: correlation %.2f at %.1fs of the %.1fs recording", s.text, peak, durationOf(lag).Seconds(), durationOf(len(rec)).Seconds())
		if peak < 0.6 {
			t.Errorf("%q (said at %.1fs) is not in the recording (correlation %.2f): lost", s.text, s.at.Seconds(), peak)
			continue
		}
		if lag < last {
			t.Errorf("%q is before what was said earlier in the recording", s.text)
		}
		last = lag
	}
}

const (
	sayMessage = "Bonjour, ici la société Durand. Notre serveur de messagerie ne répond plus depuis ce soir, " +
		"plus personne ne reçoit de courrier. Rappelez-moi au zéro six, onze, vingt-deux, trente-trois, quarante-quatre."
	sayMore = "Ah, et j'oubliais : le code de la porte du local technique est quatre, deux, sept."
	sayLast = "Merci beaucoup, c'est vraiment urgent pour nous."
)

// onCallAlice is the configuration with Alice on call, paged by email.
func onCallAlice(t *testing.T) (*service, *mailSink) {
	mail := startMailSink(t)
	people := []tech{{"alice", "Alice Martin", "", "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	return startAstreinte(t, pagingOverrides(people, nil, tiers, mail, nil, "urgent")), mail
}

// TestAlloThenMessageKeyLate_Baresip: the commonest caller. "Allô ?" 0.3 s
// after the answer, then they wait: the greeting goes on to the urgency
// question, heard whole; they speak after the beep and press 1 during
// their message. Both what they said are in the ticket, it is urgent, the
// caller is told the technician is being called, and Alice is paged.
func TestAlloThenMessageKeyLate_Baresip(t *testing.T) {
	t.Parallel()
	svc, mail := onCallAlice(t)
	beepEnd := closedBeepEnd(t) + ringTime
	mic, said := callerMic(t, 90*time.Second, 0,
		utterance{at: 300 * time.Millisecond, text: "Allô ?", level: -22, keep: true},
		utterance{at: beepEnd + 1500*time.Millisecond, text: sayMessage, level: -22, keep: true})
	b, _ := callAs(t, svc, "0611223344", mic, map[time.Duration]rune{beepEnd + 5*time.Second: '1'})

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", CallerNumber: "0611223344", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkKept(t, tk, said)
	heard := b.heard()
	checkHeardAll(t, heard, "fr", "greeting_closed", "menu_urgency", "saved_ticket", "urgent_callback")
	notHeard(t, heard, "fr", "urgency_after") // heard whole the first time: not asked again
	if _, ok := mail.waitTo("alice@e2e.test", 1, 30*time.Second); !ok {
		t.Errorf("the urgent caller was promised a technician and Alice got no page")
	}
}

// TestAlloPauseThenMessage_Baresip: "Allô ? Oui, bonjour", six seconds of
// waiting, then the message, partly over the end of the greeting: all of
// it is kept, and the urgency question is heard whole once.
func TestAlloPauseThenMessage_Baresip(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	hello := utterance{at: 300 * time.Millisecond, text: "Allô ? Oui, bonjour.", level: -22, keep: true}
	mic, said := callerMic(t, 90*time.Second, 0, hello,
		utterance{at: 7500 * time.Millisecond, text: sayMessage, level: -20, keep: true})
	b, _ := callAs(t, svc, "0611223355", mic, nil)

	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Case: "out_of_hours"})
	checkKept(t, tk, said)
	heard := b.heard()
	menu, _ := ncc(heard, prompt(t, "fr", "menu_urgency"))
	again, _ := ncc(heard, prompt(t, "fr", "urgency_after"))
	t.Logf("urgency question heard: in the greeting %.2f, after the message %.2f", menu, again)
	if menu < 0.6 && again < 0.6 {
		t.Errorf("the caller never heard the urgency question whole (greeting %.2f, after the message %.2f)", menu, again)
	}
}

// TestSilentUntil8sAfterBeep_Baresip: a caller who waits after the beep is
// asked to speak and beeped at again, not cut off: what they say 8 s after
// the beep is the message.
func TestSilentUntil8sAfterBeep_Baresip(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	beepEnd := closedBeepEnd(t) + ringTime
	mic, said := callerMic(t, 90*time.Second, 0, utterance{at: beepEnd + 8*time.Second, text: sayMessage, level: -22, keep: true})
	b, _ := callAs(t, svc, "0611223366", mic, nil)

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkKept(t, tk, said)
	checkHeardAll(t, b.heard(), "fr", "speak_after_beep", "saved_ticket")
}

// TestSpeechOverPromptsAfterMessage_Baresip: the caller ends the message
// with #, then remembers something while asked about another number, and
// thanks us over the ticket's number: everything is in the ticket's
// recording, in order, and its length is the WAV's.
func TestSpeechOverPromptsAfterMessage_Baresip(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	beepEnd := closedBeepEnd(t) + ringTime
	pound := beepEnd + 12*time.Second
	mic, said := callerMic(t, 100*time.Second, 0,
		utterance{at: beepEnd + time.Second, text: sayMessage, level: -22, keep: true},
		utterance{at: pound + 1500*time.Millisecond, text: sayMore, level: -22, keep: true},
		// After that, 5 s of quiet end it, "2 for another number" again
		// and its 3 s: the ticket's number comes about 16 s after the #.
		utterance{at: pound + 18*time.Second, text: sayLast, level: -22, keep: true})
	b, _ := callAs(t, svc, "0611223377", mic, map[time.Duration]rune{pound: '#'})

	tk, _ := oneTicket(t, svc)
	checkKept(t, tk, said)
	checkHeardAll(t, b.heard(), "fr", "callback_other", "saved_ticket", "goodbye")
	// The timeline of the recording says where the caller's voice cut a
	// prompt after the message.
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "along it") || !strings.Contains(out, "speech callback_other") || !strings.Contains(out, "beep") {
		t.Errorf("tickets show %s (err=%v) should mark the beep and the speech over \"callback_other\":\n%s", tk.Number, err, out)
	}
	if out, err := svc.cli("tickets", "show", tk.Number, "--json"); err != nil || !strings.Contains(out, `"kind": "speech"`) {
		t.Errorf("tickets show --json %s (err=%v) should carry the marks:\n%s", tk.Number, err, tail(out, 60))
	}
}

// TestStreetNoiseKeyAt9s_Baresip: street noise (pink, -40 dBFS) all call
// long does not cut the greeting; 1 pressed at 9 s and a message said over
// the noise make an urgent ticket with the message in it.
func TestStreetNoiseKeyAt9s_Baresip(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	beepEnd := closedBeepEnd(t) + ringTime
	mic, said := callerMic(t, 90*time.Second, -40,
		utterance{at: beepEnd + 2*time.Second, text: sayMessage, level: -22, keep: true})
	b, _ := callAs(t, svc, "0611223388", mic, map[time.Duration]rune{9 * time.Second: '1'})

	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Case: "out_of_hours"})
	checkKept(t, tk, said)
	checkHeardAll(t, b.heard(), "fr", "greeting_closed", "menu_urgency")
}

// TestQuietHandset_Baresip: a message said at -41 dBFS is a message, whole.
func TestQuietHandset_Baresip(t *testing.T) {
	t.Parallel()
	svc := startAstreinte(t, nil)
	beepEnd := closedBeepEnd(t) + ringTime
	mic, said := callerMic(t, 90*time.Second, 0, utterance{at: beepEnd + time.Second, text: sayMessage, level: -41, keep: true})
	callAs(t, svc, "0611223399", mic, nil)
	tk, call := oneTicket(t, svc)
	checkCall(t, call, "voicemail", "us")
	checkKept(t, tk, said)
}

// TestKeyOneOverTicketNumber_Baresip: the caller leaves a normal message,
// ends it with #, and presses 1 while their ticket's number is said: the
// ticket becomes urgent at once, they hear that the technician is being
// called, and Alice is paged.
func TestKeyOneOverTicketNumber_Baresip(t *testing.T) {
	t.Parallel()
	svc, mail := onCallAlice(t)
	beepEnd := closedBeepEnd(t) + ringTime
	pound := beepEnd + 13*time.Second
	mic, said := callerMic(t, 90*time.Second, 0, utterance{at: beepEnd + time.Second, text: sayMessage, level: -22, keep: true})
	// After #: "2 for another number" and its 3 s, then the ticket's number.
	one := pound + promptLen(t, "fr", "callback_other") + 3*time.Second + 2500*time.Millisecond
	b, _ := callAs(t, svc, "0611223300", mic, map[time.Duration]rune{pound: '#', one: '1'})

	tk, _ := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Case: "out_of_hours"})
	checkKept(t, tk, said)
	heard := b.heard()
	_, savedAt := ncc(heard, prompt(t, "fr", "saved_ticket"))
	_, calledAt := ncc(heard, prompt(t, "fr", "urgent_callback"))
	checkHeardAll(t, heard, "fr", "saved_ticket", "urgent_callback")
	if !svc.waitLog("ticket made urgent during the call", 5*time.Second) {
		t.Errorf("the key did not come after the ticket was filed: the test does not show the amendment")
	}
	if calledAt < savedAt {
		t.Errorf("\"the technician is being called\" at %.1fs, before the ticket number at %.1fs", durationOf(calledAt).Seconds(), durationOf(savedAt).Seconds())
	}
	if _, ok := mail.waitTo("alice@e2e.test", 1, 30*time.Second); !ok {
		t.Errorf("the ticket made urgent during the call paged nobody")
	}
}
