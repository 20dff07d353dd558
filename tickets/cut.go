package tickets

import (
	"context"
	"fmt"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// FileCut makes the ticket of call t.CallID, cut by the death of the node
// that took it: as Create does (due time, customer, paging as the line
// says), in the one transaction that claims the call, so that of the nodes
// trying at once one files it. note goes on its timeline. It returns false
// when the call was filed already (or has ended, or its node is back).
// Unlike Create, a store that refuses the ticket keeps nothing in memory:
// the call stays in progress in the store and the next pass files it.
func (s *Service) FileCut(ctx context.Context, t *astreinte.Ticket, note string) (bool, error) {
	if t.Urgency == "" {
		t.Urgency = astreinte.NotUrgent
	}
	if t.Line == "" {
		t.Line = s.defaultLine
	}
	if t.Status == "" {
		t.Status = astreinte.StatusNew
	}
	if err := s.identify(ctx, t); err != nil {
		return false, err
	}
	var page *store.NewPage
	if t.Paged = s.Plan(t); t.Paged {
		page = &store.NewPage{Policy: astreinte.EscalationDefault, NextAt: t.CreatedAt}
	}
	filed, err := s.store.FileCutCall(ctx, t, page, s.now(), note)
	if err != nil {
		return false, fmt.Errorf("cut call %d: %w", t.CallID, err)
	}
	if filed {
		s.announce(Change{Kind: Created, TicketID: t.ID, Number: t.Number, Paging: t.Paged})
	}
	return filed, nil
}
