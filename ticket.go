package astreinte

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a ticket, call or other record does not exist.
var ErrNotFound = errors.New("not found")

// Urgency says whether the caller declared the problem urgent.
type Urgency string

// Urgency values.
const (
	Urgent    Urgency = "urgent"
	NotUrgent Urgency = "normal"
)

// Status is where a ticket is in its life.
type Status string

// Ticket statuses.
const (
	StatusNew          Status = "new"
	StatusAcknowledged Status = "acknowledged"
	StatusCalledBack   Status = "called_back"
	StatusResolved     Status = "resolved"
)

// Case says which calendar case applied when the call came in.
type Case string

// Calendar cases recorded on tickets and calls.
const (
	CaseOpen        Case = "open"         // within opening hours
	CaseOutOfHours  Case = "out_of_hours" // evenings, nights, weekends
	CaseHoliday     Case = "holiday"      // public holiday
	CaseClosure     Case = "closure"      // one-off closure (annual closure, …)
	CaseForceClosed Case = "forced_closed"
	CaseForceOpen   Case = "forced_open"
)

// Open reports whether the case is one where the support desk is open.
func (c Case) Open() bool { return c == CaseOpen || c == CaseForceOpen }

// Ticket is one voicemail left on a support line.
type Ticket struct {
	ID           int64
	Number       string // human-readable, e.g. 2026-000123
	CallID       int64  // the call that left it (0 for a repaired recording without a call row)
	Line         string // the support line's name
	CallerNumber string // as received (E.164 where the trunk gives it)
	CallerName   string
	Urgency      Urgency
	Case         Case
	Status       Status
	Recording    string        // path of the WAV file
	Duration     time.Duration // length of the recording
	CreatedAt    time.Time
	DueAt        time.Time // zero when no due time applies
	AckedBy      string
	AckedAt      time.Time
	ResolvedAt   time.Time

	// Channel is how the request came: phone (a voicemail) or email.
	Channel Channel
	// Customer is the customer number the request was matched to; empty:
	// unidentified.
	Customer string
	// Contract is the customer's contract when the ticket was made: its
	// due times, paging and billing apply to the ticket.
	Contract string
	// Unverified marks a request whose author was not authenticated (every
	// phone request): sensitive requests are only taken through the
	// authenticated ticket system.
	Unverified bool
	// Paged says a page was queued with the ticket when it was made (set
	// by the tickets service's Create, not stored): the caller can be told
	// a technician is being woken, or when the call back is due (DueAt).
	Paged bool       `json:"-"`
	Kind  TicketKind // "" is KindVoicemail
	// CallbackNumber is the number to call back in E.164: the caller ID
	// when it is a phone number, else the number the caller typed; "" when
	// none is known.
	CallbackNumber string
	// MessageAt is where the message left after the beep starts in
	// Recording; before it is what the caller said over the prompts, and
	// the beep marks the boundary. 0 when the recording starts at the beep;
	// Duration when the caller hung up before it.
	MessageAt time.Duration
	// Marks are what happened along Recording: the beep, the prompts the
	// caller talked over, keys pressed (offsets from its start).
	Marks []Mark
	// Recordings are every message of the ticket, newest first: the
	// first call's (Recording above) and those of later calls from the
	// same caller that joined it. Filled by the store when it reads a
	// ticket; empty for a ticket without audio.
	Recordings []Recording
	// RecordingCount is how many messages the ticket has, set by every
	// store read (listings included, where Recordings stays empty).
	RecordingCount int
}

// Recording is one message of a ticket: the audio of one call.
type Recording struct {
	Path     string
	Duration time.Duration
	// At is when the message was filed (the ticket's creation for the
	// first one, the later call's for the others).
	At time.Time
	// Urgency is what the caller chose on that call.
	Urgency Urgency
	// CallID is the call that left it (0: unknown, e.g. repaired).
	CallID int64
	// MessageAt is where the message after the beep starts (see Ticket).
	MessageAt time.Duration
	Marks     []Mark
}

// MarkKind says what a Mark marks in a recording.
type MarkKind string

// Mark kinds.
const (
	MarkBeep   MarkKind = "beep"   // the beep: the message proper starts here
	MarkPrompt MarkKind = "prompt" // a prompt started playing (Name: which)
	MarkKey    MarkKind = "key"    // the caller pressed a key (Name: which)
	MarkSpeech MarkKind = "speech" // the caller's voice cut a prompt short
)

// Mark is one event along a recording, at an offset from its start.
type Mark struct {
	At   time.Duration
	Kind MarkKind
	Name string // the prompt or the key; "" for the beep
}

// Amendment is what a call adds to the ticket it already filed while the
// caller is still on the line: they pressed 1 after the ticket was taken
// (Urgent), or spoke again after the message (the recording grew to
// Duration, with its Marks). The tickets service re-plans the ticket
// (urgency, due time, page at once) and says on the timeline what changed.
type Amendment struct {
	Recording string // the recording that grew (the ticket's or a later call's)
	Duration  time.Duration
	Marks     []Mark
	Urgent    bool // the caller said it is urgent
}

// TicketKind says what a ticket came from.
type TicketKind string

// Ticket kinds.
const (
	KindVoicemail  TicketKind = "voicemail"   // the caller left a message
	KindMissedCall TicketKind = "missed_call" // the caller hung up before leaving one: call them back
)

// Filed says what the tickets service made of a message or missed call.
type Filed struct {
	// Merged: the same number had a ticket open, and the call joined it
	// (the ticket's ID and Number are that ticket's).
	Merged bool
	// Paging: a page is queued for the ticket (new or restarted) and the
	// engine will call the on-call technician.
	Paging bool
}

// Channel is how a request reached the support desk.
type Channel string

// Channels.
const (
	ChannelPhone Channel = "phone"
	ChannelEmail Channel = "email"
	// ChannelSpace is a request opened by a signed-in contact in the
	// customer space: the one verified channel.
	ChannelSpace Channel = "space"
)

// UnverifiedRule is what the technician is told on an unverified ticket.
const UnverifiedRule = "unverified request (phone or email): no sensitive request " +
	"(account changes, passwords, personal data) is carried out unless it comes through the authenticated ticket system"

// EventKind names an entry on a ticket's timeline.
type EventKind string

// Timeline entry kinds.
const (
	EventCreated      EventKind = "created"
	EventPageQueued   EventKind = "page_queued"
	EventPageSent     EventKind = "page_sent"
	EventPageFailed   EventKind = "page_failed"
	EventPageAnswered EventKind = "page_answered"
	EventEscalated    EventKind = "escalated"
	EventExhausted    EventKind = "escalation_exhausted"
	EventAcknowledged EventKind = "acknowledged"
	EventNote         EventKind = "note"
	EventCalledBack   EventKind = "called_back"
	EventResolved     EventKind = "resolved"
	EventReopened     EventKind = "reopened"
	EventWork         EventKind = "work"      // time spent, in the work log
	EventQuote        EventKind = "quote"     // a quote set, accepted or refused
	EventConfirmed    EventKind = "confirmed" // the customer confirmed work beyond the threshold
	EventEmail        EventKind = "email"     // an email from the requester
	EventReply        EventKind = "reply"     // a technician's reply to the requester, by email
	EventMailSent     EventKind = "email_sent"
	EventMailFailed   EventKind = "email_failed" // an email to the requester could not be delivered
	EventAppointment  EventKind = "appointment"  // an appointment booked or cancelled
)

// Event is one entry on a ticket's timeline.
type Event struct {
	ID       int64
	TicketID int64
	At       time.Time
	Kind     EventKind
	Actor    string // who or what did it: a technician's id, "system", "caller"
	Channel  string // paging channel, when relevant: sip, email, webhook, cli, web
	Detail   string // free text: the error, the note, the SIP status …
	// Facts are the figures of an entry the system wrote (time logged, a
	// quote), kept as data so that each reader reads them in their own
	// language; Detail says the same in English for logs and scripts. Nil
	// for other entries and for entries written before facts were kept.
	Facts *EventFacts
}

// EventFacts are what a work-log or quote entry says, as data.
type EventFacts struct {
	Spent time.Duration `json:"spent,omitempty"` // work: this entry's time
	Total time.Duration `json:"total,omitempty"` // work: the ticket's time so far
	Units int64         `json:"units,omitempty"` // work under a contract: units counted for Total
	Unit  time.Duration `json:"unit,omitempty"`  // the contract's unit

	Quote    QuoteStep     `json:"quote,omitempty"`     // a quote proposed, accepted or refused
	AmountHT int64         `json:"amount_ht,omitempty"` // the quote's amount before tax, in cents
	Time     time.Duration `json:"time,omitempty"`      // or the quote's time of work
	PriceHT  int64         `json:"price_ht,omitempty"`  // a quote of time priced at the contract's rate, in cents
	Flat     bool          `json:"flat,omitempty"`      // the amount is a fixed price

	Note string `json:"note,omitempty"` // the person's own words: the work note, what the quote covers
}

// QuoteStep is what happened to a quote.
type QuoteStep string

// The steps of a quote.
const (
	QuoteProposed QuoteStep = "proposed"
	QuoteAccepted QuoteStep = "accepted"
	QuoteRefused  QuoteStep = "refused"
)

// Call is the record of one inbound call, whatever happened in it.
type Call struct {
	ID           int64
	SIPCallID    string
	Line         string
	CallerNumber string
	CallerName   string
	Called       string // the Request-URI user that was called
	Case         Case
	StartedAt    time.Time
	AnsweredAt   time.Time // zero if never answered
	EndedAt      time.Time
	Outcome      CallOutcome
	HangupBy     string // "caller", "us", "timeout", "shutdown", ""
	TicketID     int64  // 0 when no ticket came of it
	// Node is the store's row of the node that took the call (0: unknown),
	// set by the store when it records the call.
	Node int64
	// Recording is the path of the recording being made of the call, once
	// started: a surviving node reads it if the node that took the call dies.
	Recording string
	// Urgency is what the caller chose during the call ("": nothing yet),
	// recorded as soon as they chose it: a cut call is filed with it.
	Urgency Urgency
}

// CallOutcome is how a call ended.
type CallOutcome string

// Call outcomes.
const (
	OutcomeInProgress   CallOutcome = "in_progress"
	OutcomeVoicemail    CallOutcome = "voicemail"     // a ticket was created
	OutcomeNoMessage    CallOutcome = "no_message"    // answered, nothing usable recorded
	OutcomeCancelled    CallOutcome = "cancelled"     // caller gave up before answer
	OutcomeRedirected   CallOutcome = "redirected"    // sent to the support desk
	OutcomeRejected     CallOutcome = "rejected"      // 4xx/5xx before answer
	OutcomeFailed       CallOutcome = "failed"        // an error on our side
	OutcomeMediaTimeout CallOutcome = "media_timeout" // no RTP: recording kept if any
	OutcomeCut          CallOutcome = "cut"           // the node that took it died mid-call; another filed it
)

// TicketFilter selects tickets for listings.
type TicketFilter struct {
	Status  []Status // empty: any
	Urgency Urgency  // empty: any
	Search  string   // ticket number or caller number fragment
	// From and To bound the creation time, [From, To); zero: unbounded.
	From, To time.Time
	Limit    int // 0: a sensible default; negative: no limit
}

// TicketService is what user interfaces (CLI, web) need of the ticket store.
type TicketService interface {
	Tickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	TicketByNumber(ctx context.Context, number string) (Ticket, error)
	Timeline(ctx context.Context, ticketID int64) ([]Event, error)
}

// ReachAt is the number to call the caller back on: the callback number
// (E.164: the caller ID when it is a number, or the number the caller typed)
// when known, else the caller ID as received; "" or "anonymous" when none.
func (t Ticket) ReachAt() string {
	if t.CallbackNumber != "" {
		return t.CallbackNumber
	}
	return t.CallerNumber
}
