package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte/mailin"
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
			"days, and the sender gets an acknowledgement with its number and due time. An answer to\n" +
			"the desk's mail (In-Reply-To/References) or a subject naming a ticket ([2026-000123]) adds\n" +
			"the email to that ticket (reopening it if resolved). The same Message-ID twice is taken once.\n" +
			"Exit status 65: unreadable message (bounced); 75: try again later.",
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			line := fs.String("line", "", "the support `line` the tickets belong to (default: mail.line, else the first line)")
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
				if *line == "" {
					*line = e.cfg.Mail.Line
				}
				r, err := e.desk.Receive(ctx, m, *line)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						return err
					}
					return exitError{exTempFail, fmt.Sprintf("astreinte mail-in: %v", err)}
				}
				// The acknowledgement leaves now; one the SMTP server
				// refuses stays queued for serve to try again.
				fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				e.desk.Flush(fctx)
				cancel()
				t := r.Ticket
				switch {
				case r.Ignored != "":
					fmt.Fprintf(s.out, "Email from %s dropped: %s.\n", m.From, r.Ignored)
					return nil
				case r.Duplicate:
					fmt.Fprintf(s.out, "Email <%s> already taken (ticket %s): nothing to do.\n", m.MessageID, t.Number)
					return nil
				}
				who := "unidentified sender"
				if t.Customer != "" {
					who = "customer " + t.Customer
				}
				if r.Made {
					fmt.Fprintf(s.out, "Ticket %s made from %s (%s), due %s.\n", t.Number, m.From, who, fmtTime(t.DueAt, e.location()))
				} else {
					fmt.Fprintf(s.out, "Email from %s added to ticket %s.\n", m.From, t.Number)
				}
				return nil
			}
		},
	}
}
