package main

import (
	"context"
	flag "github.com/spf13/pflag"

	"github.com/astreinte/astreinte/oncall/pay"
)

func oncallPayCommand() *command {
	return &command{
		name: "oncall pay", short: "on-call pay of a month, per person, as CSV (minutes and integer cents)",
		long: `Time on call while support is closed, split into weekday nights, weekends
and the calendar's public holidays, and the interventions (acknowledged
pages, with the work logged on them) apart, priced at the hourly rates
given in cents. See docs/oncall-pay.md.`,
		setup: func(fs *flag.FlagSet) runner {
			month := fs.String("month", "", "the `YYYY-MM` to count (default this month)")
			var r pay.Rates
			fs.Int64Var(&r.WeekdayNight, "weekday-night", 0, "`CENTS` per hour on call on a working day's closed hours")
			fs.Int64Var(&r.Weekend, "weekend", 0, "`CENTS` per hour on call on Saturdays and Sundays")
			fs.Int64Var(&r.Holiday, "holiday", 0, "`CENTS` per hour on call on public holidays")
			fs.Int64Var(&r.Intervention, "intervention", 0, "`CENTS` per hour of intervention")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				m := *month
				if m == "" {
					m = e.now().In(e.location()).Format("2006-01")
				}
				from, to, err := pay.Month(m, e.cal.Location())
				if err != nil {
					return usageError("--month: %v", err)
				}
				ovs, err := e.db.ShiftOverrides(ctx, from, to)
				if err != nil {
					return err
				}
				calOv, err := e.db.CalendarOverride(ctx)
				if err != nil {
					return err
				}
				work, err := e.db.Interventions(ctx, from, to)
				if err != nil {
					return err
				}
				return pay.WriteCSV(s.out, m, pay.Compute(e.sched, e.sched.Shifts(from, to, ovs), calOv, from, to, work, r))
			})
		},
	}
}
