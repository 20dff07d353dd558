package voicemail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/phone"
)

// Recoverer makes the ticket of a recording found after an interruption,
// unless one exists (tickets.Service).
type Recoverer interface {
	Recover(ctx context.Context, t *astreinte.Ticket) (bool, error)
}

// Recover finishes the recordings a crash left under dir (RepairRecordings)
// and has a ticket made for each, so that no message is ever lost; a
// recording's sidecar goes once its ticket exists. A recording without
// voice (the flow records from the answer, so a crash during the greeting
// leaves one) is a missed call to call back, its recording kept. It
// returns how many tickets it made. Run it before the first call is
// answered.
func Recover(ctx context.Context, dir string, svc Recoverer, now func() time.Time, log *slog.Logger) (int, error) {
	found, err := RepairRecordings(dir)
	made := 0
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range found {
		m := r.Meta
		t := &astreinte.Ticket{
			CallID: m.CallRow, Line: m.Line, CallerNumber: m.CallerNumber, CallerName: m.CallerName,
			Urgency: astreinte.Urgency(m.Urgency), Case: astreinte.Case(m.Case), Recording: r.Path,
			Duration: r.Duration, CreatedAt: m.StartedAt,
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now()
		}
		t.CallbackNumber, _ = phone.Callable(m.CallerNumber, "")
		if r.Voiced < voiceMin {
			// Cut during the greeting, nothing said: the caller hung up or
			// the line went dead before a message. Call them back.
			t.Kind = astreinte.KindMissedCall
		}
		created, err := svc.Recover(ctx, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("ticket for %s: %w", r.Path, err))
			continue
		}
		if created {
			made++
			log.Warn("recovered an interrupted recording", "ticket", t.Number, "path", r.Path, "duration", r.Duration)
		}
		if err := RemoveSidecar(r.Path); err != nil {
			errs = append(errs, err)
		}
	}
	return made, errors.Join(errs...)
}
