package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/astreinte/astreinte"
)

// Actor names used for timeline entries the store writes itself.
const (
	actorSystem = "system"
	actorCaller = "caller"
)

// execer is what *sql.Tx and *sql.DB have in common for writing.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertEvent adds e to its ticket's timeline, at the store's clock when
// e.At is zero.
func (db *DB) insertEvent(ctx context.Context, tx execer, e astreinte.Event) error {
	if e.At.IsZero() {
		e.At = db.now()
	}
	if e.Kind == "" {
		return fmt.Errorf("event for ticket %d: empty kind", e.TicketID)
	}
	facts := ""
	if e.Facts != nil {
		b, err := json.Marshal(e.Facts)
		if err != nil {
			return fmt.Errorf("event %s for ticket %d: %w", e.Kind, e.TicketID, err)
		}
		facts = string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO events (ticket_id, at, kind, actor, channel, detail, facts)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.TicketID, ts(e.At), e.Kind, e.Actor, e.Channel, e.Detail, facts)
	if err != nil {
		return fmt.Errorf("event %s for ticket %d: %w", e.Kind, e.TicketID, err)
	}
	return nil
}

// ticketExists reports an error wrapping astreinte.ErrNotFound when the
// ticket does not exist.
func ticketExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("ticket %d: %w", id, astreinte.ErrNotFound)
	}
	return nil
}

// Timeline returns a ticket's events, oldest first. A ticket without
// events, or that does not exist, has an empty timeline.
func (db *DB) Timeline(ctx context.Context, ticketID int64) ([]astreinte.Event, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT id, ticket_id, at, kind, actor, channel, detail, facts
		FROM events WHERE ticket_id = ? ORDER BY at, id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("timeline of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var events []astreinte.Event
	for rows.Next() {
		var e astreinte.Event
		var facts string
		if err := rows.Scan(&e.ID, &e.TicketID, timeCol{&e.At}, &e.Kind, &e.Actor, &e.Channel, &e.Detail, &facts); err != nil {
			return nil, fmt.Errorf("timeline of ticket %d: %w", ticketID, err)
		}
		if facts != "" {
			e.Facts = new(astreinte.EventFacts)
			if err := json.Unmarshal([]byte(facts), e.Facts); err != nil {
				return nil, fmt.Errorf("timeline of ticket %d: event %d: facts: %w", ticketID, e.ID, err)
			}
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("timeline of ticket %d: %w", ticketID, err)
	}
	return events, nil
}

// AddEvent adds an entry to a ticket's timeline (e.ID is ignored; a zero
// e.At is the store's clock). It returns an error wrapping
// astreinte.ErrNotFound when the ticket does not exist.
func (db *DB) AddEvent(ctx context.Context, e astreinte.Event) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	defer tx.Rollback()

	if err := ticketExists(ctx, tx, e.TicketID); err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	if err := db.insertEvent(ctx, tx, e); err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add event: %w", err)
	}
	return nil
}

// AddNote adds a technician's note to a ticket's timeline. It returns an
// error wrapping astreinte.ErrNotFound when the ticket does not exist.
func (db *DB) AddNote(ctx context.Context, ticketID int64, actor, note string) error {
	return db.AddEvent(ctx, astreinte.Event{TicketID: ticketID, Kind: astreinte.EventNote, Actor: actor, Detail: note})
}
