package voicemail

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/sip/media"
)

// The caller's flow driven without SIP, on synctest's clock: a fake media
// plays each prompt for its length, delivers the caller's keys at set times
// and feeds the recorder their voice or silence every 20 ms.

// fakeCall is a caller: when they press keys, when they talk, when they
// hang up (all from the answer).
type fakeCall struct {
	keys   map[time.Duration]rune
	talk   func(at time.Duration) bool // voice at this moment
	hangup time.Duration               // 0: never (we hang up)
}

// fakeMedia is the call's media as the flow sees it.
type fakeMedia struct {
	start  time.Time
	p      *audio.Prompts
	dtmf   chan rune
	done   chan struct{} // the call ended
	mu     sync.Mutex
	rec    media.SampleWriter
	played []played
}

type played struct {
	at   time.Duration
	name string
}

func (m *fakeMedia) Start(ctx context.Context, pcm []int16) <-chan struct{} {
	m.mu.Lock()
	m.played = append(m.played, played{time.Since(m.start), m.name(pcm)})
	m.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(audio.DurationOf(int64(len(pcm))))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-m.done:
		}
	}()
	return done
}

// name finds which prompt pcm is ("" for silence or a number).
func (m *fakeMedia) name(pcm []int16) string {
	for _, n := range m.p.Names() {
		if s := m.p.Get(n); len(s) == len(pcm) && len(s) > 0 && &s[0] == &pcm[0] {
			return n
		}
	}
	return ""
}

func (m *fakeMedia) DTMF() <-chan rune     { return m.dtmf }
func (m *fakeMedia) Done() <-chan struct{} { return m.done }
func (m *fakeMedia) Stats() media.Stats    { return media.Stats{} }
func (m *fakeMedia) SetRecorder(w media.SampleWriter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec = w
}

// heardAt returns when the prompt started playing, or -1.
func (m *fakeMedia) heardAt(name string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.played {
		if p.name == name {
			return p.at
		}
	}
	return -1
}

// fakeTickets keeps what the flow files.
type fakeTickets struct {
	filed astreinte.Filed
	// decide, when set, decides what Take returns from the ticket (its
	// customer, say) instead of filed.
	decide func(t *astreinte.Ticket) astreinte.Filed
	got    []astreinte.Ticket
	// amended are the amendments of the tickets filed, in order.
	amended []astreinte.Amendment
	// amendFiled is what Amend returns.
	amendFiled astreinte.Filed
}

func (f *fakeTickets) Amend(_ context.Context, id int64, a astreinte.Amendment) (astreinte.Filed, error) {
	if id < 1 || int(id) > len(f.got) {
		return astreinte.Filed{}, astreinte.ErrNotFound
	}
	f.amended = append(f.amended, a)
	if a.Recording != "" {
		f.got[id-1].Duration = a.Duration
		f.got[id-1].Marks = a.Marks
	}
	return f.amendFiled, nil
}

// urgentLate says whether the flow made ticket 1 urgent after filing it.
func (f *fakeTickets) urgentLate() bool {
	for _, a := range f.amended {
		if a.Urgent {
			return true
		}
	}
	return false
}

func (f *fakeTickets) StartCall(context.Context, *astreinte.Call) error { return nil }
func (f *fakeTickets) EndCall(context.Context, *astreinte.Call) error   { return nil }
func (f *fakeTickets) Take(_ context.Context, t *astreinte.Ticket) (astreinte.Filed, error) {
	t.ID, t.Number = int64(len(f.got)+1), "2026-000042"
	if t.DueAt.IsZero() {
		t.DueAt = t.CreatedAt.Add(48 * time.Hour)
	}
	f.got = append(f.got, *t)
	if f.decide != nil {
		return f.decide(t), nil
	}
	return f.filed, nil
}

// reach: someone can be paged (true), or every channel is failing.
type reach bool

func (r reach) WhyNobody(context.Context, time.Time, astreinte.Ticket) oncall.Reason {
	if r {
		return oncall.ReasonNone
	}
	return oncall.ReasonChannelsFailing
}

// why is the engine's answer for any ticket.
type why oncall.Reason

func (w why) WhyNobody(context.Context, time.Time, astreinte.Ticket) oncall.Reason {
	return oncall.Reason(w)
}

// runFlow runs the answered part of the flow for caller c in case cs.
func runFlow(t *testing.T, cs astreinte.Case, from string, c fakeCall, tk *fakeTickets, reachable bool) *fakeMedia {
	t.Helper()
	return runFlowWith(t, cs, from, c, tk, reachable, nil)
}

// runFlowWith is runFlow with setup changing the handler and the line
// first (nil: as built here).
func runFlowWith(t *testing.T, cs astreinte.Case, from string, c fakeCall, tk *fakeTickets, reachable bool, setup func(*Handler, *Line)) *fakeMedia {
	t.Helper()
	p, err := audio.LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	h := &Handler{
		Tickets: tk, RecordDir: t.TempDir(), Now: time.Now, Log: slog.New(slog.DiscardHandler),
		OnCall: reach(reachable), Location: paris,
		NextOpen: func(_ context.Context, at time.Time) time.Time { return at.Add(6 * time.Hour).Truncate(time.Hour) },
	}
	line := &Line{Name: "support", Prompts: p, Region: "FR",
		Record: Limits{MaxLength: time.Minute, Silence: 5 * time.Second, MinLength: 2 * time.Second, SilenceThreshold: -40}}
	if setup != nil {
		setup(h, line)
	}
	m := &fakeMedia{start: time.Now(), p: p, dtmf: make(chan rune, 16), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &session{h: h, ctx: ctx, line: line, p: p, log: h.Log, m: m, callID: "test-call",
		from: sip.Party{User: from}, done: m.done}
	s.pl = audio.Player{Ctx: ctx, Call: m, Media: m}
	// The caller.
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		voice, quiet := syllables(), make([]int16, 160)
		frame := 0
		for {
			select {
			case <-m.done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			at := time.Since(m.start)
			if c.hangup > 0 && at >= c.hangup {
				close(m.done)
				return
			}
			for k, r := range c.keys {
				if at >= k && at < k+20*time.Millisecond {
					m.dtmf <- r
				}
			}
			pcm := quiet
			if c.talk != nil && c.talk(at) {
				pcm = voice[frame%len(voice)]
				frame++
			}
			m.mu.Lock()
			if m.rec != nil {
				m.rec.WriteSamples(pcm)
			}
			m.mu.Unlock()
		}
	}()
	s.run(cs)
	cancel()
	return m
}

// syllables is a talking caller's audio, 20 ms frames: 200 ms of voice at
// about -20 dBFS, then 60 ms 30 dB lower, as syllables go; a steady level
// would be taken for noise by the voice detector.
func syllables() [][]int16 {
	var frames [][]int16
	for i := range 13 {
		f := speech(160, uint64(i+1))
		if i >= 10 {
			for j := range f {
				f[j] /= 32
			}
		}
		frames = append(frames, f)
	}
	return frames
}

// TestFlow: what the caller hears and what is filed, on a fake clock.
func TestFlow(t *testing.T) {
	t.Run("silent caller out of hours: beep within 10 s, then a missed call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", fakeCall{hangup: 12 * time.Second}, tk, false)
			beep := m.heardAt(audio.PromptBeep)
			if beep < 0 || beep+400*time.Millisecond > 10*time.Second {
				t.Errorf("beep at %s, want it over within 10 s", beep)
			}
			if m.heardAt(audio.PromptGreetingClosed) != 0 || m.heardAt(audio.PromptReopens) < 0 || m.heardAt(audio.PromptMenuUrgency) < 0 {
				t.Errorf("played %+v, want the closed greeting at once, the reopening, the menu", m.played)
			}
			if len(tk.got) != 1 || tk.got[0].Kind != astreinte.KindMissedCall || tk.got[0].CallbackNumber != "+33612345678" {
				t.Errorf("filed %+v, want one missed call from +33612345678", tk.got)
			}
		})
	})
	t.Run("talks from 1 s: the greeting stops after 1.5 s of it, the voice is kept before the beep", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			talk := func(at time.Duration) bool { return at >= time.Second && at < 7*time.Second }
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", fakeCall{talk: talk, hangup: 8 * time.Second}, tk, false)
			beep := m.heardAt(audio.PromptBeep)
			if beep < 2400*time.Millisecond || beep > 2700*time.Millisecond {
				t.Errorf("beep at %s, want 1.5 s after the voice started at 1 s (barge-in)", beep)
			}
			if len(tk.got) != 1 || tk.got[0].Kind != astreinte.KindVoicemail || tk.got[0].MessageAt <= 0 || tk.got[0].Duration < 6*time.Second {
				t.Errorf("filed %+v, want a voicemail of ≥ 6 s with the voice before the beep kept", tk.got)
			}
		})
	})
	t.Run("hangs up before the beep with voice in it: still a message", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			// "Allô ?" and a pause, over and over (600 ms on, 800 ms off):
			// voice, but never long enough at once to cut the greeting.
			bursts := func(at time.Duration) bool { return at%(1400*time.Millisecond) < 600*time.Millisecond }
			m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", fakeCall{talk: bursts, hangup: 2 * time.Second}, tk, false)
			if m.heardAt(audio.PromptBeep) >= 0 {
				t.Fatalf("played %+v: the beep came, the case is a hang-up before it", m.played)
			}
			if len(tk.got) != 1 || tk.got[0].Kind != astreinte.KindVoicemail || tk.got[0].Recording == "" || tk.got[0].Duration < time.Second ||
				tk.got[0].MessageAt != tk.got[0].Duration {
				t.Errorf("filed %+v, want a voicemail with its recording, all of it said before the beep", tk.got)
			}
		})
	})
	for _, tc := range []struct {
		name      string
		filed     astreinte.Filed
		reachable bool
		want      string
		not       string
	}{
		{"urgent, someone reachable: being called now", astreinte.Filed{Paging: true}, true, audio.PromptUrgentCallback, audio.PromptNobodyReachable},
		{"urgent, nobody reachable: said so, and by when", astreinte.Filed{Paging: true}, false, audio.PromptNobodyReachable, audio.PromptUrgentCallback},
		{"joined the open ticket, page restarted: told both", astreinte.Filed{Merged: true, Paging: true}, true, audio.PromptMerged, audio.PromptNobodyReachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tk := &fakeTickets{filed: tc.filed}
				// Key 1 at 2 s, talks from 3 s to 6 s, stays on the line.
				c := fakeCall{keys: map[time.Duration]rune{2 * time.Second: '1'},
					talk: func(at time.Duration) bool { return at >= 3*time.Second && at < 6*time.Second }}
				m := runFlow(t, astreinte.CaseOutOfHours, "0612345678", c, tk, tc.reachable)
				if beep := m.heardAt(audio.PromptBeep); beep < 2*time.Second || beep > 2100*time.Millisecond {
					t.Errorf("beep at %s, want at once after key 1 at 2 s", beep)
				}
				if len(tk.got) != 1 || tk.got[0].Urgency != astreinte.Urgent {
					t.Fatalf("filed %+v, want one urgent ticket", tk.got)
				}
				if m.heardAt(tc.want) < 0 || m.heardAt(tc.not) >= 0 || m.heardAt(audio.PromptSavedTicket) < 0 {
					t.Errorf("played %+v, want %s and the ticket number, not %s", m.played, tc.want, tc.not)
				}
				if tc.want == audio.PromptNobodyReachable && m.heardAt(audio.PromptCallbackBy) < 0 {
					t.Errorf("played %+v, want the day of the callback", m.played)
				}
			})
		})
	}
	t.Run("in hours: greeting and beep within 8 s, no urgency menu", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			m := runFlow(t, astreinte.CaseOpen, "0612345678", fakeCall{hangup: 10 * time.Second}, tk, false)
			if beep := m.heardAt(audio.PromptBeep); beep < 0 || beep+400*time.Millisecond > 8*time.Second {
				t.Errorf("beep at %s, want it over within 8 s", beep)
			}
			if m.heardAt(audio.PromptMenuUrgency) >= 0 || m.heardAt(audio.PromptGreetingOpen) != 0 {
				t.Errorf("played %+v, want the open greeting and no urgency menu", m.played)
			}
			if len(tk.got) != 0 {
				t.Errorf("a silent call in hours filed %+v", tk.got)
			}
		})
	})
}

// TestWhyNobodyWords: a caller who presses 1 at night and whom nobody will
// call hears why, then the day they will be called back by — never "the
// technician is being called", and never "no technician can be reached"
// when nobody was meant to be woken (their contract covers working hours)
// or nobody is on the rota.
func TestWhyNobodyWords(t *testing.T) {
	reasons := []string{audio.PromptContractHours, audio.PromptNobodyOnCall, audio.PromptNobodyReachable, audio.PromptUrgentCallback}
	for _, tc := range []struct {
		name  string
		why   oncall.Reason
		filed astreinte.Filed
		want  string
	}{
		{"contract without on-call", oncall.ReasonContractWithoutOnCall, astreinte.Filed{}, audio.PromptContractHours},
		{"nobody on the rota", oncall.ReasonNobodyOnRota, astreinte.Filed{Paging: true}, audio.PromptNobodyOnCall},
		{"no channel reaches the person on call", oncall.ReasonNoChannel, astreinte.Filed{Paging: true}, audio.PromptNobodyReachable},
		{"every channel failing", oncall.ReasonChannelsFailing, astreinte.Filed{Paging: true}, audio.PromptNobodyReachable},
		{"someone is called", oncall.ReasonNone, astreinte.Filed{Paging: true}, audio.PromptUrgentCallback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tk := &fakeTickets{filed: tc.filed}
				c := fakeCall{keys: map[time.Duration]rune{2 * time.Second: '1'},
					talk: func(at time.Duration) bool { return at >= 3*time.Second && at < 6*time.Second }}
				m := runFlowWith(t, astreinte.CaseOutOfHours, "0612345678", c, tk, false, func(h *Handler, _ *Line) { h.OnCall = why(tc.why) })
				if len(tk.got) != 1 || tk.got[0].Urgency != astreinte.Urgent {
					t.Fatalf("filed %+v, want one urgent ticket", tk.got)
				}
				at := m.heardAt(tc.want)
				if at < 0 {
					t.Fatalf("played %+v, want %s", m.played, tc.want)
				}
				for _, r := range reasons {
					if r != tc.want && m.heardAt(r) >= 0 {
						t.Errorf("played %s too: %+v", r, m.played)
					}
				}
				if tc.why == oncall.ReasonNone {
					return
				}
				by := m.heardAt(audio.PromptCallbackBy)
				if by < at {
					t.Errorf("played %+v: want the callback day after %s", m.played, tc.want)
				}
			})
		})
	}
}
