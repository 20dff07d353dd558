package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// SpaceStore keeps a request from the customer space with its ticket
// (store.DB).
type SpaceStore interface {
	// CreateRequestTicket stores t with what the request said, in one
	// transaction.
	CreateRequestTicket(ctx context.Context, t *astreinte.Ticket, r *store.Request, files []store.Attachment) error
}

var _ SpaceStore = (*store.DB)(nil)

// Request is a request opened by a signed-in contact in the customer
// space: the customer is known for sure (the session), so its ticket is
// verified.
type Request struct {
	Customer string // the customer number of the contact's record
	Contact  string // the contact's address
	Subject  string
	Text     string
	Files    []store.Attachment
}

// ErrEmptyRequest is returned for a request without a subject.
var ErrEmptyRequest = errors.New("a request needs a subject")

// FromSpace makes a verified ticket of a space request (channel
// astreinte.ChannelSpace): a sensitive request may be carried out. It is
// due under the customer's contract as that channel says, never pages,
// and keeps the text and files with it. cs is the calendar case now.
func (s *Service) FromSpace(ctx context.Context, st SpaceStore, r Request, line string, cs astreinte.Case) (astreinte.Ticket, error) {
	r.Subject = strings.TrimSpace(r.Subject)
	if r.Subject == "" {
		return astreinte.Ticket{}, ErrEmptyRequest
	}
	if s.customers == nil {
		return astreinte.Ticket{}, errors.New("space request: no customer directory")
	}
	c, err := s.customers.ByNumber(ctx, r.Customer)
	if err != nil {
		return astreinte.Ticket{}, fmt.Errorf("space request: customer %s: %w", r.Customer, err)
	}
	if line == "" {
		line = s.defaultLine
	}
	t := astreinte.Ticket{Channel: astreinte.ChannelSpace, Line: line, CallerNumber: r.Contact, CallerName: c.Name,
		Urgency: astreinte.NotUrgent, Case: cs, Customer: c.Number, Contract: c.Contract}
	// A space request never pages (Plan sets its due time); the ticket and
	// the request are one write, and a refused write is the contact's to
	// send again, not a ticket to keep in memory without its text.
	s.Plan(&t)
	t.Status = astreinte.StatusNew
	if err := st.CreateRequestTicket(ctx, &t, &store.Request{Subject: r.Subject, Body: r.Text, Contact: r.Contact}, r.Files); err != nil {
		return astreinte.Ticket{}, fmt.Errorf("space request: %w", err)
	}
	s.announce(Change{Kind: Created, TicketID: t.ID, Number: t.Number})
	return t, nil
}
