package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/astreinte/astreinte"
)

// Email is a request received by email (mailin.Message).
type Email struct {
	From    string // the sender's address
	Name    string // the sender's display name
	Subject string
	Text    string
	// Ref is the ticket number the subject names; "" for a new request.
	Ref string
}

// FromEmail makes a ticket of an email, or adds it to the ticket its
// subject names (reopening it when it was resolved: within the contract's
// warranty the reopening is not billed again). A new ticket is due in the
// contract's email business days and never pages. cs is the calendar case
// at reception. It returns the ticket and whether it was made.
func (s *Service) FromEmail(ctx context.Context, m Email, line string, cs astreinte.Case) (astreinte.Ticket, bool, error) {
	detail := m.Subject
	if m.Text != "" {
		detail += "\n\n" + m.Text
	}
	if m.Ref != "" {
		t, err := s.store.TicketByNumber(ctx, m.Ref)
		switch {
		case err == nil:
			if err := s.store.AddEvent(ctx, astreinte.Event{TicketID: t.ID, At: s.now(), Kind: astreinte.EventEmail,
				Actor: m.From, Channel: string(astreinte.ChannelEmail), Detail: detail}); err != nil {
				return t, false, fmt.Errorf("email to ticket %s: %w", t.Number, err)
			}
			s.announce(Change{Kind: Noted, TicketID: t.ID, Number: t.Number})
			if t.Status == astreinte.StatusResolved {
				if err := s.Reopen(ctx, t.ID, m.From, "reopened by the requester's email"); err != nil {
					return t, false, fmt.Errorf("email to ticket %s: %w", t.Number, err)
				}
				t.Status = astreinte.StatusNew
			}
			return t, false, nil
		case errors.Is(err, astreinte.ErrNotFound):
			s.log.Info("email names no known ticket: a new one is made", "ref", m.Ref, "from", m.From)
		default:
			return t, false, err
		}
	}
	if line == "" {
		line = s.defaultLine
	}
	t := astreinte.Ticket{Channel: astreinte.ChannelEmail, Line: line, CallerNumber: m.From,
		CallerName: strings.TrimSpace(m.Name), Urgency: astreinte.NotUrgent, Case: cs}
	if err := s.Create(ctx, &t); err != nil {
		return t, false, err
	}
	if err := s.store.AddEvent(ctx, astreinte.Event{TicketID: t.ID, At: s.now(), Kind: astreinte.EventEmail,
		Actor: m.From, Channel: string(astreinte.ChannelEmail), Detail: detail}); err != nil {
		// The ticket exists; the mail server must not deliver it twice.
		s.log.Error("email text on the new ticket's timeline", "ticket", t.Number, "error", err)
	}
	return t, true, nil
}
