// Package store keeps astreinte's state in a SQLite database (the embedded
// default) or a PostgreSQL one shared by several nodes (postgres.go): calls,
// tickets and their timelines, the paging state of each escalation (pages
// and their outbox of sends) and the on-call overrides.
//
// Open creates the file and applies the embedded, numbered migrations. Every
// method that writes runs in one transaction, so a ticket, its first
// timeline event and the page that will escalate it are committed together
// or not at all. Times are stored in UTC as fixed-width RFC 3339 text with
// nanoseconds ("2006-01-02T15:04:05.000000000Z"), which sorts and compares
// as a string; unset times are NULL. Times read back are in UTC.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mattn/go-sqlite3"
)

// DB is the SQLite store. Its methods are safe for concurrent use.
//
// Writes go through a single connection that begins its transactions with
// BEGIN IMMEDIATE, so writers in this process queue in the connection pool
// instead of spinning on SQLITE_BUSY; another process (the CLI) waits on the
// busy timeout. Reads use a separate pool of query-only connections, which
// WAL lets run while a write is in progress.
type DB struct {
	// Now returns the current time. The store uses it for the timestamps it
	// sets itself (event times, acknowledgement and resolution times,
	// defaults for zero times) and to decide whether a send's lease has
	// expired in ClaimSend, so it must be the clock the paging engine uses.
	// Open sets it to time.Now.
	Now func() time.Time

	path string
	db   *sql.DB // writer: one connection
	rdb  *sql.DB // readers

	pg     bool            // PostgreSQL (postgres.go), not SQLite
	leases *leases         // PostgreSQL: the advisory locks of the sends this process delivers
	pgcfg  *pgx.ConnConfig // PostgreSQL: how to connect (Listen's connection)
	audio  *sql.DB         // PostgreSQL: where recordings' audio is written (audio.go)
	calls  *sql.DB         // PostgreSQL: where the call log is written (calls.go)
	node   nodeState       // this process's node, once StartNode ran (nodes.go)
}

// ErrSchemaTooNew is returned by Open when the database was migrated by a
// newer build of astreinte than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this program")

// Open opens the database at path, creating its directory (mode 0700) and
// the file (mode 0600) when they do not exist, and applies the migrations
// the database lacks. It refuses a database migrated by a newer program.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: open: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, explain(abs, "create directory", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, explain(abs, "create file", err)
	}
	if err := f.Close(); err != nil {
		return nil, explain(abs, "create file", err)
	}

	// A file: URI so that a path containing '?' or '%' is not taken for
	// parameters. Parameter names are go-sqlite3's (see its Open).
	uri := "file:" + (&url.URL{Path: abs}).EscapedPath()
	w, err := sql.Open("sqlite3", uri+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on"+
		"&_txlock=immediate&_synchronous=FULL&_stmt_cache_size=64")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	// SQLite has one writer at a time; one connection makes this process's
	// writers queue in database/sql rather than in the busy handler.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	db := &DB{Now: time.Now, path: abs, db: w}
	ctx := context.Background()
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, explain(abs, "open", err)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, fmt.Errorf("store: open %s: %w", abs, err)
		}
		return nil, explain(abs, "migrate", err)
	}

	// The journal mode is persistent: readers need not set it, and must
	// not, being query-only.
	r, err := sql.Open("sqlite3", uri+"?_busy_timeout=5000&_query_only=on&_stmt_cache_size=64")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, explain(abs, "open", err)
	}
	db.rdb = r
	return db, nil
}

// Path returns the absolute path of the database file (for PostgreSQL,
// "postgres user@host:port/database").
func (db *DB) Path() string { return db.path }

// Close closes the database. The last connection to close checkpoints the
// write-ahead log into the database file.
func (db *DB) Close() error {
	var errs []error
	errs = append(errs, db.stopNode())
	if db.leases != nil {
		errs = append(errs, db.leases.close())
	}
	if db.audio != nil {
		errs = append(errs, db.audio.Close())
	}
	if db.calls != nil {
		errs = append(errs, db.calls.Close())
	}
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
	}
	errs = append(errs, db.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close %s: %w", db.path, err)
	}
	return nil
}

// now returns the store's clock reading, in UTC.
func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now().UTC()
	}
	return db.Now().UTC()
}

// explain turns the errors an administrator can fix (a directory the
// service may not write to, a full disk) into messages that say so, keeping
// the cause for errors.Is.
func explain(path, op string, err error) error {
	var se sqlite3.Error
	isSQLite := errors.As(err, &se)
	switch {
	case errors.Is(err, syscall.ENOSPC) || isSQLite && (se.Code == sqlite3.ErrFull || se.SystemErrno == syscall.ENOSPC):
		return fmt.Errorf("store: open %s: %s: the disk is full: %w (free space on the volume holding %s, then start again)",
			path, op, err, filepath.Dir(path))
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) ||
		isSQLite && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrPerm || se.Code == sqlite3.ErrCantOpen ||
			se.SystemErrno == syscall.EACCES || se.SystemErrno == syscall.EPERM || se.SystemErrno == syscall.EROFS):
		return fmt.Errorf("store: open %s: %s: cannot write there: %w (the user running astreinte needs to create and write files in %s: "+
			"fix its owner or permissions, or configure another database path)", path, op, err, filepath.Dir(path))
	}
	return fmt.Errorf("store: open %s: %s: %w", path, op, err)
}

// timeLayout is how times are stored: UTC, fixed width, so that text order
// is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ts formats a time for storage; the zero time becomes NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// nullID stores 0 as NULL, for optional references.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// timeCol scans a stored time (or NULL, giving the zero time) into *t.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*c.t = t
	return nil
}

// idCol scans an optional reference (NULL giving 0) into *id.
type idCol struct{ id *int64 }

func (c idCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.id = 0
	case int64:
		*c.id = v
	default:
		return fmt.Errorf("scan id: unexpected %T", src)
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// affected reports whether a statement changed at least one row.
func affected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}
