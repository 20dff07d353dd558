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
pages, with the work logged on them) apart, priced at the hourly rates in
cents of oncall.pay (a flag overrides its rate). See docs/oncall-pay.md.`,
		setup: func(fs *flag.FlagSet) runner {
			month := fs.String("month", "", "the `YYYY-MM` to count (default this month)")
			var r pay.Rates
			fs.Int64Var(&r.WeekdayNight, "weekday-night", 0, "`CENTS` per hour on call on a working day's closed hours (default oncall.pay.weekday_night)")
			fs.Int64Var(&r.Weekend, "weekend", 0, "`CENTS` per hour on call on Saturdays and Sundays (default oncall.pay.weekend)")
			fs.Int64Var(&r.Holiday, "holiday", 0, "`CENTS` per hour on call on public holidays (default oncall.pay.holiday)")
			fs.Int64Var(&r.Intervention, "intervention", 0, "`CENTS` per hour of intervention (default oncall.pay.intervention)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				m := *month
				if m == "" {
					m = e.now().In(e.location()).Format("2006-01")
				}
				if _, _, err := pay.Month(m, e.location()); err != nil {
					return usageError("--month: %v", err)
				}
				conf := e.sched.PayRates()
				for _, f := range []struct {
					name       string
					flag, conf *int64
				}{{"weekday-night", &r.WeekdayNight, &conf.WeekdayNight}, {"weekend", &r.Weekend, &conf.Weekend},
					{"holiday", &r.Holiday, &conf.Holiday}, {"intervention", &r.Intervention, &conf.Intervention}} {
					if !fs.Changed(f.name) {
						*f.flag = *f.conf
					}
				}
				lines, err := pay.Report(ctx, e.db, e.sched, m, r)
				if err != nil {
					return err
				}
				return pay.WriteCSV(s.out, m, lines)
			})
		},
	}
}
