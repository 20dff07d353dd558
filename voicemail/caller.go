package voicemail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/tickets"
	"github.com/astreinte/astreinte/vad"
)

// OnCall says whether an urgent request from t's caller at a time would
// page someone (oncall.ReasonNone: someone on call with a channel that
// reaches them), and if not why: t's contract has no on-call, nobody is on
// the rota, no channel reaches them or every one is failing
// (oncall.Engine.WhyNobody). The flow promises "the technician is being
// called now" only for ReasonNone, and says the reason otherwise.
type OnCall interface {
	WhyNobody(ctx context.Context, at time.Time, t astreinte.Ticket) oncall.Reason
}

// voiceMin is how much voice makes a recording a message whatever its
// length: a caller who said something is never dropped for being short.
const voiceMin = 300 * time.Millisecond

// run is the answered part of the flow. The caller is recorded from the
// answer to the hang-up: what they say over the greeting is kept in front
// of the message, marked by the beep (when they said nothing, the message
// starts at the beep), and what they say over the prompts after it is
// kept after it. A key, or speech that lasts (the vad package's barge-in),
// cuts the greeting short; "Allô ?" does not.
func (s *session) run(cs astreinte.Case) {
	s.cs, s.closed = cs, !cs.Open()
	s.answered = s.h.Now()
	s.urgency = astreinte.NotUrgent
	s.det = vad.New(s.line.vadConfig())
	s.recorder = s.startRecorder()
	s.m.SetRecorder(ear{det: s.det, rec: s.recorder})
	s.pl.Voice = s.det.BargeIn()
	defer func() {
		s.m.SetRecorder(nil)
		s.pl.Voice = nil
	}()
	if s.recorder == nil {
		s.cannotRecord()
		return
	}
	reason := endBeforeBeep
	if s.greet() == nil {
		reason = s.waitMessageEnd(false)
	}
	s.messageOver(cs, reason)
}

// messageOver files the message that ended for reason, or makes the call
// a missed call when nothing worth keeping was said.
func (s *session) messageOver(cs astreinte.Case, reason messageEnd) {
	beforeBeep := reason == endBeforeBeep
	length := audio.DurationOf(s.recorder.Samples())
	if beforeBeep {
		s.messageAt = length // all of it was said over the prompts
	}
	s.log.Info("message recorded", "end", reason, "duration", length, "speech", s.det.Speech(),
		"message_at", s.messageAt, "stats", fmt.Sprintf("%+v", s.m.Stats()))
	if noMessage(s.det.Speech()-s.speechDropped, length, s.line.Record.MinLength, beforeBeep) {
		s.m.SetRecorder(nil)
		if err := s.recorder.Discard(); err != nil {
			s.log.Warn("discarding an empty message", "error", err)
		}
		s.rec.Outcome = astreinte.OutcomeNoMessage
		s.missedCall(cs, s.urgency)
		if s.up() {
			s.pl.Play(false, s.p.Must(audio.PromptNoMessage), s.p.Must(audio.PromptGoodbye))
		}
		return
	}
	kept := s.file()
	s.finishRecording(kept)
}

// greet plays what comes before the message, then the beep. Out of hours,
// key 1 says it is urgent; a caller who talks over the greeting for long
// gets the beep at once (and the urgency question after the message); any
// other key also skips to the beep. It returns ErrCallEnded when the
// caller hung up before the beep.
func (s *session) greet() error {
	s.mark(astreinte.MarkPrompt, "greeting")
	key, err := s.pl.Play(true, s.intro(s.cs, s.answered)...)
	switch {
	case err != nil:
		return err
	case key == 0:
		s.menuHeard = true
	case key == audio.Speech:
		s.mark(astreinte.MarkSpeech, "greeting")
		s.log.Info("caller talked over the greeting: beep now", "after_answer", s.h.Now().Sub(s.answered).Round(time.Millisecond))
	case key == '1' && s.closed:
		s.mark(astreinte.MarkKey, "1")
		s.urgent("greeting")
	default:
		s.mark(astreinte.MarkKey, string(key))
		s.menuHeard = true // they answered the menu with another key
	}
	s.log.Info("greeting over", "urgency", s.urgency, "key", keyName(key))
	if _, err := s.pl.Play(false, s.p.Must(audio.PromptBeep)); err != nil {
		return err
	}
	s.beepAt = time.Now()
	s.log.Info("beep", "after_answer", s.h.Now().Sub(s.answered).Round(time.Millisecond))
	s.drainKeys("beep")
	beep := s.p.Must(audio.PromptBeep)
	if s.det.Speech() >= voiceMin {
		// What was said over the greeting stays, the beep after it.
		s.mark(astreinte.MarkBeep, "")
		if err := s.recorder.Mark(beep); err != nil {
			s.log.Warn("marking the beep in the recording", "error", err)
		}
		s.messageAt = audio.DurationOf(s.recorder.Samples())
		return nil
	}
	if err := s.recorder.Restart(); err != nil {
		s.log.Warn("restarting the recording at the beep", "error", err)
	}
	s.speechDropped = s.det.Speech() // a cough over the greeting is not in the message
	s.marks = append(s.marks[:0], astreinte.Mark{Kind: astreinte.MarkBeep})
	return nil
}

// drainKeys drops the keys pressed while nothing could take them (during
// the beep, say), but for key 1 out of hours: urgent.
func (s *session) drainKeys(during string) {
	for {
		select {
		case k := <-s.m.DTMF():
			if k == '1' && s.closed {
				s.mark(astreinte.MarkKey, "1")
				s.urgent(during)
			}
		case <-s.pl.Voice:
		default:
			return
		}
	}
}

// askUrgency puts the urgency question after the message to a caller out
// of hours who did not hear it whole (they talked over the greeting) and
// did not say it was urgent: "Est-ce urgent ? Tapez 1."
func (s *session) askUrgency() {
	if !s.closed || s.menuHeard || s.urgency == astreinte.Urgent || !s.up() {
		return
	}
	k, err := s.ask(step{name: audio.PromptUrgencyAfter, parts: [][]int16{s.p.Must(audio.PromptUrgencyAfter)}, keys: "1", wait: urgencyKeyWait})
	if err == nil && k == '1' {
		s.urgent(audio.PromptUrgencyAfter)
	}
	s.menuHeard = err == nil
}

// file makes the ticket of the message: the questions after it (urgency
// when not heard, callback number, customer number), then the recording
// is made durable as it is and the ticket taken, while the call and the
// recording go on. It tells the caller the ticket and the promise. It
// reports whether the ticket was written, so that the recording's sidecar
// can go.
func (s *session) file() bool {
	s.askUrgency()
	callback, typed := s.callbackNumber()
	t := &astreinte.Ticket{
		CallID: s.callRow(5 * time.Second), Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Case: s.cs, Status: astreinte.StatusNew, Kind: astreinte.KindVoicemail, CallbackNumber: callback,
		MessageAt: s.messageAt,
	}
	if typed {
		s.log.Info("callback number typed", "number", callback)
	}
	t.Customer = s.customerNumber(t) // "" unless typed and confirmed
	res, err := s.recorder.Checkpoint()
	if err != nil {
		// The recording cannot go on under its final name (no hard
		// links here, a failing disk): it stops now, as it is.
		s.log.Warn("recording closed at the end of the message", "error", err)
		s.m.SetRecorder(ear{det: s.det})
		if res, err = s.recorder.Close(); err != nil {
			s.log.Error("closing the recording", "error", err, "path", res.Path)
		}
	}
	s.filedAt, s.speechAtFiling = res.Samples, s.det.Speech()
	t.Recording, t.Duration, t.Urgency = res.Path, res.Duration, s.urgency
	t.Marks = slices.Clone(s.marks)
	t.CreatedAt = s.h.Now()
	filed, err := s.take(t)
	switch {
	case errors.Is(err, tickets.ErrKept):
		// The store refused it (a full disk): it is paged from memory and
		// written as soon as the store takes it; the sidecar stays until
		// then, for a crash meanwhile.
		s.log.Error("ticket not written yet: kept in memory, paging goes on", "error", err, "path", res.Path)
		s.rec.Outcome = astreinte.OutcomeVoicemail
		s.sayGoodbye(s.p.Must(audio.PromptSaved))
		return false
	case err != nil:
		// The WAV and its sidecar stay on disk: the ticket is created at
		// the next start-up by the repair pass. The caller is still thanked.
		s.log.Error("ticket not created; kept for the start-up repair", "error", err, "path", res.Path)
		s.rec.Outcome = astreinte.OutcomeFailed
		s.sayGoodbye(s.p.Must(audio.PromptSaved))
		return false
	}
	s.ticket, s.filed = t, filed
	s.rec.Outcome = astreinte.OutcomeVoicemail
	s.rec.TicketID = t.ID
	s.log.Info("ticket created", "ticket", t.Number, "urgency", t.Urgency, "merged", filed.Merged, "paging", filed.Paging)
	s.tell()
	return true
}

// tell says the ticket's number and what will happen; key 1 during it
// makes the ticket urgent, and the promise is said again as it now is.
func (s *session) tell() {
	merged := s.filed.Merged
	for range maxAsks {
		if !s.up() {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
		why := oncall.ReasonNobodyOnRota // no engine: nobody is promised
		if s.h.OnCall != nil {
			why = s.h.OnCall.WhyNobody(ctx, s.h.Now(), *s.ticket)
		}
		cancel()
		pr := promiseFor(s.ticket, s.filed, why)
		s.log.Info("caller told", "ticket", s.ticket.Number, "promise", pr, "why", why)
		k, err := s.ask(step{name: "told", parts: s.told(s.ticket, s.filed, pr, merged)})
		if err != nil || k != answerUrgent {
			return
		}
		merged = false // said once
	}
}

// sayGoodbye ends a call whose ticket could not be written yet.
func (s *session) sayGoodbye(first []int16) {
	if s.up() {
		s.ask(step{name: "goodbye", parts: append([][]int16{first}, s.goodbye()...)})
	}
}

// finishRecording closes the recording once the call is over. What the
// caller said after the ticket was filed stays in it and the ticket is
// amended to its new length; when they said nothing more, the recording is
// cut back to what was filed. The sidecar goes once the ticket has it all.
func (s *session) finishRecording(kept bool) {
	s.m.SetRecorder(nil)
	more := s.det.Speech()-s.speechAtFiling >= voiceMin
	if !more {
		if err := s.recorder.Trim(s.filedAt); err != nil {
			s.log.Warn("recording not cut back to the message", "error", err)
		}
	}
	res, err := s.recorder.Close()
	if err != nil {
		s.log.Error("closing the recording", "error", err, "path", res.Path)
	}
	if more && s.ticket != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
		defer cancel()
		a := astreinte.Amendment{Recording: res.Path, Duration: res.Duration, Marks: s.marks}
		if _, err := s.amend(ctx, a); err != nil {
			s.log.Error("the caller spoke after the ticket was filed: ticket not amended", "error", err, "ticket", s.ticket.Number)
			return // the sidecar stays: the repair pass sees the recording
		}
		s.log.Info("the caller spoke after the ticket was filed: recording extended", "ticket", s.ticket.Number,
			"duration", res.Duration, "more_speech", s.det.Speech()-s.speechAtFiling)
	}
	if kept {
		if err := RemoveSidecar(res.Path); err != nil {
			s.log.Warn("sidecar not removed", "error", err)
		}
	}
}

// cannotRecord is the flow when no recording can be made (a full or
// failing disk): the caller still hears the greeting and may say it is
// urgent, their number becomes a callback ticket (the line's missed-call
// rules), and they are told of the technical problem rather than beeped at
// for a message nobody would hear.
func (s *session) cannotRecord() {
	key, err := s.pl.Play(true, s.intro(s.cs, s.answered)...)
	if key == '1' && s.closed {
		s.urgency = astreinte.Urgent
	}
	s.log.Error("no recording possible; the call becomes a callback ticket", "urgency", s.urgency)
	s.missedCall(s.cs, s.urgency)
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

// noMessage decides that a recording holds no message: no speech in it
// (none at all, or less than voiceMin in a recording shorter than
// minLength or ended before the beep). Speech is never dropped for being
// short; silence is never a message, however long: the call is a missed
// call then.
func noMessage(speech, length, minLength time.Duration, beforeBeep bool) bool {
	if speech >= voiceMin {
		return false
	}
	return speech == 0 || length < minLength || beforeBeep
}

// meta describes the call's recording.
func (s *session) meta() RecordingMeta {
	return RecordingMeta{
		CallID: s.callID, Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Urgency: string(s.urgency), Case: string(s.cs), StartedAt: s.answered, Lang: s.p.Lang(), CallRow: s.callRowNow(),
		VAD: s.line.vadConfig(),
	}
}

// startRecorder starts the recording at the answer; nil when none can be
// made.
func (s *session) startRecorder() *Recorder {
	path := s.recordingPath(s.answered)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.log.Error("recording directory", "error", err)
		return nil
	}
	rec, err := NewRecorderTo(path, s.meta(), s.h.Audio)
	if err != nil {
		s.log.Error("cannot record", "error", err)
		return nil
	}
	s.noteRecording(path)
	return rec
}

// noteRecording writes the recording's path in the call's row, aside: if
// this node dies mid-call, a surviving one finds it there
// (FileCutCalls).
func (s *session) noteRecording(path string) {
	s.noteCall(astreinte.Call{Recording: path}, "recording path")
}

// noteCall writes what c sets in the call's row, aside (UpdateCall: its
// zero fields leave the row's as they are).
func (s *session) noteCall(c astreinte.Call, what string) {
	if s.row == nil {
		return
	}
	go func() {
		if c.ID = s.rowWritten(); c.ID == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
		defer cancel()
		if err := s.h.Tickets.EndCall(ctx, &c); err != nil {
			s.log.Warn("call log: "+what, "error", err)
		}
	}()
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
	if kind == astreinte.MissedPage && !cs.Open() {
		urgency = astreinte.Urgent
	}
	t := &astreinte.Ticket{
		CallID: s.callRow(5 * time.Second), Line: s.line.Name, CallerNumber: s.from.User, CallerName: s.from.Display,
		Urgency: urgency, Case: cs, Status: astreinte.StatusNew, CreatedAt: s.h.Now(),
		Kind: astreinte.KindMissedCall, CallbackNumber: number,
	}
	filed, err := s.take(t)
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
func missedCallTicket(policy astreinte.MissedCallPolicy, cs astreinte.Case, numberKnown, deskInHours bool) (astreinte.MissedCallPolicy, bool) {
	if policy == "" {
		policy = astreinte.MissedTicket
	}
	switch {
	case !numberKnown || policy == astreinte.MissedIgnore:
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
	promiseNobodyBy  promise = "nobody_reachable_by"   // urgent, nobody on call can be reached: by the due day
	promiseRotaBy    promise = "nobody_on_call_by"     // urgent, nobody on the rota now: by the due day
	promiseHoursBy   promise = "contract_hours_by"     // urgent, the contract has no on-call: by the due day
	promiseOpening   promise = "callback_opening"      // no due day known
)

// promiseFor says what may honestly be promised: the technician is called
// now only when a page is queued and someone can be reached; otherwise
// the callback by the due day, saying first, when the caller said it was
// urgent, why nobody is called: their contract covers working hours,
// nobody is on call, or nobody on call can be reached.
func promiseFor(t *astreinte.Ticket, f astreinte.Filed, why oncall.Reason) promise {
	switch {
	case f.Paging && why == oncall.ReasonNone:
		return promiseCalledNow
	case t.DueAt.IsZero():
		return promiseOpening
	case t.Urgency != astreinte.Urgent:
		return promiseBy
	}
	switch why {
	case oncall.ReasonContractWithoutOnCall:
		return promiseHoursBy
	case oncall.ReasonNobodyOnRota:
		return promiseRotaBy
	case oncall.ReasonNoChannel, oncall.ReasonChannelsFailing:
		return promiseNobodyBy
	}
	return promiseBy // someone could be paged, but the line does not page
}

// reasonPrompt is what the caller hears before the callback day.
var reasonPrompt = map[promise]string{
	promiseNobodyBy: audio.PromptNobodyReachable,
	promiseRotaBy:   audio.PromptNobodyOnCall,
	promiseHoursBy:  audio.PromptContractHours,
}

// told is what the caller hears once the ticket is filed: its number, then
// the promise.
func (s *session) told(t *astreinte.Ticket, f astreinte.Filed, pr promise, merged bool) [][]int16 {
	var parts [][]int16
	if merged {
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
		if name, ok := reasonPrompt[pr]; ok {
			parts = append(parts, s.p.Must(name))
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
