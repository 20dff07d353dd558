package voicemail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/tickets"
)

// OnCall says whether anyone can be paged at a time: someone on call with a
// channel that reaches them. The flow promises "the technician is being
// called now" only then.
type OnCall interface {
	Reachable(ctx context.Context, at time.Time) bool
}

// What a call that ends without a message becomes (Line.MissedCalls).
const (
	MissedTicket = "ticket" // a "missed call, no message" ticket to call back
	MissedPage   = "page"   // the same, urgent: it pages
	MissedIgnore = "ignore" // only the call log
)

// voiceMin is how much voice makes a recording a message whatever its
// length: a caller who said something is never dropped for being short.
const voiceMin = 300 * time.Millisecond

// run is the answered part of the flow. The caller is recorded from the
// answer: what they say over the prompts is kept in front of the message,
// marked by the beep; when they said nothing, the message starts at the
// beep. Any key or their voice cuts a prompt short.
func (s *session) run(cs astreinte.Case) {
	s.closed = !cs.Open()
	answered := s.h.Now()
	rec, path := s.startRecorder(cs, answered)
	if rec == nil {
		s.cannotRecord(cs, answered)
		return
	}
	s.m.SetRecorder(rec)
	s.pl.Voice = rec.Voice()

	urgency := astreinte.NotUrgent
	key, err := s.pl.Play(true, s.intro(cs, answered)...)
	if key == '1' && s.closed {
		urgency = astreinte.Urgent
		s.urgentMeta(rec, cs, answered)
	}
	s.log.Info("urgency chosen", "urgency", urgency, "key", keyName(key))
	if err == nil {
		_, err = s.pl.Play(false, s.p.Must(audio.PromptBeep))
	}
	beepAt := s.h.Now()
	messageAt := time.Duration(0)
	if err == nil {
		s.log.Info("beep", "after_answer", beepAt.Sub(answered).Round(time.Millisecond))
		s.pl.DrainKeys()
		if rec.Voiced() >= voiceMin {
			// What was said over the prompts stays, the beep after it.
			if err := rec.Mark(s.p.Must(audio.PromptBeep)); err != nil {
				s.log.Warn("marking the beep in the recording", "error", err)
			}
			messageAt = rec.Duration()
		} else if err := rec.Restart(); err != nil {
			s.log.Warn("restarting the recording at the beep", "error", err)
		}
	}
	reason := "hangup_before_beep"
	if err == nil {
		was := urgency
		reason = s.waitMessageEnd(rec, &urgency)
		if urgency != was {
			s.urgentMeta(rec, cs, answered)
		}
	}
	s.m.SetRecorder(nil)
	s.pl.Voice = nil
	res, cerr := rec.Close()
	if cerr != nil {
		s.log.Error("closing the recording", "error", cerr, "path", path)
	}
	s.log.Info("message recorded", "end", reason, "duration", res.Duration, "voiced", res.Voiced,
		"message_at", messageAt, "stats", fmt.Sprintf("%+v", s.m.Stats()))
	up := s.up()
	if reason == "hangup_before_beep" {
		messageAt = res.Duration // all of it was said over the prompts
	}

	if noMessage(res, s.line.Record.MinLength, reason == "hangup_before_beep") {
		if err := rec.Discard(); err != nil {
			s.log.Warn("discarding an empty message", "error", err)
		}
		s.rec.Outcome = astreinte.OutcomeNoMessage
		s.missedCall(cs, urgency)
		if up {
			s.pl.Play(false, s.p.Must(audio.PromptNoMessage), s.p.Must(audio.PromptGoodbye))
		}
		return
	}
	callback, typed := s.callbackNumber()
	t := &astreinte.Ticket{
		CallID: s.callRow(5 * time.Second), Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Urgency: urgency, Case: cs, Status: astreinte.StatusNew, Recording: res.Path, Duration: res.Duration,
		CreatedAt: s.h.Now(), Kind: astreinte.KindVoicemail, CallbackNumber: callback, MessageAt: messageAt,
	}
	if typed {
		s.log.Info("callback number typed", "number", callback)
	}
	t.Customer = s.customerNumber(t) // "" unless typed and confirmed
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	filed, err := s.h.Tickets.Take(ctx, t)
	if errors.Is(err, tickets.ErrKept) {
		// The store refused it (a full disk): it is paged from memory and
		// written as soon as the store takes it; the sidecar stays until
		// then, for a crash meanwhile.
		s.log.Error("ticket not written yet: kept in memory, paging goes on", "error", err, "path", res.Path)
		s.rec.Outcome = astreinte.OutcomeVoicemail
		if s.up() {
			s.pl.Play(false, append([][]int16{s.p.Must(audio.PromptSaved)}, s.goodbye()...)...)
		}
		return
	}
	if err != nil {
		// The WAV and its sidecar stay on disk: the ticket is created at
		// the next start-up by the repair pass. The caller is still thanked.
		s.log.Error("ticket not created; kept for the start-up repair", "error", err, "path", res.Path)
		s.rec.Outcome = astreinte.OutcomeFailed
		if s.up() {
			s.pl.Play(false, append([][]int16{s.p.Must(audio.PromptSaved)}, s.goodbye()...)...)
		}
		return
	}
	if err := RemoveSidecar(res.Path); err != nil {
		s.log.Warn("sidecar not removed", "error", err)
	}
	s.rec.Outcome = astreinte.OutcomeVoicemail
	s.rec.TicketID = t.ID
	reachable := s.h.OnCall != nil && s.h.OnCall.Reachable(ctx, s.h.Now())
	pr := promiseFor(t, filed, reachable)
	s.log.Info("ticket created", "ticket", t.Number, "urgency", t.Urgency, "merged", filed.Merged,
		"paging", filed.Paging, "reachable", reachable, "promise", pr)
	if s.up() {
		s.pl.Play(false, s.told(t, filed, pr)...)
	}
}

// cannotRecord is the flow when no recording can be made (a full or
// failing disk): the caller still hears the greeting and may say it is
// urgent, their number becomes a callback ticket (the line's missed-call
// rules), and they are told of the technical problem rather than beeped at
// for a message nobody would hear.
func (s *session) cannotRecord(cs astreinte.Case, answered time.Time) {
	urgency := astreinte.NotUrgent
	key, err := s.pl.Play(true, s.intro(cs, answered)...)
	if key == '1' && !cs.Open() {
		urgency = astreinte.Urgent
	}
	s.log.Error("no recording possible; the call becomes a callback ticket", "urgency", urgency)
	s.missedCall(cs, urgency)
	s.rec.Outcome = astreinte.OutcomeFailed
	if err == nil {
		s.pl.Play(false, s.p.Must(audio.PromptError))
	}
}

// up reports whether the caller is still on the line.
func (s *session) up() bool {
	select {
	case <-s.done:
		return false
	case <-s.m.Done():
		return false
	case <-s.ctx.Done():
		return false
	default:
		return true
	}
}

// noMessage decides that a recording holds no message: no voice in it
// (not one voiced frame, or less than voiceMin in a recording shorter than
// minLength or ended before the beep). Voice is never dropped for being
// short; silence is never a message, however long: the call is a missed
// call then.
func noMessage(res Result, minLength time.Duration, beforeBeep bool) bool {
	if res.Voiced >= voiceMin {
		return false
	}
	return res.Voiced == 0 || res.Duration < minLength || beforeBeep
}

// urgentMeta notes on the recording's sidecar that the caller chose
// urgent, for a recovery after a crash.
func (s *session) urgentMeta(rec *Recorder, cs astreinte.Case, answered time.Time) {
	m := s.meta(cs, answered)
	m.Urgency = string(astreinte.Urgent)
	if err := rec.UpdateMeta(m); err != nil {
		s.log.Warn("recording sidecar not updated", "error", err)
	}
}

// meta describes the call's recording.
func (s *session) meta(cs astreinte.Case, answered time.Time) RecordingMeta {
	return RecordingMeta{
		CallID: s.callID, Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Urgency: string(astreinte.NotUrgent), Case: string(cs), StartedAt: answered, Lang: s.p.Lang(), CallRow: s.callRowNow(),
	}
}

// startRecorder starts the recording at the answer.
func (s *session) startRecorder(cs astreinte.Case, now time.Time) (*Recorder, string) {
	path := s.recordingPath(now)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.log.Error("recording directory", "error", err)
		return nil, path
	}
	rec, err := NewRecorder(path, s.meta(cs, now))
	if err != nil {
		s.log.Error("cannot record", "error", err)
		return nil, path
	}
	rec.SetThreshold(s.line.Record.SilenceThreshold)
	return rec, path
}

// intro is what the caller hears before the beep: out of hours the
// greeting, when support reopens, and the urgency key; in hours the
// greeting and the invitation to speak.
func (s *session) intro(cs astreinte.Case, now time.Time) [][]int16 {
	if cs.Open() {
		return [][]int16{s.p.Must(audio.PromptGreetingOpen), s.p.Must(audio.PromptRecordInstructions)}
	}
	parts := [][]int16{s.p.Must(greetingFor(cs))}
	if s.h.NextOpen != nil {
		loc := s.location()
		parts = append(parts, s.p.Reopening(now.In(loc), s.h.NextOpen(s.ctx, now))...)
	}
	return append(parts, s.p.Must(audio.PromptMenuUrgency))
}

// greetingFor is the closed greeting of a case.
func greetingFor(cs astreinte.Case) string {
	switch {
	case cs.Open():
		return audio.PromptGreetingOpen
	case cs == astreinte.CaseHoliday || cs == astreinte.CaseClosure:
		return audio.PromptGreetingHoliday
	}
	return audio.PromptGreetingClosed
}

func (s *session) location() *time.Location {
	if s.h.Location != nil {
		return s.h.Location
	}
	return s.h.Now().Location()
}

func keyName(k rune) string {
	switch k {
	case 0:
		return "none"
	case audio.Speech:
		return "voice"
	}
	return string(k)
}

// missedCall files a call that ended without a message, out of hours, from
// a number that can be called back.
func (s *session) missedCall(cs astreinte.Case, urgency astreinte.Urgency) {
	number, known := phone.Callable(s.from.User, s.line.Region)
	kind, ok := missedCallTicket(s.line.MissedCalls, cs, known, s.line.DeskInHours)
	if !ok {
		s.log.Info("call ended without a message", "missed_call_ticket", false, "number_known", known)
		return
	}
	if kind == MissedPage && !cs.Open() {
		urgency = astreinte.Urgent
	}
	t := &astreinte.Ticket{
		CallID: s.callRow(5 * time.Second), Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Urgency: urgency, Case: cs, Status: astreinte.StatusNew, CreatedAt: s.h.Now(),
		Kind: astreinte.KindMissedCall, CallbackNumber: number,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	filed, err := s.h.Tickets.Take(ctx, t)
	if errors.Is(err, tickets.ErrKept) {
		s.log.Error("missed call: ticket not written yet, kept in memory", "error", err, "number", number)
		return
	}
	if err != nil {
		s.log.Error("missed call: ticket not created", "error", err, "number", number)
		return
	}
	s.rec.TicketID = t.ID
	s.log.Info("missed call ticket", "ticket", t.Number, "number", number, "merged", filed.Merged, "paging", filed.Paging)
}

// missedCallTicket decides whether a call without a message becomes a
// ticket: out of hours, from a number that can be called back, unless the
// line ignores missed calls; in hours only when the desk is told of them
// (deskInHours). It returns the policy that applies.
func missedCallTicket(policy string, cs astreinte.Case, numberKnown, deskInHours bool) (string, bool) {
	if policy == "" {
		policy = MissedTicket
	}
	switch {
	case !numberKnown || policy == MissedIgnore:
		return policy, false
	case cs.Open():
		return policy, deskInHours
	}
	return policy, true
}

// promise is what the caller is told will happen.
type promise string

const (
	promiseCalledNow promise = "technician_called_now" // a page is queued and someone can be reached
	promiseBy        promise = "callback_by"           // by the due day
	promiseNobodyBy  promise = "nobody_reachable_by"   // urgent, nobody to page: by the due day
	promiseOpening   promise = "callback_opening"      // no due day known
)

// promiseFor says what may honestly be promised: the technician is called
// now only when a page is queued and someone can be reached; otherwise
// the callback by the due day, saying first that nobody can be reached
// when the caller said it was urgent.
func promiseFor(t *astreinte.Ticket, f astreinte.Filed, reachable bool) promise {
	switch {
	case f.Paging && reachable:
		return promiseCalledNow
	case t.DueAt.IsZero():
		return promiseOpening
	case t.Urgency == astreinte.Urgent:
		return promiseNobodyBy
	}
	return promiseBy
}

// told is what the caller hears once the ticket is filed: its number, then
// the promise.
func (s *session) told(t *astreinte.Ticket, f astreinte.Filed, pr promise) [][]int16 {
	var parts [][]int16
	if f.Merged {
		parts = append(parts, s.p.Must(audio.PromptMerged))
	}
	parts = append(parts, s.p.Must(audio.PromptSavedTicket), s.p.SpeakTicket(t.Number), audio.Silence(300*time.Millisecond))
	now := s.h.Now().In(s.location())
	switch pr {
	case promiseCalledNow:
		parts = append(parts, s.p.Must(audio.PromptUrgentCallback))
	case promiseOpening:
		parts = append(parts, s.p.Must(audio.PromptNormalCallback))
	default:
		if pr == promiseNobodyBy {
			parts = append(parts, s.p.Must(audio.PromptNobodyReachable))
		}
		parts = append(parts, s.p.CallbackBy(now, s.callbackDay(t, now))...)
	}
	return append(parts, s.goodbye()...)
}

// callbackDay is the day the caller is promised: the ticket's due time, or
// when it is already due (due at once, with nobody paged), the next
// opening.
func (s *session) callbackDay(t *astreinte.Ticket, now time.Time) time.Time {
	by := t.DueAt
	if !by.After(now) && s.h.NextOpen != nil {
		if open := s.h.NextOpen(s.ctx, now); !open.IsZero() {
			by = open
		}
	}
	if by.Before(now) {
		by = now
	}
	return by
}
