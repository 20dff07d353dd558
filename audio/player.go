package audio

import (
	"context"
	"errors"
	"time"
)

// ErrCallEnded is returned by Player when the other side hung up, the media
// timed out or the service is stopping.
var ErrCallEnded = errors.New("call ended")

// HangupTail is the silence sent after the last prompt and before our BYE:
// without it a phone's jitter buffer loses the end of the prompt.
const HangupTail = 400 * time.Millisecond

// Player plays prompts on a call and reads its keys, from the call's own
// goroutine: one select covers playback, keys, hang-up, media timeout and
// shutdown, so no extra goroutine is needed.
type Player struct {
	Ctx   context.Context
	Call  Call  // *sip.Call
	Media Media // *media.Session
	// Voice, when not nil, signals that the caller started speaking: an
	// interruptible prompt stops on it as on a key (barge-in), and Play
	// returns Speech.
	Voice <-chan struct{}
}

// Call is what Player needs of a call (*sip.Call): when it ends.
type Call interface {
	Done() <-chan struct{}
}

// Media is what Player needs of a call's media (*media.Session): playing
// audio, its keys, when it stops.
type Media interface {
	Start(ctx context.Context, pcm []int16) <-chan struct{}
	DTMF() <-chan rune
	Done() <-chan struct{}
}

// Speech is what Play returns when the caller's voice interrupted it.
const Speech rune = -1

// Play sends the prompts in order. With interrupt, the first key pressed
// or the caller's voice (Player.Voice) stops the playback and is returned
// (pending keys and voice signals are dropped first); without, keys
// pressed meanwhile wait for the next Play, WaitKey or DrainKeys.
func (p Player) Play(interrupt bool, parts ...[]int16) (rune, error) {
	if interrupt {
		p.DrainKeys()
	}
	for _, pcm := range parts {
		if len(pcm) == 0 {
			continue
		}
		if k, err := p.play(interrupt, pcm); k != 0 || err != nil {
			return k, err
		}
	}
	return 0, nil
}

func (p Player) play(interrupt bool, pcm []int16) (rune, error) {
	ctx, stop := context.WithCancel(p.Ctx)
	defer stop() // a prompt interrupted by a key or a hang-up stops at once
	done := p.Media.Start(ctx, pcm)
	// Without interrupt, keys and voice stay queued for what comes next.
	keys, voice := p.Media.DTMF(), p.Voice
	if !interrupt {
		keys, voice = nil, nil
	}
	for {
		select {
		case <-done:
			return 0, nil
		case k := <-keys:
			return k, nil
		case <-voice:
			return Speech, nil
		case <-p.Call.Done():
			return 0, ErrCallEnded
		case <-p.Media.Done():
			return 0, ErrCallEnded
		case <-p.Ctx.Done():
			return 0, ErrCallEnded
		}
	}
}

// DrainKeys drops keys pressed and voice signalled so far.
func (p Player) DrainKeys() {
	for {
		select {
		case <-p.Media.DTMF():
		case <-p.Voice:
		default:
			return
		}
	}
}

// WaitKey waits for one key press; 0 when none came within d, Speech
// when the caller's voice (Player.Voice) came first.
func (p Player) WaitKey(d time.Duration) (rune, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case k := <-p.Media.DTMF():
		return k, nil
	case <-p.Voice:
		return Speech, nil
	case <-t.C:
		return 0, nil
	case <-p.Call.Done():
		return 0, ErrCallEnded
	case <-p.Media.Done():
		return 0, ErrCallEnded
	case <-p.Ctx.Done():
		return 0, ErrCallEnded
	}
}
