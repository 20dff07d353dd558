package store

import (
	"context"
	"fmt"
	"time"
)

// ChannelResult is the latest notification sent on one paging channel, for
// the status page.
type ChannelResult struct {
	Channel   string
	Person    string
	Ticket    string // the ticket's number
	State     string // pending, sending, done, failed
	Attempts  int
	LastError string
	CreatedAt time.Time
}

// ChannelResults returns the latest send of each paging channel, by
// channel name.
func (db *DB) ChannelResults(ctx context.Context) ([]ChannelResult, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT s.channel, s.person, COALESCE(t.number, ''), s.state, s.attempts,
		s.last_error, s.created_at FROM sends s LEFT JOIN tickets t ON t.id = s.ticket_id
		WHERE s.id IN (SELECT MAX(id) FROM sends GROUP BY channel) ORDER BY s.channel`)
	if err != nil {
		return nil, fmt.Errorf("channel results: %w", err)
	}
	defer rows.Close()
	var out []ChannelResult
	for rows.Next() {
		var r ChannelResult
		if err := rows.Scan(&r.Channel, &r.Person, &r.Ticket, &r.State, &r.Attempts, &r.LastError,
			timeCol{&r.CreatedAt}); err != nil {
			return nil, fmt.Errorf("channel results: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChannelFailing reports whether the latest finished send of channel
// failed after its retries (state failed): the channel is failing now. A
// channel never used, or a store error, is not failing.
func (db *DB) ChannelFailing(ctx context.Context, channel string) bool {
	var state string
	err := db.rdb.QueryRowContext(ctx, `SELECT state FROM sends WHERE channel = ? AND state IN ('done', 'failed')
		ORDER BY id DESC LIMIT 1`, channel).Scan(&state)
	return err == nil && state == "failed"
}
