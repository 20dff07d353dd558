package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
)

// A node is one process taking calls on the store. StartNode gives it a
// row of the nodes table; every call it records names that row. On
// PostgreSQL the node also holds a liveness lease while it runs: a session
// advisory lock keyed by its row, on a connection of its own (as the sends'
// locks of pglease.go). When the process dies the server drops the
// connection and the lease with it (at once for a killed process, within
// the keepalives' ~6 s for a machine gone silent), and the calls it had in
// progress are cut: CutCalls finds them, FileCutCall turns each into a
// ticket exactly once, whichever surviving node gets there first. On
// SQLite (one node per file) there is no lease: a process that starts
// after a crash finds the previous run's recordings on its own disk
// (voicemail.Recover).

// nodeLock is the advisory lock key of node id's lease: a namespace of its
// own in the high bits, apart from writerLock and sendLock.
func nodeLock(id int64) int64 { return 0x6e<<48 | id }

// nodeHeld is the SQL condition "the lease of calls c's node is held" (by
// any session of the database).
var nodeHeld = fmt.Sprintf(`EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND (l.classid::bigint << 32 | l.objid::bigint) = (%d | c.node_id))`, nodeLock(0))

// HangupNodeLost is a cut call's hangup_by: its node died.
const HangupNodeLost = "node_lost"

// nodeState is this process's node.
type nodeState struct {
	mu   sync.Mutex
	id   int64
	name string
	pool *sql.DB   // PostgreSQL: the lease's pool (one connection)
	conn *sql.Conn // PostgreSQL: the connection holding the lease
	stop chan struct{}
	done chan struct{}
}

// StartNode records this process as a node named name (e.g. host:pid) and,
// on PostgreSQL, takes its liveness lease and keeps it (a lost connection
// is reconnected and the lease taken again, within a second). Calls
// recorded afterwards name the node. It returns the node's row id. Call it
// once, before the first call.
func (db *DB) StartNode(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, errors.New("start node: empty name")
	}
	db.node.mu.Lock()
	defer db.node.mu.Unlock()
	if db.node.id != 0 {
		return 0, fmt.Errorf("start node %s: this store is node %d (%s) already", name, db.node.id, db.node.name)
	}
	var id int64
	if err := db.db.QueryRowContext(ctx, `INSERT INTO nodes (name, started_at) VALUES (?, ?) RETURNING id`,
		name, ts(db.now())).Scan(&id); err != nil {
		return 0, fmt.Errorf("start node %s: %w", name, err)
	}
	if db.pg {
		db.node.pool.SetMaxOpenConns(1)
		db.node.pool.SetMaxIdleConns(0) // a connection given back is closed: the lease goes with it
		conn, err := db.lockNode(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("start node %s: lease: %w", name, err)
		}
		db.node.conn = conn
		db.node.stop, db.node.done = make(chan struct{}), make(chan struct{})
		go db.keepNode(id, db.node.stop, db.node.done)
	}
	db.node.id, db.node.name = id, name
	return id, nil
}

// lockNode takes node id's lease on a new connection of the lease's pool.
func (db *DB) lockNode(ctx context.Context, id int64) (*sql.Conn, error) {
	conn, err := db.node.pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, pgRaw+`SELECT pg_try_advisory_lock($1)`, nodeLock(id)).Scan(&ok); err != nil {
		conn.Close()
		return nil, err
	}
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("node %d's lease is held by another session", id)
	}
	return conn, nil
}

// keepNode checks the lease's connection every second and, when it broke
// (the server restarted, the network failed), takes the lease again.
func (db *DB) keepNode(id int64, stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		db.node.mu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if db.node.conn != nil {
			if err := db.node.conn.PingContext(ctx); err != nil {
				db.node.conn.Close()
				db.node.conn = nil
			}
		}
		if db.node.conn == nil {
			// Calls of ours cut meanwhile may have been filed by another
			// node: CutCalls only finds calls whose lease is gone.
			if conn, err := db.lockNode(ctx, id); err == nil {
				db.node.conn = conn
			}
		}
		cancel()
		db.node.mu.Unlock()
	}
}

// stopNode gives the lease back (Close).
func (db *DB) stopNode() error {
	db.node.mu.Lock()
	stop, done := db.node.stop, db.node.done
	db.node.stop = nil
	db.node.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	db.node.mu.Lock()
	defer db.node.mu.Unlock()
	if db.node.conn != nil {
		db.node.conn.Close()
		db.node.conn = nil
	}
	if db.node.pool != nil {
		return db.node.pool.Close()
	}
	return nil
}

// NodeID is this process's node row (StartNode), or 0.
func (db *DB) NodeID() int64 {
	db.node.mu.Lock()
	defer db.node.mu.Unlock()
	return db.node.id
}

// NodeName is the name node id started with, or "" if there is none.
func (db *DB) NodeName(ctx context.Context, id int64) (string, error) {
	var name string
	err := db.rdb.QueryRowContext(ctx, `SELECT name FROM nodes WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("node %d: %w", id, err)
	}
	return name, nil
}

// CutCalls returns the calls in progress, taken by another node, whose
// node's lease is gone (at most limit, oldest first; limit <= 0: 100): its
// process died mid-call. Only on PostgreSQL; on SQLite there is one node
// per file and none is returned.
func (db *DB) CutCalls(ctx context.Context, limit int) ([]astreinte.Call, error) {
	if !db.pg {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+callColumns+` FROM calls c
		WHERE c.outcome = ? AND c.node_id IS NOT NULL AND c.node_id != ? AND NOT `+nodeHeld+`
		ORDER BY c.id LIMIT ?`, astreinte.OutcomeInProgress, db.NodeID(), limit)
	if err != nil {
		return nil, fmt.Errorf("cut calls: %w", err)
	}
	defer rows.Close()
	var calls []astreinte.Call
	for rows.Next() {
		var c astreinte.Call
		if err := scanCall(rows, &c); err != nil {
			return nil, fmt.Errorf("cut calls: %w", err)
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cut calls: %w", err)
	}
	return calls, nil
}

// errNotCut undoes a FileCutCall whose call is no longer cut.
var errNotCut = errors.New("call not cut")

// FileCutCall turns call t.CallID, cut by its node's death, into ticket t
// (with page, if not nil), in one transaction that claims the call: its
// outcome goes from in_progress to cut, ended at endedAt, only if its
// node's lease is still gone. note, if not empty, goes on the ticket's
// timeline. It returns false, and stores nothing, when the call is no
// longer in progress (another node filed it first, or it ended) or its
// node holds its lease again: so across nodes a cut call makes exactly one
// ticket.
func (db *DB) FileCutCall(ctx context.Context, t *astreinte.Ticket, page *NewPage, endedAt time.Time, note string) (bool, error) {
	if t.CallID == 0 {
		return false, errors.New("file cut call: no call")
	}
	held := "0 = 1"
	if db.pg {
		held = nodeHeld
	}
	err := db.createTicket(ctx, t, page, func(tx *sql.Tx, id int64, number string) error {
		res, err := tx.ExecContext(ctx, `UPDATE calls SET outcome = ?, ended_at = ?, hangup_by = ?
			WHERE id = ? AND outcome = ? AND id IN (SELECT c.id FROM calls c WHERE c.id = ? AND NOT `+held+`)`,
			astreinte.OutcomeCut, ts(endedAt), HangupNodeLost, t.CallID, astreinte.OutcomeInProgress, t.CallID)
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil {
			return err
		} else if !ok {
			return errNotCut
		}
		if note == "" {
			return nil
		}
		return db.insertEvent(ctx, tx, astreinte.Event{TicketID: id, At: db.now(), Kind: astreinte.EventNote,
			Actor: actorSystem, Detail: note})
	})
	if errors.Is(err, errNotCut) {
		t.ID, t.Number = 0, ""
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("file cut call %d: %w", t.CallID, err)
	}
	return true, nil
}
