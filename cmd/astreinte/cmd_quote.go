package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

func quoteSetCommand() *command {
	return &command{
		name: "quote set", args: "TICKET", nargs: [2]int{1, 1}, short: "propose a quote for a ticket: an amount HT or a time",
		setup: func(fs *flag.FlagSet) runner {
			amount := fs.String("amount", "", "amount before tax in `euros` (e.g. 120.00)")
			hours := fs.String("hours", "", "estimated `time` (2h, 1h30m, 1:30 or minutes), priced at the contract's rate")
			flat := fs.Bool("flat", false, "the amount is a fixed price (forfait), whatever the time spent; without it, it is a cap")
			actor := actorFlag(fs)
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				if (*amount == "") == (*hours == "") {
					return usageError("give --amount or --hours")
				}
				var cents int64
				var err error
				if *amount != "" {
					if cents, err = billing.ParseCents(*amount); err != nil || cents == 0 {
						return usageError("--amount: %v", errors.Join(err, errors.New("want more than 0")))
					}
				}
				d, err := parseOptionalWork(*hours)
				if err != nil {
					return usageError("--hours: %v", err)
				}
				t, err := ticketArg(ctx, e, args[0])
				if err != nil {
					return err
				}
				by, err := actor(e)
				if err != nil {
					return err
				}
				if err := e.ledger().SetQuote(ctx, t, cents, d, *flat, by); err != nil {
					return exitError{1, fmt.Sprintf("astreinte quote set: %v", err)}
				}
				fmt.Fprintf(s.out, "Ticket %s: quote proposed to the customer.\n", t.Number)
				return nil
			})
		},
	}
}

// parseOptionalWork is tickets.ParseWork, with "" for none.
func parseOptionalWork(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return tickets.ParseWork(s)
}

func quoteDecideCommand(verb string, accepted bool) *command {
	return &command{
		name: "quote " + verb, args: "TICKET", nargs: [2]int{1, 1}, short: "the customer " + verb + "s the ticket's quote",
		setup: func(fs *flag.FlagSet) runner {
			actor := actorFlag(fs)
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				t, err := ticketArg(ctx, e, args[0])
				if err != nil {
					return err
				}
				by, err := actor(e)
				if err != nil {
					return err
				}
				if err := e.ledger().DecideQuote(ctx, t, accepted, by); errors.Is(err, astreinte.ErrNotFound) {
					return exitError{1, fmt.Sprintf("ticket %s has no proposed quote (astreinte quote set %s --amount …)", t.Number, t.Number)}
				} else if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Ticket %s: quote %sed.\n", t.Number, verb)
				return nil
			})
		},
	}
}

func quoteAcceptCommand() *command { return quoteDecideCommand("accept", true) }
func quoteRefuseCommand() *command { return quoteDecideCommand("refuse", false) }
