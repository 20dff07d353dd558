package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/mattn/go-sqlite3"
)

// clock is a settable clock for DB.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// openTest opens a fresh database in a temporary directory, with its clock
// set to t0.
func openTest(t testing.TB) (*DB, *clock) {
	t.Helper()
	db := openStore(t)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	c := &clock{t: t0}
	db.Now = c.Now
	return db, c
}

func TestOpenMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "var", "lib", "astreinte.db")
	for i := range 3 {
		db, err := Open(path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var versions []int
		rows, err := db.rdb.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			versions = append(versions, v)
		}
		rows.Close()
		ms, err := migrations()
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != len(ms) || versions[len(versions)-1] != ms[len(ms)-1].version {
			t.Errorf("open #%d: applied %v, want each of %d migrations once", i+1, versions, len(ms))
		}
		// Data survives a reopen.
		tk := &astreinte.Ticket{CallerNumber: "+33612345678", CreatedAt: t0}
		if err := db.CreateTicket(ctx, tk, nil); err != nil {
			t.Fatal(err)
		}
		if want := []string{"2026-000001", "2026-000002", "2026-000003"}[i]; tk.Number != want {
			t.Errorf("open #%d: ticket number %s, want %s", i+1, tk.Number, want)
		}
		var mode string
		if err := db.rdb.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
}

func TestOpenSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "astreinte.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = Open(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, "9999", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	roFile := filepath.Join(dir, "rofile.db")
	if err := os.WriteFile(roFile, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	// A database created earlier in a directory that became read-only:
	// SQLite cannot create the write-ahead log beside it.
	roExisting := filepath.Join(dir, "ro-existing")
	db, err := Open(filepath.Join(roExisting, "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Chmod(roExisting, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(roExisting, 0o700) })

	tests := []struct {
		name     string
		path     string
		needUser bool // permissions do not stop root
		want     []string
	}{
		{"parent is a file", filepath.Join(file, "astreinte.db"), false, []string{"create directory", file}},
		{"read-only directory", filepath.Join(ro, "astreinte.db"), true, []string{"cannot write there", "permissions", ro}},
		{"read-only subdirectory", filepath.Join(ro, "sub", "astreinte.db"), true, []string{"cannot write there", "permissions"}},
		{"read-only file", roFile, true, []string{"cannot write there", "permissions"}},
		{"existing database, read-only directory", filepath.Join(roExisting, "astreinte.db"), true,
			[]string{"cannot write there", "permissions", roExisting}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needUser && os.Geteuid() == 0 {
				t.Skip("running as root: permissions do not apply")
			}
			db, err := Open(tt.path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			for _, want := range append(tt.want, tt.path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestExplain(t *testing.T) {
	const path = "/var/lib/astreinte/astreinte.db"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ENOSPC", &fs.PathError{Op: "open", Path: path, Err: syscall.ENOSPC}, "the disk is full"},
		{"SQLITE_FULL", sqlite3.Error{Code: sqlite3.ErrFull}, "the disk is full"},
		{"SQLITE_IOERR with ENOSPC", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.ENOSPC}, "the disk is full"},
		{"EROFS", &fs.PathError{Op: "open", Path: path, Err: syscall.EROFS}, "cannot write there"},
		{"SQLITE_READONLY", sqlite3.Error{Code: sqlite3.ErrReadonly}, "cannot write there"},
		{"SQLITE_CANTOPEN", sqlite3.Error{Code: sqlite3.ErrCantOpen}, "cannot write there"},
		{"other", errors.New("boom"), "store: open " + path + ": migrate: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := explain(path, "migrate", tt.err)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) || !errors.Is(err, tt.err) {
				t.Errorf("explain(%v) = %q, want it to mention %q and %s and wrap the cause", tt.err, err, tt.want, path)
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	start := time.Date(2026, 7, 1, 23, 59, 59, 123456789, paris)
	c := &astreinte.Call{SIPCallID: "a@b", StartedAt: start}
	if err := db.CreateCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.CallByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(start) || got.StartedAt.Location() != time.UTC {
		t.Errorf("StartedAt = %v, want %v in UTC", got.StartedAt, start)
	}
	if !got.AnsweredAt.IsZero() || !got.EndedAt.IsZero() {
		t.Errorf("unset times read back as %v, %v", got.AnsweredAt, got.EndedAt)
	}
	var stored any
	if err := db.rdb.QueryRow(`SELECT answered_at FROM calls WHERE id = ?`, c.ID).Scan(&stored); err != nil || stored != nil {
		t.Errorf("unset answered_at stored as %v (%v), want NULL", stored, err)
	}
}
