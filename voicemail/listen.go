package voicemail

import (
	"context"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/vad"
)

// What the flow hears: the caller's audio goes, sample for sample, to the
// voice detector and to the recorder. The detector decides barge-in, the
// end of the message and whether there is a message at all; it runs even
// when no recording can be made.

// ear feeds the caller's audio to the detector and the recorder (nil when
// no recording can be made). It implements the media package's
// SampleWriter; it allocates nothing.
type ear struct {
	det *vad.Detector
	rec *Recorder
}

func (e ear) WriteSamples(s []int16) error {
	e.det.Write(s)
	if e.rec == nil {
		return nil
	}
	return e.rec.WriteSamples(s)
}

// vadConfig is the line's voice detection.
func (l *Line) vadConfig() vad.Config {
	return vad.Config{Threshold: l.Record.SilenceThreshold}.WithDefaults()
}

// Bounds of the questions after the message, so that a caller who keeps
// talking or pressing keys still reaches the end.
const (
	maxAsks = 3 // times one question is put again after speech or a stray key
	// maxMore is how many times the caller's voice may stop a prompt after
	// the message: a caller who talks on and on (or a television) still
	// hears their ticket's number; what they say is recorded all the same.
	maxMore = 2
	// speakNudgeAfter is how long after the beep a caller who has not
	// said anything is told "speak after the beep" and beeped at again;
	// speakWaitAfterNudge is how long after that the message ends
	// without speech: a caller who waits is not cut off by the silence
	// that ends a message.
	speakNudgeAfter     = 5 * time.Second
	speakWaitAfterNudge = 8 * time.Second
	// urgencyKeyWait is how long the urgency question after the message
	// waits for key 1.
	urgencyKeyWait = 4 * time.Second
)

// step is one prompt after the message: a question, whose answer is one
// of keys, or a statement (no keys).
type step struct {
	name  string // the prompt's name, for the marks
	parts [][]int16
	keys  string // the keys that answer it
	wait  time.Duration
}

// answerUrgent is what ask returns when key 1 was taken as "it is urgent"
// during a statement: the caller re-plans what is said next.
const answerUrgent rune = -2

// ask plays a step after the message and returns the key that answers it
// (0: none within st.wait). Along the way the caller's voice stops the
// prompt and is recorded as more of the message, then the step is put
// again; key 1, when it does not answer the step, means urgent (a
// question is put again, a statement returns answerUrgent); any other key
// that does not answer it cuts a statement short and puts a question again.
func (s *session) ask(st step) (rune, error) {
	for range maxAsks {
		s.drainKeys(st.name) // a 1 pressed in between still counts
		s.mark(astreinte.MarkPrompt, st.name)
		k, err := s.pl.Play(true, st.parts...)
		if err == nil && k == 0 && st.wait > 0 {
			k, err = s.pl.WaitKey(st.wait)
		}
		if err != nil {
			return 0, err
		}
		switch {
		case k == 0:
			return 0, nil
		case k == audio.Speech:
			s.mark(astreinte.MarkSpeech, st.name)
			s.log.Info("caller spoke over a prompt after the message: recording more", "prompt", st.name)
			if err := s.moreMessage(); err != nil {
				return 0, err
			}
			continue
		case strings.ContainsRune(st.keys, k):
			s.mark(astreinte.MarkKey, string(k))
			return k, nil
		case k == '1' && s.closed:
			s.mark(astreinte.MarkKey, "1")
			s.urgent("after the message: " + st.name)
			if st.keys == "" {
				return answerUrgent, nil
			}
		case st.keys == "":
			s.mark(astreinte.MarkKey, string(k))
			return k, nil
		}
	}
	return 0, nil
}

// mark notes an event at the current length of the recording.
func (s *session) mark(kind astreinte.MarkKind, name string) {
	if s.recorder == nil {
		return
	}
	s.marks = append(s.marks, astreinte.Mark{At: audio.DurationOf(s.recorder.Samples()), Kind: kind, Name: name})
}

// urgent takes key 1 as "it is urgent": before the ticket is filed it is
// filed urgent; after, the ticket is amended and paged at once.
func (s *session) urgent(during string) {
	if s.urgency == astreinte.Urgent {
		return
	}
	s.urgency = astreinte.Urgent
	s.log.Info("urgency chosen", "urgency", astreinte.Urgent, "key", "1", "during", during)
	// On the call's row at once: if this node dies now, the call is filed
	// urgent by another (FileCutCalls), recording readable or not.
	s.noteCall(astreinte.Call{Urgency: astreinte.Urgent}, "urgency")
	if s.recorder != nil {
		if err := s.recorder.UpdateMeta(s.meta()); err != nil {
			s.log.Warn("recording sidecar not updated", "error", err)
		}
	}
	if s.ticket == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	filed, err := s.amend(ctx, astreinte.Amendment{Urgent: true})
	if err != nil {
		s.log.Error("urgency after the ticket was filed: not recorded", "ticket", s.ticket.Number, "error", err)
		return
	}
	s.ticket.Urgency = astreinte.Urgent
	s.filed.Paging = s.filed.Paging || filed.Paging
	s.log.Info("ticket made urgent during the call", "ticket", s.ticket.Number, "paging", filed.Paging)
}

// moreMessage records what the caller says after the message proper, over
// a prompt: until they are quiet again, press #, or hang up (an error).
func (s *session) moreMessage() error {
	s.more++
	if s.more >= maxMore {
		// From now on prompts play through the caller's voice.
		s.pl.Voice = nil
	}
	end := s.waitMessageEnd(true)
	s.log.Info("more of the message recorded", "end", end, "times", s.more)
	if !s.up() {
		return audio.ErrCallEnded
	}
	return nil
}
