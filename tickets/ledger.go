package tickets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
)

// LedgerStore keeps the work log, quotes and confirmations (store.DB).
type LedgerStore interface {
	AddWork(ctx context.Context, w *store.Work, detail string, facts *astreinte.EventFacts) error
	WorkLog(ctx context.Context, ticketID int64) ([]store.Work, error)
	SetQuote(ctx context.Context, q store.Quote, detail string, facts *astreinte.EventFacts) error
	QuoteOf(ctx context.Context, ticketID int64) (store.Quote, error)
	DecideQuote(ctx context.Context, ticketID int64, accepted bool, actor, detail string, facts *astreinte.EventFacts) error
	Confirm(ctx context.Context, ticketID int64, actor, note string) error
	ConfirmationOf(ctx context.Context, ticketID int64) (store.Confirmation, error)
	TicketsOfCustomer(ctx context.Context, number string) ([]astreinte.Ticket, error)
	Waive(ctx context.Context, ticketID int64, actor, reason string) error
	Waived(ctx context.Context, ticketID int64) (string, error)
}

// Ledger is the money side of tickets: the work log with the contract's
// confirmation threshold, quotes, and statements.
type Ledger struct {
	s  *Service
	st LedgerStore
}

// NewLedger returns the ledger of s's tickets over st. Contracts come from
// s's customer directory.
func NewLedger(s *Service, st LedgerStore) *Ledger { return &Ledger{s: s, st: st} }

// ErrNeedsConfirmation is returned by AddWork when the work would take
// the ticket past its contract's threshold before the customer confirmed.
var ErrNeedsConfirmation = billing.ErrNeedsConfirmation

// contract is the ticket's contract, if any.
func (l *Ledger) contract(t astreinte.Ticket) (customers.Contract, bool) {
	if l.s.customers == nil || t.Contract == "" {
		return customers.Contract{}, false
	}
	return l.s.customers.Contract(t.Contract)
}

// Usage is a ticket's time spent so far.
type Usage struct {
	Total        time.Duration
	Units        int64 // under the contract's rounding: half-hours or units
	Unit         time.Duration
	Mode         string // billing.Hourly or billing.Units; "" without a contract
	ConfirmAbove int
	Confirmed    store.Confirmation
	Quote        *store.Quote
}

// Usage returns what the ticket used so far.
func (l *Ledger) Usage(ctx context.Context, t astreinte.Ticket) (Usage, error) {
	ws, err := l.st.WorkLog(ctx, t.ID)
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	for _, w := range ws {
		u.Total += w.Duration
	}
	if c, ok := l.contract(t); ok {
		u.Mode, u.Unit, u.ConfirmAbove = c.Billing.Mode, c.Billing.Unit, c.ConfirmAbove
		u.Units = billing.Count(u.Total, c.Billing.Unit)
	}
	if u.Confirmed, err = l.st.ConfirmationOf(ctx, t.ID); err != nil {
		return u, err
	}
	if q, err := l.st.QuoteOf(ctx, t.ID); err == nil {
		u.Quote = &q
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return u, err
	}
	return u, nil
}

// AddWork logs d spent on ticket t by by. Under a contract with a
// confirmation threshold, work that would bring the ticket past it (more
// than two tickets) is refused with ErrNeedsConfirmation until the
// customer's confirmation is recorded (Confirm).
func (l *Ledger) AddWork(ctx context.Context, t astreinte.Ticket, d time.Duration, by, note string) (Usage, error) {
	if d < time.Minute {
		return Usage{}, errors.New("work: at least one minute")
	}
	u, err := l.Usage(ctx, t)
	if err != nil {
		return u, err
	}
	total := u.Total + d
	if c, ok := l.contract(t); ok && u.Confirmed.At.IsZero() && billing.NeedsConfirmation(c.Billing, total, c.ConfirmAbove) {
		return u, fmt.Errorf("ticket %s would use %d units of %s (contract %s: more than %d needs the customer's confirmation; "+
			"ask the customer with: astreinte tickets ask-confirmation %s --units N --note …, or record it with: astreinte tickets confirm %s): %w", t.Number, billing.Count(total, c.Billing.Unit),
			c.Billing.Unit, c.Name, c.ConfirmAbove, t.Number, t.Number, ErrNeedsConfirmation)
	}
	facts := &astreinte.EventFacts{Spent: d, Total: total, Note: note}
	if u.Mode != "" {
		facts.Units, facts.Unit = int64(billing.Count(total, u.Unit)), u.Unit
	}
	w := &store.Work{TicketID: t.ID, At: l.s.now(), Duration: d, By: by, Note: note}
	if err := l.st.AddWork(ctx, w, FactsText(lang.EN, *facts), facts); err != nil {
		return u, err
	}
	l.s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
	u.Total = total
	if u.Mode != "" {
		u.Units = billing.Count(total, u.Unit)
	}
	return u, nil
}

// Confirm records that the customer confirmed the intervention beyond the
// contract's threshold.
func (l *Ledger) Confirm(ctx context.Context, t astreinte.Ticket, by, note string) error {
	if err := l.st.Confirm(ctx, t.ID, by, note); err != nil {
		return err
	}
	l.s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
	return nil
}

// Waive makes t not billed at all, for reason (the second agreement
// cancels a ticket the support could not solve by email).
func (l *Ledger) Waive(ctx context.Context, t astreinte.Ticket, by, reason string) error {
	if err := l.st.Waive(ctx, t.ID, by, reason); err != nil {
		return err
	}
	l.s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
	return nil
}

// SetQuote proposes a quote for t: an amount before tax in cents, or a
// time priced at the contract's rate.
func (l *Ledger) SetQuote(ctx context.Context, t astreinte.Ticket, amountHT int64, d time.Duration, flat bool, by string) error {
	return l.ProposeQuote(ctx, t, store.Quote{AmountHT: amountHT, Duration: d, Flat: flat, SetBy: by})
}

// ProposeQuote proposes q for t (q.TicketID is t's): an amount before tax
// in cents or a time priced at the contract's rate, with what it covers
// (q.Description), set by q.SetBy.
func (l *Ledger) ProposeQuote(ctx context.Context, t astreinte.Ticket, q store.Quote) error {
	if (q.AmountHT > 0) == (q.Duration > 0) {
		return errors.New("quote: give an amount or a time, not both")
	}
	if q.Flat && q.AmountHT == 0 {
		return errors.New("quote: a fixed price is an amount")
	}
	facts := &astreinte.EventFacts{Quote: astreinte.QuoteProposed, AmountHT: q.AmountHT, Time: q.Duration, Flat: q.Flat,
		Note: q.Description}
	if c, ok := l.contract(t); ok && q.Duration > 0 {
		facts.PriceHT = billing.Quote{Time: q.Duration}.CapHT(c.Billing)
	}
	q.TicketID = t.ID
	if err := l.st.SetQuote(ctx, q, FactsText(lang.EN, *facts), facts); err != nil {
		return fmt.Errorf("ticket %s: %w", t.Number, err)
	}
	l.s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
	return nil
}

// DecideQuote records the customer's acceptance or refusal of t's quote.
func (l *Ledger) DecideQuote(ctx context.Context, t astreinte.Ticket, accepted bool, by string) error {
	q, err := l.st.QuoteOf(ctx, t.ID)
	if err != nil {
		return err
	}
	facts := &astreinte.EventFacts{Quote: astreinte.QuoteRefused, AmountHT: q.AmountHT, Time: q.Duration, Flat: q.Flat}
	if accepted {
		facts.Quote = astreinte.QuoteAccepted
	}
	if err := l.st.DecideQuote(ctx, t.ID, accepted, by, FactsText(lang.EN, *facts), facts); err != nil {
		return err
	}
	l.s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
	return nil
}

// QuoteText writes a quote in l: "au plus 120,00 € HT" / "at most
// €120.00 excl. VAT", a fixed price, or "2 h de travail" / "2 h of work".
func QuoteText(l lang.Tag, amountHT int64, d time.Duration, flat bool) string {
	if flat {
		return l.Pick(l.Money(amountHT)+" HT, forfait", l.Money(amountHT)+" excl. VAT, fixed price")
	}
	if amountHT > 0 {
		return l.Pick("au plus "+l.Money(amountHT)+" HT", "at most "+l.Money(amountHT)+" excl. VAT")
	}
	return l.Pick(l.Duration(d)+" de travail", l.Duration(d)+" of work")
}

// FactsText writes what a work-log or quote entry says, in l: "1 h 01 de
// travail (total 1 h 01, 3 × 30 min) : câblage" / "1 h 01 of work (total
// 1 h 01, 3 × 30 min): wiring", "devis proposé : au plus 120,00 € HT".
func FactsText(l lang.Tag, f astreinte.EventFacts) string {
	var s string
	switch f.Quote {
	case "":
		s = l.Pick(l.Duration(f.Spent)+" de travail (total "+l.Duration(f.Total), l.Duration(f.Spent)+" of work (total "+l.Duration(f.Total))
		if f.Unit > 0 {
			s += fmt.Sprintf(", %d × %s", f.Units, l.Duration(f.Unit))
		}
		s += ")"
	case astreinte.QuoteProposed:
		s = l.Pick("devis proposé : ", "quote proposed: ") + QuoteText(l, f.AmountHT, f.Time, f.Flat)
		if f.PriceHT > 0 {
			s += " (" + l.Pick(l.Money(f.PriceHT)+" HT", l.Money(f.PriceHT)+" excl. VAT") + ")"
		}
	case astreinte.QuoteAccepted:
		s = l.Pick("devis accepté par le client : ", "quote accepted by the customer: ") + QuoteText(l, f.AmountHT, f.Time, f.Flat)
	default:
		s = l.Pick("devis refusé par le client : ", "quote refused by the customer: ") + QuoteText(l, f.AmountHT, f.Time, f.Flat)
	}
	if f.Note != "" {
		s += l.Pick(" : ", ": ") + f.Note
	}
	return s
}

// EventText is an entry's detail in l: written from its facts when it
// has some, else its stored text with Go's durations ("1h0m0s") written
// as l writes them ("1 h"), for entries written before facts were kept.
func EventText(l lang.Tag, e astreinte.Event) string {
	if e.Facts != nil {
		return FactsText(l, *e.Facts)
	}
	return HumanDurations(l, e.Detail)
}

// goDuration finds Go's own writing of a duration ("1h0m0s", "42s",
// "2m30.5s") in text written by the engine.
var goDuration = regexp.MustCompile(`\b(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)\b|\b(\d+)h(\d+)m\b`)

// HumanDurations rewrites Go durations in text as l writes them ("1 h").
func HumanDurations(l lang.Tag, text string) string {
	return goDuration.ReplaceAllStringFunc(text, func(m string) string {
		d, err := time.ParseDuration(m)
		if err != nil {
			return m
		}
		return l.Duration(d)
	})
}

// StatementLine is one ticket on a customer's statement.
type StatementLine struct {
	Ticket   astreinte.Ticket
	Contract customers.Contract
	billing.Line
	// Unbillable says why the ticket is not priced ("" when it is): waived,
	// or its contract is missing from the configuration.
	Unbillable string
	// Waived is the reason given when the ticket was waived ("" else);
	// pages write Unbillable from it in the reader's language.
	Waived string
}

// Statement is a customer's bill for a period.
type Statement struct {
	Customer      string
	From, To      time.Time
	Lines         []StatementLine
	HT, VAT, TTC  int64 // cents
	Worked        time.Duration
	WarrantyTotal time.Duration
}

// Statement bills a customer's tickets for the work done in [from, to):
// each ticket priced under its contract (billing.Period: every started
// unit due once, the accepted quote as a cap, warranty reopenings free).
func (l *Ledger) Statement(ctx context.Context, customer string, from, to time.Time) (Statement, error) {
	st := Statement{Customer: customer, From: from, To: to}
	ts, err := l.st.TicketsOfCustomer(ctx, customer)
	if err != nil {
		return st, err
	}
	for _, t := range ts {
		ws, err := l.st.WorkLog(ctx, t.ID)
		if err != nil {
			return st, err
		}
		if len(ws) == 0 {
			continue
		}
		entries := make([]billing.Entry, len(ws))
		for i, w := range ws {
			entries[i] = billing.Entry{At: w.At, Duration: w.Duration}
		}
		c, ok := l.contract(t)
		if !ok {
			var in time.Duration
			for _, e := range entries {
				if !e.At.Before(from) && e.At.Before(to) {
					in += e.Duration
				}
			}
			if in > 0 {
				st.Lines = append(st.Lines, StatementLine{Ticket: t, Line: billing.Line{Worked: in},
					Unbillable: fmt.Sprintf("not priced: contract %q is not in the configuration", t.Contract)})
				st.Worked += in
			}
			continue
		}
		evs, err := l.s.store.Timeline(ctx, t.ID)
		if err != nil {
			return st, err
		}
		var resolved, reopened []time.Time
		for _, e := range evs {
			switch e.Kind {
			case astreinte.EventResolved:
				resolved = append(resolved, e.At)
			case astreinte.EventReopened:
				reopened = append(reopened, e.At)
			}
		}
		spans := billing.Spans(t.CreatedAt, resolved, reopened, c.Warranty)
		var quote *billing.Quote
		if q, err := l.st.QuoteOf(ctx, t.ID); err == nil && q.State == store.QuoteAccepted {
			quote = &billing.Quote{AmountHT: q.AmountHT, Time: q.Duration, Flat: q.Flat}
		} else if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
			return st, err
		}
		line, ok := billing.Period(c.Billing, entries, spans, quote, from, to)
		if !ok {
			continue
		}
		waived, err := l.st.Waived(ctx, t.ID)
		if err != nil {
			return st, err
		}
		if waived != "" {
			line.Worked += line.Warranty
			line.Warranty = 0
			st.Lines = append(st.Lines, StatementLine{Ticket: t, Contract: c, Line: billing.Line{Worked: line.Worked},
				Unbillable: "waived: " + waived, Waived: waived})
			st.Worked += line.Worked
			continue
		}
		st.Lines = append(st.Lines, StatementLine{Ticket: t, Contract: c, Line: line})
		st.HT += line.HT
		st.VAT += line.VAT
		st.TTC += line.TTC
		st.Worked += line.Worked
		st.WarrantyTotal += line.Warranty
	}
	return st, nil
}
