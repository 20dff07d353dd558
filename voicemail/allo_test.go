package voicemail

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
)

// The callers of issue "Allô": what people really do at the answer, on the
// fake clock. Talking is the syllables of flow_test.go.

// between says whether at is in [from, to).
func between(from, to time.Duration) func(time.Duration) bool {
	return func(at time.Duration) bool { return at >= from && at < to }
}

// either joins talk periods.
func either(fs ...func(time.Duration) bool) func(time.Duration) bool {
	return func(at time.Duration) bool {
		for _, f := range fs {
			if f(at) {
				return true
			}
		}
		return false
	}
}

func TestCallerWhoSaysAllo(t *testing.T) {
	t.Run("Allô at the answer, then the message after the beep, key 1 late", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{filed: astreinte.Filed{Paging: true}}
			// "Allô ?" 0.3–0.9 s; the greeting goes on; they talk 1 s after
			// the beep for 6 s, press 1 at 12 s (during the message).
			beepEnd := 9500 * time.Millisecond // at the latest, checked below
			c := fakeCall{talk: either(between(300*time.Millisecond, 900*time.Millisecond), between(beepEnd+time.Second, beepEnd+7*time.Second)),
				keys: map[time.Duration]rune{12 * time.Second: '1'}}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, true)
			beep := m.heardAt(audio.PromptBeep)
			if min := promptLen(t, audio.PromptGreetingClosed) + promptLen(t, audio.PromptMenuUrgency); beep < min || beep+400*time.Millisecond > beepEnd {
				t.Fatalf("beep at %s: the greeting was cut (it lasts %s at least), or came after %s", beep, min, beepEnd)
			}
			if m.heardAt(audio.PromptUrgencyAfter) >= 0 {
				t.Errorf("the urgency question was put again to a caller who heard it: %+v", m.played)
			}
			if len(tk.got) != 1 || tk.got[0].Urgency != astreinte.Urgent || tk.got[0].Kind != astreinte.KindVoicemail {
				t.Fatalf("filed %+v, want one urgent voicemail", tk.got)
			}
			got := tk.got[0]
			if got.MessageAt == 0 || got.Duration-got.MessageAt < 6*time.Second {
				t.Errorf("message at %s of %s: want the Allô kept before the beep and the 6 s message after it", got.MessageAt, got.Duration)
			}
			if m.heardAt(audio.PromptUrgentCallback) < 0 {
				t.Errorf("played %+v: want the technician called now", m.played)
			}
		})
	})
	t.Run("Allô, silent until 8 s after the beep: asked to speak, not cut off", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			beepEnd := 9500 * time.Millisecond
			c := fakeCall{talk: either(between(300*time.Millisecond, 900*time.Millisecond), between(beepEnd+8*time.Second, beepEnd+14*time.Second))}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false)
			beep := m.heardAt(audio.PromptBeep)
			nudge := m.heardAt(audio.PromptSpeakAfterBeep)
			if nudge < 0 || nudge-beep < speakNudgeAfter || nudge-beep > speakNudgeAfter+time.Second {
				t.Errorf("\"speak after the beep\" at %s, beep at %s: want it %s after the beep", nudge, beep, speakNudgeAfter)
			}
			if len(tk.got) != 1 || tk.got[0].Duration-tk.got[0].MessageAt < 13*time.Second {
				t.Fatalf("filed %+v, want the message after the wait kept", tk.got)
			}
			if !hasMark(tk.got[0].Marks, astreinte.MarkPrompt, audio.PromptSpeakAfterBeep) {
				t.Errorf("marks %+v: want the nudge marked", tk.got[0].Marks)
			}
		})
	})
	t.Run("Allô, then says nothing: asked once, then a missed call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			c := fakeCall{talk: between(300*time.Millisecond, 500*time.Millisecond)}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false)
			if m.heardAt(audio.PromptSpeakAfterBeep) < 0 || m.heardAt(audio.PromptNoMessage) < 0 {
				t.Errorf("played %+v: want the nudge, then no message", m.played)
			}
			if len(tk.got) != 1 || tk.got[0].Kind != astreinte.KindMissedCall {
				t.Errorf("filed %+v, want a missed call", tk.got)
			}
		})
	})
	t.Run("talks over the whole greeting: beep after 1.5 s, the urgency question after the message", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{filed: astreinte.Filed{Paging: true}}
			// Talks 0.5–8 s, then quiet; the question comes after 5 s of
			// quiet; key 1 a second into it.
			q := 8*time.Second + 5*time.Second
			c := fakeCall{talk: between(500*time.Millisecond, 8*time.Second), keys: map[time.Duration]rune{q + 1500*time.Millisecond: '1'}}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, true)
			if beep := m.heardAt(audio.PromptBeep); beep < 1900*time.Millisecond || beep > 2200*time.Millisecond {
				t.Errorf("beep at %s, want 1.5 s after the caller started talking", beep)
			}
			at := m.heardAt(audio.PromptUrgencyAfter)
			if at < q-500*time.Millisecond || at > q+500*time.Millisecond {
				t.Errorf("urgency question at %s, want after the message, about %s", at, q)
			}
			if len(tk.got) != 1 || tk.got[0].Urgency != astreinte.Urgent {
				t.Errorf("filed %+v, want urgent", tk.got)
			}
		})
	})
	t.Run("speaks over the prompts after the message: recorded, the ticket amended", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			// Message 10–14 s, # at 14.5 s; talks again from 20 s to 26 s,
			// over the ticket's number.
			c := fakeCall{talk: either(between(10*time.Second, 14*time.Second), between(20*time.Second, 26*time.Second)),
				keys: map[time.Duration]rune{14500 * time.Millisecond: '#'}}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false)
			if len(tk.got) != 1 {
				t.Fatalf("filed %+v", tk.got)
			}
			if len(tk.amended) != 1 || tk.amended[0].Recording != tk.got[0].Recording {
				t.Fatalf("amendments %+v, want the recording extended", tk.amended)
			}
			if d := tk.amended[0].Duration; d < 26*time.Second-time.Second {
				t.Errorf("recording amended to %s, want it to hold the speech until 26 s", d)
			}
			if !hasMark(tk.amended[0].Marks, astreinte.MarkSpeech, "") {
				t.Errorf("marks %+v: want the speech over a prompt marked", tk.amended[0].Marks)
			}
			if n := audio.DurationOf(int64(len(readBack(t, tk.got[0].Recording)))); n != tk.amended[0].Duration {
				t.Errorf("the WAV holds %s, the amendment says %s", n, tk.amended[0].Duration)
			}
			if m.heardAt(audio.PromptGoodbye) < 0 {
				t.Errorf("played %+v, want goodbye in the end", m.played)
			}
		})
	})
	t.Run("talks on and on after #: recorded, and still told the ticket's number", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			c := fakeCall{talk: between(10*time.Second, 10*time.Minute), keys: map[time.Duration]rune{14500 * time.Millisecond: '#'}}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false)
			if m.heardAt(audio.PromptSavedTicket) < 0 || m.heardAt(audio.PromptGoodbye) < 0 {
				t.Fatalf("played %+v: want the ticket's number and goodbye in the end", m.played)
			}
			if bye := m.heardAt(audio.PromptGoodbye); bye > 2*time.Minute {
				t.Errorf("goodbye at %s: a caller who talks on holds the line past the message's 1 min", bye)
			}
			if len(tk.amended) != 1 || tk.amended[0].Duration < 17*time.Second { // filed at 11.7 s, then 8 s of prompts talked over
				t.Errorf("amended %+v: want what they said after the ticket was filed kept", tk.amended)
			}
		})
	})
	t.Run("says nothing after the message: the recording is cut back to what was filed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			c := fakeCall{talk: between(10*time.Second, 14*time.Second), keys: map[time.Duration]rune{14500 * time.Millisecond: '#'}}
			runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false)
			if len(tk.got) != 1 || len(tk.amended) != 0 {
				t.Fatalf("filed %+v, amended %+v: want one ticket, not amended", tk.got, tk.amended)
			}
			if n := audio.DurationOf(int64(len(readBack(t, tk.got[0].Recording)))); n != tk.got[0].Duration {
				t.Errorf("the WAV holds %s, the ticket says %s", n, tk.got[0].Duration)
			}
		})
	})
	t.Run("key 1 while the ticket's number is said: urgent at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{amendFiled: astreinte.Filed{Paging: true}}
			// # at 14.5 s; "2 for another number" and its wait, then the
			// ticket's number from about 20.4 s: 1 at 21 s.
			c := fakeCall{talk: between(10*time.Second, 14*time.Second),
				keys: map[time.Duration]rune{14500 * time.Millisecond: '#', 21 * time.Second: '1'}}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, true)
			told := m.heardAt(audio.PromptSavedTicket)
			if told < 0 || told > 21*time.Second || told+promptLen(t, audio.PromptSavedTicket) < 21*time.Second {
				t.Fatalf("ticket number said at %s, the test presses 1 at 21 s", told)
			}
			if len(tk.got) != 1 || tk.got[0].Urgency == astreinte.Urgent || !tk.urgentLate() {
				t.Fatalf("filed %+v, amended %+v: want a normal ticket made urgent", tk.got, tk.amended)
			}
			if m.heardAt(audio.PromptUrgentCallback) < 21*time.Second {
				t.Errorf("played %+v: want the technician called now, after the key", m.played)
			}
		})
	})
	t.Run("hidden number: key 1 during the confirmation is urgency, and it is asked again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			keys := map[time.Duration]rune{14500 * time.Millisecond: '#'}
			// "Type the number, then #" from 14.5 s; typed from 17 s to
			// 20 s; read back from 20 s: 1 at 23 s, over the digits.
			typing(keys, 17*time.Second, "0611223344#")
			keys[23*time.Second] = '1'
			c := fakeCall{talk: between(10*time.Second, 14*time.Second), keys: keys}
			m := runFlowWith(t, astreinte.CaseOutOfHours, "anonymous", c, tk, false, nil)
			if n := m.count(audio.PromptCallbackTyped); n != 2 {
				t.Errorf("read back %d times, want twice (1 is no answer to it): %+v", n, m.played)
			}
			if len(tk.got) != 1 || tk.got[0].CallbackNumber != "+33611223344" || tk.got[0].Urgency != astreinte.Urgent {
				t.Fatalf("filed %+v, want the typed number, urgent", tk.got)
			}
		})
	})
}

func hasMark(ms []astreinte.Mark, kind astreinte.MarkKind, name string) bool {
	for _, m := range ms {
		if m.Kind == kind && (name == "" || m.Name == name) {
			return true
		}
	}
	return false
}

// count says how many times a prompt was played.
func (m *fakeMedia) count(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.played {
		if p.name == name {
			n++
		}
	}
	return n
}
