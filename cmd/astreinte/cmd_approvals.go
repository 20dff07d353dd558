package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/space"
	flag "github.com/spf13/pflag"
)

func ticketAskConfirmationCommand() *command {
	return ticketAction("ask-confirmation", nil, "ask the customer, before the work, to confirm an intervention that may go past the contract's threshold",
		func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
			actor := actorFlag(fs)
			units := fs.Int64("units", 0, "the `units` (tickets, half-hours) the intervention may take (required)")
			note := fs.String("note", "", "what the intervention is, as the customer reads it (required)")
			return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
				if *units <= 0 || strings.TrimSpace(*note) == "" {
					return usageError("astreinte tickets ask-confirmation: give --units and --note")
				}
				by, err := actor(e)
				if err != nil {
					return err
				}
				if err := e.approvals(slog.Default()).AskConfirmation(ctx, t, *units, *note, by); errors.Is(err, approvals.ErrNotSent) {
					fmt.Fprintf(s.out, "Ticket %s: confirmation asked; it waits for the customer at %s, but they were NOT mailed: %v.\n",
						t.Number, space.URL(e.cfg.HTTP.BaseURL)+"tickets/"+t.Number, err)
					return nil
				} else if err != nil {
					return exitError{1, fmt.Sprintf("astreinte tickets ask-confirmation: %v", err)}
				}
				fmt.Fprintf(s.out, "Ticket %s: confirmation asked; the customer's contacts were mailed a link to %s.\n",
					t.Number, space.URL(e.cfg.HTTP.BaseURL)+"tickets/"+t.Number)
				return nil
			}
		}, 1)
}

func appointmentsCommand() *command {
	return &command{
		name: "appointments", short: "the day's appointments booked by customers (45 minutes, phone or video)",
		setup: func(fs *flag.FlagSet) runner {
			day := fs.String("day", "", "the `day` (2026-11-24; default today)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				at, err := e.parseTime(*day)
				if err != nil {
					return usageError("--day: %v", err)
				}
				as, err := e.appointments(slog.Default()).Day(ctx, at)
				if err != nil {
					return err
				}
				loc := e.location()
				if len(as) == 0 {
					fmt.Fprintf(s.out, "No appointment on %s.\n", at.In(loc).Format("Mon 02 Jan 2006"))
					return nil
				}
				for _, a := range as {
					how := "phone " + a.Phone
					if a.Kind == "video" {
						how = "video " + a.Room
					}
					fmt.Fprintf(s.out, "%s–%s  %s  %s  %s  (%s)\n", a.Start.In(loc).Format("Mon 02 Jan 15:04"),
						a.End.In(loc).Format("15:04"), a.Number, a.Customer, how, a.Contact)
				}
				return nil
			})
		},
	}
}
