package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/astreinte/astreinte/accounts"
	flag "github.com/spf13/pflag"
)

func tokensAddCommand() *command {
	return &command{
		name: "tokens add", args: "NAME", nargs: [2]int{1, 1},
		short: "make a JSON API token and print it once (only its hash is kept)",
		setup: func(fs *flag.FlagSet) runner {
			role := fs.String("role", "technician", "`role`: admin or technician")
			person := fs.String("person", "", "the technician `ID` in oncall.people the token acts as (default: api:NAME)")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				if err := checkPerson(e, *person); err != nil {
					return err
				}
				if !accounts.Role(*role).Valid() {
					return usageError("--role %q: want admin or technician", *role)
				}
				secret, _, err := accounts.New(e.db, e.now, nil).AddToken(ctx, pos[0], accounts.Role(*role), *person)
				if errors.Is(err, accounts.ErrExists) {
					return exitError{1, fmt.Sprintf("token %s already exists (astreinte tokens remove %s first)", pos[0], pos[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(s.out, secret)
				fmt.Fprintf(s.err, "Token %s made. It is shown only now: send it as \"Authorization: Bearer TOKEN\".\n", pos[0])
				return nil
			})
		},
	}
}

func tokensListCommand() *command {
	return &command{
		name: "tokens", aliases: []string{"tokens list"}, short: "list the JSON API tokens (not their secrets)",
		setup: func(fs *flag.FlagSet) runner {
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				ts, err := accounts.New(e.db, e.now, nil).Tokens(ctx)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, listOf(ts, tokenOf))
				}
				if len(ts) == 0 {
					fmt.Fprintln(s.out, "No tokens (astreinte tokens add NAME).")
					return nil
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tPERSON\tCREATED\tLAST USED")
				for _, t := range ts {
					last := "never"
					if !t.LastUsed.IsZero() {
						last = fmtTime(t.LastUsed, e.location())
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, orDash(t.Person), fmtTime(t.CreatedAt, e.location()), last)
				}
				return tw.Flush()
			})
		},
	}
}

func tokensRemoveCommand() *command {
	return &command{
		name: "tokens remove", aliases: []string{"tokens rm"}, args: "NAME", nargs: [2]int{1, 1},
		short: "revoke a JSON API token",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				err := accounts.New(e.db, e.now, nil).RemoveToken(ctx, pos[0])
				if errors.Is(err, accounts.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no token %s", pos[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Token %s revoked.\n", pos[0])
				return nil
			})
		},
	}
}
