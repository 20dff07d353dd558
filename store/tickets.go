package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

var _ astreinte.TicketService = (*DB)(nil)

// NewPage is the escalation to start with a ticket: the policy that pages
// for it and when its first step fires (a zero NextAt means now).
type NewPage struct {
	Policy string
	NextAt time.Time
	// First, when not nil, is the page's first step, written with it
	// (see astreinte.FiredStep); its PageID and IDs are set on commit.
	First *astreinte.FiredStep
}

const ticketColumns = `id, number, call_id, line, caller_number, caller_name, urgency, calendar_case,
	status, recording, duration_ms, created_at, due_at, acked_by, acked_at, resolved_at,
	channel, customer, contract, unverified, ` + recordingCountColumn + `, ` + callerColumns

// callerColumns give every read of a ticket, listings included, what the
// caller left beyond the row (TicketCaller reads the rest): the kind of
// ticket and the number to call back.
const callerColumns = `COALESCE((SELECT c.kind FROM ticket_caller c WHERE c.ticket_id = tickets.id), ''),
	COALESCE((SELECT c.callback_number FROM ticket_caller c WHERE c.ticket_id = tickets.id), '')`

func scanTicket(s scanner, t *astreinte.Ticket) error {
	var ms int64
	err := s.Scan(&t.ID, &t.Number, idCol{&t.CallID}, &t.Line, &t.CallerNumber, &t.CallerName, &t.Urgency, &t.Case,
		&t.Status, &t.Recording, &ms, timeCol{&t.CreatedAt}, timeCol{&t.DueAt}, &t.AckedBy, timeCol{&t.AckedAt},
		timeCol{&t.ResolvedAt}, &t.Channel, &t.Customer, &t.Contract, &t.Unverified, &t.RecordingCount,
		&t.Kind, &t.CallbackNumber)
	if t.Kind == "" {
		t.Kind = astreinte.KindVoicemail
	}
	t.Duration = time.Duration(ms) * time.Millisecond
	return err
}

// CreateTicket stores a new ticket in one transaction with everything that
// must not exist without it, and sets t.ID and t.Number.
//
// The number is the year of t.CreatedAt, in CreatedAt's own location, and a
// per-year sequence never given out twice: "2026-000123". A zero CreatedAt
// is the store's clock, an empty Status is new. The transaction also adds
// the EventCreated timeline entry, links the call (t.CallID, when not 0) to
// the ticket and, when page is not nil, queues the escalation: an active
// page at step 0 firing at page.NextAt, and an EventPageQueued entry. The
// page row is the paging engine's outbox, so a ticket is never stored
// without the page that was meant to announce it. With page.First, the
// page's first step is fired in the same transaction, as FireStep would
// have (the page at step 1, its sends claimed or pending, its events).
//
// Duration is stored in milliseconds.
func (db *DB) CreateTicket(ctx context.Context, t *astreinte.Ticket, page *NewPage) error {
	return db.createTicket(ctx, t, page, nil)
}

// createTicket is CreateTicket; also, when more is not nil, it runs in the
// same transaction once the ticket is in (with its ID and number), and
// its error undoes everything.
func (db *DB) createTicket(ctx context.Context, t *astreinte.Ticket, page *NewPage, more func(tx *sql.Tx, id int64, number string) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	defer tx.Rollback()
	var claimed []int64 // the first step's sends, locked on PostgreSQL
	committed := false
	defer func() {
		if !committed && page != nil && page.First != nil {
			db.releaseClaimed(page.First.Sends, claimed)
			page.First.PageID, page.First.IDs = 0, nil
		}
	}()

	now := db.now()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.Status == "" {
		t.Status = astreinte.StatusNew
	}
	year := t.CreatedAt.Year()
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO ticket_counters (year, last) VALUES (?, 1)
		ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`, year).Scan(&seq); err != nil {
		return fmt.Errorf("create ticket: number: %w", err)
	}
	number := formatNumber(year, seq)

	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO tickets (year, seq, number, call_id, line, caller_number,
		caller_name, urgency, calendar_case, status, recording, duration_ms, created_at, due_at, acked_by,
		acked_at, resolved_at, channel, customer, contract, unverified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		year, seq, number, nullID(t.CallID), t.Line, t.CallerNumber, t.CallerName, t.Urgency, t.Case, t.Status,
		t.Recording, t.Duration.Milliseconds(), ts(t.CreatedAt), ts(t.DueAt), t.AckedBy, ts(t.AckedAt),
		ts(t.ResolvedAt), t.Channel, t.Customer, t.Contract, t.Unverified).Scan(&id)
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", number, err)
	}
	if err := insertTicketCaller(ctx, tx, id, t); err != nil {
		return fmt.Errorf("create ticket %s: %w", number, err)
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{
		TicketID: id, At: t.CreatedAt, Kind: astreinte.EventCreated, Actor: actorCaller, Detail: createdDetail(t),
	}); err != nil {
		return fmt.Errorf("create ticket %s: %w", number, err)
	}
	if t.CallID != 0 {
		res, err := tx.ExecContext(ctx, `UPDATE calls SET ticket_id = ? WHERE id = ?`, id, t.CallID)
		if err != nil {
			return fmt.Errorf("create ticket %s: link call %d: %w", number, t.CallID, err)
		}
		if ok, err := affected(res); err != nil || !ok {
			return fmt.Errorf("create ticket %s: link call %d: %w", number, t.CallID, errors.Join(err, astreinte.ErrNotFound))
		}
	}
	if page != nil {
		nextAt := page.NextAt
		if nextAt.IsZero() {
			nextAt = now
		}
		step, first := 0, page.First
		if first != nil {
			step, nextAt = 1, first.NextAt
		}
		var pageID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO pages (ticket_id, policy, state, step, next_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, page.Policy, astreinte.PageActive, step, ts(nextAt), ts(now)).Scan(&pageID); err != nil {
			return fmt.Errorf("create ticket %s: page: %w", number, err)
		}
		if err := db.insertEvent(ctx, tx, astreinte.Event{
			TicketID: id, At: now, Kind: astreinte.EventPageQueued, Actor: actorSystem, Detail: "policy " + page.Policy,
		}); err != nil {
			return fmt.Errorf("create ticket %s: %w", number, err)
		}
		if first != nil {
			ids, err := db.queueSends(ctx, tx, pageID, id, first.Sends, first.LeaseUntil)
			if err == nil {
				err = db.queueEvents(ctx, tx, id, first.Events)
			}
			if err == nil {
				claimed = ids
				err = db.lockClaimed(ctx, first.Sends, ids)
			}
			if err != nil {
				return fmt.Errorf("create ticket %s: first page step: %w", number, err)
			}
			first.PageID, first.IDs = pageID, ids
		}
	}
	if more != nil {
		if err := more(tx, id, number); err != nil {
			return fmt.Errorf("create ticket %s: %w", number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create ticket %s: %w", number, err)
	}
	committed = true
	t.ID, t.Number = id, number
	return nil
}

// createdDetail describes a new ticket for its timeline, e.g.
// "urgent voicemail from +33612345678 on line support, 42s".
func createdDetail(t *astreinte.Ticket) string {
	var b strings.Builder
	if t.Urgency == astreinte.Urgent {
		b.WriteString("urgent ")
	}
	if t.Kind == astreinte.KindMissedCall {
		b.WriteString("missed call, no message, from ")
	} else {
		b.WriteString(requestKind(t) + " from ")
	}
	switch {
	case t.CallerNumber != "" && t.CallerName != "":
		fmt.Fprintf(&b, "%s (%s)", t.CallerNumber, t.CallerName)
	case t.CallerNumber != "":
		b.WriteString(t.CallerNumber)
	case t.CallerName != "":
		b.WriteString(t.CallerName)
	default:
		b.WriteString("an unknown number")
	}
	if t.Line != "" {
		b.WriteString(" on line ")
		b.WriteString(t.Line)
	}
	if t.Duration > 0 {
		b.WriteString(", ")
		b.WriteString(t.Duration.Round(time.Second).String())
	}
	return b.String()
}

// formatNumber gives a ticket's number: year, dash, sequence on 6 digits.
func formatNumber(year int, seq int64) string {
	return fmt.Sprintf("%d-%06d", year, seq)
}

// parseNumber reads "2026-000123", "2026-123" or "123" (year 0: any).
// A leading '#' is allowed.
func parseNumber(s string) (year int, seq int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	ys, ss, dash := strings.Cut(s, "-")
	if !dash {
		ys, ss = "", ys
	}
	if !digits(ss) || dash && !digits(ys) {
		return 0, 0, false
	}
	seq, err := strconv.ParseInt(ss, 10, 64)
	if err != nil || seq <= 0 {
		return 0, 0, false
	}
	if dash {
		year, err = strconv.Atoi(ys)
		if err != nil || year <= 0 {
			return 0, 0, false
		}
	}
	return year, seq, true
}

func digits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TicketByNumber returns the ticket, with its caller details and every
// recording (newest first), with the given number, written
// "2026-000123", "2026-123" or "123" (the most recent year having that
// sequence number). It returns an error wrapping astreinte.ErrNotFound when
// there is none or number is not a ticket number.
func (db *DB) TicketByNumber(ctx context.Context, number string) (astreinte.Ticket, error) {
	var t astreinte.Ticket
	year, seq, ok := parseNumber(number)
	if !ok {
		return t, fmt.Errorf("ticket %q: not a ticket number: %w", number, astreinte.ErrNotFound)
	}
	var row *sql.Row
	if year == 0 {
		row = db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets
			WHERE seq = ? ORDER BY year DESC LIMIT 1`, seq)
	} else {
		row = db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets
			WHERE seq = ? AND year = ?`, seq, year)
	}
	err := scanTicket(row, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket %s: %w", number, astreinte.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("ticket %s: %w", number, err)
	}
	return t, db.complete(ctx, &t)
}

// TicketByID returns one ticket with its caller details and every
// recording (newest first), or an error wrapping astreinte.ErrNotFound.
func (db *DB) TicketByID(ctx context.Context, id int64) (astreinte.Ticket, error) {
	var t astreinte.Ticket
	err := scanTicket(db.rdb.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id), &t)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("ticket %d: %w", id, astreinte.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("ticket %d: %w", id, err)
	}
	return t, db.complete(ctx, &t)
}

// Tickets lists tickets, newest first, each with its RecordingCount (one
// query; Recordings stays empty). f.Search matches a fragment of the
// ticket number, the caller's number or the caller's name, and a ticket
// number written in any form TicketByNumber accepts. f.Limit <= 0 means 50.
func (db *DB) Tickets(ctx context.Context, f astreinte.TicketFilter) ([]astreinte.Ticket, error) {
	var (
		b    strings.Builder
		args []any
	)
	b.WriteString(`SELECT ` + ticketColumns + ` FROM tickets WHERE 1 = 1`)
	if len(f.Status) > 0 {
		b.WriteString(` AND status IN (?` + strings.Repeat(`, ?`, len(f.Status)-1) + `)`)
		for _, s := range f.Status {
			args = append(args, s)
		}
	}
	if f.Urgency != "" {
		b.WriteString(` AND urgency = ?`)
		args = append(args, f.Urgency)
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		pat := likePattern(q)
		b.WriteString(` AND (number LIKE ? ESCAPE '\' OR caller_number LIKE ? ESCAPE '\' OR caller_name LIKE ? ESCAPE '\'`)
		args = append(args, pat, likePattern(strings.Join(strings.Fields(q), "")), pat)
		if year, seq, ok := parseNumber(q); ok {
			b.WriteString(` OR seq = ? AND (? = 0 OR year = ?)`)
			args = append(args, seq, year, year)
		}
		b.WriteString(`)`)
	}
	if !f.From.IsZero() {
		b.WriteString(` AND created_at >= ?`)
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		b.WriteString(` AND created_at < ?`)
		args = append(args, ts(f.To))
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	b.WriteString(` ORDER BY created_at DESC, id DESC LIMIT ?`)
	args = append(args, limit) // SQLite: a negative LIMIT is none

	rows, err := db.rdb.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	var tickets []astreinte.Ticket
	for rows.Next() {
		var t astreinte.Ticket
		if err := scanTicket(rows, &t); err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		tickets = append(tickets, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return tickets, nil
}

// likePattern matches s anywhere, with LIKE's wildcards in s escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
