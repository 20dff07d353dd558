package store

import "database/sql"

// leases holds, on one connection of its own, the session advisory locks
// of the sends this process is delivering (PostgreSQL only): another node
// takes a send over as soon as its lock is free, that is when the process
// that claimed it is gone.
type leases struct {
	pool *sql.DB
}

func newLeases(pool *sql.DB) *leases {
	pool.SetMaxOpenConns(1)
	return &leases{pool: pool}
}

func (l *leases) close() error { return l.pool.Close() }
