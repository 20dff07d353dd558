package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// Appointment kinds.
const (
	AppointmentPhone = "phone"
	AppointmentVideo = "video"
)

// Appointment is a slot booked for a ticket: a phone call or a video
// meeting.
type Appointment struct {
	ID          int64
	TicketID    int64
	Number      string // the ticket's number (filled by reads)
	Customer    string
	Contact     string // who booked it (address)
	Kind        string // AppointmentPhone or AppointmentVideo
	Phone       string // the number to call (phone)
	Room        string // the meeting's address (video)
	UID         string // iCalendar UID
	Start, End  time.Time
	CreatedAt   time.Time
	CancelledAt time.Time
	CancelledBy string
}

// ErrSlotTaken is returned when an appointment's time overlaps another's,
// or its ticket already has one.
var ErrSlotTaken = errors.New("this slot is taken")

// BookAppointment stores a, with its timeline entry, unless its time
// overlaps an appointment not cancelled or its ticket has one
// (ErrSlotTaken). Writers are serialised (BEGIN IMMEDIATE) and the
// partial unique indexes stand behind the check, so two bookings of one
// slot never both succeed.
func (db *DB) BookAppointment(ctx context.Context, a *Appointment, detail string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("book appointment: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM appointments WHERE cancelled_at IS NULL
		AND ((starts_at < ? AND ends_at > ?) OR ticket_id = ?)`, ts(a.End), ts(a.Start), a.TicketID).Scan(&n); err != nil {
		return fmt.Errorf("book appointment: %w", err)
	}
	if n > 0 {
		return ErrSlotTaken
	}
	a.CreatedAt = db.now()
	err = tx.QueryRowContext(ctx, `INSERT INTO appointments (ticket_id, customer, contact, kind, phone, room, uid,
		starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.TicketID, a.Customer,
		a.Contact, a.Kind, a.Phone, a.Room, a.UID, ts(a.Start), ts(a.End), ts(a.CreatedAt)).Scan(&a.ID)
	if isUnique(err) {
		return ErrSlotTaken
	}
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("book appointment: ticket %d: %w", a.TicketID, errors.Join(err, astreinte.ErrNotFound))
		}
		return fmt.Errorf("book appointment: %w", err)
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: a.TicketID, At: a.CreatedAt, Kind: astreinte.EventAppointment,
		Actor: a.Contact, Channel: string(astreinte.ChannelSpace), Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

// CancelAppointment cancels an appointment not yet cancelled, which frees
// its slot, with its timeline entry; an unknown or cancelled one wraps
// astreinte.ErrNotFound.
func (db *DB) CancelAppointment(ctx context.Context, id int64, by, detail string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cancel appointment: %w", err)
	}
	defer tx.Rollback()
	now := db.now()
	var ticket int64
	err = tx.QueryRowContext(ctx, `UPDATE appointments SET cancelled_at = ?, cancelled_by = ? WHERE id = ? AND cancelled_at IS NULL
		RETURNING ticket_id`, ts(now), by, id).Scan(&ticket)
	if err != nil {
		return fmt.Errorf("cancel appointment %d: %w", id, errors.Join(err, astreinte.ErrNotFound))
	}
	if err := db.insertEvent(ctx, tx, astreinte.Event{TicketID: ticket, At: now, Kind: astreinte.EventAppointment,
		Actor: by, Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

const appointmentColumns = `a.id, a.ticket_id, t.number, a.customer, a.contact, a.kind, a.phone, a.room, a.uid,
	a.starts_at, a.ends_at, a.created_at, a.cancelled_at, a.cancelled_by`

func (db *DB) appointments(ctx context.Context, where string, args ...any) ([]Appointment, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+appointmentColumns+` FROM appointments a JOIN tickets t ON t.id = a.ticket_id
		WHERE `+where+` ORDER BY a.starts_at, a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("appointments: %w", err)
	}
	defer rows.Close()
	var out []Appointment
	for rows.Next() {
		var a Appointment
		if err := rows.Scan(&a.ID, &a.TicketID, &a.Number, &a.Customer, &a.Contact, &a.Kind, &a.Phone, &a.Room, &a.UID,
			timeCol{&a.Start}, timeCol{&a.End}, timeCol{&a.CreatedAt}, timeCol{&a.CancelledAt}, &a.CancelledBy); err != nil {
			return nil, fmt.Errorf("appointments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppointmentsBetween lists the appointments not cancelled that start in
// [from, to), earliest first.
func (db *DB) AppointmentsBetween(ctx context.Context, from, to time.Time) ([]Appointment, error) {
	return db.appointments(ctx, `a.cancelled_at IS NULL AND a.starts_at >= ? AND a.starts_at < ?`, ts(from), ts(to))
}

// AppointmentsOfCustomer lists a customer's appointments, cancelled ones
// included, earliest first.
func (db *DB) AppointmentsOfCustomer(ctx context.Context, customer string) ([]Appointment, error) {
	return db.appointments(ctx, `a.customer = ?`, customer)
}

// AppointmentByID returns an appointment, or an error wrapping
// astreinte.ErrNotFound.
func (db *DB) AppointmentByID(ctx context.Context, id int64) (Appointment, error) {
	as, err := db.appointments(ctx, `a.id = ?`, id)
	if err != nil {
		return Appointment{}, err
	}
	if len(as) == 0 {
		return Appointment{}, fmt.Errorf("appointment %d: %w", id, astreinte.ErrNotFound)
	}
	return as[0], nil
}
