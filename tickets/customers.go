package tickets

import (
	"context"
	"errors"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
)

// Customers identifies who a request comes from and gives the contracts
// (customers.Directory).
type Customers interface {
	Identify(ctx context.Context, channel astreinte.Channel, from string) (customers.Customer, error)
	ByNumber(ctx context.Context, number string) (customers.Customer, error)
	Contract(name string) (customers.Contract, bool)
	OnCallForUnidentified() bool
}

// identify marks every phone or email request unverified and, with a
// customer directory, matches the caller ID (phone) or the sender (email)
// to a customer: t gets the customer and its contract, or stays
// unidentified. A ticket already naming its customer (a number typed on
// the keypad) keeps it and gets its contract; an unknown number is
// dropped and the caller ID tried.
func (s *Service) identify(ctx context.Context, t *astreinte.Ticket) error {
	if t.Channel == "" {
		t.Channel = astreinte.ChannelPhone
	}
	t.Unverified = true
	if s.customers == nil {
		return nil
	}
	if t.Customer != "" {
		c, err := s.customers.ByNumber(ctx, t.Customer)
		if err == nil {
			t.Customer, t.Contract = c.Number, c.Contract
			return nil
		}
		s.log.Warn("the ticket names no known customer: identified by its sender instead", "customer", t.Customer, "error", err)
		t.Customer, t.Contract = "", ""
	}
	from := t.CallerNumber
	if t.Channel == astreinte.ChannelPhone && t.CallbackNumber != "" {
		from = t.CallbackNumber // E.164: the caller ID when it is a number, else the number typed
	}
	c, err := s.customers.Identify(ctx, t.Channel, from)
	if errors.Is(err, astreinte.ErrNotFound) {
		s.log.Info("request from no known customer", "channel", t.Channel, "from", from)
		return nil
	}
	if err != nil {
		// A message is never lost to a lookup: it stays unidentified.
		s.log.Error("identify the requester", "channel", t.Channel, "from", from, "error", err)
		return nil
	}
	t.Customer, t.Contract = c.Number, c.Contract
	return nil
}

// planByContract is Plan when customers and contracts are known (and for
// email in any case): it returns handled false for a phone message
// without a customer directory. The rules:
//
//   - email never pages; it is due in the contract's email business days
//     (the line's normal due time without a contract or that setting);
//   - a request from the customer space is as email (it never pages),
//     due in the contract's space business days, else its email ones;
//   - a phone message pages only when the line's page setting would page
//     AND the customer's contract includes on-call (unidentified callers:
//     customers.unidentified.on_call); it is then due as the line says;
//   - a phone message that does not page is due in the contract's phone
//     business days; without that setting, an urgent one is due when
//     support next opens (the next business day) and a normal one as the
//     line says.
func (s *Service) planByContract(t *astreinte.Ticket, p Policy, linePages bool) (pages, handled bool) {
	if s.customers == nil && t.Channel != astreinte.ChannelEmail && t.Channel != astreinte.ChannelSpace {
		return false, false
	}
	var (
		contract customers.Contract
		known    bool
	)
	if s.customers != nil {
		contract, known = s.customers.Contract(t.Contract)
	}
	days, set := contract.Due[t.Channel]
	if t.Channel == astreinte.ChannelSpace && !set {
		// The agreements manage requests "on the site or by email" alike.
		days, set = contract.Due[astreinte.ChannelEmail]
	}
	if t.Channel == astreinte.ChannelEmail || t.Channel == astreinte.ChannelSpace {
		if !set {
			days = p.DueNormal
		}
		s.due(t, days, false)
		return false, true
	}
	onCall := known && contract.OnCall || t.Customer == "" && s.customers.OnCallForUnidentified()
	if linePages && onCall {
		if t.Urgency == astreinte.Urgent {
			s.due(t, p.DueUrgent, false)
		} else {
			s.due(t, p.DueNormal, false)
		}
		return true, true
	}
	switch {
	case set:
		s.due(t, days, true)
	case t.Urgency == astreinte.Urgent:
		s.due(t, 0, true)
	default:
		s.due(t, p.DueNormal, true)
	}
	return false, true
}

// due sets t.DueAt n business days after its creation; with n = 0 it is
// the creation itself, or, when nextOpen, the time support next opens.
func (s *Service) due(t *astreinte.Ticket, n int, nextOpen bool) {
	t.DueAt = t.CreatedAt
	if n > 0 || nextOpen {
		t.DueAt = s.days.AddBusinessDays(t.CreatedAt, n)
	}
}

// CustomerByNumber returns the customer with that number (typed on the
// keypad, say), or an error wrapping astreinte.ErrNotFound, also when no
// customers are configured.
func (s *Service) CustomerByNumber(ctx context.Context, number string) (customers.Customer, error) {
	if s.customers == nil {
		return customers.Customer{}, customers.ErrNoCustomer
	}
	return s.customers.ByNumber(ctx, number)
}

// Preview is what Create would decide for t, without storing anything: it
// identifies the requester (t gets its customer, contract, channel and the
// unverified mark), sets t's due time and says whether it would page. The
// caller's flow can tell the caller what will happen before the message is
// recorded (a technician is woken, or the call back is due at t.DueAt).
func (s *Service) Preview(ctx context.Context, t *astreinte.Ticket) (pages bool) {
	_ = s.identify(ctx, t) // never fails: an unknown requester stays unidentified
	return s.Plan(t)
}

// ContractOnCall reports whether t's contract includes on-call, the rule
// Plan pages by: a known contract's on_call; for a caller no customer
// matched, customers.unidentified.on_call; without a customer directory,
// true (the line alone decides).
func (s *Service) ContractOnCall(t astreinte.Ticket) bool {
	if s.customers == nil {
		return true
	}
	if t.Customer == "" {
		return s.customers.OnCallForUnidentified()
	}
	c, known := s.customers.Contract(t.Contract)
	return known && c.OnCall
}
