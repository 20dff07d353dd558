package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// insertTicketCaller stores t's kind, callback number, message offset, and
// its recording's urgency and marks with the ticket, in CreateTicket's transaction.
func insertTicketCaller(ctx context.Context, tx execer, id int64, t *astreinte.Ticket) error {
	kind := t.Kind
	if kind == "" {
		kind = astreinte.KindVoicemail
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_caller (ticket_id, kind, callback_number, message_at_ms, urgency, marks)
		VALUES (?, ?, ?, ?, ?, ?)`, id, kind, t.CallbackNumber, t.MessageAt.Milliseconds(), t.Urgency, marksColumn(t.Marks))
	if err != nil {
		return fmt.Errorf("caller details: %w", err)
	}
	return nil
}

// TicketCaller fills t's Kind, CallbackNumber, MessageAt and Marks from
// the store (a ticket stored before they existed is a voicemail with none).
func (db *DB) TicketCaller(ctx context.Context, t *astreinte.Ticket) error {
	_, err := db.ticketCaller(ctx, t)
	return err
}

// ticketCaller is TicketCaller, and also returns what the store knows of
// the ticket's own recording beyond t's fields: its urgency and when it was
// left ("" and zero: the ticket's).
func (db *DB) ticketCaller(ctx context.Context, t *astreinte.Ticket) (astreinte.Recording, error) {
	var (
		ms    int64
		marks string
		own   astreinte.Recording
	)
	err := db.rdb.QueryRowContext(ctx, `SELECT kind, callback_number, message_at_ms, urgency, marks, recorded_at
		FROM ticket_caller WHERE ticket_id = ?`, t.ID).Scan(&t.Kind, &t.CallbackNumber, &ms, &own.Urgency, &marks, timeCol{&own.At})
	if errors.Is(err, sql.ErrNoRows) {
		t.Kind, t.CallbackNumber, t.MessageAt, t.Marks = astreinte.KindVoicemail, "", 0, nil
		return own, nil
	}
	if err != nil {
		return own, fmt.Errorf("ticket %d: caller details: %w", t.ID, err)
	}
	t.MessageAt = time.Duration(ms) * time.Millisecond
	if t.Marks, err = parseMarks(marks); err != nil {
		return own, fmt.Errorf("ticket %d: %w", t.ID, err)
	}
	return own, nil
}

// OpenTicketFrom returns the newest ticket of line that is still open (new
// or acknowledged) and whose callback or caller number is number, or an
// error wrapping astreinte.ErrNotFound.
func (db *DB) OpenTicketFrom(ctx context.Context, line, number string) (astreinte.Ticket, error) {
	var t astreinte.Ticket
	if number == "" {
		return t, fmt.Errorf("open ticket from an unknown number: %w", astreinte.ErrNotFound)
	}
	// Two look-ups by index (the caller's number, the callback number
	// typed), not one OR that reads every open ticket of the line.
	err := scanTicket(db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = (
		SELECT id FROM (
			SELECT id, created_at FROM tickets
			WHERE caller_number = ? AND line = ? AND status IN ('new', 'acknowledged')
			UNION
			SELECT t.id, t.created_at FROM ticket_caller c JOIN tickets t ON t.id = c.ticket_id
			WHERE c.callback_number = ? AND t.line = ? AND t.status IN ('new', 'acknowledged')
		) open ORDER BY created_at DESC, id DESC LIMIT 1)`, number, line, number, line), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("open ticket from %s: %w", number, astreinte.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("open ticket from %s: %w", number, err)
	}
	return t, db.complete(ctx, &t)
}

// MergeIntoTicket adds a later call's message or missed call (t) to the
// open ticket id, in one transaction: the recording with its urgency and
// marks (the ticket's own if it had none, else one more), a message makes
// a missed-call ticket a voicemail, a callback number fills an empty one,
// the call is linked, p re-plans the ticket (urgency, due time, customer)
// and its Detail goes on the timeline (a plain "called again" note when
// empty). When page is not nil, the ticket's escalation starts again from
// its first step: a page in progress is cancelled and a new one queued. t
// gets the ticket's ID and Number.
func (db *DB) MergeIntoTicket(ctx context.Context, id int64, t *astreinte.Ticket, p Replan, page *NewPage) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("merge into ticket %d: %w", id, err)
	}
	defer tx.Rollback()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	var number, recording string
	if err := tx.QueryRowContext(ctx, `SELECT number, recording FROM tickets WHERE id = ?`, id).Scan(&number, &recording); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = astreinte.ErrNotFound
		}
		return fmt.Errorf("merge into ticket %d: %w", id, err)
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("merge into ticket %s: %s: %w", number, what, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO ticket_caller (ticket_id) VALUES (?)`, id); err != nil {
		return fail("caller details", err)
	}
	if t.Recording != "" {
		if recording == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET recording = ?, duration_ms = ? WHERE id = ?`,
				t.Recording, t.Duration.Milliseconds(), id); err != nil {
				return fail("recording", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET message_at_ms = ?, urgency = ?, marks = ?, recorded_at = ?
				WHERE ticket_id = ?`, t.MessageAt.Milliseconds(), t.Urgency, marksColumn(t.Marks), ts(t.CreatedAt), id); err != nil {
				return fail("recording", err)
			}
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_recordings (ticket_id, call_id, path, duration_ms,
			message_at_ms, created_at, urgency, marks) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, nullID(t.CallID), t.Recording,
			t.Duration.Milliseconds(), t.MessageAt.Milliseconds(), ts(t.CreatedAt), t.Urgency, marksColumn(t.Marks)); err != nil {
			return fail("recording", err)
		}
	}
	if t.Kind != astreinte.KindMissedCall {
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET kind = ? WHERE ticket_id = ?`, astreinte.KindVoicemail, id); err != nil {
			return fail("kind", err)
		}
	}
	if t.CallbackNumber != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET callback_number = ? WHERE ticket_id = ? AND callback_number = ''`,
			t.CallbackNumber, id); err != nil {
			return fail("callback number", err)
		}
	}
	if t.CallID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET ticket_id = ? WHERE id = ?`, id, t.CallID); err != nil {
			return fail("link call", err)
		}
	}
	if p.Detail == "" {
		p.Detail = mergedDetail(t)
	}
	if err := db.replan(ctx, tx, id, t.CreatedAt, p); err != nil {
		return fail("re-plan", err)
	}
	if page != nil {
		if err := db.restartPage(ctx, tx, id, page, "restarted: the caller called again"); err != nil {
			return fail("page", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	t.ID, t.Number = id, number
	return nil
}

// mergedDetail describes a later call joining a ticket.
func mergedDetail(t *astreinte.Ticket) string {
	what := "called again and left a message"
	if t.Kind == astreinte.KindMissedCall {
		what = "called again and hung up before leaving a message"
	}
	if t.Urgency == astreinte.Urgent {
		what += " (urgent)"
	}
	if t.Duration > 0 {
		what += ", " + t.Duration.Round(time.Second).String()
	}
	return "the caller " + what
}
