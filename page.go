package astreinte

import "time"

// The paging engine (oncall) keeps its state in the store: escalations
// (Page), the outbox of notifications (Send) and shift overrides. Their
// types live here so that storage does not depend on the engine.

// ShiftOverride replaces one technician by another for a period, in every
// rotation where the replaced technician would be on call. An empty By means
// the replaced technician is simply off (which may leave a gap).
type ShiftOverride struct {
	ID       int64
	Replaced string // technician id
	By       string // technician id, or "" for nobody
	From     time.Time
	To       time.Time
	Note     string
	SetBy    string
	SetAt    time.Time
}

// PageState is the state of one ticket's escalation.
type PageState string

// Page states.
const (
	PageActive    PageState = "active"
	PageAcked     PageState = "acked"
	PageExhausted PageState = "exhausted" // every tier, every round, nobody acknowledged
	PageCancelled PageState = "cancelled" // ticket resolved before anyone acknowledged
)

// FiredStep is the first step of a new ticket's page, fired in the
// ticket's own transaction (oncall.Engine.FirstStep): the page is written
// already at step 1, due again at NextAt, with the step's sends and
// timeline entries, and its deliveries start once the ticket is in.
type FiredStep struct {
	NextAt time.Time
	// LeaseUntil is the claim of the sends of State SendSending, stored
	// claimed by the engine that fired the step (the others pending).
	LeaseUntil time.Time
	Sends      []Send  // their PageID and TicketID are the page's
	Events     []Event // TicketID 0: the ticket's
	Tier       string  // for the log
	// PageID and IDs are set by the store once written: IDs[i] is the id
	// of Sends[i].
	PageID int64
	IDs    []int64
}

// Page is the escalation of one ticket: which step fires next and when.
// Step counts tiers across rounds: step = round*len(tiers) + tier.
type Page struct {
	ID        int64
	TicketID  int64
	Policy    string
	State     PageState
	Step      int       // the next step to fire
	NextAt    time.Time // when it fires
	CreatedAt time.Time
	AckedBy   string
	AckedVia  string
	AckedAt   time.Time
}

// SendState is the state of one notification in the outbox.
type SendState string

// Send states.
const (
	SendPending SendState = "pending"
	SendSending SendState = "sending" // claimed by a worker, lease until NextTryAt
	SendDone    SendState = "done"
	SendFailed  SendState = "failed" // retries used up
)

// Send is one notification of one person on one channel for one escalation
// step: the outbox row. (page, step, channel, person) is unique, so a step
// replayed after a restart never sends twice.
type Send struct {
	ID        int64
	PageID    int64
	TicketID  int64
	Step      int
	Channel   string // sip, email, webhook, message
	Person    string // technician id ("" for a policy-wide webhook)
	State     SendState
	Attempts  int
	NextTryAt time.Time
	LastError string
	CreatedAt time.Time
	// Event is what the send announces: NoticePage (the zero value is
	// taken as NoticePage), NoticeExhausted or NoticeAcknowledged.
	Event string
}

// What a send (and its notice) announces; the webhook sends it as "event".
const (
	NoticePage         = "page"                 // a step of the escalation pages someone
	NoticeExhausted    = "escalation.exhausted" // nobody acknowledged: the fallback is paged
	NoticeAcknowledged = "ticket.acknowledged"  // someone took the ticket
	// NoticeTaken tells a person already paged for the ticket that
	// someone else took it, on the channel they were paged by.
	NoticeTaken = "ticket.taken"
)

// StepTaken is the Step of the sends announcing NoticeTaken: one per
// person and channel and page.
const StepTaken = -2

// Paged is a person paged for a page that someone else acknowledged: who
// to tell that the ticket is taken, and on which channel they were paged.
type Paged struct {
	PageID   int64
	TicketID int64
	Person   string
	Channel  string
	AckedBy  string
	AckedAt  time.Time
}

// FallbackPrefix starts the Person of a fallback send: "fallback:" and the
// address paged (Engine.Fallback), which is nobody in the schedule.
const FallbackPrefix = "fallback:"

// Intervention is work done while on call: an acknowledged page or work
// logged, and how long it took (what on-call pay counts apart).
type Intervention struct {
	Person   string
	At       time.Time
	Duration time.Duration
}
