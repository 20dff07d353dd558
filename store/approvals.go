package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// Confirmation request states.
const (
	ConfirmationAsked     = "asked"
	ConfirmationConfirmed = "confirmed"
	ConfirmationRefused   = "refused"
)

// ConfirmationRequest is the confirmation of an intervention that may go
// past the contract's threshold, asked of the customer before the work.
type ConfirmationRequest struct {
	TicketID    int64
	Units       int64 // the units the intervention may take
	Description string
	State       string
	AskedAt     time.Time
	AskedBy     string
	DecidedAt   time.Time
	DecidedBy   string
}

// ErrAlreadyConfirmed is returned when asking again for a confirmation
// the customer gave.
var ErrAlreadyConfirmed = errors.New("the customer already confirmed this intervention")

// AskConfirmation records that the customer's confirmation is asked
// (replacing a refused or pending request; not a confirmed one), with its
// timeline entry.
func (db *DB) AskConfirmation(ctx context.Context, c ConfirmationRequest, detail string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO confirmation_requests (ticket_id, units, description, state, asked_at, asked_by)
		VALUES (?, ?, ?, 'asked', ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET units = excluded.units, description = excluded.description, state = 'asked',
		asked_at = excluded.asked_at, asked_by = excluded.asked_by, decided_at = NULL, decided_by = ''
		WHERE confirmation_requests.state <> 'confirmed'`, c.TicketID, c.Units, c.Description, ts(now), c.AskedBy)
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("confirmation for ticket %d: %w", c.TicketID, errors.Join(err, astreinte.ErrNotFound))
		}
		return fmt.Errorf("confirmation for ticket %d: %w", c.TicketID, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("confirmation for ticket %d: %w", c.TicketID, errors.Join(err, ErrAlreadyConfirmed))
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: c.TicketID, At: now, Kind: astreinte.EventNote,
		Actor: c.AskedBy, Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

// ConfirmationRequestOf returns a ticket's confirmation request, or an
// error wrapping astreinte.ErrNotFound.
func (db *DB) ConfirmationRequestOf(ctx context.Context, ticketID int64) (ConfirmationRequest, error) {
	c := ConfirmationRequest{TicketID: ticketID}
	err := db.rdb.QueryRowContext(ctx, `SELECT units, description, state, asked_at, asked_by, decided_at, decided_by
		FROM confirmation_requests WHERE ticket_id = ?`, ticketID).Scan(&c.Units, &c.Description, &c.State,
		timeCol{&c.AskedAt}, &c.AskedBy, timeCol{&c.DecidedAt}, &c.DecidedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("confirmation for ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	return c, err
}

// DecideConfirmation records the customer's answer to a pending request;
// a confirmation is also the ticket's (the work log then lets work go past
// the threshold), in the same transaction as the timeline entry.
func (db *DB) DecideConfirmation(ctx context.Context, ticketID int64, confirmed bool, actor, detail string) error {
	state := ConfirmationRefused
	if confirmed {
		state = ConfirmationConfirmed
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	res, err := tx.ExecContext(ctx, `UPDATE confirmation_requests SET state = ?, decided_at = ?, decided_by = ?
		WHERE ticket_id = ? AND state = 'asked'`, state, ts(now), actor, ticketID)
	if err != nil {
		return err
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("ticket %d has no confirmation asked: %w", ticketID, errors.Join(err, astreinte.ErrNotFound))
	}
	kind := astreinte.EventNote
	if confirmed {
		kind = astreinte.EventConfirmed
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET confirmed_at = ?, confirmed_by = ? WHERE id = ?`,
			ts(now), actor, ticketID); err != nil {
			return err
		}
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: ticketID, At: now, Kind: kind, Actor: actor,
		Channel: string(astreinte.ChannelSpace), Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}
