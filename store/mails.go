package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

// Mail directions.
const (
	MailIn  = "in"  // from the requester
	MailOut = "out" // to the requester
)

// Mail kinds.
const (
	MailRequest = "request" // a requester's email: the one that made the ticket, or a later one
	MailAck     = "ack"     // the acknowledgement of a new ticket
	MailReply   = "reply"   // a technician's reply
)

// Mail states: received for mail in; queued, sending (claimed), sent or
// failed (retries used up) for mail out.
const (
	MailReceived = "received"
	MailQueued   = "queued"
	MailSending  = "sending"
	MailSent     = "sent"
	MailFailed   = "failed"
)

// ErrMailKnown is returned by AddMail for a Message-ID already kept: the
// same email delivered twice.
var ErrMailKnown = errors.New("this Message-ID is already kept")

// Mail is one email of a ticket's correspondence with its requester.
type Mail struct {
	ID        int64
	TicketID  int64
	MessageID string // without angle brackets
	Direction string // MailIn or MailOut
	Kind      string // MailRequest, MailAck or MailReply
	At        time.Time
	Addr      string // the requester's address: sender or recipient
	Name      string // the requester's display name
	Actor     string // who wrote it: a technician, "system", the requester
	Subject   string
	Text      string
	InReplyTo string   // the Message-ID answered, without brackets
	Refs      []string // the thread, oldest first
	Lang      string   // the requester's language (lang.Tag)
	Auto      string   // mail in: why a program sent it; "" for a person
	State     string
	Attempts  int
	NextAt    time.Time // queued: when to try; sending: the lease's end
	Error     string    // the last delivery error
	SentAt    time.Time
}

const mailCols = `id, ticket_id, message_id, direction, kind, at, addr, name, actor, subject, body, in_reply_to,
	refs, lang, auto, state, attempts, next_at, error, sent_at`

func scanMail(s scanner, m *Mail) error {
	var refs string
	if err := s.Scan(&m.ID, &m.TicketID, &m.MessageID, &m.Direction, &m.Kind, timeCol{&m.At}, &m.Addr, &m.Name,
		&m.Actor, &m.Subject, &m.Text, &m.InReplyTo, &refs, &m.Lang, &m.Auto, &m.State, &m.Attempts,
		timeCol{&m.NextAt}, &m.Error, timeCol{&m.SentAt}); err != nil {
		return err
	}
	m.Refs = strings.Fields(refs)
	return nil
}

// AddMail keeps m for its ticket, with ev (when not nil) on the ticket's
// timeline, in one transaction; m.ID is set. A zero At is the store's
// clock; a queued mail with a zero NextAt is due at once. It returns an
// error wrapping ErrMailKnown when the Message-ID is already kept, and
// astreinte.ErrNotFound when the ticket does not exist.
func (db *DB) AddMail(ctx context.Context, m *Mail, ev *astreinte.Event) error {
	if m.At.IsZero() {
		m.At = db.now()
	}
	if m.State == MailQueued && m.NextAt.IsZero() {
		m.NextAt = m.At
	}
	if m.MessageID == "" {
		return errors.New("add mail: no Message-ID")
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	defer tx.Rollback()
	if err := ticketExists(ctx, tx, m.TicketID); err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO mails (ticket_id, message_id, direction, kind, at, addr, name, actor,
		subject, body, in_reply_to, refs, lang, auto, state, attempts, next_at, error, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TicketID, m.MessageID, m.Direction, m.Kind, ts(m.At), strings.ToLower(m.Addr), m.Name, m.Actor,
		m.Subject, m.Text, m.InReplyTo, strings.Join(m.Refs, " "), m.Lang, m.Auto, m.State, m.Attempts,
		ts(m.NextAt), m.Error, ts(m.SentAt))
	if isUnique(err) {
		return fmt.Errorf("add mail <%s>: %w", m.MessageID, ErrMailKnown)
	}
	if err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	if ev != nil {
		ev.TicketID = m.TicketID
		if err := db.insertEvent(ctx, tx, *ev); err != nil {
			return fmt.Errorf("add mail: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add mail: %w", err)
	}
	return nil
}

// Mails returns a ticket's correspondence, oldest first.
func (db *DB) Mails(ctx context.Context, ticketID int64) ([]Mail, error) {
	return db.mailsWhere(ctx, "ticket ", `ticket_id = ? ORDER BY at, id`, ticketID)
}

// MailByMessageID returns the kept mail with that Message-ID (without
// brackets), or an error wrapping astreinte.ErrNotFound.
func (db *DB) MailByMessageID(ctx context.Context, id string) (Mail, error) {
	ms, err := db.mailsWhere(ctx, "message ", `message_id = ?`, strings.Trim(id, "<> "))
	if err != nil {
		return Mail{}, err
	}
	if len(ms) == 0 {
		return Mail{}, fmt.Errorf("mail <%s>: %w", id, astreinte.ErrNotFound)
	}
	return ms[0], nil
}

// ThreadTicket returns the ticket of the newest kept mail among ids (the
// Message-IDs an email answers or names in its thread), or an error
// wrapping astreinte.ErrNotFound when none is kept.
func (db *DB) ThreadTicket(ctx context.Context, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, fmt.Errorf("thread: no Message-ID: %w", astreinte.ErrNotFound)
	}
	q := `SELECT ticket_id FROM mails WHERE message_id IN (?` + strings.Repeat(", ?", len(ids)-1) + `) ORDER BY at DESC, id DESC LIMIT 1`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = strings.Trim(id, "<> ")
	}
	var t int64
	err := db.rdb.QueryRowContext(ctx, q, args...).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("thread: %w", astreinte.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("thread: %w", err)
	}
	return t, nil
}

// MailsTo counts the mails of kind sent or queued to addr since since.
func (db *DB) MailsTo(ctx context.Context, addr, kind string, since time.Time) (int, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM mails WHERE addr = ? AND kind = ? AND direction = 'out' AND at >= ?`,
		strings.ToLower(addr), kind, ts(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("mails to %s: %w", addr, err)
	}
	return n, nil
}

// DueMails returns up to limit mails to send at now: queued and due, or
// sending with an expired lease (the process that claimed them died).
func (db *DB) DueMails(ctx context.Context, now time.Time, limit int) ([]Mail, error) {
	return db.mailsWhere(ctx, "due ", `state IN ('queued', 'sending') AND next_at <= ? ORDER BY next_at, id LIMIT ?`, ts(now), limit)
}

// NextMailAt is when the next queued mail is due; ok is false when none
// waits.
func (db *DB) NextMailAt(ctx context.Context) (at time.Time, ok bool, err error) {
	var s sql.NullString
	if err := db.rdb.QueryRowContext(ctx, `SELECT MIN(next_at) FROM mails WHERE state IN ('queued', 'sending')`).Scan(&s); err != nil {
		return at, false, fmt.Errorf("next mail: %w", err)
	}
	if !s.Valid {
		return at, false, nil
	}
	err = timeCol{&at}.Scan(s.String)
	return at, err == nil, err
}

func (db *DB) mailsWhere(ctx context.Context, op, where string, args ...any) ([]Mail, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+mailCols+` FROM mails WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%smails: %w", op, err)
	}
	defer rows.Close()
	var ms []Mail
	for rows.Next() {
		var m Mail
		if err := scanMail(rows, &m); err != nil {
			return nil, fmt.Errorf("%smails: %w", op, err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// ClaimMail takes a due mail for sending until leaseUntil; false when
// another process took it first or it is no longer due.
func (db *DB) ClaimMail(ctx context.Context, id int64, leaseUntil time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE mails SET state = 'sending', next_at = ?, attempts = attempts + 1
		WHERE id = ? AND state IN ('queued', 'sending') AND next_at <= ?`, ts(leaseUntil), id, ts(db.now()))
	if err != nil {
		return false, fmt.Errorf("claim mail %d: %w", id, err)
	}
	return affected(res)
}

// FinishMail records the outcome of a claimed mail: sent, failed (retries
// used up) or queued again for retryAt, errText its last error; ev (when
// not nil) goes on the ticket's timeline in the same transaction.
func (db *DB) FinishMail(ctx context.Context, id int64, state string, retryAt time.Time, errText string, ev *astreinte.Event) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("finish mail %d: %w", id, err)
	}
	defer tx.Rollback()
	var ticket int64
	if err := tx.QueryRowContext(ctx, `SELECT ticket_id FROM mails WHERE id = ?`, id).Scan(&ticket); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finish mail %d: %w", id, astreinte.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("finish mail %d: %w", id, err)
	}
	var sent, next any
	switch state {
	case MailSent:
		sent = ts(db.now())
	case MailQueued:
		next = ts(retryAt)
	case MailFailed:
	default:
		return fmt.Errorf("finish mail %d: state %q", id, state)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE mails SET state = ?, next_at = ?, error = ?, sent_at = COALESCE(?, sent_at)
		WHERE id = ?`, state, next, errText, sent, id); err != nil {
		return fmt.Errorf("finish mail %d: %w", id, err)
	}
	if ev != nil {
		ev.TicketID = ticket
		if err := db.insertEvent(ctx, tx, *ev); err != nil {
			return fmt.Errorf("finish mail %d: %w", id, err)
		}
	}
	return tx.Commit()
}
