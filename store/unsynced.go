package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
)

// benchSynced (ASTREINTE_BENCH_SYNCED=1) makes the unsynced transactions
// synced, to measure what not waiting gains; never set in production.
var benchSynced = os.Getenv("ASTREINTE_BENCH_SYNCED") == "1"

// Most commits wait for the disk (SQLite synchronous=FULL, PostgreSQL's
// synchronous_commit): a ticket, an acknowledgement, a customer's request
// must survive a power cut. The paging engine's own bookkeeping need not:
// a page's step fired, a send claimed, a send's outcome. Lost to a power
// cut (never to a crash of the process: the kernel has them), they are
// redone after the restart from what did reach the disk: the step fires
// again, the send is claimed again, and a technician may be paged a second
// time. Every synced commit after them makes them durable too (SQLite
// syncs the whole write-ahead log; PostgreSQL flushes it in order). Not
// waiting for the disk takes two or three fsyncs off the way from a
// caller's hang-up to the first page, and most of the writer's queue of a
// burst of paged calls (about seven commits of ten per paged call).
//
// The call log is bookkeeping too: a call's row, its recording's path, its
// end. What a caller said is kept by the recording and its sidecar, synced
// by the recorder, and made a ticket at start-up if the process or the
// machine died (voicemail.Recover); the ticket's commit, synced, makes the
// call's row written before it durable with it. A power cut can lose the
// log's last rows, or show a call in progress that ended: never a message.

// unsyncedTx is a write transaction whose commit does not wait for the
// disk. Callers commit it as a *sql.Tx and always call end.
type unsyncedTx struct {
	*sql.Tx
	conn *sql.Conn // SQLite: the writer connection, held until end
}

// beginUnsynced begins a write transaction whose commit does not wait for
// the disk. On SQLite it holds the one writer connection with
// synchronous=NORMAL until end sets it back to FULL, so that no other
// transaction ever commits unsynced; on PostgreSQL it sets
// synchronous_commit off for the transaction only.
func (db *DB) beginUnsynced(ctx context.Context) (*unsyncedTx, error) {
	return db.beginUnsyncedOn(ctx, db.db)
}

// beginUnsyncedOn is beginUnsynced on pool: the writer pool, or on
// PostgreSQL one of the pools written outside the writers' lock (the
// call log's). On SQLite every pool is the one writer.
func (db *DB) beginUnsyncedOn(ctx context.Context, pool *sql.DB) (*unsyncedTx, error) {
	if benchSynced {
		tx, err := pool.BeginTx(ctx, nil)
		return &unsyncedTx{Tx: tx}, err
	}
	if db.pg {
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, pgRaw+`SET LOCAL synchronous_commit = off`); err != nil {
			tx.Rollback()
			return nil, err
		}
		return &unsyncedTx{Tx: tx}, nil
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t := &unsyncedTx{conn: conn}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		t.end()
		return nil, err
	}
	if t.Tx, err = conn.BeginTx(ctx, nil); err != nil {
		t.end()
		return nil, err
	}
	return t, nil
}

// end rolls back what was not committed and gives the writer connection
// back synced. A connection whose setting cannot be restored is closed:
// the pool opens a new one, synced as Open configures it.
func (t *unsyncedTx) end() {
	if t.Tx != nil {
		t.Tx.Rollback()
	}
	if t.conn == nil {
		return
	}
	if _, err := t.conn.ExecContext(context.Background(), `PRAGMA synchronous = FULL`); err != nil {
		t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	t.conn.Close()
}
