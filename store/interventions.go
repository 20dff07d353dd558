package store

import (
	"context"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// Interventions returns the pages acknowledged within [from, to), one
// intervention each for whoever acknowledged it, lasting the work they
// logged on its ticket: what on-call pay counts apart.
func (db *DB) Interventions(ctx context.Context, from, to time.Time) ([]astreinte.Intervention, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT p.acked_by, p.acked_at,
		COALESCE((SELECT SUM(w.duration_s) FROM worklog w WHERE w.ticket_id = p.ticket_id AND w.by = p.acked_by), 0)
		FROM pages p WHERE p.state = ? AND p.acked_by != '' AND p.acked_at >= ? AND p.acked_at < ?
		ORDER BY p.acked_at, p.id`, astreinte.PageAcked, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("interventions: %w", err)
	}
	defer rows.Close()
	var out []astreinte.Intervention
	for rows.Next() {
		var in astreinte.Intervention
		var secs int64
		if err := rows.Scan(&in.Person, timeCol{&in.At}, &secs); err != nil {
			return nil, fmt.Errorf("interventions: %w", err)
		}
		in.Duration = time.Duration(secs) * time.Second
		out = append(out, in)
	}
	return out, rows.Err()
}
