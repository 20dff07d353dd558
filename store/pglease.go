package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
)

// Several nodes on one PostgreSQL database each run a paging engine. A step
// is fired by one of them (AdvancePage changes a page only from the step it
// read); a send is delivered by the one that claimed it. On SQLite a claim
// is a lease until NextTryAt, and a process that starts takes back every
// send left sending (ReclaimSending), there being one engine per file. On
// PostgreSQL the claim is also a session advisory lock, held on a
// connection of the claiming process until the send is finished: while the
// process lives nobody else takes the send, however long the call-out; when
// it dies (SIGKILL, a crash, a machine gone: the server notices a closed
// connection at once, a silent one within the keepalives' ~6 s) the lock is
// free and any other node takes the send at its next pass, which comes
// within watchPoll: on PostgreSQL, NextWake wakes every engine that often.

// sendLock is the advisory lock key of send id: a namespace in the high
// bits, so that it never meets writerLock.
func sendLock(id int64) int64 { return 0x5e<<48 | id }

// watchPoll is the longest an engine on PostgreSQL sleeps: how long a
// dead node's send, or a ticket another node created, waits for it.
const watchPoll = 2 * time.Second

// heldBy is the SQL condition "send s.id's lock is held" (by any session of
// the database): pg_locks shows a bigint key as its high and low halves.
var heldBy = fmt.Sprintf(`EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND (l.classid::bigint << 32 | l.objid::bigint) = (%d | s.id))`, sendLock(0))

// leases holds the advisory locks of the sends this process is delivering,
// on one connection of its own.
type leases struct {
	mu   sync.Mutex
	pool *sql.DB
	conn *sql.Conn
	held map[int64]bool
}

func newLeases(pool *sql.DB) *leases {
	pool.SetMaxOpenConns(1)
	return &leases{pool: pool, held: map[int64]bool{}}
}

// claim runs update, which claims send id's row, holding the send's
// lock: taken now (newly, and then update may take a send left sending
// by a gone node), or already held by this process (a send one of its
// workers claimed: update may only take it as SQLite would, its lease
// expired). A send whose lock another node holds is that node's: not
// claimed, even as pending (it took the lock and is about to claim it).
// Claims in this process take turns, so two of its workers never both
// take a send.
func (l *leases) claim(ctx context.Context, id int64, update func(newly bool) (bool, error)) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	newly := false
	if !l.held[id] {
		if l.conn == nil {
			c, err := l.pool.Conn(ctx)
			if err != nil {
				return false, err
			}
			l.conn = c
		}
		if err := l.conn.QueryRowContext(ctx, pgRaw+`SELECT pg_try_advisory_lock($1)`, sendLock(id)).Scan(&newly); err != nil {
			// The session is broken: whatever it held is released.
			l.conn.Close()
			l.conn, l.held = nil, map[int64]bool{}
			return false, err
		}
		if !newly {
			return false, nil
		}
	}
	ok, err := update(newly)
	switch {
	case ok && newly:
		l.held[id] = true
	case !ok && newly:
		l.unlock(id)
	}
	return ok, err
}

// hold takes the lock of send id, a row not committed yet (FireStep
// stores it claimed): nobody else can know of it, so the lock is free,
// and held until the send is finished (release) or the step is not
// committed (release too).
func (l *leases) hold(ctx context.Context, id int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		return nil
	}
	if l.conn == nil {
		c, err := l.pool.Conn(ctx)
		if err != nil {
			return err
		}
		l.conn = c
	}
	var ok bool
	if err := l.conn.QueryRowContext(ctx, pgRaw+`SELECT pg_try_advisory_lock($1)`, sendLock(id)).Scan(&ok); err != nil {
		l.conn.Close()
		l.conn, l.held = nil, map[int64]bool{}
		return err
	}
	if !ok {
		return fmt.Errorf("its lock is held by another session")
	}
	l.held[id] = true
	return nil
}

// release gives send id's lock back, if this process holds it.
func (l *leases) release(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		delete(l.held, id)
		l.unlock(id)
	}
}

// releaseAll gives back every lock this process holds.
func (l *leases) releaseAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.held {
		delete(l.held, id)
		l.unlock(id)
	}
}

// unlock releases the session's lock of send id; l.mu is held.
func (l *leases) unlock(id int64) {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.ExecContext(ctx, pgRaw+`SELECT pg_advisory_unlock($1)`, sendLock(id)); err != nil {
		l.conn.Close()
		l.conn, l.held = nil, map[int64]bool{}
	}
}

func (l *leases) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.conn.Close()
		l.conn = nil
	}
	return l.pool.Close()
}

// pgDueSends is DueSends on PostgreSQL: as on SQLite, and a send being
// sent is due again as soon as nobody holds its lock (its node is gone),
// its lease expired or not.
func (db *DB) pgDueSends(ctx context.Context, now time.Time, limit int) ([]astreinte.Send, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+sendColumns+` FROM sends s JOIN pages p ON p.id = s.page_id
		WHERE (s.state IN (?, ?) AND s.next_try_at <= ? OR s.state = ? AND NOT `+heldBy+`)
		AND (p.state = ? OR s.event != ?)
		ORDER BY s.next_try_at, s.id LIMIT ?`,
		astreinte.SendPending, astreinte.SendSending, ts(now), astreinte.SendSending, astreinte.PageActive, astreinte.NoticePage, limit)
	if err != nil {
		return nil, fmt.Errorf("due sends: %w", err)
	}
	return collectSends(rows, "due sends")
}

// pgClaimSend is ClaimSend on PostgreSQL: as on SQLite, a pending send
// that is due or a sending one whose lease expired; and a sending one
// whose lock this process could take, since its node is gone.
func (db *DB) pgClaimSend(ctx context.Context, id int64, leaseUntil time.Time) (bool, error) {
	ok, err := db.leases.claim(ctx, id, func(newly bool) (bool, error) {
		return db.pgClaimUpdate(ctx, id, leaseUntil, newly)
	})
	if err != nil {
		return false, fmt.Errorf("claim send %d: %w", id, err)
	}
	return ok, nil
}

// pgClaimUpdate claims send id's row for a process holding its lock
// (newly: just taken, so a send left sending is a gone node's).
func (db *DB) pgClaimUpdate(ctx context.Context, id int64, leaseUntil time.Time, newly bool) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE sends SET state = ?, next_try_at = ?, attempts = attempts + 1
		WHERE id = ? AND (state IN (?, ?) AND next_try_at <= ? OR state = ? AND ? = 1)
		AND (event != ? OR EXISTS (SELECT 1 FROM pages p WHERE p.id = sends.page_id AND p.state = ?))`,
		astreinte.SendSending, ts(leaseUntil), id, astreinte.SendPending, astreinte.SendSending, ts(db.now()),
		astreinte.SendSending, newly, astreinte.NoticePage, astreinte.PageActive)
	if err != nil {
		return false, err
	}
	return affected(res)
}

// pgReclaimSending is ReclaimSending on PostgreSQL: only the sends whose
// node is gone (nobody holds their lock); the others are being delivered.
func (db *DB) pgReclaimSending(ctx context.Context) (int, error) {
	db.leases.releaseAll() // an engine starting in this process: its sends are from one that stopped
	res, err := db.db.ExecContext(ctx, `UPDATE sends SET state = ?, next_try_at = ?,
		last_error = 'interrupted: the process delivering it stopped' WHERE state = ? AND id IN (
			SELECT s.id FROM sends s WHERE s.state = ? AND NOT `+heldBy+`)`,
		astreinte.SendPending, ts(db.now()), astreinte.SendSending, astreinte.SendSending)
	if err != nil {
		return 0, fmt.Errorf("reclaim sends: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
