package tickets

import (
	"time"

	"github.com/astreinte/astreinte"
)

// JSON is a ticket as the JSON API and `astreinte tickets --json` print
// it: snake_case names, times in RFC 3339 (UTC), absent times omitted.
type JSON struct {
	Number          string     `json:"number"`
	Status          string     `json:"status"`
	Urgency         string     `json:"urgency"`
	Case            string     `json:"case"`
	Line            string     `json:"line"`
	CallerNumber    string     `json:"caller_number"`
	CallerName      string     `json:"caller_name"`
	CallbackNumber  string     `json:"callback_number,omitempty"` // E.164: call the caller back on it
	Kind            string     `json:"kind"`                      // voicemail or missed_call
	Customer        string     `json:"customer,omitempty"`        // "" : unidentified
	Contract        string     `json:"contract,omitempty"`
	Unverified      bool       `json:"unverified"`
	CreatedAt       time.Time  `json:"created_at"`
	DueAt           *time.Time `json:"due_at,omitempty"`
	Overdue         bool       `json:"overdue"`
	AckedBy         string     `json:"acked_by,omitempty"`
	AckedAt         *time.Time `json:"acked_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	Recording       string     `json:"recording,omitempty"` // the first call's WAV file, on the server
	// RecordingCount is how many messages the ticket has (listings too).
	RecordingCount int `json:"recording_count"`
	// Recordings are every message, newest first (a ticket read alone).
	Recordings []RecordingJSON `json:"recordings,omitempty"`
	Timeline   []EventJSON     `json:"timeline,omitempty"`
}

// RecordingJSON is one message of a ticket in JSON.
type RecordingJSON struct {
	// Message is its number newest first (1: the newest), as
	// `astreinte tickets play N --message K` takes it; Seq its number in
	// call order (1: the first call's).
	Message          int        `json:"message"`
	Seq              int        `json:"seq"`
	At               time.Time  `json:"at"`
	DurationSeconds  float64    `json:"duration_seconds"`
	Urgency          string     `json:"urgency"`
	Path             string     `json:"path"`                         // the WAV file on the server
	URL              string     `json:"url,omitempty"`                // where the API serves it
	MessageAtSeconds float64    `json:"message_at_seconds,omitempty"` // where the message after the beep starts
	Marks            []MarkJSON `json:"marks,omitempty"`
}

// MarkJSON is one mark along a recording.
type MarkJSON struct {
	AtSeconds float64 `json:"at_seconds"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name,omitempty"`
}

// EventJSON is one timeline entry in JSON.
type EventJSON struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor,omitempty"`
	Channel string    `json:"channel,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// DefaultAckTarget is how long an urgent ticket may wait for someone to
// take it before it shows as overdue, when its line promises no callback
// day of its own.
const DefaultAckTarget = 15 * time.Minute

// Overdue reports whether a promise made about t has been broken at now
// (OverdueAt with DefaultAckTarget).
func Overdue(t astreinte.Ticket, now time.Time) bool { return OverdueAt(t, now, DefaultAckTarget) }

// AckTarget is how long an urgent ticket may wait for someone to take it.
func (s *Service) AckTarget() time.Duration { return s.ackTarget }

// Overdue reports whether a promise made about t has been broken at now,
// with the service's acknowledgement target.
func (s *Service) Overdue(t astreinte.Ticket, now time.Time) bool {
	return OverdueAt(t, now, s.ackTarget)
}

// JSON is ToJSON with the service's acknowledgement target.
func (s *Service) JSON(t astreinte.Ticket, evs []astreinte.Event, now time.Time) JSON {
	j := ToJSON(t, evs, now)
	j.Overdue = s.Overdue(t, now)
	return j
}

// ListJSON is the package's ListJSON with the service's acknowledgement
// target.
func (s *Service) ListJSON(ts []astreinte.Ticket, now time.Time) []JSON {
	out := make([]JSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.JSON(t, nil, now))
	}
	return out
}

// OverdueAt reports whether a promised time has passed at now and nobody
// has called the caller back or resolved t yet. An urgent ticket due at
// its creation (no callback day) promises that someone takes it within
// ackTarget: it is overdue only while nobody has, after that. Any other
// ticket promises its due time (the callback day).
func OverdueAt(t astreinte.Ticket, now time.Time, ackTarget time.Duration) bool {
	if t.DueAt.IsZero() || (t.Status != astreinte.StatusNew && t.Status != astreinte.StatusAcknowledged) {
		return false
	}
	if t.Urgency == astreinte.Urgent && !t.DueAt.After(t.CreatedAt) {
		return t.Status == astreinte.StatusNew && now.After(t.CreatedAt.Add(ackTarget))
	}
	return now.After(t.DueAt)
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// ToJSON gives t (with its timeline, if evs is not nil) in its JSON shape
// at now.
func ToJSON(t astreinte.Ticket, evs []astreinte.Event, now time.Time) JSON {
	j := JSON{Number: t.Number, Status: string(t.Status), Urgency: string(t.Urgency), Case: string(t.Case),
		Line: t.Line, CallerNumber: t.CallerNumber, CallerName: t.CallerName, CreatedAt: t.CreatedAt.UTC(),
		DueAt: optTime(t.DueAt), Overdue: Overdue(t, now), AckedBy: t.AckedBy, AckedAt: optTime(t.AckedAt),
		ResolvedAt: optTime(t.ResolvedAt), DurationSeconds: t.Duration.Round(time.Millisecond).Seconds(),
		Recording: t.Recording, CallbackNumber: t.CallbackNumber, Kind: string(t.Kind), Customer: t.Customer,
		Contract: t.Contract, Unverified: t.Unverified, RecordingCount: t.RecordingCount}
	for i, r := range t.Recordings {
		rj := RecordingJSON{Message: i + 1, Seq: len(t.Recordings) - i, At: r.At.UTC(),
			DurationSeconds: r.Duration.Round(time.Millisecond).Seconds(), Urgency: string(r.Urgency), Path: r.Path,
			MessageAtSeconds: r.MessageAt.Round(time.Millisecond).Seconds()}
		for _, m := range r.Marks {
			rj.Marks = append(rj.Marks, MarkJSON{AtSeconds: m.At.Round(time.Millisecond).Seconds(), Kind: string(m.Kind), Name: m.Name})
		}
		j.Recordings = append(j.Recordings, rj)
	}
	if j.Kind == "" {
		j.Kind = string(astreinte.KindVoicemail)
	}
	for _, e := range evs {
		j.Timeline = append(j.Timeline, EventJSON{At: e.At.UTC(), Kind: string(e.Kind), Actor: e.Actor,
			Channel: e.Channel, Detail: e.Detail})
	}
	return j
}

// ListJSON gives tickets in their JSON shape at now (never nil: "[]").
func ListJSON(ts []astreinte.Ticket, now time.Time) []JSON {
	out := make([]JSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, ToJSON(t, nil, now))
	}
	return out
}
