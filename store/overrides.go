package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

// AddShiftOverride stores a shift override and returns its ID (o.ID is
// ignored). A zero SetAt is the store's clock. Replaced must be set and To
// must be after From.
func (db *DB) AddShiftOverride(ctx context.Context, o astreinte.ShiftOverride) (int64, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("add shift override: %w", err)
	}
	defer tx.Rollback()
	id, err := db.insertOverride(ctx, tx, o)
	if err != nil {
		return 0, fmt.Errorf("add shift override: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("add shift override: %w", err)
	}
	return id, nil
}

// insertOverride checks o and writes it in tx: the one place a shift
// override is made, by hand or by a swap.
func (db *DB) insertOverride(ctx context.Context, tx *sql.Tx, o astreinte.ShiftOverride) (int64, error) {
	if o.Replaced == "" {
		return 0, errors.New("no technician to replace")
	}
	if o.From.IsZero() || !o.To.After(o.From) {
		return 0, fmt.Errorf("the period %s – %s is empty", o.From.Format(time.RFC3339), o.To.Format(time.RFC3339))
	}
	if o.SetAt.IsZero() {
		o.SetAt = db.now()
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO shift_overrides (replaced, by_person, from_at, to_at, note,
		set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		o.Replaced, o.By, ts(o.From), ts(o.To), o.Note, o.SetBy, ts(o.SetAt)).Scan(&id)
	return id, err
}

// ShiftOverrides returns the shift overrides that overlap [from, to), by
// start time. A zero from or to leaves that side unbounded.
func (db *DB) ShiftOverrides(ctx context.Context, from, to time.Time) ([]astreinte.ShiftOverride, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT id, replaced, by_person, from_at, to_at, note, set_by, set_at
		FROM shift_overrides WHERE (CAST(?1 AS TEXT) IS NULL OR from_at < ?1) AND (CAST(?2 AS TEXT) IS NULL OR to_at > ?2)
		ORDER BY from_at, id`, ts(to), ts(from))
	if err != nil {
		return nil, fmt.Errorf("shift overrides: %w", err)
	}
	defer rows.Close()
	var list []astreinte.ShiftOverride
	for rows.Next() {
		var o astreinte.ShiftOverride
		if err := rows.Scan(&o.ID, &o.Replaced, &o.By, timeCol{&o.From}, timeCol{&o.To}, &o.Note, &o.SetBy,
			timeCol{&o.SetAt}); err != nil {
			return nil, fmt.Errorf("shift overrides: %w", err)
		}
		list = append(list, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("shift overrides: %w", err)
	}
	return list, nil
}

// DeleteShiftOverride deletes a shift override, or returns an error
// wrapping astreinte.ErrNotFound when there is none with that ID.
func (db *DB) DeleteShiftOverride(ctx context.Context, id int64) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete shift override %d: %w", id, err)
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, `DELETE FROM shift_overrides WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete shift override %d: %w", id, err)
	}
	if ok, err := affected(res); err != nil {
		return fmt.Errorf("delete shift override %d: %w", id, err)
	} else if !ok {
		return fmt.Errorf("delete shift override %d: %w", id, astreinte.ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete shift override %d: %w", id, err)
	}
	return nil
}

// SetCalendarOverride replaces the calendar override. A zero Until keeps it
// until cleared; a zero SetAt is the store's clock.
func (db *DB) SetCalendarOverride(ctx context.Context, o calendar.Override) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set calendar override: %w", err)
	}
	defer tx.Rollback()

	if o.SetAt.IsZero() {
		o.SetAt = db.now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendar_override (id, open, until_at, reason, set_by, set_at)
		VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET open = excluded.open, until_at = excluded.until_at,
		reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at`, o.Open, ts(o.Until), o.Reason, o.SetBy, ts(o.SetAt)); err != nil {
		return fmt.Errorf("set calendar override: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set calendar override: %w", err)
	}
	return nil
}

// CalendarOverride returns the calendar override, or nil when there is
// none. It is returned even when its Until has passed: whether it still
// applies is the calendar's decision, at the time it is given.
func (db *DB) CalendarOverride(ctx context.Context) (*calendar.Override, error) {
	var o calendar.Override
	err := db.rdb.QueryRowContext(ctx, `SELECT open, until_at, reason, set_by, set_at FROM calendar_override WHERE id = 1`).
		Scan(&o.Open, timeCol{&o.Until}, &o.Reason, &o.SetBy, timeCol{&o.SetAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("calendar override: %w", err)
	}
	return &o, nil
}

// ClearCalendarOverride removes the calendar override, if any.
func (db *DB) ClearCalendarOverride(ctx context.Context) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("clear calendar override: %w", err)
	}
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, `DELETE FROM calendar_override`); err != nil {
		return fmt.Errorf("clear calendar override: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("clear calendar override: %w", err)
	}
	return nil
}
