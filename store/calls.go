package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/astreinte/astreinte"
)

const callColumns = `id, sip_call_id, line, caller_number, caller_name, called, calendar_case,
	started_at, answered_at, ended_at, outcome, hangup_by, ticket_id, node_id, recording, urgency`

func scanCall(s scanner, c *astreinte.Call) error {
	return s.Scan(&c.ID, &c.SIPCallID, &c.Line, &c.CallerNumber, &c.CallerName, &c.Called, &c.Case,
		timeCol{&c.StartedAt}, timeCol{&c.AnsweredAt}, timeCol{&c.EndedAt}, &c.Outcome, &c.HangupBy, idCol{&c.TicketID},
		idCol{&c.Node}, &c.Recording, &c.Urgency)
}

// The call log is written outside the writers' lock on PostgreSQL, on
// connections of its own: a call's row is inserted by the node taking the
// call and changed by statements that each set columns of that one row
// (the row lock is enough), and no transaction reads it to decide a write
// it could be wrong about. Under the lock every node's call rows queued
// behind every other write of every node: at 50 new calls a second on
// two nodes, rows waited past their deadline and were lost. On SQLite
// there is one writer whatever the pool.

// callPoolSize bounds the call log's connections per node: a row's insert
// or update is one short statement, two at once keep a burst moving.
const callPoolSize = 2

func openCallPool(c pgConnector) *sql.DB {
	p := sql.OpenDB(c)
	p.SetMaxOpenConns(callPoolSize)
	p.SetMaxIdleConns(callPoolSize)
	return p
}

// callWriter is the pool the call log is written through.
func (db *DB) callWriter() *sql.DB {
	if db.calls != nil {
		return db.calls
	}
	return db.db
}

// CreateCall records a new inbound call and sets c.ID. A zero StartedAt is
// set to the store's clock, an empty Outcome to in_progress, a zero Node
// to this process's node (StartNode), if any. Called again with the same
// call (its SIP Call-ID, StartedAt and Node set), it returns the row the
// first call wrote, if it did: a create whose outcome was unknown can be
// retried.
func (db *DB) CreateCall(ctx context.Context, c *astreinte.Call) error {
	tx, err := db.beginUnsyncedOn(ctx, db.callWriter()) // unsynced.go: bookkeeping
	if err != nil {
		return fmt.Errorf("create call: %w", err)
	}
	defer tx.end()

	if c.StartedAt.IsZero() {
		c.StartedAt = db.now()
	}
	if c.Outcome == "" {
		c.Outcome = astreinte.OutcomeInProgress
	}
	if c.Node == 0 {
		c.Node = db.NodeID()
	}
	if c.SIPCallID != "" {
		// A retry of a create whose commit's outcome was unknown finds the
		// row it wrote instead of writing a second.
		err := tx.QueryRowContext(ctx, `SELECT id FROM calls WHERE sip_call_id = ? AND started_at = ?
			AND COALESCE(node_id, 0) = ? ORDER BY id LIMIT 1`, c.SIPCallID, ts(c.StartedAt), c.Node).Scan(&c.ID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			c.ID = 0
			return fmt.Errorf("create call: %w", err)
		}
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO calls (sip_call_id, line, caller_number, caller_name, called,
		calendar_case, started_at, answered_at, ended_at, outcome, hangup_by, ticket_id, node_id, recording, urgency)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.SIPCallID, c.Line, c.CallerNumber, c.CallerName, c.Called, c.Case,
		ts(c.StartedAt), ts(c.AnsweredAt), ts(c.EndedAt), c.Outcome, c.HangupBy, nullID(c.TicketID),
		nullID(c.Node), c.Recording, c.Urgency,
	).Scan(&c.ID)
	if err != nil {
		c.ID = 0
		return fmt.Errorf("create call: %w", err)
	}
	if err := tx.Commit(); err != nil {
		c.ID = 0 // not stored (a full disk): a ticket must not point to it
		return fmt.Errorf("create call: %w", err)
	}
	return nil
}

// UpdateCall saves what changes during a call: AnsweredAt, EndedAt,
// Outcome, HangupBy, TicketID, Case, Recording and Urgency. A zero value leaves the stored one
// as it is, so a caller that did not copy the ticket's ID into
// the call does not undo the link CreateTicket made. It returns an error
// wrapping astreinte.ErrNotFound when the call does not exist.
func (db *DB) UpdateCall(ctx context.Context, c *astreinte.Call) error {
	tx, err := db.beginUnsyncedOn(ctx, db.callWriter()) // unsynced.go: bookkeeping
	if err != nil {
		return fmt.Errorf("update call %d: %w", c.ID, err)
	}
	defer tx.end()

	res, err := tx.ExecContext(ctx, `UPDATE calls SET
		answered_at = COALESCE(?, answered_at),
		ended_at = COALESCE(?, ended_at),
		outcome = COALESCE(NULLIF(?, ''), outcome),
		hangup_by = COALESCE(NULLIF(?, ''), hangup_by),
		ticket_id = COALESCE(?, ticket_id),
		calendar_case = COALESCE(NULLIF(?, ''), calendar_case),
		recording = COALESCE(NULLIF(?, ''), recording),
		urgency = COALESCE(NULLIF(?, ''), urgency)
		WHERE id = ?`,
		ts(c.AnsweredAt), ts(c.EndedAt), c.Outcome, c.HangupBy, nullID(c.TicketID), c.Case, c.Recording, c.Urgency, c.ID)
	if err != nil {
		return fmt.Errorf("update call %d: %w", c.ID, err)
	}
	if ok, err := affected(res); err != nil {
		return fmt.Errorf("update call %d: %w", c.ID, err)
	} else if !ok {
		return fmt.Errorf("update call %d: %w", c.ID, astreinte.ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update call %d: %w", c.ID, err)
	}
	return nil
}

// Calls returns the most recent calls, newest first; limit <= 0 means 50.
func (db *DB) Calls(ctx context.Context, limit int) ([]astreinte.Call, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+callColumns+` FROM calls
		ORDER BY started_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var calls []astreinte.Call
	for rows.Next() {
		var c astreinte.Call
		if err := scanCall(rows, &c); err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return calls, nil
}

// CallByID returns one call, or an error wrapping astreinte.ErrNotFound.
func (db *DB) CallByID(ctx context.Context, id int64) (astreinte.Call, error) {
	var c astreinte.Call
	err := scanCall(db.rdb.QueryRowContext(ctx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, id), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("call %d: %w", id, astreinte.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("call %d: %w", id, err)
	}
	return c, nil
}
