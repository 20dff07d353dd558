package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/correspondence"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

// env is what every command works with, built in dependency order from the
// configuration: the clock, the store, the calendar (with its manual
// override), the on-call schedule and the tickets service.
type env struct {
	cfg     *config.Config
	now     func() time.Time
	db      *store.DB
	cal     calendar.Live
	sched   *oncall.Schedule
	tickets *tickets.Service
	desk    *correspondence.Desk // email with requesters (mail.go)
}

// recordings opens recordings for the readers (pages, emails, call-outs):
// the local file, else, on PostgreSQL, the copy the node that made it
// shipped to the store.
func (e *env) recordings() *recording.Opener {
	if e.db.Postgres() {
		return recording.NewOpener(e.db)
	}
	return &recording.Opener{}
}

// configFlag is the global --config flag (default: $ASTREINTE_CONFIG,
// else the built-in configuration), which the command tree puts among each
// command's flags before the command declares its own.
func configFlag(fs *flag.FlagSet) *string {
	return &fs.Lookup("config").Value.(*pathFlag).path
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default()
	}
	return config.Load(path)
}

// openEnv loads the configuration at path and opens what it names.
func openEnv(path string) (*env, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	return newEnv(cfg)
}

func newEnv(cfg *config.Config) (*env, error) {
	now := clockOf(cfg.Clock)
	cal, err := calendar.New(cfg.Calendar)
	if err != nil {
		return nil, err
	}
	sched, err := oncall.NewSchedule(cfg.OnCall, cal)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	db, err := store.OpenDriver(cfg.Store.Driver, cfg.StoreDSN())
	if err != nil {
		return nil, err
	}
	db.Now = now
	svc := tickets.New(db, cal, tickets.Options{Lines: linePolicies(cfg), DefaultLine: cfg.DefaultLine(), Now: now, AckTarget: sched.AckTarget(),
		Customers: customerDirectory(cfg, db)})
	e := &env{cfg: cfg, now: now, db: db, cal: calendar.Live{Calendar: cal, Overrides: db}, sched: sched, tickets: svc}
	if e.desk, err = newDesk(e); err != nil {
		db.Close()
		return nil, err
	}
	return e, nil
}

// clockOf is time.Now, or a clock started at the configured instant (for
// tests and demonstrations).
func clockOf(c config.Clock) func() time.Time {
	if c.Now == "" {
		return time.Now
	}
	start, _ := time.Parse(time.RFC3339, c.Now) // validated with the configuration
	wall := time.Now()
	return func() time.Time { return start.Add(time.Since(wall)) }
}

// linePolicies are the lines' promises as the tickets service takes them.
func linePolicies(cfg *config.Config) map[string]tickets.Policy {
	out := map[string]tickets.Policy{}
	for _, l := range cfg.Lines {
		out[l.Name] = tickets.Policy{DueUrgent: l.Due.Urgent, DueNormal: l.Due.Normal, Page: l.Page}
	}
	return out
}

func (e *env) Close() error { return e.db.Close() }

func (e *env) location() *time.Location { return e.cal.Location() }

// swaps is the shift swaps service over the store, as the rota's
// configuration says (oncall.swaps).
func (e *env) swaps() *swaps.Service {
	return &swaps.Service{Schedule: e.sched, Store: e.db, RequireApproval: e.sched.SwapApproval(), Now: e.now}
}

// parseTime reads "2026-11-24 03:00" (calendar zone), "2026-11-24",
// RFC 3339, "now", or "+2h" / "-30m" relative to now.
// parsePeriod reads --from and --to as parseTime does; the error is a
// usage error naming the flag, and --to must come after --from.
func (e *env) parsePeriod(from, to string) (f, t time.Time, err error) {
	if f, err = e.parseTime(from); err != nil {
		return f, t, usageError("--from: %v", err)
	}
	if t, err = e.parseTime(to); err != nil {
		return f, t, usageError("--to: %v", err)
	}
	if !t.After(f) {
		return f, t, usageError("--to must be after --from")
	}
	return f, t, nil
}

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
		if t, err := time.ParseInLocation(layout, s, e.location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want \"2026-11-24 03:00\", RFC 3339, now or +2h", s)
}

// withEnv declares --config and runs f with the environment it names,
// closed after.
func withEnv(fs *flag.FlagSet, f func(ctx context.Context, e *env, s stdio, args []string) error) runner {
	cfgPath := configFlag(fs)
	return func(ctx context.Context, s stdio, args []string) error {
		e, err := openEnv(*cfgPath)
		if err != nil {
			return err
		}
		defer e.Close()
		return f(ctx, e, s, args)
	}
}
