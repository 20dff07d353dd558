package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// AddSwap stores a shift offered for a swap and returns its ID.
func (db *DB) AddSwap(ctx context.Context, w astreinte.Swap) (int64, error) {
	if w.Offered == "" || w.From.IsZero() || !w.To.After(w.From) {
		return 0, errors.New("add swap: a technician and a period are needed")
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = db.now()
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("add swap: %w", err)
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO shift_swaps (offered_by, from_at, to_at, note, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, w.Offered, ts(w.From), ts(w.To), w.Note, ts(w.CreatedAt)).Scan(&id); err != nil {
		return 0, fmt.Errorf("add swap: %w", err)
	}
	return id, tx.Commit()
}

const swapCols = `id, offered_by, from_at, to_at, note, taken_by, taken_at, approved_by, approved_at, override_id, created_at`

func scanSwap(sc interface{ Scan(...any) error }) (astreinte.Swap, error) {
	var w astreinte.Swap
	err := sc.Scan(&w.ID, &w.Offered, timeCol{&w.From}, timeCol{&w.To}, &w.Note, &w.TakenBy, timeCol{&w.TakenAt},
		&w.ApprovedBy, timeCol{&w.ApprovedAt}, idCol{&w.OverrideID}, timeCol{&w.CreatedAt})
	w.Approved = w.ApprovedBy != ""
	return w, err
}

// Swap returns a swap, or an error wrapping astreinte.ErrNotFound.
func (db *DB) Swap(ctx context.Context, id int64) (astreinte.Swap, error) {
	w, err := scanSwap(db.rdb.QueryRowContext(ctx, `SELECT `+swapCols+` FROM shift_swaps WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("swap %d: %w", id, astreinte.ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("swap %d: %w", id, err)
	}
	return w, nil
}

// Swaps returns the swaps whose period ends after from, by start.
func (db *DB) Swaps(ctx context.Context, from time.Time) ([]astreinte.Swap, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+swapCols+` FROM shift_swaps WHERE ?1 IS NULL OR to_at > ?1
		ORDER BY from_at, id`, ts(from))
	if err != nil {
		return nil, fmt.Errorf("swaps: %w", err)
	}
	defer rows.Close()
	var out []astreinte.Swap
	for rows.Next() {
		w, err := scanSwap(rows)
		if err != nil {
			return nil, fmt.Errorf("swaps: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// TakeSwap marks an offered swap taken by taker, waiting for approval; it
// returns an error wrapping astreinte.ErrSwapChanged when someone took it
// first, astreinte.ErrNotFound when there is no such swap.
func (db *DB) TakeSwap(ctx context.Context, id int64, taker string, at time.Time) error {
	ok, err := db.exec(ctx, "take swap", `UPDATE shift_swaps SET taken_by = ?, taken_at = ?
		WHERE id = ? AND taken_by = '' AND override_id IS NULL`, taker, ts(at), id)
	if err == nil && !ok {
		err = db.swapMissing(ctx, id)
	}
	return err
}

// CompleteSwap saves the override that enacts a swap and marks the swap
// done (taken by w.TakenBy, approved by w.ApprovedBy) in one transaction;
// a swap already done or taken by someone else is an error wrapping
// astreinte.ErrSwapChanged. It returns the override's ID.
func (db *DB) CompleteSwap(ctx context.Context, w astreinte.Swap, o astreinte.ShiftOverride) (int64, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("complete swap: %w", err)
	}
	defer tx.Rollback()
	if o.SetAt.IsZero() {
		o.SetAt = db.now()
	}
	oid, err := db.insertOverride(ctx, tx, o)
	if err != nil {
		return 0, fmt.Errorf("complete swap: %w", err)
	}
	takenAt := w.TakenAt
	if takenAt.IsZero() {
		takenAt = o.SetAt
	}
	res, err := tx.ExecContext(ctx, `UPDATE shift_swaps SET taken_by = ?1, taken_at = COALESCE(taken_at, ?2),
		approved_by = ?3, approved_at = ?4, override_id = ?5
		WHERE id = ?6 AND override_id IS NULL AND (taken_by = '' OR taken_by = ?1)`,
		w.TakenBy, ts(takenAt), w.ApprovedBy, ts(w.ApprovedAt), oid, w.ID)
	if err != nil {
		return 0, fmt.Errorf("complete swap: %w", err)
	}
	if ok, err := affected(res); err != nil {
		return 0, fmt.Errorf("complete swap: %w", err)
	} else if !ok {
		return 0, db.swapMissing(ctx, w.ID)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("complete swap: %w", err)
	}
	return oid, nil
}

// DeleteSwap withdraws a swap that is not done yet.
func (db *DB) DeleteSwap(ctx context.Context, id int64) error {
	ok, err := db.exec(ctx, "withdraw swap", `DELETE FROM shift_swaps WHERE id = ? AND override_id IS NULL`, id)
	if err == nil && !ok {
		err = db.swapMissing(ctx, id)
	}
	return err
}

// swapMissing says why a swap could not change: it does not exist, or it
// moved on meanwhile.
func (db *DB) swapMissing(ctx context.Context, id int64) error {
	if _, err := db.Swap(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("swap %d: %w", id, astreinte.ErrSwapChanged)
}
