// Package sipcall pages a technician by calling them: it says which ticket
// and which caller, plays the caller's message, and waits for a key — 1
// acknowledges, 2 repeats the message, 3 passes to the next person. When
// the caller called several times, the newest message comes first and 2
// plays the earlier one, then after the oldest the newest again. An answer
// without a key (a voicemail box, a pocket) is not an acknowledgement.
package sipcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
	phonenumber "github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/sip"
)

// Dialer places outbound calls (sip.Server).
type Dialer interface {
	Dial(ctx context.Context, target string, opts sip.DialOptions) (*sip.Call, error)
}

// Notifier calls technicians. It implements oncall.Notifier.
type Notifier struct {
	Dialer Dialer
	// Recordings opens the message played: the file here, else the
	// store's copy (recording.Opener; nil: files only).
	Recordings *recording.Opener
	Options    sip.DialOptions
	// Prompts by language ("fr", "en"); the technician's language, else fr.
	Prompts map[string]*audio.Prompts
	// KeyTimeout is how long to wait for a key after the menu (default 8 s);
	// the menu is said MenuRepeats times (default 3) before hanging up.
	KeyTimeout  time.Duration
	MenuRepeats int
	// MaxMessage bounds the part of the recording played (default 3 min).
	MaxMessage time.Duration
	// Region is how the number to call back is said: an E.164 number of
	// that region in its national form ("06 12 34 56 78"); "" is
	// phone.DefaultRegion.
	Region string
	Log    *slog.Logger
}

var _ oncall.Notifier = (*Notifier)(nil)

// Rings reports true: a call occupies the person, who is called for one
// ticket at a time.
func (n *Notifier) Rings() bool { return true }

// Reaches reports whether p has a SIP URI or a phone number to call.
func (n *Notifier) Reaches(p oncall.Person) bool { return p.SIP != "" || p.Phone != "" }

// ErrNoKey means the call was answered but 1 was not pressed (no key, or
// other keys until the menu was said MenuRepeats times).
var ErrNoKey = errors.New("answered but key 1 not pressed: not an acknowledgement")

// Target is the URI to call for a person: their SIP URI, or their phone
// number through the proxy/trunk.
func (n *Notifier) Target(p oncall.Person) (string, error) {
	if t := p.SIPTarget(n.Options.Proxy); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("%s has no SIP URI (and no phone number with a paging proxy)", p.Name)
}

// Notify calls the person and plays the page. Key 1 acknowledges through
// the notice's Acknowledge, at once: a colleague's phone still ringing
// stops ringing while this call says goodbye, and a second
// acknowledgement hears that the ticket is already taken.
func (n *Notifier) Notify(ctx context.Context, no oncall.Notice) (oncall.Result, error) {
	if no.Event == oncall.NoticeTaken {
		return oncall.Result{}, errors.New("nobody is called to be told a ticket is taken (a SIP MESSAGE tells them)")
	}
	target, err := n.Target(no.Person)
	if err != nil {
		return oncall.Result{}, err
	}
	p := n.Prompts[no.Person.Language]
	if p == nil {
		p = n.Prompts["fr"]
	}
	if p == nil {
		return oncall.Result{}, errors.New("no prompts loaded for call-outs")
	}
	c, err := n.ring(ctx, target, no)
	if err != nil {
		return oncall.Result{}, err
	}
	defer c.Close(ctx)
	pl := audio.Player{Ctx: ctx, Call: c, Media: c.Media()}
	msgs := newMessages(no.Ticket, n.message)
	key, err := pl.Play(true, audio.Silence(600*time.Millisecond), p.Must(audio.PromptPageIntro), n.ticketWords(p, no), n.fromWords(p, no))
	if err == nil && key == 0 {
		key, err = pl.Play(true, audio.Silence(300*time.Millisecond), msgs.play(p), audio.Silence(300*time.Millisecond), p.Must(msgs.menu()))
	}
	return n.menu(ctx, &pl, p, msgs, no, key, err)
}

// ring calls target. While it rings, the call gives up if the ticket is
// acknowledged elsewhere (no.Stop); once answered it plays out (pressing
// 1 then is harmless).
func (n *Notifier) ring(ctx context.Context, target string, no oncall.Notice) (*sip.Call, error) {
	ringCtx, stopRinging := context.WithCancel(ctx)
	if no.Stop != nil {
		go func() {
			select {
			case <-no.Stop:
				stopRinging()
			case <-ringCtx.Done():
			}
		}()
	}
	c, err := n.Dialer.Dial(ringCtx, target, n.Options)
	stopRinging()
	if err != nil && ctx.Err() == nil && closed(no.Stop) {
		return nil, errors.New("stopped ringing: the ticket was acknowledged elsewhere")
	}
	if err != nil {
		var de *sip.DialError
		if errors.As(err, &de) {
			return nil, fmt.Errorf("call %s", strings.TrimPrefix(de.Error(), "call "))
		}
		return nil, err
	}
	return c, nil
}

// ticketWords says the ticket's number; none yet for a ticket paged from
// memory (the store refused it).
func (n *Notifier) ticketWords(p *audio.Prompts, no oncall.Notice) []int16 {
	if no.Ticket.Number == "" {
		return nil
	}
	return p.SpeakTicket(no.Ticket.Number)
}

// fromWords says the number to call back as people write it ("06 11 22
// 33 44"), or that the caller hid it.
func (n *Notifier) fromWords(p *audio.Prompts, no oncall.Notice) []int16 {
	num := no.Ticket.ReachAt()
	if num == "" || num == "anonymous" {
		return p.Must(audio.PromptPageHidden)
	}
	written := phonenumber.National(num, n.Region)
	n.log().Info("call-out: number to call back", "ticket", no.Ticket.Number, "person", no.Person.ID,
		"number", written, "prompts", strings.Join(audio.NumberKeys(written), " "))
	return audio.Concat(p.Must(audio.PromptPageFrom), p.Grouped(written))
}

// menu runs the page's menu from the key already pressed (0: none) until
// the person acknowledges (1), passes (3), or the call ends or times out;
// 2 plays the next message.
func (n *Notifier) menu(ctx context.Context, pl *audio.Player, p *audio.Prompts, msgs *messages, no oncall.Notice, key rune, err error) (oncall.Result, error) {
	repeats := max(n.MenuRepeats, 1)
	if n.MenuRepeats == 0 {
		repeats = 3
	}
	timeout := n.KeyTimeout
	if timeout == 0 {
		timeout = 8 * time.Second
	}
	for tries := 0; err == nil && tries < repeats+2; {
		if key == 0 {
			key, err = pl.WaitKey(timeout)
			if err != nil {
				break
			}
		}
		switch key {
		case '1':
			return n.acknowledge(ctx, pl, p, msgs, no), nil
		case '3':
			pl.Play(false, p.Must(audio.PromptPagePassed), audio.Silence(audio.HangupTail))
			return oncall.Result{Passed: true, Detail: "answered, " + msgs.heard() + "passed to the next person with key 3"}, nil
		case '2':
			msgs.next()
			key, err = pl.Play(true, msgs.play(p), audio.Silence(300*time.Millisecond), p.Must(msgs.menu()))
		default:
			tries++
			if tries >= repeats {
				return oncall.Result{}, ErrNoKey
			}
			key, err = pl.Play(true, p.Must(msgs.menu()))
		}
	}
	if errors.Is(err, audio.ErrCallEnded) {
		return oncall.Result{}, errors.New("answered, hung up without pressing a key")
	}
	if err != nil {
		return oncall.Result{}, err
	}
	return oncall.Result{}, ErrNoKey
}

// acknowledge takes the ticket for the person who pressed 1, at once,
// and tells them so, or who already has it.
func (n *Notifier) acknowledge(ctx context.Context, pl *audio.Player, p *audio.Prompts, msgs *messages, no oncall.Notice) oncall.Result {
	if no.Acknowledge != nil {
		taken, by, err := no.Acknowledge(ctx)
		if err != nil {
			n.log().Error("call-out: acknowledge", "ticket", no.Ticket.Number, "error", err)
		}
		if err == nil && !taken {
			pl.Play(false, p.Must(audio.PromptPageAlreadyTaken), audio.Silence(audio.HangupTail))
			return oncall.Result{Detail: "answered, " + msgs.heard() + "key 1, but already taken by " + by}
		}
	}
	pl.Play(false, p.Must(audio.PromptPageAcked), audio.Silence(audio.HangupTail))
	return oncall.Result{Acked: true, Detail: "answered, " + msgs.heard() + "acknowledged with key 1"}
}

// closed reports whether ch is closed (false for nil).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// messages walks a ticket's messages during a call-out: the newest first,
// key 2 the earlier one, and after the oldest the newest again. A ticket
// with one message is said as always: key 2 hears it again.
type messages struct {
	paths   []string // newest first
	read    func(path string) []int16
	pcm     map[int][]int16 // read once
	cur     int
	wrapped bool // the newest is heard again
	seen    []bool
}

// newMessages gives t's messages to walk, read by read when first played.
func newMessages(t astreinte.Ticket, read func(string) []int16) *messages {
	m := &messages{read: read, pcm: map[int][]int16{}}
	for _, r := range t.Recordings {
		m.paths = append(m.paths, r.Path)
	}
	if len(m.paths) == 0 { // a ticket paged from memory: its own recording
		m.paths = []string{t.Recording}
	}
	m.seen = make([]bool, len(m.paths))
	return m
}

// play is the current message with what introduces it.
func (m *messages) play(p *audio.Prompts) []int16 {
	m.seen[m.cur] = true
	pcm, ok := m.pcm[m.cur]
	if !ok {
		pcm = m.read(m.paths[m.cur])
		m.pcm[m.cur] = pcm
	}
	if len(pcm) == 0 {
		return p.Must(audio.PromptPageNoMessage)
	}
	intro := audio.PromptPageMessage
	switch {
	case len(m.paths) == 1:
	case m.cur > 0:
		intro = audio.PromptPageEarlier
	case m.wrapped:
		intro = audio.PromptPageNewest
	default:
		intro = audio.PromptPageMessages
	}
	return audio.Concat(p.Must(intro), audio.Silence(300*time.Millisecond), pcm)
}

// menu is the prompt said after the current message.
func (m *messages) menu() string {
	switch {
	case len(m.paths) == 1:
		return audio.PromptPageMenu
	case m.cur < len(m.paths)-1:
		return audio.PromptPageMenuMore
	}
	return audio.PromptPageMenuRestart
}

// next moves to the message key 2 plays: the earlier one, once the
// current one was played at least in part (a key pressed during the
// introduction still gets the newest).
func (m *messages) next() {
	if len(m.paths) == 1 || !m.seen[m.cur] {
		return
	}
	m.cur = (m.cur + 1) % len(m.paths)
	m.wrapped = m.wrapped || m.cur == 0
}

// heard says, for the timeline, how many of several messages were played
// ("heard 2 of 3 messages, "); "" for a ticket with one.
func (m *messages) heard() string {
	if len(m.paths) < 2 {
		return ""
	}
	n := 0
	for _, s := range m.seen {
		if s {
			n++
		}
	}
	return fmt.Sprintf("heard %d of %d messages, ", n, len(m.paths))
}

// message reads the caller's recording for playback (nil if unreadable).
func (n *Notifier) message(path string) []int16 {
	if path == "" {
		return nil
	}
	pcm, _, err := n.Recordings.Samples(context.Background(), path) // the file, else the store's copy
	if err != nil {
		n.log().Warn("call-out: recording unreadable", "path", path, "error", err)
		return nil
	}
	maxLen := n.MaxMessage
	if maxLen == 0 {
		maxLen = 3 * time.Minute
	}
	if lim := int(maxLen.Seconds() * 8000); len(pcm) > lim {
		pcm = pcm[:lim]
	}
	return pcm
}

func (n *Notifier) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.Default()
}
