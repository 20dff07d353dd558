package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// insertTicketCaller stores t's kind, callback number and message offset
// with the ticket, in CreateTicket's transaction.
func insertTicketCaller(ctx context.Context, tx execer, id int64, t *astreinte.Ticket) error {
	kind := t.Kind
	if kind == "" {
		kind = astreinte.KindVoicemail
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_caller (ticket_id, kind, callback_number, message_at_ms)
		VALUES (?, ?, ?, ?)`, id, kind, t.CallbackNumber, t.MessageAt.Milliseconds())
	if err != nil {
		return fmt.Errorf("caller details: %w", err)
	}
	return nil
}

// TicketCaller fills t's Kind, CallbackNumber and MessageAt from the store
// (a ticket stored before they existed is a voicemail with none).
func (db *DB) TicketCaller(ctx context.Context, t *astreinte.Ticket) error {
	var ms int64
	err := db.rdb.QueryRowContext(ctx, `SELECT kind, callback_number, message_at_ms FROM ticket_caller
		WHERE ticket_id = ?`, t.ID).Scan(&t.Kind, &t.CallbackNumber, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		t.Kind, t.CallbackNumber, t.MessageAt = astreinte.KindVoicemail, "", 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("ticket %d: caller details: %w", t.ID, err)
	}
	t.MessageAt = time.Duration(ms) * time.Millisecond
	return nil
}

// OpenTicketFrom returns the newest ticket of line that is still open (new
// or acknowledged) and whose callback or caller number is number, or an
// error wrapping astreinte.ErrNotFound.
func (db *DB) OpenTicketFrom(ctx context.Context, line, number string) (astreinte.Ticket, error) {
	var t astreinte.Ticket
	if number == "" {
		return t, fmt.Errorf("open ticket from an unknown number: %w", astreinte.ErrNotFound)
	}
	err := scanTicket(db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE line = ? AND status IN ('new', 'acknowledged')
		  AND (caller_number = ? OR id IN (SELECT ticket_id FROM ticket_caller WHERE callback_number = ?))
		ORDER BY created_at DESC, id DESC LIMIT 1`, line, number, number), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("open ticket from %s: %w", number, astreinte.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("open ticket from %s: %w", number, err)
	}
	return t, db.TicketCaller(ctx, &t)
}

// TicketRecording is one more recording on a ticket, left by a later call.
type TicketRecording struct {
	Path      string
	Duration  time.Duration
	MessageAt time.Duration
	CreatedAt time.Time
}

// TicketRecordings returns the recordings later calls added to a ticket,
// oldest first (the first recording is the ticket's own).
func (db *DB) TicketRecordings(ctx context.Context, ticketID int64) ([]TicketRecording, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT path, duration_ms, message_at_ms, created_at
		FROM ticket_recordings WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("recordings of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []TicketRecording
	for rows.Next() {
		var r TicketRecording
		var d, m int64
		if err := rows.Scan(&r.Path, &d, &m, timeCol{&r.CreatedAt}); err != nil {
			return nil, fmt.Errorf("recordings of ticket %d: %w", ticketID, err)
		}
		r.Duration, r.MessageAt = time.Duration(d)*time.Millisecond, time.Duration(m)*time.Millisecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// MergeIntoTicket adds a later call's message or missed call (t) to the
// open ticket id, in one transaction: the recording (the ticket's own if it
// had none, else one more), an urgent call makes the ticket urgent, a
// message makes a missed-call ticket a voicemail, a callback number fills
// an empty one, the call is linked, and a timeline note says so. When page
// is not nil, the ticket's escalation starts again from its first step: a
// page in progress is cancelled and a new one queued. t gets the ticket's
// ID and Number.
func (db *DB) MergeIntoTicket(ctx context.Context, id int64, t *astreinte.Ticket, page *NewPage) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("merge into ticket %d: %w", id, err)
	}
	defer tx.Rollback()
	now := db.now()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
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
			if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET message_at_ms = ? WHERE ticket_id = ?`,
				t.MessageAt.Milliseconds(), id); err != nil {
				return fail("recording", err)
			}
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_recordings (ticket_id, call_id, path, duration_ms,
			message_at_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)`, id, nullID(t.CallID), t.Recording,
			t.Duration.Milliseconds(), t.MessageAt.Milliseconds(), ts(t.CreatedAt)); err != nil {
			return fail("recording", err)
		}
	}
	if t.Kind != astreinte.KindMissedCall {
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET kind = ? WHERE ticket_id = ?`, astreinte.KindVoicemail, id); err != nil {
			return fail("kind", err)
		}
	}
	if t.Urgency == astreinte.Urgent {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET urgency = ? WHERE id = ?`, astreinte.Urgent, id); err != nil {
			return fail("urgency", err)
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
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: id, At: t.CreatedAt, Kind: astreinte.EventNote,
		Actor: actorCaller, Detail: mergedDetail(t)}); err != nil {
		return fail("timeline", err)
	}
	if page != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE pages SET state = ? WHERE ticket_id = ? AND state = ?`,
			oncall.PageCancelled, id, oncall.PageActive); err != nil {
			return fail("page", err)
		}
		nextAt := page.NextAt
		if nextAt.IsZero() {
			nextAt = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pages (ticket_id, policy, state, step, next_at, created_at)
			VALUES (?, ?, ?, 0, ?, ?)`, id, page.Policy, oncall.PageActive, ts(nextAt), ts(now)); err != nil {
			return fail("page", err)
		}
		if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: id, At: now, Kind: astreinte.EventPageQueued,
			Actor: actorSystem, Detail: "policy " + page.Policy + ", restarted: the caller called again"}); err != nil {
			return fail("timeline", err)
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
