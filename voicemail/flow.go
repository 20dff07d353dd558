package voicemail

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/sip/media"
	"github.com/astreinte/astreinte/vad"
)

// Tickets records every call, whatever came of it, and turns a recorded
// message into a ticket (tickets.Service). Create sets t.ID, t.Number and
// t.DueAt and decides whether the ticket pages someone.
type Tickets interface {
	StartCall(ctx context.Context, c *astreinte.Call) error
	EndCall(ctx context.Context, c *astreinte.Call) error
	Take(ctx context.Context, t *astreinte.Ticket) (astreinte.Filed, error)
	// Amend updates the ticket this call filed, while the caller is still
	// on the line or once they hung up: they pressed 1 after it was
	// filed, or said more (the recording grew).
	Amend(ctx context.Context, id int64, a astreinte.Amendment) (astreinte.Filed, error)
}

// Calendar says which case applies at a time: open, out of hours, holiday…
type Calendar interface {
	CaseAt(ctx context.Context, t time.Time) (astreinte.Case, string)
}

// Line is a support line as the flow uses it.
type Line struct {
	Name    string
	Prompts *audio.Prompts
	// AnswerAfter lets the phone ring this long before answering.
	AnswerAfter time.Duration
	// RedirectTo, when set, sends callers to the support desk while
	// support is open instead of taking a message.
	RedirectTo string
	// UrgencyTimeout is how long the urgency menu waits for a key.
	UrgencyTimeout time.Duration
	Record         Limits
	// Region is the country the line's numbers are read in ("FR").
	Region string
	// MissedCalls says what a call that ends without a message becomes out
	// of hours, from a number that is not hidden ("": MissedTicket).
	MissedCalls astreinte.MissedCallPolicy
	// DeskInHours: the support desk is told of every message and missed
	// call in opening hours, so missed calls in hours are tickets too.
	DeskInHours bool
	// SensitiveNotice: after a message, before goodbye, the caller is told
	// that sensitive requests are only handled through the authenticated
	// customer area (customer.go).
	SensitiveNotice bool
}

// Limits bound a message.
type Limits struct {
	MaxLength        time.Duration // the message is cut here
	Silence          time.Duration // this much quiet ends it
	MinLength        time.Duration // shorter and unvoiced: no message
	SilenceThreshold float64       // dBFS below which a frame is quiet
}

// Handler answers calls on the support lines. It implements sip.Handler.
type Handler struct {
	Lines    map[string]*Line
	Tickets  Tickets
	Calendar Calendar
	// RecordDir is where recordings are written (dated sub-directories).
	RecordDir string
	// Audio, when set, copies each recording to the shared store as it
	// is made (recording.Shipper, on PostgreSQL), so that another node has
	// it if this one dies; nil: the file only.
	Audio AudioShipper
	Now   func() time.Time
	Log   *slog.Logger
	// OnCall says whether anyone can be paged now, and if not why; nil:
	// nobody is promised.
	OnCall OnCall
	// NextOpen returns when support next opens after t (zero: unknown);
	// nil: the greeting does not say.
	NextOpen func(ctx context.Context, t time.Time) time.Time
	// Location is the zone dates are spoken in (default: Now's).
	Location *time.Location
	// Customers, when set (a customer directory is configured), lets a
	// caller out of hours whom the caller ID does not identify type a
	// customer number (customer.go).
	Customers Customers
	// Mail says whether a ticket's caller is mailed its acknowledgement
	// with the customer space's link (correspondence.Desk); nil: never.
	Mail CallMail
}

var _ sip.Handler = (*Handler)(nil)

// callMedia is what the flow needs of a call's media (*media.Session).
type callMedia interface {
	audio.Media
	SetRecorder(w media.SampleWriter)
	Stats() media.Stats
}

// session is one call going through the flow. run and what it calls use
// the call only through done, the caller's facts and m, so that tests can
// drive them without SIP.
type session struct {
	h    *Handler
	ctx  context.Context
	c    *sip.Call
	m    callMedia
	sm   *media.Session // m, as the SIP call made it (nil in tests)
	line *Line
	p    *audio.Prompts
	pl   audio.Player
	log  *slog.Logger
	rec  astreinte.Call

	row    *callRow        // the call's row in the call log, written aside
	callID string          // SIP Call-ID
	from   sip.Party       // the caller
	done   <-chan struct{} // closed when the call ended
	closed bool            // out of hours: the urgency key counts

	// The answered call (run).
	cs        astreinte.Case
	answered  time.Time
	det       *vad.Detector // the caller's voice
	recorder  *Recorder     // nil when no recording can be made
	urgency   astreinte.Urgency
	menuHeard bool             // the urgency question was heard whole, or answered
	marks     []astreinte.Mark // along the recording
	messageAt time.Duration    // where the message after the beep starts
	// speechDropped is the speech the recording dropped at the beep (less
	// than voiceMin over the greeting).
	speechDropped time.Duration
	beepAt        time.Time // when the message proper began
	more          int       // times the caller's voice stopped a prompt after the message
	// The ticket, once filed, and the recording as it was then.
	ticket         *astreinte.Ticket
	filed          astreinte.Filed
	filedAt        int64         // samples
	speechAtFiling time.Duration // det.Speech() then
}

// ServeCall runs the caller's flow for one call. It waits through the
// call on the call's goroutine (the SIP transaction's): what is done once
// with a large frame (the calendar decision, the answer, what follows the
// message) is in functions that return before the long waits, so that the
// goroutine's stack stays small while the caller speaks.
func (h *Handler) ServeCall(ctx context.Context, c *sip.Call) {
	line := h.Lines[c.Line]
	if line == nil {
		c.Reject(404, "Not Found")
		return
	}
	s := &session{h: h, ctx: ctx, c: c, line: line, p: line.Prompts, log: c.Log(), callID: c.ID, from: c.From, done: c.Done()}
	cs := s.open()
	defer s.finishCall()
	if !s.pickUp(cs) {
		return
	}
	s.run(cs)
	// A moment of silence lets the caller's jitter buffer play the end of
	// the goodbye out before our BYE tears the call down.
	s.pl.Play(false, audio.Silence(audio.HangupTail))
	c.Hangup(ctx) // after the goodbye: our BYE, logged as such
}

// open decides the calendar case and writes the call's row.
func (s *session) open() astreinte.Case {
	now := s.h.Now()
	cs, label := s.h.Calendar.CaseAt(s.ctx, now)
	s.rec = astreinte.Call{
		SIPCallID: s.c.ID, Line: s.line.Name, CallerNumber: s.c.From.User, CallerName: s.c.From.Display,
		Called: s.c.To.User, Case: cs, StartedAt: now, Outcome: astreinte.OutcomeInProgress,
	}
	s.row = s.logCall(s.ctx)
	s.log.Info("calendar decision", "case", cs, "label", label)
	return cs
}

// pickUp redirects the call during opening hours when the line says so,
// or rings and answers it; it reports whether the call was answered.
func (s *session) pickUp(cs astreinte.Case) bool {
	c, ctx, line := s.c, s.ctx, s.line
	if cs.Open() && line.RedirectTo != "" {
		if err := c.Redirect(line.RedirectTo); err != nil {
			s.log.Error("redirect", "error", err)
			s.rec.Outcome = astreinte.OutcomeFailed
			return false
		}
		s.rec.Outcome = astreinte.OutcomeRedirected
		s.log.Info("redirected to the support desk", "to", line.RedirectTo)
		return false
	}
	if err := c.Ring(); err != nil {
		s.ended(err)
		return false
	}
	if line.AnswerAfter > 0 {
		t := time.NewTimer(line.AnswerAfter)
		select {
		case <-t.C:
		case <-c.Done():
			t.Stop()
			s.rec.Outcome = astreinte.OutcomeCancelled
			return false
		case <-ctx.Done():
			t.Stop()
			c.Reject(503, "Service Unavailable")
			s.rec.Outcome = astreinte.OutcomeRejected
			return false
		}
	}
	if err := c.Answer(ctx); err != nil {
		s.ended(err)
		return false
	}
	s.rec.AnsweredAt = s.h.Now()
	s.sm = c.Media()
	s.m = s.sm
	s.pl = audio.Player{Ctx: ctx, Call: c, Media: s.m}
	return true
}

// ended sets the outcome of a call that ended before it was answered.
func (s *session) ended(err error) {
	if s.c.EndedBy() == sip.EndedByCancel || errors.Is(err, sip.ErrCallEnded) {
		s.rec.Outcome = astreinte.OutcomeCancelled
		return
	}
	s.log.Error("answer failed", "error", err)
	s.rec.Outcome = astreinte.OutcomeFailed
}

func (s *session) finishCall() {
	if r := recover(); r != nil {
		s.log.Error("call flow panicked; call ended", "panic", r)
		if s.rec.Outcome == astreinte.OutcomeInProgress {
			s.rec.Outcome = astreinte.OutcomeFailed
		}
	}
	// When the call ended, not when we finished writing down its message:
	// the hang-up is the moment a technician's page is measured from.
	s.rec.EndedAt = s.c.EndedAt()
	if s.rec.EndedAt.IsZero() {
		s.rec.EndedAt = s.h.Now()
	}
	s.rec.HangupBy = s.c.EndedBy()
	if s.sm != nil && s.sm.Err() == media.ErrMediaTimeout {
		s.rec.HangupBy = sip.EndedByTimeout
		if s.rec.Outcome == astreinte.OutcomeInProgress || s.rec.Outcome == astreinte.OutcomeNoMessage {
			s.rec.Outcome = astreinte.OutcomeMediaTimeout
		}
	}
	if s.rec.Outcome == astreinte.OutcomeInProgress {
		s.rec.Outcome = astreinte.OutcomeNoMessage
	}
	s.writeEnd()
	s.log.Info("call ended", "outcome", s.rec.Outcome, "hangup_by", s.rec.HangupBy, "ticket_id", s.rec.TicketID)
}

// endWait bounds how long the call's end waits for its row before it is
// written aside.
var endWait = 10 * time.Second

// writeEnd writes how the call ended (s.rec) in its row: at once when the
// row is written, else aside once it is (the store is slow: logCall goes
// on trying).
func (s *session) writeEnd() {
	s.rec.ID = s.callRow(endWait)
	if s.rec.ID == 0 && s.row != nil {
		rec := s.rec
		go func() {
			if rec.ID = s.rowWritten(); rec.ID != 0 {
				s.endCall(&rec)
			}
		}()
	} else if s.rec.ID != 0 {
		s.endCall(&s.rec)
	}
}

// endCall writes how the call ended in its row.
func (s *session) endCall(rec *astreinte.Call) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	if err := s.h.Tickets.EndCall(ctx, rec); err != nil {
		s.log.Error("call log: update", "error", err)
	}
}

// recordingPath is data/recordings/2026/11/23/031502-<call id>.wav.
func (s *session) recordingPath(now time.Time) string {
	id := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s.callID)
	if len(id) > 40 {
		id = id[:40]
	}
	return filepath.Join(s.h.RecordDir, now.Format("2006/01/02"), now.Format("150405")+"-"+id+".wav")
}

// messageEnd is why a message ended (logged as "end").
type messageEnd string

// Why a message ends.
const (
	endBeforeBeep messageEnd = "hangup_before_beep" // the caller hung up during the greeting
	endPound      messageEnd = "pound"              // the caller pressed #
	endSilence    messageEnd = "silence"            // quiet for Record.Silence, or nothing said after the nudge
	endMaxLength  messageEnd = "max_length"         // Record.MaxLength after the beep
	endHangup     messageEnd = "hangup"             // the caller hung up
	endTimeout    messageEnd = "timeout"            // the media stopped arriving
	endShutdown   messageEnd = "shutdown"           // the service is stopping
)

// waitMessageEnd blocks until the message is over and says why. A caller
// who has spoken (spoke, or speech heard since the call began to wait)
// ends it by Record.Silence of quiet; one who has not is not cut off by
// that silence: after speakNudgeAfter they are told to speak after the
// beep, beeped at again, and the message ends without speech only
// speakWaitAfterNudge later. # ends it; key 1 out of hours says urgent;
// Record.MaxLength after the beep cuts it.
func (s *session) waitMessageEnd(spoke bool) messageEnd {
	// The message, and all the caller adds to it over later prompts, is
	// bounded by Record.MaxLength from the beep.
	maxT := time.NewTimer(max(0, s.line.Record.MaxLength-time.Since(s.beepAt)))
	defer maxT.Stop()
	limit := s.line.Record.Silence
	segs := s.det.Segments()
	spoke = spoke || s.det.Talking()
	waitFrom, nudged := time.Now(), false
	// Checked when the quiet could first reach the limit, not on a
	// steady tick: a caller talking costs a wake-up every few seconds.
	check := time.NewTimer(minQuietCheck)
	defer check.Stop()
	var q quietWatch
	for {
		select {
		case k := <-s.m.DTMF():
			switch {
			case k == '#':
				s.mark(astreinte.MarkKey, "#")
				return endPound
			case k == '1' && s.closed:
				s.mark(astreinte.MarkKey, "1")
				s.urgent("message")
			}
		case now := <-check.C:
			spoke = spoke || s.det.Segments() > segs
			if spoke {
				if q.ended(now, s.det.Heard(), s.det.Quiet(), limit) {
					return endSilence
				}
				check.Reset(q.wait(limit))
				continue
			}
			switch waited := now.Sub(waitFrom); {
			case !nudged && waited >= speakNudgeAfter:
				nudged = true
				if s.nudge() != nil {
					return endHangup
				}
				waitFrom = time.Now()
			case nudged && waited >= speakWaitAfterNudge:
				return endSilence
			}
			check.Reset(minQuietCheck)
		case <-maxT.C:
			return endMaxLength
		case <-s.done:
			return endHangup
		case <-s.m.Done():
			return endTimeout
		case <-s.ctx.Done():
			return endShutdown
		}
	}
}

// nudge asks a caller who has said nothing since the beep to speak, and
// beeps again.
func (s *session) nudge() error {
	s.log.Info("nothing said since the beep: asked to speak")
	s.mark(astreinte.MarkPrompt, audio.PromptSpeakAfterBeep)
	if _, err := s.pl.Play(false, s.p.Must(audio.PromptSpeakAfterBeep), s.p.Must(audio.PromptBeep)); err != nil {
		return err
	}
	s.mark(astreinte.MarkBeep, audio.PromptSpeakAfterBeep)
	return nil
}

// quietWatch decides when the caller has been quiet long enough to end the
// message. Quiet is the recording's trailing silence plus the time nothing
// at all arrived: a phone with silence suppression stops sending while its
// user says nothing, and that silence must end the message too.
type quietWatch struct {
	last   time.Duration // recording length at the last growth
	grewAt time.Time
	short  time.Duration // how much quiet the last check still missed
}

// stallGrace is how long the recording may not grow before it counts as
// quiet: the receive path holds 100 ms back, packets come every 20 ms.
const stallGrace = 300 * time.Millisecond

// minQuietCheck bounds how often the quiet is checked.
const minQuietCheck = 250 * time.Millisecond

// ended is called at each check with the recording's length and trailing
// silence; limit is the configured silence.
func (q *quietWatch) ended(now time.Time, length, trailing, limit time.Duration) bool {
	if q.grewAt.IsZero() || length != q.last {
		q.last, q.grewAt = length, now
	}
	quiet, heard := trailing, length
	if stalled := now.Sub(q.grewAt); stalled > stallGrace {
		quiet += stalled
		heard += stalled
	}
	q.short = max(limit-quiet, limit-heard)
	return q.short <= 0
}

// wait is how long after the last check the quiet could first reach the
// limit: both quiet and length grow at most as fast as time (a stall
// counted at once adds stallGrace, so the end is seen at most that late).
func (q *quietWatch) wait(limit time.Duration) time.Duration {
	return max(minQuietCheck, min(q.short, limit))
}
