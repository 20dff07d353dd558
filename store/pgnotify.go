package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Nodes sharing a PostgreSQL database tell each other of their changes with
// PostgreSQL's notifications: Notify sends one (after the change's commit,
// on the writer's connection, so it follows the change), Listen receives
// them on a connection of its own, connecting again when it is lost.
// SQLite has no other process to tell: Notify does nothing there and Listen
// refuses.

// ErrNoNotifications is Listen's answer on SQLite.
var ErrNoNotifications = errors.New("store: notifications need PostgreSQL (store.driver: postgres)")

// listenAppName is the application_name of Listen's connection, so that
// pg_stat_activity tells it apart from the pools'.
const listenAppName = "astreinte-listen"

// Listen's wait before connecting again: doubled at each failure, from
// listenRetryMin up to listenRetryMax.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// Notify sends payload to the listeners of channel on every node (pg_notify;
// at most 8,000 bytes). On SQLite it does nothing.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if !db.pg {
		return nil
	}
	if _, err := db.db.ExecContext(ctx, pgRaw+`SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

// Listener is what Listen does with a channel.
type Listener struct {
	Channel string
	// Notify is called with each notification's payload, one at a time, on
	// Listen's goroutine; it must return quickly.
	Notify func(payload string)
	// Connected, if set, is called each time the connection listens:
	// again is false the first time, true after a lost connection (what
	// was sent meanwhile was not heard).
	Connected func(again bool)
	// Log tells of a lost connection once, and of its return (default
	// slog.Default()).
	Log *slog.Logger
}

// Listen listens to l.Channel on a connection of its own until ctx ends,
// connecting again after a lost connection (waiting 0.1 s, doubled up to
// 5 s at each failure), and returns ctx's error. On SQLite it returns
// ErrNoNotifications at once.
func (db *DB) Listen(ctx context.Context, l Listener) error {
	if !db.pg {
		return ErrNoNotifications
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "listen", "channel", l.Channel)
	wait, listened, down := listenRetryMin, false, false
	for {
		err := db.listenOnce(ctx, l, func() {
			if down {
				log.Info("store: listening again")
			}
			wait, down = listenRetryMin, false
			if l.Connected != nil {
				l.Connected(listened)
			}
			listened = true
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !down {
			log.Warn("store: notifications from the other nodes lost, connecting again", "error", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, listens and hands over notifications until the
// connection fails or ctx ends; up is called once it listens.
func (db *DB) listenOnce(ctx context.Context, l Listener, up func()) error {
	cfg := db.pgcfg.Copy()
	cfg.RuntimeParams["application_name"] = listenAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.Channel}.Sanitize()); err != nil {
		return err
	}
	up()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		l.Notify(n.Payload)
	}
}
