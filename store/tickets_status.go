package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/astreinte/astreinte"
)

// ticketState reads what a status change needs to know of a ticket.
func ticketState(ctx context.Context, tx *sql.Tx, id int64) (status astreinte.Status, ackedBy string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT status, acked_by FROM tickets WHERE id = ?`, id).Scan(&status, &ackedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("ticket %d: %w", id, astreinte.ErrNotFound)
	}
	return status, ackedBy, err
}

// stopSends marks the pending sends of the ticket's active pages done, with
// reason as their last error, so that no worker picks them up. Sends a
// worker is sending now are left to finish.
func stopSends(ctx context.Context, tx *sql.Tx, ticketID int64, reason string) error {
	_, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, last_error = ?
		WHERE state = ? AND page_id IN (SELECT id FROM pages WHERE ticket_id = ? AND state = ?)`,
		astreinte.SendDone, reason, astreinte.SendPending, ticketID, astreinte.PageActive)
	return err
}

// Acknowledge records that a technician (by) took the ticket, through a
// channel (via: sip, web, cli …), and stops paging for it: in one
// transaction the ticket becomes acknowledged, its active page acked, the
// page's pending sends done ("cancelled: acknowledged"), and the timeline
// gets an EventAcknowledged entry.
//
// Only a new ticket can be acknowledged. For any other, Acknowledge changes
// nothing, adds a note saying who tried and what the ticket already was, and
// returns false, so a second acknowledgement is harmless. It returns an
// error wrapping astreinte.ErrNotFound when the ticket does not exist.
func (db *DB) Acknowledge(ctx context.Context, ticketID int64, by, via string) (bool, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
	}
	defer tx.Rollback()

	status, ackedBy, err := ticketState(ctx, tx, ticketID)
	if err != nil {
		return false, fmt.Errorf("acknowledge: %w", err)
	}
	now := db.now()
	if status != astreinte.StatusNew {
		detail := "acknowledgement ignored: already " + string(status)
		if ackedBy != "" {
			detail = "acknowledgement ignored: already acknowledged by " + ackedBy
			if status != astreinte.StatusAcknowledged {
				detail += ", now " + string(status)
			}
		}
		if err := db.insertEvent(ctx, tx, astreinte.Event{
			TicketID: ticketID, At: now, Kind: astreinte.EventNote, Actor: by, Channel: via, Detail: detail,
		}); err != nil {
			return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
		}
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
		}
		return false, nil
	}

	if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = ?, acked_by = ?, acked_at = ? WHERE id = ?`,
		astreinte.StatusAcknowledged, by, ts(now), ticketID); err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
	}
	if err := stopSends(ctx, tx, ticketID, "cancelled: acknowledged"); err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: sends: %w", ticketID, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE pages SET state = ?, acked_by = ?, acked_via = ?, acked_at = ?
		WHERE ticket_id = ? AND state = ?`, astreinte.PageAcked, by, via, ts(now), ticketID, astreinte.PageActive)
	if err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: page: %w", ticketID, err)
	}
	detail := ""
	if stopped, err := affected(res); err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: page: %w", ticketID, err)
	} else if stopped {
		detail = "paging stopped"
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{
		TicketID: ticketID, At: now, Kind: astreinte.EventAcknowledged, Actor: by, Channel: via, Detail: detail,
	}); err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("acknowledge ticket %d: %w", ticketID, err)
	}
	return true, nil
}

// SetStatus moves a ticket to called_back, resolved or back to new
// (reopened), with the matching timeline entry (EventCalledBack,
// EventResolved, EventReopened) whose Detail is note.
//
// Resolving sets ResolvedAt; any other status clears it. Leaving new for
// called_back or resolved cancels the ticket's active page (state
// cancelled, pending sends done) since someone has dealt with the caller.
// Reopening does not restart paging. Setting the status a ticket already
// has changes nothing (a non-empty note is still added, as a note). Use
// Acknowledge to acknowledge. It returns an error wrapping
// astreinte.ErrNotFound when the ticket does not exist.
func (db *DB) SetStatus(ctx context.Context, ticketID int64, s astreinte.Status, actor, note string) error {
	var kind astreinte.EventKind
	switch s {
	case astreinte.StatusCalledBack:
		kind = astreinte.EventCalledBack
	case astreinte.StatusResolved:
		kind = astreinte.EventResolved
	case astreinte.StatusNew:
		kind = astreinte.EventReopened
	case astreinte.StatusAcknowledged:
		return fmt.Errorf("set status of ticket %d: use Acknowledge to acknowledge", ticketID)
	default:
		return fmt.Errorf("set status of ticket %d: unknown status %q", ticketID, s)
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set status of ticket %d: %w", ticketID, err)
	}
	defer tx.Rollback()

	cur, _, err := ticketState(ctx, tx, ticketID)
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	now := db.now()
	if cur == s {
		if note == "" {
			return nil
		}
		kind = astreinte.EventNote
	} else {
		var resolvedAt any
		if s == astreinte.StatusResolved {
			resolvedAt = ts(now)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = ?, resolved_at = ? WHERE id = ?`,
			s, resolvedAt, ticketID); err != nil {
			return fmt.Errorf("set status of ticket %d: %w", ticketID, err)
		}
		if s != astreinte.StatusNew {
			if err := stopSends(ctx, tx, ticketID, "cancelled: "+string(s)); err != nil {
				return fmt.Errorf("set status of ticket %d: sends: %w", ticketID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE pages SET state = ? WHERE ticket_id = ? AND state = ?`,
				astreinte.PageCancelled, ticketID, astreinte.PageActive); err != nil {
				return fmt.Errorf("set status of ticket %d: page: %w", ticketID, err)
			}
		}
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{
		TicketID: ticketID, At: now, Kind: kind, Actor: actor, Detail: note,
	}); err != nil {
		return fmt.Errorf("set status of ticket %d: %w", ticketID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set status of ticket %d: %w", ticketID, err)
	}
	return nil
}
