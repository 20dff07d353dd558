package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/space"
	"github.com/astreinte/astreinte/store"
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
			desc := fs.String("description", "", "what the quote covers, as the customer reads it")
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
				q := store.Quote{AmountHT: cents, Duration: d, Flat: *flat, SetBy: by, Description: *desc}
				if t.Customer == "" {
					// Nobody to mail: the admin types the answer in (quote accept).
					if err := e.ledger().ProposeQuote(ctx, t, q); err != nil {
						return exitError{1, fmt.Sprintf("astreinte quote set: %v", err)}
					}
					fmt.Fprintf(s.out, "Ticket %s: quote recorded (no customer to mail: record the answer with astreinte quote accept|refuse).\n", t.Number)
					return nil
				}
				if err := e.approvals(slog.Default()).ProposeQuote(ctx, t, q); errors.Is(err, approvals.ErrNotSent) {
					fmt.Fprintf(s.out, "Ticket %s: quote proposed; it waits for the customer at %s, but they were NOT mailed: %v.\n",
						t.Number, space.URL(e.cfg.HTTP.BaseURL)+"tickets/"+t.Number, err)
					return nil
				} else if err != nil {
					return exitError{1, fmt.Sprintf("astreinte quote set: %v", err)}
				}
				fmt.Fprintf(s.out, "Ticket %s: quote proposed; the customer's contacts were mailed a link to accept or refuse it at %s.\n",
					t.Number, space.URL(e.cfg.HTTP.BaseURL)+"tickets/"+t.Number)
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
