package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte/oncall"
	flag "github.com/spf13/pflag"
)

func oncallWhoCommand() *command {
	return &command{
		name: "oncall who", aliases: []string{"oncall"}, short: "who is on call now (or at TIME), per tier, until when",
		setup: func(fs *flag.FlagSet) runner {
			at := fs.String("at", "", "`TIME` to ask about (default now)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				t, err := e.parseTime(*at)
				if err != nil {
					return usageError("--at: %v", err)
				}
				st, err := e.cal.State(ctx, t)
				if err != nil {
					return err
				}
				ovs, err := e.db.ShiftOverrides(ctx, t.Add(-60*24*time.Hour), t.Add(60*24*time.Hour))
				if err != nil {
					return err
				}
				calOv, err := e.db.CalendarOverride(ctx)
				if err != nil {
					return err
				}
				writeWho(s.out, t, st, e.sched.WhoAt(t, ovs, calOv), e.location())
				return nil
			})
		},
	}
}

func oncallScheduleCommand() *command {
	return &command{
		name: "oncall schedule", short: "the shifts to come, overrides applied",
		setup: func(fs *flag.FlagSet) runner {
			days := fs.Int("days", 14, "`N` days to show")
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				start := e.now()
				end := start.AddDate(0, 0, *days)
				ovs, err := e.db.ShiftOverrides(ctx, start, end)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, shiftsOf(e.sched.Shifts(start, end, ovs)))
				}
				writeSchedule(s.out, e.sched.Shifts(start, end, ovs), e.location())
				return nil
			})
		},
	}
}

func oncallCheckCommand() *command {
	return &command{
		name: "oncall check", short: "list out-of-hours gaps with nobody on call (exit 1 if any)",
		setup: func(fs *flag.FlagSet) runner {
			weeks := fs.Int("weeks", 8, "`N` weeks to check")
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				start := e.now()
				end := start.AddDate(0, 0, 7**weeks)
				ovs, err := e.db.ShiftOverrides(ctx, start, end)
				if err != nil {
					return err
				}
				calOv, err := e.db.CalendarOverride(ctx)
				if err != nil {
					return err
				}
				gaps := e.sched.Gaps(start, end, ovs, calOv)
				if *asJSON {
					if err := writeJSON(s.out, gapsOf(gaps)); err != nil {
						return err
					}
				} else {
					writeGaps(s.out, gaps, e.location())
				}
				if len(gaps) > 0 {
					return exitError{1, fmt.Sprintf("%d out-of-hours gap(s) with nobody on call in the next %d weeks", len(gaps), *weeks)}
				}
				return nil
			})
		},
	}
}

func overrideAddCommand() *command {
	return &command{
		name: "oncall override add", short: "someone replaces a technician for a period (or nobody does)",
		setup: func(fs *flag.FlagSet) runner {
			replace := fs.String("replace", "", "technician `ID` replaced (required)")
			by := fs.String("by", "", "technician `ID` taking over (empty: nobody)")
			from := fs.String("from", "", "start `TIME` (required)")
			to := fs.String("to", "", "end `TIME` (required)")
			note := fs.String("note", "", "why")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				if *replace == "" || *from == "" || *to == "" {
					return usageError("astreinte oncall override add: --replace, --from and --to are required")
				}
				for _, id := range []string{*replace, *by} {
					if _, ok := e.sched.Person(id); id != "" && !ok {
						return exitError{1, fmt.Sprintf("unknown technician %q (see oncall.people in the configuration)", id)}
					}
				}
				f, t, err := e.parsePeriod(*from, *to)
				if err != nil {
					return err
				}
				id, err := e.db.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: *replace, By: *by, From: f, To: t, Note: *note, SetBy: loginName(), SetAt: e.now()})
				if err != nil {
					return err
				}
				loc := e.location()
				fmt.Fprintf(s.out, "Override %d: %s replaces %s from %s to %s.\n", id, orDash(*by), *replace, fmtTime(f, loc), fmtTime(t, loc))
				if *by == "" {
					fmt.Fprintln(s.out, "Nobody replaces them: run `astreinte oncall check` for gaps.")
				}
				return nil
			})
		},
	}
}

func overrideListCommand() *command {
	return &command{
		name: "oncall override list", aliases: []string{"oncall override", "oncall overrides"}, short: "current and future overrides",
		setup: func(fs *flag.FlagSet) runner {
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				now := e.now()
				ovs, err := e.db.ShiftOverrides(ctx, now, now.AddDate(1, 0, 0))
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, listOf(ovs, overrideOf))
				}
				if len(ovs) == 0 {
					fmt.Fprintln(s.out, "No current or future overrides.")
					return nil
				}
				loc := e.location()
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tREPLACED\tBY\tFROM\tTO\tNOTE")
				for _, o := range ovs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Replaced, orDash(o.By), fmtTime(o.From, loc), fmtTime(o.To, loc), o.Note)
				}
				return tw.Flush()
			})
		},
	}
}

func overrideRemoveCommand() *command {
	return &command{
		name: "oncall override remove", aliases: []string{"oncall override rm", "oncall override delete"}, args: "ID",
		short: "remove an override", nargs: [2]int{1, 1},
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return usageError("override id %q is not a number", args[0])
				}
				if err := e.db.DeleteShiftOverride(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Override %d removed.\n", id)
				return nil
			})
		},
	}
}

func oncallTestCommand() *command {
	return &command{
		name: "oncall test", args: "ID", nargs: [2]int{1, 1},
		short: "page technician ID now with a test ticket on each channel, and report",
		long: `The way to check, before a night on call, that the phone rings, key 1
works and the email arrives. It needs no running service: it places its own
calls from a port of its own. Nothing is written to the database.`,
		setup: func(fs *flag.FlagSet) runner {
			channel := fs.String("channel", "", "only this `channel`: sip, email, message or webhook")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				return testPage(ctx, e, args[0], *channel, s.out)
			})
		},
	}
}
