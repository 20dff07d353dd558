package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/correspondence"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/store"
	flag "github.com/spf13/pflag"
)

// newDesk builds the correspondence with requesters over the env's store
// and tickets, mailing through paging.email; with mail.acknowledge it
// acknowledges the new tickets of email and the customer space.
func newDesk(e *env) (*correspondence.Desk, error) {
	mc, err := e.cfg.Mailer()
	if err != nil {
		return nil, err
	}
	sensitive := true
	for _, l := range e.cfg.Lines {
		if l.Name == e.cfg.Mail.Line {
			sensitive = l.SaysSensitiveNotice()
		}
	}
	d := &correspondence.Desk{Store: e.db, Tickets: e.tickets, Mail: &mc, Addresses: e.cfg.Mail.Addresses,
		BaseURL: e.cfg.HTTP.BaseURL, Location: e.location(), Now: e.now, Sensitive: sensitive,
		Calls: e.cfg.Mail.AcknowledgesCalls(),
		Case:  func(ctx context.Context) astreinte.Case { cs, _ := e.cal.CaseAt(ctx, e.now()); return cs }}
	if e.cfg.Mail.Acknowledges() {
		d.Watch()
	}
	return d, nil
}

// mailListener is the inbound SMTP listener of serve (mail.listen), nil
// when off.
func startMailListener(e *env, log *slog.Logger) (*mailin.Server, error) {
	m := e.cfg.Mail
	if m.Listen == "" {
		return nil, nil
	}
	s := &mailin.Server{Addr: m.Listen, Recipients: m.Addresses, MaxSize: m.MaxSize, Deliver: e.desk.Deliver(m.Line),
		Log: log.With("component", "mail-in")}
	if err := s.Listen(); err != nil {
		return nil, listenHint(err, "mail.listen")
	}
	go func() {
		if err := s.Serve(); err != nil {
			log.Error("mail listener", "error", err)
		}
	}()
	log.Info("mail listening", "addr", s.ListenAddr(), "accepts", strings.Join(m.Addresses, ", "))
	return s, nil
}

func closeMailListener(s *mailin.Server) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Close(ctx)
}

func ticketReplyCommand() *command {
	c := ticketAction("reply", nil, "email a reply to the ticket's requester (kept on the timeline)",
		func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
			actor := actorFlag(fs)
			text := fs.String("text", "", "the reply (or give it as TEXT; - reads standard input)")
			return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, rest []string) error {
				by, err := actor(e)
				if err != nil {
					return err
				}
				body := strings.Join(rest, " ")
				if body == "" {
					body = *text
				}
				if body == "-" {
					b, err := io.ReadAll(io.LimitReader(s.in, correspondence.MaxReply+1))
					if err != nil {
						return err
					}
					body = string(b)
				}
				if strings.TrimSpace(body) == "" {
					return usageError("astreinte tickets reply: no text (--text or TEXT)")
				}
				m, err := e.desk.Reply(ctx, t.ID, by, body)
				switch {
				case errors.Is(err, correspondence.ErrNoRequesterAddress), errors.Is(err, correspondence.ErrNotConfigured):
					return exitError{1, fmt.Sprintf("astreinte tickets reply: %v", err)}
				case err != nil:
					return err
				}
				if m.State == store.MailSent {
					fmt.Fprintf(s.out, "Reply to ticket %s emailed to %s.\n", t.Number, m.Addr)
				} else {
					fmt.Fprintf(s.out, "Reply to ticket %s kept; the email to %s is queued (%s): it will be tried again.\n",
						t.Number, m.Addr, m.Error)
				}
				return nil
			}
		}, -1)
	c.long = "The reply goes to the requester's address (the sender of the ticket's emails, else its\n" +
		"customer's first address), threaded to their latest email, through paging.email.smtp.\n" +
		"It is on the ticket's timeline at once; an email the SMTP server refuses is tried again by serve."
	return c
}
