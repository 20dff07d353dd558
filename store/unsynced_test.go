package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/astreinte/astreinte"
)

// writerSync is the synchronous setting of the writer connection as the
// next transaction finds it (SQLite: 2 = FULL, 1 = NORMAL).
func writerSync(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.db.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// An unsynced transaction never leaves the writer unsynced for the next
// one: committed, rolled back, or begun with a context already done.
func TestUnsyncedLeavesWriterSynced(t *testing.T) {
	db, _ := openTest(t)
	if db.pg {
		t.Skip("SQLite's writer connection; PostgreSQL sets synchronous_commit per transaction (SET LOCAL)")
	}
	if n := writerSync(t, db); n != 2 {
		t.Fatalf("writer opened with synchronous=%d, want 2 (FULL)", n)
	}
	ctx := context.Background()
	tk, p := paged(t, db, "alice")
	s, _ := db.Sends(ctx, p.ID)
	if ok, err := db.ClaimSend(ctx, s[0].ID, t0.Add(60e9)); err != nil || !ok {
		t.Fatalf("ClaimSend = %v, %v", ok, err)
	}
	if n := writerSync(t, db); n != 2 {
		t.Errorf("after an unsynced commit the writer has synchronous=%d, want 2", n)
	}
	tx, err := db.beginUnsynced(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inside int
	if err := tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&inside); err != nil || inside != 1 {
		t.Errorf("inside the transaction synchronous=%d (%v), want 1 (NORMAL)", inside, err)
	}
	tx.end() // rolled back
	if n := writerSync(t, db); n != 2 {
		t.Errorf("after a rolled-back unsynced transaction synchronous=%d, want 2", n)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.beginUnsynced(done); err == nil {
		t.Error("beginUnsynced with a cancelled context succeeded")
	}
	if n := writerSync(t, db); n != 2 {
		t.Errorf("after a failed begin synchronous=%d, want 2", n)
	}
	// What the unsynced commits wrote is there for the next reader.
	if err := db.FinishSend(ctx, s[0].ID, astreinte.SendDone, t0, "", nil); err != nil {
		t.Fatal(err)
	}
	if got := states(t, db, p.ID); len(got) != 1 || got[0] != "alice:done" {
		t.Errorf("sends of ticket %d: %v, want alice:done", tk.ID, got)
	}
}

// On PostgreSQL the writers' pool commits synced and the pools written
// outside the lock (recordings' audio, call log) do not wait for the disk.
func TestPostgresPoolsSync(t *testing.T) {
	if testPG == nil {
		t.Skip("PostgreSQL's pools; the SQLite run tests its one writer above")
	}
	db, _ := openTest(t)
	ctx := context.Background()
	for _, p := range []struct {
		name string
		pool *sql.DB
		own  bool // the pool sets it off for its sessions
	}{{"writers", db.db, false}, {"audio", db.audio, true}, {"call log", db.calls, true}} {
		var setting, source string
		if err := p.pool.QueryRowContext(ctx, pgRaw+`SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'`).
			Scan(&setting, &source); err != nil {
			t.Fatal(err)
		}
		// The tests' server runs unsynced itself: what counts for the
		// writers is that they keep the server's setting.
		if p.own && (setting != "off" || source != "client") || !p.own && source == "client" {
			t.Errorf("%s pool: synchronous_commit %s set by %s", p.name, setting, source)
		}
	}
}
