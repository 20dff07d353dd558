package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/space"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

// billingSummary says how a contract bills, e.g. "hourly €60.00 excl. VAT/h,
// every started 30m due, VAT 19.60 %, capped by an accepted quote".
func billingSummary(k customers.Contract) string {
	b := k.Billing
	var s string
	if b.Mode == billing.Units {
		s = fmt.Sprintf("units of %s at %s excl. VAT, each started unit due", length(b.Unit), lang.EN.Money(b.Rate))
	} else {
		s = fmt.Sprintf("hourly %s excl. VAT/h, every started unit of %s due", lang.EN.Money(b.Rate), length(b.Unit))
	}
	s += fmt.Sprintf(", VAT %s %%", billing.FormatCents(b.VAT))
	if b.QuoteRequired {
		s += ", only quoted work billed"
	}
	if b.QuoteCap {
		s += ", capped by an accepted quote"
	}
	return s
}

func worklogAddCommand() *command {
	return &command{
		name: "worklog add", args: "TICKET DURATION", nargs: [2]int{2, 2},
		short: "log time spent on a ticket (refused past the contract's confirmation threshold until confirmed)",
		long:  "DURATION is 45m, 1h30 (or 1h30m), 1:30 or a number of minutes.",
		setup: func(fs *flag.FlagSet) runner {
			actor := actorFlag(fs)
			note := fs.String("note", "", "what was done")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				t, err := ticketArg(ctx, e, args[0])
				if err != nil {
					return err
				}
				d, err := tickets.ParseWork(args[1])
				if err != nil {
					return usageError("%v", err)
				}
				by, err := actor(e)
				if err != nil {
					return err
				}
				u, err := e.ledger().AddWork(ctx, t, d, by, *note)
				if errors.Is(err, tickets.ErrNeedsConfirmation) {
					return exitError{1, fmt.Sprintf("Refused: %v", err)}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Ticket %s: %s logged by %s; %s.\n", t.Number, d, by, usageText(u))
				return nil
			})
		},
	}
}

// usageText says a ticket's time spent: "total 1h10m0s = 2 unit(s) of 1h
// (confirmation needed above 2)".
func usageText(u tickets.Usage) string {
	s := "total " + u.Total.String()
	if u.Mode != "" {
		s += " = " + unitCount(u.Units, u.Unit)
	}
	if u.ConfirmAbove > 0 {
		if u.Confirmed.At.IsZero() {
			s += fmt.Sprintf(" (the customer's confirmation is needed above %d)", u.ConfirmAbove)
		} else {
			s += " (confirmed by the customer)"
		}
	}
	return s
}

// ticketArg finds the ticket numbered n.
func ticketArg(ctx context.Context, e *env, n string) (astreinte.Ticket, error) {
	t, err := e.tickets.ByNumber(ctx, n)
	if errors.Is(err, astreinte.ErrNotFound) {
		return t, exitError{1, fmt.Sprintf("no ticket %q (see astreinte tickets --all)", n)}
	}
	return t, err
}

// ledger is the work log, quotes and statements of e's tickets.
func (e *env) ledger() *tickets.Ledger { return tickets.NewLedger(e.tickets, e.db) }

func ticketConfirmCommand() *command {
	return ticketAction("confirm", nil, "record the customer's confirmation of an intervention beyond the contract's threshold",
		func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
			actor := actorFlag(fs)
			note := fs.String("note", "", "how the customer confirmed (e.g. email of 3 Dec)")
			return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
				by, err := actor(e)
				if err != nil {
					return err
				}
				if err := e.ledger().Confirm(ctx, t, by, *note); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Ticket %s: the customer's confirmation is recorded; work may go past the threshold.\n", t.Number)
				return nil
			}
		}, 1)
}

func ticketWaiveCommand() *command {
	return ticketAction("waive", []string{"cancel"}, "do not bill the ticket at all (e.g. cancelled: not solved by email), with the reason",
		func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
			actor := actorFlag(fs)
			note := fs.String("note", "", "the `reason` (required)")
			return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
				if strings.TrimSpace(*note) == "" {
					return usageError("astreinte tickets waive: say why with --note")
				}
				by, err := actor(e)
				if err != nil {
					return err
				}
				if err := e.ledger().Waive(ctx, t, by, *note); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Ticket %s will not be billed.\n", t.Number)
				return nil
			}
		}, 1)
}

// showRequester writes who a ticket is from, for tickets show: the
// customer or "unidentified", the channel, and the unverified rule.
func showRequester(ctx context.Context, w io.Writer, e *env, t astreinte.Ticket) {
	fmt.Fprintln(w, "\nRequester:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	ch := t.Channel
	if ch == "" {
		ch = astreinte.ChannelPhone
	}
	cust := "unidentified"
	if t.Customer != "" {
		cust = t.Customer
		if c, err := e.db.CustomerByNumber(ctx, t.Customer); err == nil {
			cust += " " + c.Name
		}
		cust += ", contract " + orDash(t.Contract)
		if k, ok := e.cfg.ContractPolicies()[t.Contract]; ok {
			cust += " (" + contractSummary(k) + ")"
		}
	}
	fmt.Fprintf(tw, "  Customer\t%s\n", cust)
	fmt.Fprintf(tw, "  Channel\t%s\n", ch)
	if t.Unverified {
		fmt.Fprintf(tw, "  UNVERIFIED\t%s\n", astreinte.UnverifiedRule)
		fmt.Fprintf(tw, "  \tthe authenticated customer space: %s\n", space.URL(e.cfg.HTTP.BaseURL))
	} else if ch == astreinte.ChannelSpace {
		fmt.Fprintf(tw, "  Verified\tmade by %s, signed in to the customer space (%s): a sensitive request may be carried out\n",
			t.CallerNumber, space.URL(e.cfg.HTTP.BaseURL))
	}
	if u, err := e.ledger().Usage(ctx, t); err == nil && (u.Total > 0 || u.Quote != nil || !u.Confirmed.At.IsZero()) {
		fmt.Fprintf(tw, "  Work\t%s\n", usageText(u))
		if q := u.Quote; q != nil {
			fmt.Fprintf(tw, "  Quote\t%s, %s\n", tickets.QuoteText(lang.EN, q.AmountHT, q.Duration, q.Flat), q.State)
		}
	}
	tw.Flush()
}

// unitCount is how the work log and the statement say a number of units:
// "3 unit(s) of 1h", every started unit counted whole, whether the
// contract bills by the hour (units of 30m) or by the ticket (of 1h).
func unitCount(n int64, unit time.Duration) string {
	return fmt.Sprintf("%d unit(s) of %s", n, length(unit))
}
