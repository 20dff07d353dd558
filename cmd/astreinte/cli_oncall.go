package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

func cmdOncall(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("oncall")
	at := fs.String("at", "", "time (default now)")
	days := fs.Int("days", 14, "days to show")
	weeks := fs.Int("weeks", 8, "weeks to check")
	replace := fs.String("replace", "", "technician replaced")
	by := fs.String("by", "", "technician taking over (empty: nobody)")
	from := fs.String("from", "", "start")
	to := fs.String("to", "", "end")
	note := fs.String("note", "", "note")
	channel := fs.String("channel", "", "only this channel (oncall test)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitError{2, err.Error()}
	}
	if len(pos) == 0 {
		pos = []string{"who"}
	}
	e, err := openEnv(*cfgPath)
	if err != nil {
		return err
	}
	defer e.Close()
	loc := e.cal.Location()
	calOv, err := e.db.CalendarOverride(ctx)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "who":
		t, err := e.parseTime(*at)
		if err != nil {
			return exitError{2, err.Error()}
		}
		ovs, err := e.db.ShiftOverrides(ctx, t.Add(-60*24*time.Hour), t.Add(60*24*time.Hour))
		if err != nil {
			return err
		}
		oncall.WriteWho(stdout, t, e.cal.StateAt(t, calOv), e.sched.WhoAt(t, ovs, calOv), loc)
	case "schedule":
		start := e.now()
		end := start.AddDate(0, 0, *days)
		ovs, err := e.db.ShiftOverrides(ctx, start, end)
		if err != nil {
			return err
		}
		oncall.WriteSchedule(stdout, e.sched.Shifts(start, end, ovs), loc)
	case "check":
		start := e.now()
		end := start.AddDate(0, 0, 7**weeks)
		ovs, err := e.db.ShiftOverrides(ctx, start, end)
		if err != nil {
			return err
		}
		gaps := e.sched.Gaps(start, end, ovs, calOv)
		oncall.WriteGaps(stdout, gaps, loc)
		if len(gaps) > 0 {
			return exitError{1, fmt.Sprintf("%d out-of-hours gap(s) with nobody on call in the next %d weeks", len(gaps), *weeks)}
		}
	case "override", "overrides":
		return cmdOverride(ctx, e, pos[1:], stdout, *replace, *by, *from, *to, *note)
	case "test":
		if len(pos) != 2 {
			return exitError{2, "usage: astreinte oncall test ID [--channel sip|email|message|webhook]"}
		}
		return cmdTestPage(ctx, e, pos[1], *channel, stdout)
	default:
		return exitError{2, fmt.Sprintf("astreinte oncall: unknown subcommand %q (who, schedule, check, override, test)", pos[0])}
	}
	return nil
}

func cmdOverride(ctx context.Context, e *env, pos []string, w io.Writer, replace, by, from, to, note string) error {
	loc := e.cal.Location()
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	switch pos[0] {
	case "list":
		now := e.now()
		ovs, err := e.db.ShiftOverrides(ctx, now, now.AddDate(1, 0, 0))
		if err != nil {
			return err
		}
		if len(ovs) == 0 {
			fmt.Fprintln(w, "No current or future overrides.")
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tREPLACED\tBY\tFROM\tTO\tNOTE")
		for _, o := range ovs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Replaced, orDash(o.By), fmtTime(o.From, loc), fmtTime(o.To, loc), o.Note)
		}
		return tw.Flush()
	case "add":
		if replace == "" || from == "" || to == "" {
			return exitError{2, "usage: astreinte oncall override add --replace ID [--by ID] --from TIME --to TIME [--note TEXT]"}
		}
		for _, id := range []string{replace, by} {
			if _, ok := e.sched.Person(id); id != "" && !ok {
				return exitError{1, fmt.Sprintf("unknown technician %q (see oncall.people in the configuration)", id)}
			}
		}
		f, err := e.parseTime(from)
		if err != nil {
			return exitError{2, err.Error()}
		}
		t, err := e.parseTime(to)
		if err != nil {
			return exitError{2, err.Error()}
		}
		if !t.After(f) {
			return exitError{2, "--to must be after --from"}
		}
		id, err := e.db.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: replace, By: by, From: f, To: t, Note: note, SetBy: loginName(), SetAt: e.now()})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Override %d: %s replaces %s from %s to %s.\n", id, orDash(by), replace, fmtTime(f, loc), fmtTime(t, loc))
		if by == "" {
			fmt.Fprintln(w, "Nobody replaces them: run `astreinte oncall check` for gaps.")
		}
	case "remove", "rm", "delete":
		if len(pos) != 2 {
			return exitError{2, "usage: astreinte oncall override remove ID"}
		}
		id, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil {
			return exitError{2, fmt.Sprintf("override id %q is not a number", pos[1])}
		}
		if err := e.db.DeleteShiftOverride(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(w, "Override %d removed.\n", id)
	default:
		return exitError{2, fmt.Sprintf("astreinte oncall override: unknown action %q (add, list, remove)", pos[0])}
	}
	return nil
}

func cmdCalendar(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("calendar")
	days := fs.Int("days", 14, "days to show")
	until := fs.String("until", "", "end of a forced state")
	reason := fs.String("reason", "", "why")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitError{2, err.Error()}
	}
	e, err := openEnv(*cfgPath)
	if err != nil {
		return err
	}
	defer e.Close()
	loc := e.cal.Location()
	calOv, err := e.db.CalendarOverride(ctx)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		start := e.now()
		if calOv != nil && start.Before(calOv.Until) {
			state := "CLOSED"
			if calOv.Open {
				state = "OPEN"
			}
			fmt.Fprintf(stdout, "Manual override: forced %s until %s (%s, set by %s)\n\n", state, fmtTime(calOv.Until, loc), orDash(calOv.Reason), orDash(calOv.SetBy))
		}
		oncall.WritePeriods(stdout, e.cal.Periods(start, start.AddDate(0, 0, *days), calOv), loc)
		return nil
	}
	switch pos[0] {
	case "at":
		t := e.now()
		if len(pos) > 1 {
			if t, err = e.parseTime(pos[1]); err != nil {
				return exitError{2, err.Error()}
			}
		}
		st := e.cal.StateAt(t, calOv)
		state := "CLOSED"
		if st.Open {
			state = "OPEN"
		}
		fmt.Fprintf(stdout, "%s: %s (%s) until %s\n", fmtTime(t, loc), state, st.Why(), fmtTime(st.Until, loc))
	case "force":
		if len(pos) != 2 {
			return exitError{2, "usage: astreinte calendar force open|closed --until TIME [--reason TEXT] | astreinte calendar force clear"}
		}
		if pos[1] == "clear" {
			if err := e.db.ClearCalendarOverride(ctx); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "Manual override cleared: the calendar decides again.")
			return nil
		}
		if pos[1] != "open" && pos[1] != "closed" {
			return exitError{2, "astreinte calendar force: open, closed or clear"}
		}
		if *until == "" {
			return exitError{2, "astreinte calendar force: --until TIME is required"}
		}
		u, err := e.parseTime(*until)
		if err != nil {
			return exitError{2, err.Error()}
		}
		if !u.After(e.now()) {
			return exitError{2, "--until must be in the future"}
		}
		o := oncall.CalendarOverride{Open: pos[1] == "open", Until: u, Reason: *reason, SetBy: loginName(), SetAt: e.now()}
		if err := e.db.SetCalendarOverride(ctx, o); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Support line forced %s until %s.\n", pos[1], fmtTime(u, loc))
	default:
		return exitError{2, fmt.Sprintf("astreinte calendar: unknown subcommand %q (at, force)", pos[0])}
	}
	return nil
}
