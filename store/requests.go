package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// Request is what a contact wrote when opening a ticket in the customer
// space.
type Request struct {
	TicketID int64
	Subject  string
	Body     string
	Contact  string // the contact's address
}

// Attachment is a file joined to a ticket.
type Attachment struct {
	ID        int64
	TicketID  int64
	Name      string
	Type      string // media type
	Size      int64
	Data      []byte // empty in listings
	CreatedAt time.Time
	CreatedBy string
}

// CreateRequestTicket stores a new ticket made of a space request (as
// CreateTicket, without a page) with the request's text and attachments
// and its timeline entry, in one transaction: a failure anywhere leaves
// neither the ticket nor any part of the request. r.TicketID is set.
func (db *DB) CreateRequestTicket(ctx context.Context, t *astreinte.Ticket, r *Request, files []Attachment) error {
	return db.createTicket(ctx, t, nil, func(tx *sql.Tx, id int64, _ string) error {
		r.TicketID = id
		return db.addRequest(ctx, tx, *r, files)
	})
}

// AddRequest keeps a space request's text and attachments with its
// existing ticket, and puts the text on the timeline, in one transaction.
func (db *DB) AddRequest(ctx context.Context, r Request, files []Attachment) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("request of ticket %d: %w", r.TicketID, err)
	}
	defer tx.Rollback()
	if err := db.addRequest(ctx, tx, r, files); err != nil {
		return err
	}
	return tx.Commit()
}

func (db *DB) addRequest(ctx context.Context, tx *sql.Tx, r Request, files []Attachment) error {
	now := db.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO space_requests (ticket_id, subject, body, contact) VALUES (?, ?, ?, ?)`,
		r.TicketID, r.Subject, r.Body, r.Contact); err != nil {
		if isConstraint(err) {
			return fmt.Errorf("request of ticket %d: %w", r.TicketID, errors.Join(err, astreinte.ErrNotFound))
		}
		return fmt.Errorf("request of ticket %d: %w", r.TicketID, err)
	}
	for _, f := range files {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_attachments (ticket_id, name, type, size, data, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.TicketID, f.Name, f.Type, len(f.Data), f.Data, ts(now), r.Contact); err != nil {
			return fmt.Errorf("attachment %s of ticket %d: %w", f.Name, r.TicketID, err)
		}
	}
	detail := r.Subject
	if r.Body != "" {
		detail += "\n\n" + r.Body
	}
	return db.insertEvent(ctx, tx, astreinte.Event{TicketID: r.TicketID, At: now, Kind: astreinte.EventNote,
		Actor: r.Contact, Channel: string(astreinte.ChannelSpace), Detail: detail})
}

// RequestOf returns what a space request said, or an error wrapping
// astreinte.ErrNotFound (the ticket came another way).
func (db *DB) RequestOf(ctx context.Context, ticketID int64) (Request, error) {
	r := Request{TicketID: ticketID}
	err := db.rdb.QueryRowContext(ctx, `SELECT subject, body, contact FROM space_requests WHERE ticket_id = ?`, ticketID).
		Scan(&r.Subject, &r.Body, &r.Contact)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request of ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	return r, err
}

// Attachments lists a ticket's files, without their data.
func (db *DB) Attachments(ctx context.Context, ticketID int64) ([]Attachment, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT id, ticket_id, name, type, size, created_at, created_by
		FROM ticket_attachments WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("attachments of %d: %w", ticketID, err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.TicketID, &a.Name, &a.Type, &a.Size, timeCol{&a.CreatedAt}, &a.CreatedBy); err != nil {
			return nil, fmt.Errorf("attachments of %d: %w", ticketID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachment returns one of a ticket's files with its data, or an error
// wrapping astreinte.ErrNotFound (also when it belongs to another ticket).
func (db *DB) Attachment(ctx context.Context, ticketID, id int64) (Attachment, error) {
	a := Attachment{ID: id, TicketID: ticketID}
	err := db.rdb.QueryRowContext(ctx, `SELECT name, type, size, data, created_at, created_by FROM ticket_attachments
		WHERE id = ? AND ticket_id = ?`, id, ticketID).Scan(&a.Name, &a.Type, &a.Size, &a.Data, timeCol{&a.CreatedAt}, &a.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("attachment %d: %w", id, astreinte.ErrNotFound)
	}
	return a, err
}
