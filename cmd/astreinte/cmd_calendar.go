package main

import (
	"context"
	"fmt"

	"github.com/astreinte/astreinte/calendar"
	flag "github.com/spf13/pflag"
)

func calendarCommand() *command {
	return &command{
		name: "calendar", short: "open and closed periods to come, with holiday names",
		setup: func(fs *flag.FlagSet) runner {
			days := fs.Int("days", 14, "`N` days to show")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				calOv, err := e.db.CalendarOverride(ctx)
				if err != nil {
					return err
				}
				loc := e.location()
				start := e.now()
				if calOv != nil && start.Before(calOv.Until) {
					state := "CLOSED"
					if calOv.Open {
						state = "OPEN"
					}
					fmt.Fprintf(s.out, "Manual override: forced %s until %s (%s, set by %s)\n\n", state, fmtTime(calOv.Until, loc), orDash(calOv.Reason), orDash(calOv.SetBy))
				}
				writePeriods(s.out, e.cal.Periods(start, start.AddDate(0, 0, *days), calOv), loc)
				return nil
			})
		},
	}
}

func calendarAtCommand() *command {
	return &command{
		name: "calendar at", args: "[TIME]", nargs: [2]int{0, 1}, short: "open or closed at TIME (default now), and why",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				t := e.now()
				if len(args) > 0 {
					var err error
					if t, err = e.parseTime(args[0]); err != nil {
						return usageError("%v", err)
					}
				}
				st, err := e.cal.State(ctx, t)
				if err != nil {
					return err
				}
				state := "CLOSED"
				if st.Open {
					state = "OPEN"
				}
				loc := e.location()
				fmt.Fprintf(s.out, "%s: %s (%s) until %s\n", fmtTime(t, loc), state, st.Why(), fmtTime(st.Until, loc))
				return nil
			})
		},
	}
}

func calendarForceCommand() *command {
	return &command{
		name: "calendar force", args: "open|closed", nargs: [2]int{1, 1},
		short: "force the line open or closed until a time, whatever the calendar says",
		setup: func(fs *flag.FlagSet) runner {
			until := fs.String("until", "", "end `TIME` of the forced state (required)")
			reason := fs.String("reason", "", "why (said on tickets and in `astreinte calendar`)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				if args[0] != "open" && args[0] != "closed" {
					return usageError("astreinte calendar force: open, closed or clear, not %q", args[0])
				}
				if *until == "" {
					return usageError("astreinte calendar force: --until TIME is required")
				}
				u, err := e.parseTime(*until)
				if err != nil {
					return usageError("--until: %v", err)
				}
				if !u.After(e.now()) {
					return usageError("--until must be in the future")
				}
				o := calendar.Override{Open: args[0] == "open", Until: u, Reason: *reason, SetBy: loginName(), SetAt: e.now()}
				if err := e.db.SetCalendarOverride(ctx, o); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Support line forced %s until %s.\n", args[0], fmtTime(u, e.location()))
				return nil
			})
		},
	}
}

func calendarClearCommand() *command {
	return &command{
		name: "calendar force clear", short: "end a forced state: the calendar decides again",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error { return clearForce(ctx, e, s) })
		},
	}
}

func clearForce(ctx context.Context, e *env, s stdio) error {
	if err := e.db.ClearCalendarOverride(ctx); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "Manual override cleared: the calendar decides again.")
	return nil
}
