package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	flag "github.com/spf13/pflag"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
)

func swapOfferCommand() *command {
	return &command{
		name: "oncall swap offer", short: "a technician offers a period of their on-call for another to take",
		setup: func(fs *flag.FlagSet) runner {
			who := fs.String("person", "", "technician `ID` offering the shift (required)")
			from := fs.String("from", "", "start `TIME` (required)")
			to := fs.String("to", "", "end `TIME` (required)")
			note := fs.String("note", "", "why")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				if *who == "" || *from == "" || *to == "" {
					return usageError("astreinte oncall swap offer: --person, --from and --to are required")
				}
				f, t, err := e.parsePeriod(*from, *to)
				if err != nil {
					return err
				}
				w, err := e.swaps().Offer(ctx, *who, f, t, *note)
				if err != nil {
					return exitError{1, err.Error()}
				}
				loc := e.location()
				fmt.Fprintf(s.out, "Swap %d: %s offers %s – %s (astreinte oncall swap take %d --person ID).\n", w.ID, w.Offered,
					fmtTime(w.From, loc), fmtTime(w.To, loc), w.ID)
				return nil
			})
		},
	}
}

// swapID reads a swap's number.
func swapID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("swap %q: want its number (astreinte oncall swap list)", arg)
	}
	return id, nil
}

// swapResult prints what a take or an approval did, or why it was
// refused (a gap named by its times).
func swapResult(e *env, s stdio, res swaps.Result, err error) error {
	var gap *oncall.GapError
	switch {
	case errors.As(err, &gap):
		return exitError{1, "refused: " + err.Error()}
	case errors.Is(err, astreinte.ErrNotFound):
		return exitError{1, err.Error()}
	case err != nil:
		return exitError{1, "refused: " + err.Error()}
	}
	loc := e.location()
	w := res.Swap
	if res.Done {
		fmt.Fprintf(s.out, "Swap %d done: %s replaces %s %s – %s (override %d).\n", w.ID, w.TakenBy, w.Offered,
			fmtTime(w.From, loc), fmtTime(w.To, loc), w.OverrideID)
		return nil
	}
	fmt.Fprintf(s.out, "Swap %d taken by %s: waiting for an admin (astreinte oncall swap approve %d).\n", w.ID, w.TakenBy, w.ID)
	return nil
}

func swapTakeCommand() *command {
	return &command{
		name: "oncall swap take", args: "SWAP", nargs: [2]int{1, 1},
		short: "a technician takes an offered shift; the gap check runs first",
		setup: func(fs *flag.FlagSet) runner {
			who := fs.String("person", "", "technician `ID` taking the shift (required)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				id, err := swapID(pos[0])
				if err != nil {
					return err
				}
				if *who == "" {
					return usageError("astreinte oncall swap take: --person is required")
				}
				if _, ok := e.sched.Person(*who); !ok {
					return exitError{1, fmt.Sprintf("unknown technician %q (see oncall.people in the configuration)", *who)}
				}
				res, err := e.swaps().Take(ctx, id, *who)
				return swapResult(e, s, res, err)
			})
		},
	}
}

func swapApproveCommand() *command {
	return &command{
		name: "oncall swap approve", args: "SWAP", nargs: [2]int{1, 1},
		short: "approve a taken swap (oncall.swaps.require_approval); the gap check runs again",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				id, err := swapID(pos[0])
				if err != nil {
					return err
				}
				// Whoever runs the command on the server is an admin.
				res, err := e.swaps().Approve(ctx, id, loginName(), true)
				return swapResult(e, s, res, err)
			})
		},
	}
}

func swapListCommand() *command {
	return &command{
		name: "oncall swap list", aliases: []string{"oncall swap", "oncall swaps"}, short: "shift swaps not over yet",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				list, err := e.swaps().List(ctx)
				if err != nil {
					return err
				}
				if len(list) == 0 {
					fmt.Fprintln(s.out, "No shift offered.")
					return nil
				}
				loc := e.location()
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SWAP\tOFFERED BY\tFROM\tTO\tSTATE\tTAKEN BY\tAPPROVED BY\tNOTE")
				for _, w := range list {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, w.Offered, fmtTime(w.From, loc), fmtTime(w.To, loc),
						w.State(), orDash(w.TakenBy), orDash(w.ApprovedBy), w.Note)
				}
				return tw.Flush()
			})
		},
	}
}
