package voicemail

import (
	"context"
	"errors"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/customers"
)

// The agreements in the call: the first agreement's rule on
// sensitive requests is said after the message, never before the beep;
// a caller out of hours whom the caller ID does not identify may type a
// customer number, so that their contract decides paging and due time.

// Customers is the customer directory as the flow asks it
// (tickets.Service).
type Customers interface {
	// Preview identifies t's requester as Take would (t.Customer is set
	// when the caller ID, or the callback number typed, is a customer's);
	// nothing is stored.
	Preview(ctx context.Context, t *astreinte.Ticket) (pages bool)
	// CustomerByNumber returns the customer with that number, or an error
	// wrapping astreinte.ErrNotFound.
	CustomerByNumber(ctx context.Context, number string) (customers.Customer, error)
	// HasCustomers says whether any customer is listed: with none, no
	// number can be typed, and nobody is asked.
	HasCustomers(ctx context.Context) bool
}

// customerKeyWait is how long the customer-number question waits for a
// first key: no key, and the call goes on without it.
const customerKeyWait = 4 * time.Second

// goodbye ends a call that left a message: the sensitive-requests rule
// when the line says it, that the acknowledgement with the customer
// space's link is mailed when it is, then goodbye.
func (s *session) goodbye() [][]int16 {
	var parts [][]int16
	if s.line.SensitiveNotice {
		parts = append(parts, s.p.Must(audio.PromptSensitiveRequests))
	}
	if s.spaceLinkMailed() {
		parts = append(parts, s.p.Must(audio.PromptSpaceLinkMailed))
	}
	return append(parts, s.p.Must(audio.PromptGoodbye))
}

// CallMail is the desk's side of a call (correspondence.Desk).
type CallMail interface {
	// AcknowledgesCall reports whether t's customer is mailed the
	// acknowledgement with the customer space's link.
	AcknowledgesCall(ctx context.Context, t astreinte.Ticket) bool
}

// spaceLinkMailed reports whether the ticket's acknowledgement with the
// customer space's link is mailed, as the desk decides it.
func (s *session) spaceLinkMailed() bool {
	if s.h.Mail == nil || s.ticket == nil || s.ticket.ID == 0 { // no ticket written yet: no mail either
		return false
	}
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	return s.h.Mail.AcknowledgesCall(ctx, *s.ticket)
}

// customerNumber asks a caller out of hours whom t's caller ID (or the
// callback number they typed) identifies as no customer for a customer
// number: typed then #, read back, confirmed with # (or no key) or typed
// again with 2. Only a number that is a customer's is taken; an unknown
// one is said so and may be typed again. No key within customerKeyWait,
// a hang-up before the read-back or numberTries failures: "". It asks
// only when the flow has a customer directory with customers in it.
func (s *session) customerNumber(t *astreinte.Ticket) string {
	if s.h.Customers == nil || !s.closed || !s.up() {
		return ""
	}
	if !s.unidentified(t) {
		return ""
	}
	for range numberTries {
		typed, err := s.typeDigits(audio.PromptCustomerNumber, customerKeyWait)
		if err != nil || typed == "" {
			s.log.Info("customer number not typed", "typed", typed, "hung_up", err != nil)
			return ""
		}
		c, err := s.lookupCustomer(typed)
		if err != nil {
			if !errors.Is(err, astreinte.ErrNotFound) {
				s.log.Error("customer number: lookup", "typed", typed, "error", err)
				return ""
			}
			s.log.Info("customer number unknown", "typed", typed)
			if _, err := s.pl.Play(false, s.p.Must(audio.PromptCustomerUnknown)); err != nil {
				return ""
			}
			continue
		}
		k, err := s.ask(step{name: audio.PromptCustomerConfirm, keys: "#2", wait: confirmWait,
			parts: [][]int16{s.p.Must(audio.PromptCustomerReadback), s.p.Number(typed), audio.Silence(200 * time.Millisecond), s.p.Must(audio.PromptCustomerConfirm)}})
		if k == '2' && err == nil {
			continue
		}
		// #, no key or a hang-up after hearing it read back: it stands.
		s.log.Info("customer number typed", "customer", c.Number, "contract", c.Contract)
		return c.Number
	}
	return ""
}

// lookupTimeout bounds each look-up in the customer directory.
const lookupTimeout = 5 * time.Second

// unidentified reports whether the directory lists customers and t's
// caller ID (or typed callback number) is none of theirs.
func (s *session) unidentified(t *astreinte.Ticket) bool {
	ctx, cancel := context.WithTimeout(s.ctx, lookupTimeout)
	defer cancel()
	if !s.h.Customers.HasCustomers(ctx) {
		return false
	}
	probe := *t
	s.h.Customers.Preview(ctx, &probe)
	return probe.Customer == ""
}

// lookupCustomer finds the customer with a typed number.
func (s *session) lookupCustomer(number string) (customers.Customer, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), lookupTimeout)
	defer cancel()
	return s.h.Customers.CustomerByNumber(ctx, number)
}
