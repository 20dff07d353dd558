package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// Work is one entry of a ticket's work log.
type Work struct {
	ID       int64
	TicketID int64
	At       time.Time
	Duration time.Duration // whole seconds
	By       string
	Note     string
}

// Quote states.
const (
	QuoteProposed = "proposed"
	QuoteAccepted = "accepted"
	QuoteRefused  = "refused"
)

// Quote is a ticket's quote: an amount before tax in cents, or a time.
type Quote struct {
	TicketID  int64
	AmountHT  int64
	Duration  time.Duration
	Flat      bool // AmountHT is a fixed price
	State     string
	SetAt     time.Time
	SetBy     string
	DecidedAt time.Time
	// Description says what the quote covers, as the customer reads it.
	Description string
	// DecidedBy is who accepted or refused it (a contact's address in the
	// customer space).
	DecidedBy string
}

// ErrQuoteAccepted is returned when changing a quote the customer accepted.
var ErrQuoteAccepted = errors.New("the quote was accepted: it cannot change")

// Confirmation is when and by whom the customer's confirmation was noted.
type Confirmation struct {
	At time.Time
	By string
}

// AddWork logs time spent on a ticket, with its timeline entry, in one
// transaction; w.ID is set. A zero At is the store's clock.
func (db *DB) AddWork(ctx context.Context, w *Work, detail string, facts *astreinte.EventFacts) error {
	if w.Duration < time.Second {
		return errors.New("work: at least one second")
	}
	if w.At.IsZero() {
		w.At = db.now()
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add work: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `INSERT INTO worklog (ticket_id, at, duration_s, by, note) VALUES (?, ?, ?, ?, ?)
		RETURNING id`, w.TicketID, ts(w.At), int64(w.Duration/time.Second), w.By, w.Note).Scan(&w.ID); err != nil {
		if isConstraint(err) {
			return fmt.Errorf("add work to ticket %d: %w", w.TicketID, astreinte.ErrNotFound)
		}
		return fmt.Errorf("add work to ticket %d: %w", w.TicketID, err)
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: w.TicketID, At: w.At, Kind: astreinte.EventWork,
		Actor: w.By, Detail: detail, Facts: facts}); err != nil {
		return fmt.Errorf("add work to ticket %d: %w", w.TicketID, err)
	}
	return tx.Commit()
}

// WorkLog returns a ticket's work, oldest first.
func (db *DB) WorkLog(ctx context.Context, ticketID int64) ([]Work, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT id, ticket_id, at, duration_s, by, note FROM worklog
		WHERE ticket_id = ? ORDER BY at, id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("work log of %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []Work
	for rows.Next() {
		var w Work
		var secs int64
		if err := rows.Scan(&w.ID, &w.TicketID, timeCol{&w.At}, &secs, &w.By, &w.Note); err != nil {
			return nil, fmt.Errorf("work log of %d: %w", ticketID, err)
		}
		w.Duration = time.Duration(secs) * time.Second
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetQuote gives a ticket its quote (replacing a previous one, which must
// not have been accepted: ErrQuoteAccepted), proposed, with its timeline
// entry.
func (db *DB) SetQuote(ctx context.Context, q Quote, detail string, facts *astreinte.EventFacts) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO quotes (ticket_id, amount_ht, duration_s, flat, state, set_at, set_by, description)
		VALUES (?, ?, ?, ?, 'proposed', ?, ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET amount_ht = excluded.amount_ht, duration_s = excluded.duration_s,
		flat = excluded.flat, state = 'proposed', set_at = excluded.set_at, set_by = excluded.set_by, decided_at = NULL,
		description = excluded.description, decided_by = ''
		WHERE quotes.state <> 'accepted'`,
		q.TicketID, q.AmountHT, int64(q.Duration/time.Second), q.Flat, ts(now), q.SetBy, q.Description)
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("quote for ticket %d: %w", q.TicketID, astreinte.ErrNotFound)
		}
		return fmt.Errorf("quote for ticket %d: %w", q.TicketID, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("quote for ticket %d: %w", q.TicketID, errors.Join(err, ErrQuoteAccepted))
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: q.TicketID, At: now, Kind: astreinte.EventQuote,
		Actor: q.SetBy, Detail: detail, Facts: facts}); err != nil {
		return err
	}
	return tx.Commit()
}

// QuoteOf returns a ticket's quote, or an error wrapping astreinte.ErrNotFound.
func (db *DB) QuoteOf(ctx context.Context, ticketID int64) (Quote, error) {
	q := Quote{TicketID: ticketID}
	var secs int64
	err := db.rdb.QueryRowContext(ctx, `SELECT amount_ht, duration_s, flat, state, set_at, set_by, decided_at, description, decided_by
		FROM quotes WHERE ticket_id = ?`, ticketID).Scan(&q.AmountHT, &secs, &q.Flat, &q.State, timeCol{&q.SetAt}, &q.SetBy,
		timeCol{&q.DecidedAt}, &q.Description, &q.DecidedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return q, fmt.Errorf("quote for ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	q.Duration = time.Duration(secs) * time.Second
	return q, err
}

// DecideQuote records the customer's answer to a proposed quote.
func (db *DB) DecideQuote(ctx context.Context, ticketID int64, accepted bool, actor, detail string, facts *astreinte.EventFacts) error {
	state := QuoteRefused
	if accepted {
		state = QuoteAccepted
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	res, err := tx.ExecContext(ctx, `UPDATE quotes SET state = ?, decided_at = ?, decided_by = ? WHERE ticket_id = ? AND state = 'proposed'`,
		state, ts(now), actor, ticketID)
	if err != nil {
		return err
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("ticket %d has no proposed quote: %w", ticketID, errors.Join(err, astreinte.ErrNotFound))
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: ticketID, At: now, Kind: astreinte.EventQuote,
		Actor: actor, Detail: detail, Facts: facts}); err != nil {
		return err
	}
	return tx.Commit()
}

// Confirm records the customer's confirmation of work beyond the
// contract's threshold.
func (db *DB) Confirm(ctx context.Context, ticketID int64, actor, note string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET confirmed_at = ?, confirmed_by = ? WHERE id = ?`, ts(now), actor, ticketID)
	if err != nil {
		return err
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("ticket %d: %w", ticketID, errors.Join(err, astreinte.ErrNotFound))
	}
	detail := "the customer confirmed the intervention"
	if note != "" {
		detail += ": " + note
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: ticketID, At: now, Kind: astreinte.EventConfirmed,
		Actor: actor, Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

// Waive marks a ticket as not billed, for the reason given (a non-empty
// reason), with its timeline entry.
func (db *DB) Waive(ctx context.Context, ticketID int64, actor, reason string) error {
	if reason == "" {
		return errors.New("waive: a reason is needed")
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET waived = ? WHERE id = ?`, reason, ticketID)
	if err != nil {
		return err
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("ticket %d: %w", ticketID, errors.Join(err, astreinte.ErrNotFound))
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: ticketID, At: db.now(), Kind: astreinte.EventNote,
		Actor: actor, Detail: "not billed: " + reason}); err != nil {
		return err
	}
	return tx.Commit()
}

// Waived returns why a ticket is not billed ("" when it is).
func (db *DB) Waived(ctx context.Context, ticketID int64) (string, error) {
	var s string
	err := db.rdb.QueryRowContext(ctx, `SELECT waived FROM tickets WHERE id = ?`, ticketID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	return s, err
}

// ConfirmationOf returns when the customer confirmed (zero At: never).
func (db *DB) ConfirmationOf(ctx context.Context, ticketID int64) (Confirmation, error) {
	var c Confirmation
	err := db.rdb.QueryRowContext(ctx, `SELECT confirmed_at, confirmed_by FROM tickets WHERE id = ?`, ticketID).
		Scan(timeCol{&c.At}, &c.By)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	return c, err
}
