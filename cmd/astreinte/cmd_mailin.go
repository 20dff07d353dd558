package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

// Exit statuses a mail server understands (sysexits.h), as rt-mailgate
// uses them: a message that cannot be read bounces, a failure on our side
// makes the server try again later.
const (
	exDataErr  = 65
	exTempFail = 75
)

func mailInCommand() *command {
	return &command{
		name: "mail-in", short: "make a ticket of one email read on standard input (a mail server's pipe)",
		long: "For the mail server's alias, e.g. in /etc/aliases:\n" +
			"  support: \"|/usr/bin/astreinte mail-in --config /etc/astreinte.yaml\"\n" +
			"The sender is matched to a customer; the ticket is due in the contract's email business\n" +
			"days. A subject naming a ticket ([2026-000123]) adds the email to that ticket (reopening it\n" +
			"if resolved). Exit status 65: unreadable message (bounced); 75: try again later.",
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			line := fs.String("line", "", "the support `line` the tickets belong to (default: the first line)")
			return func(ctx context.Context, s stdio, _ []string) error {
				m, err := mailin.Parse(s.in)
				if err != nil {
					return exitError{exDataErr, fmt.Sprintf("astreinte mail-in: %v", err)}
				}
				e, err := openEnv(*cfgPath)
				if err != nil {
					return exitError{exTempFail, fmt.Sprintf("astreinte mail-in: %v", err)}
				}
				defer e.Close()
				cs, _ := e.cal.CaseAt(ctx, e.now())
				t, made, err := e.tickets.FromEmail(ctx, tickets.Email{From: m.From, Name: m.Name, Subject: m.Subject,
					Text: m.Text, Ref: m.Ref}, *line, cs)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						return err
					}
					return exitError{exTempFail, fmt.Sprintf("astreinte mail-in: %v", err)}
				}
				who := "unidentified sender"
				if t.Customer != "" {
					who = "customer " + t.Customer
				}
				if made {
					fmt.Fprintf(s.out, "Ticket %s made from %s (%s), due %s.\n", t.Number, m.From, who, fmtTime(t.DueAt, e.location()))
				} else {
					fmt.Fprintf(s.out, "Email from %s added to ticket %s.\n", m.From, t.Number)
				}
				return nil
			}
		},
	}
}
