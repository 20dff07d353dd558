package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// DB reads the counts from astreinte's SQLite database through connections
// of its own, read-only for the counts, so that the metrics depend on the
// schema and not on the store's code. It also runs the write probe. The
// caller registers the sqlite3 driver (the store package does).
type DB struct {
	path     string
	ro       *sql.DB
	rw       *sql.DB // the write probe: one connection
	borrowed bool    // ro and rw belong to the caller (NewDB)
}

var _ Counts = (*DB)(nil)

// OpenDB opens the database file at path for the metrics.
func OpenDB(path string) (*DB, error) {
	uri := "file:" + (&url.URL{Path: path}).EscapedPath()
	ro, err := sql.Open("sqlite3", uri+"?_busy_timeout=2000&_query_only=on")
	if err != nil {
		return nil, fmt.Errorf("metrics: open %s: %w", path, err)
	}
	ro.SetMaxOpenConns(2)
	rw, err := sql.Open("sqlite3", uri+"?_busy_timeout=2000&_txlock=immediate")
	if err != nil {
		ro.Close()
		return nil, fmt.Errorf("metrics: open %s: %w", path, err)
	}
	rw.SetMaxOpenConns(1)
	return &DB{path: path, ro: ro, rw: rw}, nil
}

// NewDB reads the counts through pools the caller owns and keeps open (a
// PostgreSQL store's: its SQLite-dialect queries are translated there): ro
// for the counts, rw, a writer, for the probe, which writes its file in
// dir.
func NewDB(ro, rw *sql.DB, dir string) *DB {
	return &DB{path: filepath.Join(dir, "astreinte.db"), ro: ro, rw: rw, borrowed: true}
}

// Close closes the connections it opened.
func (d *DB) Close() error {
	if d.borrowed {
		return nil
	}
	return errors.Join(d.ro.Close(), d.rw.Close())
}

// CallCounts counts the call log by line, case and outcome.
func (d *DB) CallCounts(ctx context.Context) ([]CallCount, error) {
	rows, err := d.ro.QueryContext(ctx, `SELECT line, calendar_case, outcome, count(*) FROM calls GROUP BY 1, 2, 3`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CallCount
	for rows.Next() {
		var c CallCount
		if err := rows.Scan(&c.Line, &c.Case, &c.Outcome, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PageCounts counts notifications (the sends outbox) by channel and state.
func (d *DB) PageCounts(ctx context.Context) ([]PageCount, error) {
	rows, err := d.ro.QueryContext(ctx, `SELECT channel, state, count(*) FROM sends GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PageCount
	for rows.Next() {
		var c PageCount
		if err := rows.Scan(&c.Channel, &c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EscalationCounts counts pages by state.
func (d *DB) EscalationCounts(ctx context.Context) ([]EscalationCount, error) {
	rows, err := d.ro.QueryContext(ctx, `SELECT state, count(*) FROM pages GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EscalationCount
	for rows.Next() {
		var c EscalationCount
		if err := rows.Scan(&c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ProbeWrite checks that a write can be made: it takes SQLite's write lock
// (BEGIN IMMEDIATE, then ROLLBACK: nothing changes in the database, but a
// writer that holds the lock too long makes it wait) and writes and syncs
// a small file beside the database (a full or read-only disk fails it).
// It returns how long both took.
func (d *DB) ProbeWrite(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	tx, err := d.rw.BeginTx(ctx, nil)
	if err != nil {
		return time.Since(start), fmt.Errorf("database write lock: %w", err)
	}
	// go-sqlite3 begins lazily on the first statement; one read makes the
	// BEGIN IMMEDIATE happen.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		tx.Rollback()
		return time.Since(start), fmt.Errorf("database write lock: %w", err)
	}
	if err := tx.Rollback(); err != nil {
		return time.Since(start), fmt.Errorf("database write lock: %w", err)
	}
	p := filepath.Join(filepath.Dir(d.path), ".write-probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write([]byte(time.Now().UTC().Format(time.RFC3339Nano) + "\n"))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return time.Since(start), fmt.Errorf("data directory write: %w", err)
	}
	return time.Since(start), nil
}
