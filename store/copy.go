package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Moving an installation from one store to another (SQLite to PostgreSQL,
// or back): every table's rows in one transaction of the destination, then
// each table's row count and checksum compared on both sides.

// ParseLocation reads a store as the copy command names it: "sqlite:PATH",
// "postgres:DSN", or a PostgreSQL URL as it is (postgres://…).
func ParseLocation(s string) (driver, dsn string, err error) {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return DriverPostgres, s, nil
	}
	d, rest, ok := strings.Cut(s, ":")
	switch {
	case !ok || rest == "":
		return "", "", fmt.Errorf("%q: want sqlite:PATH or postgres:DSN", s)
	case d == DriverSQLite || d == DriverPostgres:
		return d, rest, nil
	}
	return "", "", fmt.Errorf("%q: driver %q: want sqlite:PATH or postgres:DSN", s, d)
}

// TableCopy is one table as copied: its rows, and a checksum of their
// content (SHA-256 of the sorted row digests, so independent of order and
// of the back-end) found the same on both sides.
type TableCopy struct {
	Name     string
	Rows     int64
	Checksum string
}

// CopyReport is what Copy moved and checked.
type CopyReport struct {
	Tables []TableCopy
	// Recordings are the audio files the copied tickets name, with their
	// SHA-256, read where they are: the copy moves rows, not files.
	Recordings []RecordingSum
	// Missing are the recordings named but not found.
	Missing []string
}

// RecordingSum is a recording file's SHA-256 and size.
type RecordingSum struct {
	Path   string
	Size   int64
	SHA256 string
}

// Copy copies every row of src into dst, which must be empty (migrated,
// no rows), in one transaction of dst, then checks that each table has
// the same rows on both sides (count and checksum) and reads the
// recordings the tickets name. Both stores are at this program's schema
// version (Open migrated them). Nothing else may write to src meanwhile.
func Copy(ctx context.Context, src, dst *DB) (CopyReport, error) {
	var rep CopyReport
	tables, err := src.tables(ctx)
	if err != nil {
		return rep, fmt.Errorf("copy: tables of %s: %w", src.path, err)
	}
	dstTables, err := dst.tables(ctx)
	if err != nil {
		return rep, fmt.Errorf("copy: tables of %s: %w", dst.path, err)
	}
	if !slices.Equal(tables, dstTables) {
		return rep, fmt.Errorf("copy: the two stores have different tables (%s: %v; %s: %v): both must be at this program's schema",
			src.path, tables, dst.path, dstTables)
	}
	for _, t := range tables {
		var n int64
		if err := dst.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return rep, fmt.Errorf("copy: %s: %w", t, err)
		}
		if n > 0 {
			return rep, fmt.Errorf("copy: %s already has %d rows in %s: copy only into an empty store", dst.path, n, t)
		}
	}

	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	defer tx.Rollback()
	// References are checked at commit: tables go in name order, and
	// calls and tickets name each other.
	deferFK := `PRAGMA defer_foreign_keys = ON`
	if dst.pg {
		deferFK = pgRaw + `SET CONSTRAINTS ALL DEFERRED`
	}
	if _, err := tx.ExecContext(ctx, deferFK); err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	for _, t := range tables {
		if err := copyTable(ctx, src, tx, t); err != nil {
			return rep, fmt.Errorf("copy: %s: %w", t, err)
		}
	}
	if dst.pg {
		if err := pgSyncSequences(ctx, tx); err != nil {
			return rep, fmt.Errorf("copy: sequences: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("copy: commit: %w", err)
	}

	for _, t := range tables {
		a, err := src.checksum(ctx, t)
		if err != nil {
			return rep, fmt.Errorf("verify %s in %s: %w", t, src.path, err)
		}
		b, err := dst.checksum(ctx, t)
		if err != nil {
			return rep, fmt.Errorf("verify %s in %s: %w", t, dst.path, err)
		}
		if a != b {
			return rep, fmt.Errorf("verify %s: %d rows (%s) in %s but %d rows (%s) in %s",
				t, a.Rows, a.Checksum[:12], src.path, b.Rows, b.Checksum[:12], dst.path)
		}
		rep.Tables = append(rep.Tables, a)
	}
	rep.Recordings, rep.Missing, err = dst.recordingSums(ctx)
	return rep, err
}

// tables lists the store's tables but schema_migrations, by name.
func (db *DB) tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'
		AND name <> 'schema_migrations' ORDER BY name`
	if db.pg {
		q = pgRaw + `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
			AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name COLLATE "C"`
	}
	return db.strings(ctx, q)
}

// columns returns a table's column names.
func (db *DB) columns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT * FROM `+table+` LIMIT 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// copyTable inserts every row of src's table into the destination's tx.
func copyTable(ctx context.Context, src *DB, tx *sql.Tx, table string) error {
	cols, err := src.columns(ctx, table)
	if err != nil {
		return err
	}
	list := strings.Join(cols, ", ")
	ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+list+`) VALUES (?`+strings.Repeat(`, ?`, len(cols)-1)+`)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	rows, err := src.rdb.QueryContext(ctx, `SELECT `+list+` FROM `+table)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("row %d: %w", n+1, err)
		}
		n++
	}
	return rows.Err()
}

// checksum reads a table whole: its row count and a digest of its content
// that does not depend on the back-end (values as text, integers in
// decimal) or on row order.
func (db *DB) checksum(ctx context.Context, table string) (TableCopy, error) {
	tc := TableCopy{Name: table}
	cols, err := db.columns(ctx, table)
	if err != nil {
		return tc, err
	}
	slices.Sort(cols) // the same order on both sides, whatever the tables' own
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table)
	if err != nil {
		return tc, err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var digests [][sha256.Size]byte
	var b []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return tc, err
		}
		b = b[:0]
		for _, v := range vals {
			var field []byte
			switch v := v.(type) {
			case nil:
				field = []byte{'N'}
			case int64:
				field = strconv.AppendInt([]byte{'i'}, v, 10)
			case float64:
				field = strconv.AppendFloat([]byte{'f'}, v, 'g', -1, 64)
			case string:
				field = append([]byte{'s'}, v...)
			case []byte:
				field = append([]byte{'s'}, v...)
			case bool:
				field = strconv.AppendInt([]byte{'i'}, boolInt(v), 10)
			default:
				return tc, fmt.Errorf("column value of type %T", v)
			}
			b = binary.AppendUvarint(b, uint64(len(field)))
			b = append(b, field...)
		}
		digests = append(digests, sha256.Sum256(b))
	}
	if err := rows.Err(); err != nil {
		return tc, err
	}
	slices.SortFunc(digests, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	for _, d := range digests {
		h.Write(d[:])
	}
	tc.Rows = int64(len(digests))
	tc.Checksum = hex.EncodeToString(h.Sum(nil))
	return tc, nil
}

// recordingSums reads every recording file the tickets name.
func (db *DB) recordingSums(ctx context.Context) ([]RecordingSum, []string, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT recording FROM tickets WHERE recording <> ''
		UNION SELECT path FROM ticket_recordings ORDER BY 1`)
	if err != nil {
		return nil, nil, fmt.Errorf("recordings: %w", err)
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("recordings: %w", err)
		}
		paths = append(paths, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("recordings: %w", err)
	}
	var sums []RecordingSum
	var missing []string
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("recording %s: %w", p, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("recording %s: %w", p, err)
		}
		sums = append(sums, RecordingSum{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	return sums, missing, nil
}
