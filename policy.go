package astreinte

// PagePolicy says which tickets of a line page the on-call technician
// (a line's `page` key).
type PagePolicy string

// Page policies.
const (
	PageUrgent     PagePolicy = "urgent"       // only tickets the caller said were urgent
	PageOutOfHours PagePolicy = "out_of_hours" // every ticket left while closed, and urgent ones
	PageNever      PagePolicy = "never"
)

// Valid reports whether p is one of the page policies.
func (p PagePolicy) Valid() bool {
	switch p {
	case PageUrgent, PageOutOfHours, PageNever:
		return true
	}
	return false
}

// MissedCallPolicy says what a call that ends without a message becomes,
// out of hours, from a number that can be called back (a line's
// `missed_calls` key).
type MissedCallPolicy string

// Missed-call policies.
const (
	MissedTicket MissedCallPolicy = "ticket" // a "missed call, no message" ticket to call back
	MissedPage   MissedCallPolicy = "page"   // the same ticket, urgent: it pages
	MissedIgnore MissedCallPolicy = "ignore" // only the call log
)

// Valid reports whether m is one of the missed-call policies.
func (m MissedCallPolicy) Valid() bool {
	switch m {
	case MissedTicket, MissedPage, MissedIgnore:
		return true
	}
	return false
}

// EscalationDefault is the name of the escalation policy (the tiers of
// oncall.escalation), the one every page follows today: what a ticket's
// page records as its policy (Page.Policy).
const EscalationDefault = "default"
