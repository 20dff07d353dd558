package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/store"
)

// env is what every command works with: the configuration, the store, the
// calendar and the schedule, and the clock.
type env struct {
	cfg   *config.Config
	db    *store.DB
	cal   *oncall.Calendar
	sched *oncall.Schedule
	now   func() time.Time
	// ackKey signs acknowledge links (set by serve).
	ackKey []byte
}

// newFlags makes a flag set with the common --config flag.
func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", os.Getenv("ASTREINTE_CONFIG"), "configuration file")
	return fs, path
}

// parseFlags parses args allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%v (see astreinte help)", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default()
	}
	return config.Load(path)
}

func openEnv(path string) (*env, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		return nil, err
	}
	e, err := newEnv(cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return e, nil
}

func newEnv(cfg *config.Config, db *store.DB) (*env, error) {
	cal, err := oncall.NewCalendar(cfg.Calendar)
	if err != nil {
		return nil, err
	}
	sched, err := oncall.NewSchedule(cfg.OnCall, cal)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if cfg.Clock.Now != "" {
		start, _ := time.Parse(time.RFC3339, cfg.Clock.Now)
		wall := time.Now()
		now = func() time.Time { return start.Add(time.Since(wall)) }
	}
	db.Now = now
	return &env{cfg: cfg, db: db, cal: cal, sched: sched, now: now}, nil
}

func (e *env) Close() error { return e.db.Close() }

// parseTime reads "2026-11-24 03:00" (calendar zone), "2026-11-24",
// RFC 3339, "now", or "+2h" / "-30m" relative to now.
func (e *env) parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" {
		return e.now(), nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := time.ParseDuration(s)
		if err == nil {
			return e.now().Add(d), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, e.cal.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want \"2026-11-24 03:00\", RFC 3339, now or +2h", s)
}

// caseAt maps the calendar state (with the manual override) to a ticket case.
func (e *env) caseAt(ctx context.Context, t time.Time) (astreinte.Case, string) {
	ov, err := e.db.CalendarOverride(ctx)
	if err != nil {
		ov = nil
	}
	st := e.cal.StateAt(t, ov)
	return caseOf(st), st.Label
}

func caseOf(st oncall.State) astreinte.Case {
	switch st.Reason {
	case oncall.ReasonForcedOpen:
		return astreinte.CaseForceOpen
	case oncall.ReasonForcedClosed:
		return astreinte.CaseForceClosed
	case oncall.ReasonHoliday:
		return astreinte.CaseHoliday
	case oncall.ReasonClosure:
		return astreinte.CaseClosure
	}
	if st.Open {
		return astreinte.CaseOpen
	}
	return astreinte.CaseOutOfHours
}

// calendarAdapter gives the voicemail flow the calendar's decision.
type calendarAdapter struct{ e *env }

func (a calendarAdapter) CaseAt(ctx context.Context, t time.Time) (astreinte.Case, string) {
	return a.e.caseAt(ctx, t)
}
