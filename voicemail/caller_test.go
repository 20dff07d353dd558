package voicemail

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
)

// TestGreetingFor: which greeting each calendar case gets.
func TestGreetingFor(t *testing.T) {
	for cs, want := range map[astreinte.Case]string{
		astreinte.CaseOpen:        audio.PromptGreetingOpen,
		astreinte.CaseForceOpen:   audio.PromptGreetingOpen,
		astreinte.CaseOutOfHours:  audio.PromptGreetingClosed,
		astreinte.CaseForceClosed: audio.PromptGreetingClosed,
		astreinte.CaseHoliday:     audio.PromptGreetingHoliday,
		astreinte.CaseClosure:     audio.PromptGreetingHoliday,
	} {
		if got := greetingFor(cs); got != want {
			t.Errorf("greetingFor(%s) = %s, want %s", cs, got, want)
		}
	}
}

// TestPromiseFor: what the caller is told. "The technician is being called
// now" only when a page is queued and someone can be reached; otherwise,
// for an urgent call, why nobody is called, before the callback day.
func TestPromiseFor(t *testing.T) {
	due := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	none, failing := oncall.ReasonNone, oncall.ReasonChannelsFailing
	tests := []struct {
		name      string
		urgency   astreinte.Urgency
		due       time.Time
		filed     astreinte.Filed
		reachable oncall.Reason
		want      promise
	}{
		{"urgent, paged, reachable", astreinte.Urgent, due, astreinte.Filed{Paging: true}, none, promiseCalledNow},
		{"urgent, paged, every channel failing", astreinte.Urgent, due, astreinte.Filed{Paging: true}, failing, promiseNobodyBy},
		{"urgent, paged, no channel reaches them", astreinte.Urgent, due, astreinte.Filed{Paging: true}, oncall.ReasonNoChannel, promiseNobodyBy},
		{"urgent, paged, nobody on the rota", astreinte.Urgent, due, astreinte.Filed{Paging: true}, oncall.ReasonNobodyOnRota, promiseRotaBy},
		{"urgent, contract without on-call", astreinte.Urgent, due, astreinte.Filed{}, oncall.ReasonContractWithoutOnCall, promiseHoursBy},
		{"urgent, not paged (line never pages), someone reachable", astreinte.Urgent, due, astreinte.Filed{}, none, promiseBy},
		{"urgent merged, page restarted", astreinte.Urgent, due, astreinte.Filed{Merged: true, Paging: true}, none, promiseCalledNow},
		{"normal", astreinte.NotUrgent, due, astreinte.Filed{}, none, promiseBy},
		{"normal, contract without on-call", astreinte.NotUrgent, due, astreinte.Filed{}, oncall.ReasonContractWithoutOnCall, promiseBy},
		{"normal, paged out of hours", astreinte.NotUrgent, due, astreinte.Filed{Paging: true}, none, promiseCalledNow},
		{"no due time", astreinte.NotUrgent, time.Time{}, astreinte.Filed{}, failing, promiseOpening},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := &astreinte.Ticket{Urgency: tt.urgency, DueAt: tt.due}
			if got := promiseFor(tk, tt.filed, tt.reachable); got != tt.want {
				t.Errorf("promiseFor = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestMissedCallTicket: out of hours, a number to call back, unless the
// line ignores missed calls.
func TestMissedCallTicket(t *testing.T) {
	tests := []struct {
		policy astreinte.MissedCallPolicy
		cs     astreinte.Case
		known  bool
		desk   bool
		want   bool
	}{
		{"", astreinte.CaseOutOfHours, true, false, true},
		{astreinte.MissedTicket, astreinte.CaseHoliday, true, false, true},
		{astreinte.MissedPage, astreinte.CaseOutOfHours, true, false, true},
		{astreinte.MissedIgnore, astreinte.CaseOutOfHours, true, false, false},
		{astreinte.MissedTicket, astreinte.CaseOutOfHours, false, false, false}, // hidden number
		{astreinte.MissedTicket, astreinte.CaseOpen, true, false, false},        // in hours: the call log
		{astreinte.MissedTicket, astreinte.CaseOpen, true, true, true},          // in hours, the desk is emailed
		{astreinte.MissedTicket, astreinte.CaseOpen, false, true, false},
	}
	for _, tt := range tests {
		if _, got := missedCallTicket(tt.policy, tt.cs, tt.known, tt.desk); got != tt.want {
			t.Errorf("missedCallTicket(%q, %s, known=%v, desk=%v) = %v, want %v", tt.policy, tt.cs, tt.known, tt.desk, got, tt.want)
		}
	}
}

// TestNoMessage: voice is never dropped for being short; silence is never
// a message however long.
func TestNoMessage(t *testing.T) {
	const minLen = 2 * time.Second
	tests := []struct {
		name           string
		length, speech time.Duration
		beforeBeep     bool
		want           bool
	}{
		{"short with voice", 800 * time.Millisecond, 400 * time.Millisecond, false, false},
		{"hang-up over the greeting with voice", 3 * time.Second, 2 * time.Second, true, false},
		{"long silence", 40 * time.Second, 0, false, true},
		{"short, a click", time.Second, 40 * time.Millisecond, false, true},
		{"long, a little voice", 10 * time.Second, 100 * time.Millisecond, false, false},
		{"before the beep, a click", 5 * time.Second, 60 * time.Millisecond, true, true},
	}
	for _, tt := range tests {
		if got := noMessage(tt.speech, tt.length, minLen, tt.beforeBeep); got != tt.want {
			t.Errorf("%s: noMessage = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTimeToBeepBudget: with the built-in prompts and no key, the beep ends
// within 10 s of the answer out of hours, with the longest reopening said
// ("Réouverture mercredi 30 septembre à 9 heures" is a week away), and
// within 8 s in hours. The e2e test TestTimeToBeep measures it on a call.
func TestTimeToBeepBudget(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 22, 20, 0, 0, 0, paris)
	for _, lang := range []string{"fr", "en"} {
		p, err := audio.LoadPrompts(lang, "")
		if err != nil {
			t.Fatal(err)
		}
		length := func(parts ...[]int16) time.Duration {
			n := 0
			for _, s := range parts {
				n += len(s)
			}
			return audio.DurationOf(int64(n))
		}
		worst := time.Duration(0)
		for days := range 14 {
			reopen := time.Date(2026, 9, 23+days, 9, 0, 0, 0, paris)
			for _, g := range []string{audio.PromptGreetingClosed, audio.PromptGreetingHoliday} {
				parts := append([][]int16{p.Must(g)}, p.Reopening(now, reopen)...)
				parts = append(parts, p.Must(audio.PromptMenuUrgency), p.Must(audio.PromptBeep))
				worst = max(worst, length(parts...))
			}
		}
		open := length(p.Must(audio.PromptGreetingOpen), p.Must(audio.PromptRecordInstructions), p.Must(audio.PromptBeep))
		t.Logf("%s: beep ends %.2fs after the answer out of hours at worst, %.2fs in hours", lang, worst.Seconds(), open.Seconds())
		if worst > 10*time.Second {
			t.Errorf("%s: out of hours the beep ends %.2fs after the answer, want ≤ 10s", lang, worst.Seconds())
		}
		if open > 8*time.Second {
			t.Errorf("%s: in hours the beep ends %.2fs after the answer, want ≤ 8s", lang, open.Seconds())
		}
	}
}

// TestRecorderRestartAndMark: the flow records from the answer; at the
// beep it starts again when nothing was said, or marks the beep after what
// was said.
func TestRecorderRestartAndMark(t *testing.T) {
	dir := t.TempDir()
	t.Run("restart", func(t *testing.T) {
		r, err := NewRecorder(filepath.Join(dir, "a.wav"), testMeta)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, make([]int16, 3*audio.SampleRate)) // 3 s of silence over the greeting
		if err := r.Restart(); err != nil {
			t.Fatal(err)
		}
		msg := speech(2*audio.SampleRate, 1)
		feed(t, r, msg)
		res, err := r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Samples != int64(len(msg)) {
			t.Errorf("after Restart: %+v, want only the 2 s message", res)
		}
		got := readBack(t, res.Path)
		if len(got) != len(msg) || got[0] != msg[0] || got[len(got)-1] != msg[len(msg)-1] {
			t.Errorf("file holds %d samples, want the %d of the message exactly", len(got), len(msg))
		}
	})
	t.Run("mark", func(t *testing.T) {
		r, err := NewRecorder(filepath.Join(dir, "b.wav"), testMeta)
		if err != nil {
			t.Fatal(err)
		}
		before := speech(audio.SampleRate, 2)
		feed(t, r, before)
		mark := make([]int16, 3200)
		for i := range mark {
			mark[i] = 20000
		}
		if err := r.Mark(mark); err != nil {
			t.Fatal(err)
		}
		feed(t, r, make([]int16, audio.SampleRate))
		res, err := r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.Samples != int64(len(before)+len(mark)+audio.SampleRate) {
			t.Errorf("%d samples, want %d", res.Samples, len(before)+len(mark)+audio.SampleRate)
		}
		got := readBack(t, res.Path)
		if got[len(before)] != 20000 || got[len(before)-1] != before[len(before)-1] {
			t.Errorf("the mark is not right after what was said")
		}
	})
}

// recoverer keeps the tickets Recover asks for.
type recoverer struct{ got []astreinte.Ticket }

func (r *recoverer) Recover(_ context.Context, t *astreinte.Ticket) (bool, error) {
	r.got = append(r.got, *t)
	return true, nil
}

// TestRecoverSilentIsMissedCall: after a crash, a recording cut during the
// greeting with nothing said is a missed call to call back; one with voice
// is a message.
func TestRecoverSilentIsMissedCall(t *testing.T) {
	dir := t.TempDir()
	for name, pcm := range map[string][]int16{
		"silent.wav": make([]int16, 3*audio.SampleRate),
		"voiced.wav": talking(3 * audio.SampleRate),
	} {
		r, err := NewRecorder(filepath.Join(dir, name), testMeta)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, pcm) // then the process dies: no Close
	}
	var rc recoverer
	n, err := Recover(context.Background(), dir, &rc, time.Now, slog.New(slog.DiscardHandler))
	if err != nil || n != 2 {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	for _, tk := range rc.got {
		want := astreinte.KindVoicemail
		if filepath.Base(tk.Recording) == "silent.wav" {
			want = astreinte.KindMissedCall
		}
		if tk.Kind != want && !(want == astreinte.KindVoicemail && tk.Kind == "") {
			t.Errorf("%s: kind %q, want %q", filepath.Base(tk.Recording), tk.Kind, want)
		}
		if tk.CallbackNumber != "+33612345678" {
			t.Errorf("%s: callback number %q", filepath.Base(tk.Recording), tk.CallbackNumber)
		}
	}
}

// TestRecorderUpdateMeta: the sidecar says urgent once the caller chose it,
// and a recording recovered after a crash keeps it.
func TestRecorderUpdateMeta(t *testing.T) {
	dir := t.TempDir()
	meta := testMeta
	meta.Urgency = "normal"
	r, err := NewRecorder(filepath.Join(dir, "u.wav"), meta)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r, speech(audio.SampleRate, 7))
	meta.Urgency = "urgent"
	if err := r.UpdateMeta(meta); err != nil {
		t.Fatal(err)
	}
	found, err := RepairRecordings(dir) // the process died: no Close
	if err != nil || len(found) != 1 || found[0].Meta.Urgency != "urgent" {
		t.Fatalf("repaired %+v, %v; want one urgent recording", found, err)
	}
}
