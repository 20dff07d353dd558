// Package billing is the arithmetic of the support agreements, in integer
// cents and never in floating point: time worked rounded up to the
// contract's unit (every started half-hour or hour is due), a price before
// tax (HT), the VAT in basis points and the price with tax (TTC), an
// accepted quote as a cap, the customer's confirmation above a number of
// units, and the warranty after a resolution.
//
// Rounding rule: amounts are computed exactly in fractions of a cent and
// rounded once, half away from zero, to the cent: first the HT price of
// the billed time, then the VAT on that HT price; TTC is HT + VAT. So 30
// minutes at 60.00 € HT an hour with VAT at 19.60 % is 30.00 € HT, 5.88 €
// VAT, 35.88 € TTC; one hour is 60.00 + 11.76 = 71.76 € TTC, as the first
// agreement says.
package billing

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Modes of billing.
const (
	Hourly = "hourly" // a rate per hour, time rounded up to the rounding unit
	Units  = "units"  // a price per unit (a "ticket") of N minutes, each started unit due
)

// Policy is how a contract bills time.
type Policy struct {
	Mode string // Hourly or Units
	// Rate is the price before tax in cents: per hour (Hourly) or per unit
	// (Units).
	Rate int64
	// Unit is the rounding unit: every started Unit is due (Hourly: 30m
	// for "every started half-hour"; Units: the length of one unit, 60m).
	Unit time.Duration
	// VAT is the tax rate in basis points (19.6 % is 1960).
	VAT int64
	// QuoteCap makes an accepted quote the most that is billed.
	QuoteCap bool
	// QuoteRequired bills only work under an accepted quote: the rest is
	// the free support the agreement includes (advice, analysis of faults
	// of the provider's equipment, maintenance, updates).
	QuoteRequired bool
}

// Count is how many units (half-hours, tickets…) worked takes: every started
// unit counts whole. 1 minute is one half-hour, 31 minutes two; 61 minutes
// two units of 60. Zero or negative time is zero units; a zero unit counts
// nothing.
func Count(worked, unit time.Duration) int64 {
	if worked <= 0 || unit <= 0 {
		return 0
	}
	return int64((worked + unit - 1) / unit)
}

// divRound divides, rounding half away from zero.
func divRound(a, b int64) int64 {
	if b < 0 {
		a, b = -a, -b
	}
	if a >= 0 {
		return (a + b/2) / b
	}
	return -((-a + b/2) / b)
}

// HT is the price before tax of n units under p, in cents. For Hourly it
// is Rate × n × Unit / 1h, rounded to the cent.
func (p Policy) HT(n int64) int64 {
	if p.Mode == Units {
		return p.Rate * n
	}
	return divRound(p.Rate*n*int64(p.Unit/time.Second), int64(time.Hour/time.Second))
}

// VATOn is the tax on ht cents at bp basis points, rounded to the cent.
func VATOn(ht, bp int64) int64 { return divRound(ht*bp, 10000) }

// Quote is an estimate given to the customer before the work: an amount HT
// in cents, or a number of minutes priced at the contract's rate.
type Quote struct {
	AmountHT int64         // cents; 0 when given in time
	Time     time.Duration // 0 when given as an amount
	// Flat makes AmountHT a fixed price, whatever the time spent (a
	// "forfait"); it is due once work has started.
	Flat bool
}

// CapHT is the quote's amount before tax under p.
func (q Quote) CapHT(p Policy) int64 {
	if q.AmountHT > 0 {
		return q.AmountHT
	}
	if p.Mode == Units {
		return p.HT(Count(q.Time, p.Unit))
	}
	// An estimate in time is priced exactly, not rounded up to the unit.
	return divRound(p.Rate*int64(q.Time/time.Second), int64(time.Hour/time.Second))
}

// Amount is what one piece of work costs.
type Amount struct {
	Worked time.Duration // time actually spent (billable part)
	Units  int64         // units (half-hours, tickets) counted
	HT     int64         // cents before tax, after any cap
	VAT    int64         // cents
	TTC    int64         // cents, HT + VAT
	// Capped says the accepted quote limited HT: the estimate was below
	// the time actually spent.
	Capped bool
	// Uncapped is the HT the time alone would have cost.
	Uncapped int64
	// Free says the work is not billed: the contract bills only under an
	// accepted quote and there is none.
	Free bool
	// Flat says the accepted quote's fixed price was billed.
	Flat bool
}

// Bill prices worked time under p, with an accepted quote (nil: none).
// With the cap on, the price is never more than the quote, and when the
// actual time costs less than the quote, the actual time is billed. A flat
// quote is its amount once work has started. Without an accepted quote, a
// policy requiring one bills nothing (free support).
func Bill(p Policy, worked time.Duration, accepted *Quote) Amount {
	a := Amount{Worked: worked, Units: Count(worked, p.Unit)}
	a.Uncapped = p.HT(a.Units)
	a.HT = a.Uncapped
	switch {
	case accepted != nil && accepted.Flat:
		a.HT, a.Flat = 0, true
		if worked > 0 {
			a.HT = accepted.AmountHT
		}
	case accepted == nil && p.QuoteRequired:
		a.HT, a.Free = 0, true
	case accepted != nil && p.QuoteCap:
		if c := accepted.CapHT(p); c < a.HT {
			a.HT, a.Capped = c, true
		}
	}
	a.VAT = VATOn(a.HT, p.VAT)
	a.TTC = a.HT + a.VAT
	return a
}

// NeedsConfirmation says whether work bringing a ticket to total time
// needs the customer's confirmation first: when it takes more than
// threshold units (more than two tickets). A threshold of 0 never does.
func NeedsConfirmation(p Policy, total time.Duration, threshold int) bool {
	return threshold > 0 && Count(total, p.Unit) > int64(threshold)
}

// Span is a time a ticket was open for work: from its creation or a
// reopening to its resolution (zero End: still open).
type Span struct {
	Start time.Time
	End   time.Time
	// Warranty marks a reopening within the warranty after the previous
	// resolution: the work done in it is not billed again.
	Warranty bool
}

// Spans cuts a ticket's life into the spans between resolutions, given its
// creation and the times it was resolved and reopened (any order). A
// reopening at most warranty after the resolution before it starts a
// warranty span.
func Spans(created time.Time, resolved, reopened []time.Time, warranty time.Duration) []Span {
	type mark struct {
		at     time.Time
		reopen bool
	}
	var ms []mark
	for _, t := range resolved {
		ms = append(ms, mark{t, false})
	}
	for _, t := range reopened {
		ms = append(ms, mark{t, true})
	}
	// Insertion sort: a ticket has a handful of marks.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].at.Before(ms[j-1].at); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	spans := []Span{{Start: created}}
	var lastResolved time.Time
	for _, m := range ms {
		cur := &spans[len(spans)-1]
		if !m.reopen {
			if cur.End.IsZero() {
				cur.End, lastResolved = m.at, m.at
			}
			continue
		}
		if cur.End.IsZero() {
			continue // reopened while open: nothing changes
		}
		w := warranty > 0 && !lastResolved.IsZero() && m.at.Sub(lastResolved) <= warranty
		spans = append(spans, Span{Start: m.at, Warranty: w})
	}
	return spans
}

// UnderWarranty says whether work done at t falls in a warranty span.
// Work done between a resolution and the next reopening belongs to the
// span that ended (late notes on the same problem).
func UnderWarranty(spans []Span, t time.Time) bool {
	in := false
	for _, s := range spans {
		if !t.Before(s.Start) {
			in = s.Warranty
		}
	}
	return in
}

// ParseCents reads a price written with a decimal point or comma and at
// most two decimals ("60", "60.00", "71,76") as cents, without floating
// point.
func ParseCents(s string) (int64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", "."))
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("price %q: want euros with at most two decimals, e.g. 60.00", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > 1e12 {
		return 0, fmt.Errorf("price %q: want euros with at most two decimals, e.g. 60.00", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("price %q: want euros with at most two decimals, e.g. 60.00", s)
	}
	return w*100 + f, nil
}

// ParseBasisPoints reads a percentage with at most two decimals ("19.6",
// "20", "5,5") as basis points (1960, 2000, 550).
func ParseBasisPoints(s string) (int64, error) {
	bp, err := ParseCents(s)
	if err != nil || bp > 10000 {
		return 0, fmt.Errorf("percentage %q: want 0 to 100 with at most two decimals, e.g. 19.6", s)
	}
	return bp, nil
}

// FormatCents writes cents as euros with two decimals: 3588 → "35.88".
func FormatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// ErrNeedsConfirmation is returned when work would go past a contract's
// confirmation threshold before the customer confirmed.
var ErrNeedsConfirmation = errors.New("the customer must confirm first")
