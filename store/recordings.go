package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// markJSON is one mark as stored in a marks column.
type markJSON struct {
	AtMS int64              `json:"at_ms"`
	Kind astreinte.MarkKind `json:"kind"`
	Name string             `json:"name,omitempty"`
}

// marksColumn encodes marks for a marks column ("[]" for none).
func marksColumn(ms []astreinte.Mark) string {
	out := make([]markJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, markJSON{AtMS: m.At.Milliseconds(), Kind: m.Kind, Name: m.Name})
	}
	b, _ := json.Marshal(out) // cannot fail: strings and integers
	return string(b)
}

// parseMarks decodes a marks column; nil for none.
func parseMarks(s string) ([]astreinte.Mark, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var in []markJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	out := make([]astreinte.Mark, 0, len(in))
	for _, m := range in {
		out = append(out, astreinte.Mark{At: time.Duration(m.AtMS) * time.Millisecond, Kind: m.Kind, Name: m.Name})
	}
	return out, nil
}

// recordingCountColumn counts a ticket's messages in the select of
// ticketColumns: its own recording and those later calls joined.
const recordingCountColumn = `CASE WHEN recording <> '' THEN 1 ELSE 0 END + (SELECT COUNT(*) FROM ticket_recordings r WHERE r.ticket_id = tickets.id)`

// complete fills what a ticket read in full carries beyond its row: the
// caller details (TicketCaller) and every recording, newest first.
func (db *DB) complete(ctx context.Context, t *astreinte.Ticket) error {
	own, err := db.ticketCaller(ctx, t)
	if err != nil {
		return err
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT path, call_id, duration_ms, message_at_ms, created_at, urgency, marks
		FROM ticket_recordings WHERE ticket_id = ? ORDER BY created_at DESC, id DESC`, t.ID)
	if err != nil {
		return fmt.Errorf("recordings of ticket %d: %w", t.ID, err)
	}
	defer rows.Close()
	t.Recordings = t.Recordings[:0]
	for rows.Next() {
		var (
			r     astreinte.Recording
			d, m  int64
			marks string
		)
		if err := rows.Scan(&r.Path, idCol{&r.CallID}, &d, &m, timeCol{&r.At}, &r.Urgency, &marks); err != nil {
			return fmt.Errorf("recordings of ticket %d: %w", t.ID, err)
		}
		r.Duration, r.MessageAt = time.Duration(d)*time.Millisecond, time.Duration(m)*time.Millisecond
		if r.Marks, err = parseMarks(marks); err != nil {
			return fmt.Errorf("recording %s: %w", r.Path, err)
		}
		t.Recordings = append(t.Recordings, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("recordings of ticket %d: %w", t.ID, err)
	}
	if t.Recording != "" {
		own.Path, own.Duration, own.CallID, own.MessageAt, own.Marks = t.Recording, t.Duration, t.CallID, t.MessageAt, t.Marks
		if own.At.IsZero() {
			own.At = t.CreatedAt
		}
		if own.Urgency == "" {
			own.Urgency = t.Urgency
		}
		t.Recordings = append(t.Recordings, own)
	}
	if len(t.Recordings) == 0 {
		t.Recordings = nil
	}
	t.RecordingCount = len(t.Recordings)
	return nil
}

// TicketByRecording returns the ticket one of whose recordings is path
// (its own or a later call's), filled as TicketByID does, or an error
// wrapping astreinte.ErrNotFound. The start-up repair uses it to tell a
// recording whose ticket exists from one that still needs its ticket.
func (db *DB) TicketByRecording(ctx context.Context, path string) (astreinte.Ticket, error) {
	var t astreinte.Ticket
	if path == "" {
		return t, fmt.Errorf("ticket for no recording: %w", astreinte.ErrNotFound)
	}
	err := scanTicket(db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE recording = ? OR id IN (SELECT ticket_id FROM ticket_recordings WHERE path = ?)
		ORDER BY id LIMIT 1`, path, path), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket for %s: %w", path, astreinte.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("ticket for %s: %w", path, err)
	}
	return t, db.complete(ctx, &t)
}

// Replan is what a later call or an amendment changes on a ticket, as the
// tickets service decided it, and the timeline entry that says so.
type Replan struct {
	Urgency  astreinte.Urgency // "": unchanged
	DueAt    time.Time         // zero: unchanged
	Customer string            // "": unchanged; set with Contract
	Contract string
	Detail   string // the timeline note; "": none
	Actor    string // who the note is from; "": the caller
}

// replan writes p on ticket id in tx.
func (db *DB) replan(ctx context.Context, tx *sql.Tx, id int64, at time.Time, p Replan) error {
	if p.Urgency != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET urgency = ? WHERE id = ?`, p.Urgency, id); err != nil {
			return fmt.Errorf("urgency: %w", err)
		}
	}
	if !p.DueAt.IsZero() {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET due_at = ? WHERE id = ?`, ts(p.DueAt), id); err != nil {
			return fmt.Errorf("due time: %w", err)
		}
	}
	if p.Customer != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET customer = ?, contract = ? WHERE id = ? AND customer = ''`,
			p.Customer, p.Contract, id); err != nil {
			return fmt.Errorf("customer: %w", err)
		}
	}
	if p.Detail != "" {
		actor := p.Actor
		if actor == "" {
			actor = actorCaller
		}
		if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: id, At: at, Kind: astreinte.EventNote,
			Actor: actor, Detail: p.Detail}); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
	}
	return nil
}

// restartPage cancels ticket id's page in progress and queues page from its
// first step, with a timeline entry saying why.
func (db *DB) restartPage(ctx context.Context, tx *sql.Tx, id int64, page *NewPage, why string) error {
	now := db.now()
	if _, err := tx.ExecContext(ctx, `UPDATE pages SET state = ? WHERE ticket_id = ? AND state = ?`,
		astreinte.PageCancelled, id, astreinte.PageActive); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	nextAt := page.NextAt
	if nextAt.IsZero() {
		nextAt = now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pages (ticket_id, policy, state, step, next_at, created_at)
		VALUES (?, ?, ?, 0, ?, ?)`, id, page.Policy, astreinte.PageActive, ts(nextAt), ts(now)); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: id, At: now, Kind: astreinte.EventPageQueued,
		Actor: actorSystem, Detail: "policy " + page.Policy + ", " + why}); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

// AmendTicket writes, in one transaction, what a call still on the line
// adds to the ticket it filed: the recording a.Recording (the ticket's own
// or a later call's; "" none) grew to a.Duration with a.Marks, and was
// made urgent when a.Urgent; p re-plans the ticket; a page not nil is
// queued at once. A recording the ticket does not have is an error
// wrapping astreinte.ErrNotFound, and nothing changes.
func (db *DB) AmendTicket(ctx context.Context, id int64, a astreinte.Amendment, p Replan, page *NewPage) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("amend ticket %d: %w", id, err)
	}
	defer tx.Rollback()
	fail := func(what string, err error) error { return fmt.Errorf("amend ticket %d: %s: %w", id, what, err) }
	if err := ticketExists(ctx, tx, id); err != nil {
		return fail("ticket", err)
	}
	if a.Recording != "" {
		if err := amendRecording(ctx, tx, id, a); err != nil {
			return fail("recording "+a.Recording, err)
		}
	}
	if err := db.replan(ctx, tx, id, db.now(), p); err != nil {
		return fail("re-plan", err)
	}
	if page != nil {
		if err := db.restartPage(ctx, tx, id, page, "the caller said it is urgent"); err != nil {
			return fail("page", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return nil
}

// amendRecording updates the duration, marks and (a.Urgent) urgency of the
// recording a.Recording of ticket id, wherever it is stored.
func amendRecording(ctx context.Context, tx *sql.Tx, id int64, a astreinte.Amendment) error {
	marks := marksColumn(a.Marks)
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET duration_ms = ? WHERE id = ? AND recording = ?`,
		a.Duration.Milliseconds(), id, a.Recording)
	if err != nil {
		return err
	}
	if own, err := affected(res); err != nil {
		return err
	} else if own {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO ticket_caller (ticket_id) VALUES (?)`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_caller SET marks = ? WHERE ticket_id = ?`, marks, id); err != nil {
			return err
		}
		if a.Urgent {
			_, err = tx.ExecContext(ctx, `UPDATE ticket_caller SET urgency = ? WHERE ticket_id = ?`, astreinte.Urgent, id)
		}
		return err
	}
	q := `UPDATE ticket_recordings SET duration_ms = ?, marks = ? WHERE ticket_id = ? AND path = ?`
	args := []any{a.Duration.Milliseconds(), marks, id, a.Recording}
	if a.Urgent {
		q = `UPDATE ticket_recordings SET duration_ms = ?, marks = ?, urgency = 'urgent' WHERE ticket_id = ? AND path = ?`
	}
	res, err = tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if ok, err := affected(res); err != nil {
		return err
	} else if !ok {
		return astreinte.ErrNotFound
	}
	return nil
}
