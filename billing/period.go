package billing

import "time"

// Entry is one piece of work on a ticket.
type Entry struct {
	At       time.Time
	Duration time.Duration
}

// Line is what a ticket costs over a period (a month's statement).
type Line struct {
	Worked   time.Duration // billable time worked in the period
	Warranty time.Duration // time worked in the period under warranty, not billed
	Units    int64         // units (half-hours, tickets) billed in the period
	HT       int64         // cents
	VAT      int64         // cents
	TTC      int64         // cents
	Capped   bool          // the accepted quote limits the ticket's price
	Free     bool          // free support: the contract bills only under an accepted quote
	Flat     bool          // the accepted quote's fixed price
}

// Period bills a ticket's work done in [from, to). The ticket is priced as
// a whole, from its creation: what the period bills is the price of all
// billable work up to to, minus the price of all billable work before
// from. So the statements of successive months add up to the price of the
// whole ticket — a started unit is billed once, in the month it was
// started, and the quote caps the whole ticket, not each month. Work in a
// warranty span (see Spans) is not billed. ok is false when no work was
// done in the period.
func Period(p Policy, entries []Entry, spans []Span, accepted *Quote, from, to time.Time) (l Line, ok bool) {
	var before, upto time.Duration
	for _, e := range entries {
		if !e.At.Before(to) {
			continue
		}
		in := !e.At.Before(from)
		if in {
			ok = true
		}
		if UnderWarranty(spans, e.At) {
			if in {
				l.Warranty += e.Duration
			}
			continue
		}
		upto += e.Duration
		if in {
			l.Worked += e.Duration
		} else {
			before += e.Duration
		}
	}
	a0, a1 := Bill(p, before, accepted), Bill(p, upto, accepted)
	l.Units = a1.Units - a0.Units
	l.HT, l.VAT, l.TTC = a1.HT-a0.HT, a1.VAT-a0.VAT, a1.TTC-a0.TTC
	l.Capped = a1.Capped && l.Worked > 0
	l.Free, l.Flat = a1.Free, a1.Flat
	if l.Free {
		l.Units = 0
	}
	return l, ok
}
