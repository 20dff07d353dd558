package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

// Email is a request received by email (mailin.Message).
type Email struct {
	From    string // the sender's address
	Name    string // the sender's display name
	Subject string
	Text    string
	// Ref is the ticket number the subject names, or that its thread
	// (In-Reply-To, References) belongs to; "" for a new request.
	Ref string
	// Auto says a program sent it (an auto-reply, a bounce): it joins a
	// ticket's timeline but never reopens it.
	Auto bool
}

// FromEmail makes a ticket of an email, or adds it to the ticket its
// subject or thread names (reopening it when it was resolved, unless a
// program sent it: within the contract's warranty the reopening is not
// billed again, and the timeline says which applies). A new ticket is due in the
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
			if t.Status == astreinte.StatusResolved && !m.Auto {
				if err := s.Reopen(ctx, t.ID, m.From, "reopened by the requester's email"+s.warrantyNote(t)); err != nil {
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

// warrantyNote says whether reopening the resolved ticket t now falls
// within its contract's warranty (the work is not billed again), "" when
// the contract has none.
func (s *Service) warrantyNote(t astreinte.Ticket) string {
	if s.customers == nil || t.Contract == "" {
		return ""
	}
	c, ok := s.customers.Contract(t.Contract)
	if !ok || c.Warranty <= 0 || t.ResolvedAt.IsZero() {
		return ""
	}
	if s.now().Sub(t.ResolvedAt) <= c.Warranty {
		return fmt.Sprintf(": within the %s warranty after its resolution, not billed again", humanDays(c.Warranty))
	}
	return fmt.Sprintf(": past the %s warranty after its resolution, billed as new work", humanDays(c.Warranty))
}

// humanDays writes a warranty as people say it: "7-day", "36-hour".
func humanDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	}
	return fmt.Sprintf("%d-hour", d/time.Hour)
}
