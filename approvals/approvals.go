// Package approvals is what a technician asks of a customer before the
// work, and the customer's answer: a quote (an amount or a time, and what
// it covers) to accept or refuse, and the confirmation of an intervention
// that may go past the contract's threshold (more than two tickets under
// the second agreement). Each ask is mailed to the customer's contacts
// with a link to the ticket in the customer space, where they answer; the
// timeline keeps who asked and who answered what, and when. Until the
// confirmation is given the work log refuses billable work past the
// threshold (tickets.Ledger.AddWork).
package approvals

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// Store keeps confirmation requests (store.DB).
type Store interface {
	AskConfirmation(ctx context.Context, c store.ConfirmationRequest, detail string) error
	ConfirmationRequestOf(ctx context.Context, ticketID int64) (store.ConfirmationRequest, error)
	DecideConfirmation(ctx context.Context, ticketID int64, confirmed bool, actor, detail string) error
}

// Quotes reads a ticket's quote (store.DB).
type Quotes interface {
	QuoteOf(ctx context.Context, ticketID int64) (store.Quote, error)
}

// Customers finds the contacts to mail (store.DB).
type Customers interface {
	CustomerByNumber(ctx context.Context, number string) (customers.Customer, error)
}

// Sender sends an email (mailer.Config).
type Sender interface {
	Send(ctx context.Context, m *mailer.Message) error
}

var (
	_ Store     = (*store.DB)(nil)
	_ Quotes    = (*store.DB)(nil)
	_ Customers = (*store.DB)(nil)
	_ Sender    = (*mailer.Config)(nil)
)

// Service asks and records. All fields but Log and Lang are required.
type Service struct {
	Ledger    *tickets.Ledger
	Store     Store
	Quotes    Quotes
	Customers Customers
	Mail      Sender
	BaseURL   string   // public address of the pages (the space is under /client/)
	Lang      lang.Tag // the language of the mails to customers without one of their own (default French)
	Log       *slog.Logger
}

// ErrNotSent wraps the failure to mail the customer: the ask itself is
// recorded (the customer sees it in the space).
var ErrNotSent = errors.New("the customer was not mailed")

// ErrNoContact is returned when a ticket's customer has no email address
// to ask: the ask is recorded, but nobody was told.
var ErrNoContact = fmt.Errorf("the customer has no email address: %w", ErrNotSent)

// ErrNoCustomer is returned for a ticket matched to no customer: there is
// nobody to ask.
var ErrNoCustomer = errors.New("the ticket has no customer: nobody can accept")

// ErrBadConfirmation is returned for a confirmation asked without the
// units it may take or without saying what the intervention is.
var ErrBadConfirmation = errors.New("confirmation: give the units the intervention may take and what it is")

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Pending is what a ticket asks of its customer, or was answered.
type Pending struct {
	Quote        *store.Quote
	Confirmation *store.ConfirmationRequest
}

// Of returns the ticket's quote and confirmation request, when it has them.
func (s *Service) Of(ctx context.Context, ticketID int64) (Pending, error) {
	var p Pending
	if q, err := s.Quotes.QuoteOf(ctx, ticketID); err == nil {
		p.Quote = &q
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return p, err
	}
	if c, err := s.Store.ConfirmationRequestOf(ctx, ticketID); err == nil {
		p.Confirmation = &c
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return p, err
	}
	return p, nil
}

// ProposeQuote proposes q for t and mails the customer's contacts a link
// to accept or refuse it. The quote stands even when the mail fails (the
// error says so).
func (s *Service) ProposeQuote(ctx context.Context, t astreinte.Ticket, q store.Quote) error {
	if t.Customer == "" {
		return ErrNoCustomer
	}
	q.Description = strings.TrimSpace(q.Description)
	if err := s.Ledger.ProposeQuote(ctx, t, q); err != nil {
		return err
	}
	return s.tell(ctx, t, func(l lang.Tag) (string, string) {
		what := quoteWords(l, q)
		if q.Description != "" {
			what += "\n" + q.Description
		}
		return l.Pick("Devis à accepter", "Quote to accept"),
			l.Pick("Un devis vous est proposé pour le ticket "+t.Number+" :\n\n"+what+
				"\n\nAcceptez-le ou refusez-le dans votre espace client :\n",
				"A quote is proposed for ticket "+t.Number+":\n\n"+what+"\n\nAccept or refuse it in your customer space:\n")
	})
}

// AskConfirmation asks the customer to confirm, before the work, an
// intervention on t that may take units of the contract (more than its
// threshold), described by what; it mails the contacts a link.
func (s *Service) AskConfirmation(ctx context.Context, t astreinte.Ticket, units int64, what, by string) error {
	if t.Customer == "" {
		return ErrNoCustomer
	}
	what = strings.TrimSpace(what)
	if units <= 0 || what == "" {
		return ErrBadConfirmation
	}
	detail := fmt.Sprintf("confirmation asked of the customer: up to %d unit(s): %s", units, what)
	if err := s.Store.AskConfirmation(ctx, store.ConfirmationRequest{TicketID: t.ID, Units: units, Description: what, AskedBy: by}, detail); err != nil {
		return fmt.Errorf("ticket %s: %w", t.Number, err)
	}
	return s.tell(ctx, t, func(l lang.Tag) (string, string) {
		return l.Pick("Intervention à confirmer", "Intervention to confirm"), l.Pick(fmt.Sprintf("L'intervention prévue sur le ticket %s peut dépasser le seuil de votre contrat : jusqu'à %d ticket(s).\n\n%s\n\n"+
			"Elle ne commencera qu'après votre confirmation, dans votre espace client :\n", t.Number, units, what),
			fmt.Sprintf("The intervention planned on ticket %s may go past your contract's threshold: up to %d ticket(s).\n\n%s\n\n"+
				"It starts only once you confirm it, in your customer space:\n", t.Number, units, what))
	})
}

// ErrNotContact is returned when an answer comes from an address that is
// not one of the ticket's customer's contacts: only they may accept.
var ErrNotContact = errors.New("only a contact of the ticket's customer may answer")

// contactOf checks that by is one of t's customer's addresses.
func (s *Service) contactOf(ctx context.Context, t astreinte.Ticket, by string) error {
	if t.Customer == "" {
		return ErrNoCustomer
	}
	c, err := s.Customers.CustomerByNumber(ctx, t.Customer)
	if err != nil {
		return fmt.Errorf("ticket %s: customer %s: %w", t.Number, t.Customer, err)
	}
	for _, e := range c.Emails {
		if strings.EqualFold(e, strings.TrimSpace(by)) {
			return nil
		}
	}
	s.log().Warn("approvals: answer refused from an address not the customer's", "ticket", t.Number, "customer", t.Customer, "by", by)
	return fmt.Errorf("ticket %s: %s: %w", t.Number, by, ErrNotContact)
}

// DecideQuote records the answer of by, a contact of t's customer, to t's
// proposed quote.
func (s *Service) DecideQuote(ctx context.Context, t astreinte.Ticket, accepted bool, by string) error {
	if err := s.contactOf(ctx, t, by); err != nil {
		return err
	}
	return s.Ledger.DecideQuote(ctx, t, accepted, by)
}

// DecideConfirmation records the answer of by, a contact of t's customer,
// to t's confirmation request: confirmed, the work may go past the
// threshold.
func (s *Service) DecideConfirmation(ctx context.Context, t astreinte.Ticket, confirmed bool, by string) error {
	if err := s.contactOf(ctx, t, by); err != nil {
		return err
	}
	c, err := s.Store.ConfirmationRequestOf(ctx, t.ID)
	if err != nil {
		return err
	}
	word := "refused"
	if confirmed {
		word = "confirmed"
	}
	detail := fmt.Sprintf("the customer %s the intervention (up to %d unit(s)): %s", word, c.Units, c.Description)
	return s.Store.DecideConfirmation(ctx, t.ID, confirmed, by, detail)
}

// tell mails t's customer's contacts, in the customer's language (else
// Lang): words gives the subject and the text in a language.
func (s *Service) tell(ctx context.Context, t astreinte.Ticket, words func(lang.Tag) (subject, text string)) error {
	c, err := s.Customers.CustomerByNumber(ctx, t.Customer)
	if err != nil {
		return fmt.Errorf("ticket %s: customer %s: %w: %w", t.Number, t.Customer, ErrNotSent, err)
	}
	if len(c.Emails) == 0 {
		return ErrNoContact
	}
	l := c.Lang(s.Lang)
	subject, text := words(l)
	m := &mailer.Message{Subject: "[" + t.Number + "] " + subject,
		Text: text + s.BaseURL + "/client/tickets/" + t.Number + "\n"}
	for _, e := range c.Emails {
		m.To = append(m.To, &mail.Address{Address: e})
	}
	m.Add("Auto-Submitted", "auto-generated")
	m.Add("X-Astreinte-Ticket", t.Number)
	m.Add("Content-Language", string(l))
	if err := s.Mail.Send(ctx, m); err != nil {
		return fmt.Errorf("ticket %s: %w: %w", t.Number, ErrNotSent, err)
	}
	s.log().Info("approvals: customer asked", "ticket", t.Number, "customer", c.Number, "subject", subject)
	return nil
}

// quoteWords writes a quote for the customer.
func quoteWords(l lang.Tag, q store.Quote) string {
	switch {
	case q.Flat:
		return l.Pick(l.Money(q.AmountHT)+" HT, prix forfaitaire", l.Money(q.AmountHT)+" excl. VAT, fixed price")
	case q.AmountHT > 0:
		return l.Pick("au plus "+l.Money(q.AmountHT)+" HT", "at most "+l.Money(q.AmountHT)+" excl. VAT")
	}
	return l.Pick("temps estimé : ", "estimated time: ") + l.Duration(q.Duration)
}

// QuoteWords writes a quote as the customer reads it.
func QuoteWords(l lang.Tag, q store.Quote) string { return quoteWords(l, q) }
