package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/astreinte/astreinte/phone"
	"io"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

func ticketsCommand() *command {
	return &command{
		name: "tickets", aliases: []string{"tickets list", "ticket"},
		short: "list tickets (open ones by default), newest first",
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			status := fs.String("status", "", "only this `status`: new, acknowledged, called_back, resolved")
			urgent := fs.Bool("urgent", false, "urgent tickets only")
			search := fs.String("search", "", "ticket or caller number `fragment`")
			all := fs.Bool("all", false, "include resolved tickets")
			limit := fs.Int("limit", 50, "at most `N` tickets")
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, s stdio, _ []string) error {
				f := astreinte.TicketFilter{Search: *search, Limit: *limit}
				switch {
				case *status != "":
					st := astreinte.Status(*status)
					if !slices.Contains([]astreinte.Status{astreinte.StatusNew, astreinte.StatusAcknowledged, astreinte.StatusCalledBack, astreinte.StatusResolved}, st) {
						return usageError("--status %q: want new, acknowledged, called_back or resolved", *status)
					}
					f.Status = []astreinte.Status{st}
				case !*all:
					f.Status = []astreinte.Status{astreinte.StatusNew, astreinte.StatusAcknowledged, astreinte.StatusCalledBack}
				}
				if *urgent {
					f.Urgency = astreinte.Urgent
				}
				e, err := openEnv(*cfgPath)
				if err != nil {
					return err
				}
				defer e.Close()
				ts, err := e.tickets.List(ctx, f)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, e.tickets.ListJSON(ts, e.now()))
				}
				writeTickets(s.out, ts, e.location())
				return nil
			}
		},
	}
}

// ticketAction is a command on one ticket: "tickets VERB N".
func ticketAction(verb string, aliases []string, short string, extra func(fs *flag.FlagSet) func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, rest []string) error, nargs int) *command {
	var al []string
	for _, a := range aliases {
		al = append(al, "tickets "+a)
	}
	args := "N"
	if nargs < 0 {
		args = "N [TEXT]"
	}
	return &command{
		name: "tickets " + verb, aliases: al, args: args, short: short, nargs: [2]int{1, max(nargs, -1)},
		setup: func(fs *flag.FlagSet) runner {
			act := extra(fs)
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				t, err := e.tickets.ByNumber(ctx, pos[0])
				if errors.Is(err, astreinte.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no ticket %q (see astreinte tickets --all)", pos[0])}
				}
				if err != nil {
					return err
				}
				return act(ctx, e, s, t, pos[1:])
			})
		},
	}
}

// actorFlag is --by: who does it, a technician of the rotation; by default
// the login name.
func actorFlag(fs *flag.FlagSet) func(e *env) (string, error) {
	by := fs.String("by", "", "technician `ID` doing it (oncall.people; default: your login name)")
	return func(e *env) (string, error) {
		if *by == "" {
			return loginName(), nil
		}
		if _, ok := e.sched.Person(*by); !ok {
			var ids []string
			for _, p := range e.sched.People() {
				ids = append(ids, p.ID)
			}
			return "", usageError("--by %q is not a technician (oncall.people: %s)", *by, strings.Join(ids, ", "))
		}
		return *by, nil
	}
}

func ticketShowCommand() *command {
	return ticketAction("show", nil, "one ticket with its timeline and recording", func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
		asJSON := fs.Bool("json", false, "print JSON")
		return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
			evs, err := e.tickets.Timeline(ctx, t.ID)
			if err != nil {
				return err
			}
			if *asJSON {
				return writeJSON(s.out, e.tickets.JSON(t, evs, e.now()))
			}
			showTicket(s.out, t, evs, e.location(), lineCountry(e.cfg, t.Line), pagingState(ctx, e, t.ID, e.location()))
			showRequester(ctx, s.out, e, t)
			return nil
		}
	}, 1)
}

func ticketAckCommand() *command {
	return ticketAction("ack", []string{"acknowledge"}, "acknowledge: you take the ticket, paging stops", func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
		actor := actorFlag(fs)
		return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
			by, err := actor(e)
			if err != nil {
				return err
			}
			changed, err := e.tickets.Acknowledge(ctx, t.ID, by, "cli")
			if err != nil {
				return err
			}
			if !changed {
				t, _ = e.tickets.ByID(ctx, t.ID)
				fmt.Fprintf(s.out, "Ticket %s was already %s (by %s).\n", t.Number, t.Status, orDash(t.AckedBy))
				return nil
			}
			fmt.Fprintf(s.out, "Ticket %s acknowledged by %s; paging stopped.\n", t.Number, by)
			return nil
		}
	}, 1)
}

// statusAction is a command moving a ticket on, with --by and --note.
func statusAction(verb string, aliases []string, short, done string, do func(e *env) func(ctx context.Context, id int64, actor, note string) error) *command {
	return ticketAction(verb, aliases, short, func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
		actor := actorFlag(fs)
		note := fs.String("note", "", "a note for the timeline")
		return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
			by, err := actor(e)
			if err != nil {
				return err
			}
			if err := do(e)(ctx, t.ID, by, *note); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Ticket %s %s.\n", t.Number, done)
			return nil
		}
	}, 1)
}

func ticketCallbackCommand() *command {
	return statusAction("callback", []string{"called-back"}, "note that the caller was called back", "marked called back",
		func(e *env) func(context.Context, int64, string, string) error { return e.tickets.CalledBack })
}

func ticketResolveCommand() *command {
	return statusAction("resolve", nil, "resolve the ticket", "resolved",
		func(e *env) func(context.Context, int64, string, string) error { return e.tickets.Resolve })
}

func ticketReopenCommand() *command {
	return statusAction("reopen", nil, "reopen the ticket", "reopened",
		func(e *env) func(context.Context, int64, string, string) error { return e.tickets.Reopen })
}

func ticketNoteCommand() *command {
	return ticketAction("note", nil, "add a note to the ticket's timeline", func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
		actor := actorFlag(fs)
		note := fs.String("note", "", "the note (or give it as TEXT)")
		return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, rest []string) error {
			by, err := actor(e)
			if err != nil {
				return err
			}
			text := strings.Join(rest, " ")
			if text == "" {
				text = *note
			}
			if text == "" {
				return usageError("astreinte tickets note: no TEXT")
			}
			if err := e.tickets.Note(ctx, t.ID, by, text); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Note added to ticket %s.\n", t.Number)
			return nil
		}
	}, -1)
}

func ticketPlayCommand() *command {
	c := ticketAction("play", []string{"listen"}, "listen to the ticket's newest message, or --message K (1 = newest)", func(fs *flag.FlagSet) func(context.Context, *env, stdio, astreinte.Ticket, []string) error {
		k := fs.Int("message", 1, "which message `K`, newest first (1: the newest; see tickets show)")
		return func(ctx context.Context, e *env, s stdio, t astreinte.Ticket, _ []string) error {
			rec, seq, err := tickets.Message(t, *k)
			if err != nil {
				return exitError{1, err.Error()}
			}
			return playRecording(ctx, t, rec, seq, webTicketURL(e, t), s.out)
		}
	}, 1)
	c.long = "The player is $ASTREINTE_PLAYER if set, else the first of paplay, aplay, play, ffplay, mpv found.\nWhen none works (a server without sound), it prints the file's path and the web page's address."
	return c
}

// webTicketURL is where the ticket is seen on the web pages.
func webTicketURL(e *env, t astreinte.Ticket) string {
	if e.cfg.Paging.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(e.cfg.Paging.BaseURL, "/") + "/tickets/" + t.Number
}

// players are tried in order to listen to a recording on this machine.
var players = [][]string{
	{"paplay"}, {"aplay", "-q"}, {"play", "-q"}, {"ffplay", "-nodisp", "-autoexit", "-loglevel", "error"}, {"mpv", "--really-quiet"},
}

// playRecording plays a ticket's message with the first audio player that
// works ($ASTREINTE_PLAYER first), or says where the file is when none
// does: a server has no sound card.
func playRecording(ctx context.Context, t astreinte.Ticket, rec astreinte.Recording, seq int, webURL string, w io.Writer) error {
	if _, err := os.Stat(rec.Path); err != nil {
		return exitError{1, fmt.Sprintf("ticket %s: recording %s: %v", t.Number, rec.Path, err)}
	}
	cands := players
	if p := strings.Fields(os.Getenv("ASTREINTE_PLAYER")); len(p) > 0 {
		cands = append([][]string{p}, players...)
	}
	where := "the message is " + rec.Path
	if webURL != "" {
		where += "; on the web: " + webURL
	}
	var failures []string
	for _, c := range cands {
		bin, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "Playing ticket %s, message %d of %d in call order (%s, %s, %s) with %s…\n", t.Number, seq, len(t.Recordings),
			caller(t.CallerNumber, t.CallerName), rec.Duration.Round(time.Second), rec.Urgency, c[0])
		cmd := exec.CommandContext(ctx, bin, append(c[1:], rec.Path)...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			// A player without a sound card fails (ALSA, or worse): say
			// so in one line and try the next.
			failures = append(failures, fmt.Sprintf("%s: %v", c[0], err))
			continue
		}
		return nil
	}
	if len(failures) > 0 {
		return exitError{1, fmt.Sprintf("no audio player could play it (%s); %s", strings.Join(failures, "; "), where)}
	}
	return exitError{1, fmt.Sprintf("no audio player found (paplay, aplay, play, ffplay, mpv; or set ASTREINTE_PLAYER); %s", where)}
}

func ticketExportCommand() *command {
	return &command{
		name: "tickets export", short: "export tickets created in a period, as CSV or JSON",
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			from := fs.String("from", "", "first `TIME` (default: 30 days ago)")
			to := fs.String("to", "", "end `TIME` (default: now)")
			format := fs.String("format", "csv", "csv or json")
			return func(ctx context.Context, s stdio, _ []string) error {
				if *format != "csv" && *format != "json" {
					return usageError("--format %q: want csv or json", *format)
				}
				e, err := openEnv(*cfgPath)
				if err != nil {
					return err
				}
				defer e.Close()
				lo, hi := e.now().AddDate(0, 0, -30), e.now()
				if *from != "" {
					if lo, err = e.parseTime(*from); err != nil {
						return usageError("--from: %v", err)
					}
				}
				if *to != "" {
					if hi, err = e.parseTime(*to); err != nil {
						return usageError("--to: %v", err)
					}
				}
				ts, err := e.tickets.List(ctx, astreinte.TicketFilter{From: lo, To: hi, Limit: -1})
				if err != nil {
					return err
				}
				if *format == "json" {
					return writeJSON(s.out, e.tickets.ListJSON(ts, e.now()))
				}
				return writeTicketsCSV(s.out, ts, e.location())
			}
		},
	}
}

func callsCommand() *command {
	return &command{
		name: "calls", short: "recent calls and what came of them",
		setup: func(fs *flag.FlagSet) runner {
			limit := fs.Int("limit", 30, "at most `N` calls")
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				calls, err := e.tickets.Calls(ctx, *limit)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, listOf(calls, func(c astreinte.Call) callJSON { return callOf(c, callTicket(ctx, e, c)) }))
				}
				writeCalls(ctx, s.out, e, calls)
				return nil
			})
		},
	}
}

func loginName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "cli"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func caller(num, name string) string {
	if num == "" || num == "anonymous" {
		num = "hidden number"
	} else if n := phone.National(num, ""); n != num {
		num = n // as written in the line's region; --json and csv keep it as stored
	}
	if name != "" && name != num {
		return fmt.Sprintf("%s (%s)", num, name)
	}
	return num
}

func fmtTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("Mon 02 Jan 15:04")
}

func urgencyWord(u astreinte.Urgency) string {
	if u == astreinte.Urgent {
		return "URGENT"
	}
	return "normal"
}

func writeTickets(w io.Writer, ts []astreinte.Ticket, loc *time.Location) {
	if len(ts) == 0 {
		fmt.Fprintln(w, "No tickets.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TICKET\tURGENCY\tSTATUS\tRECEIVED\tCALLER\tLENGTH\tDUE\tLINE")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Number, urgencyWord(t.Urgency), t.Status, fmtTime(t.CreatedAt, loc),
			caller(t.CallerNumber, t.CallerName), t.Duration.Round(time.Second), fmtTime(t.DueAt, loc), t.Line)
	}
	tw.Flush()
}

func writeTicketsCSV(w io.Writer, ts []astreinte.Ticket, loc *time.Location) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"number", "status", "urgency", "case", "line", "caller_number", "caller_name", "created_at", "due_at",
		"acked_by", "acked_at", "resolved_at", "duration_s", "recording"})
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	for _, t := range ts {
		cw.Write([]string{t.Number, string(t.Status), string(t.Urgency), string(t.Case), t.Line, t.CallerNumber, t.CallerName,
			stamp(t.CreatedAt), stamp(t.DueAt), t.AckedBy, stamp(t.AckedAt), stamp(t.ResolvedAt),
			fmt.Sprint(int(t.Duration.Round(time.Second).Seconds())), t.Recording})
	}
	cw.Flush()
	return cw.Error()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func showTicket(w io.Writer, t astreinte.Ticket, evs []astreinte.Event, loc *time.Location, region, paging string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Ticket\t%s (%s)\n", t.Number, urgencyWord(t.Urgency))
	fmt.Fprintf(tw, "Caller\t%s\n", caller(t.CallerNumber, t.CallerName))
	showCallback(tw, t, region)
	fmt.Fprintf(tw, "Received\t%s on line %s (%s)\n", fmtTime(t.CreatedAt, loc), t.Line, strings.ReplaceAll(string(t.Case), "_", " "))
	fmt.Fprintf(tw, "Status\t%s\n", t.Status)
	if paging != "" {
		fmt.Fprintf(tw, "Paging\t%s\n", paging)
	}
	if !t.AckedAt.IsZero() {
		fmt.Fprintf(tw, "Acknowledged\t%s by %s\n", fmtTime(t.AckedAt, loc), t.AckedBy)
	}
	fmt.Fprintf(tw, "Due\t%s\n", fmtTime(t.DueAt, loc))
	for _, m := range tickets.MessageLines(t, loc) {
		fmt.Fprintf(tw, "%s\t%s\n", m[0], m[1])
	}
	tw.Flush()
	fmt.Fprintln(w, "\nTimeline:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ev := range evs {
		who := ev.Actor
		if ev.Channel != "" {
			who += " via " + ev.Channel
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ev.At.In(loc).Format("02 Jan 15:04:05"), strings.ReplaceAll(string(ev.Kind), "_", " "), who, ev.Detail)
	}
	tw.Flush()
}

// callTicket is the number of the ticket that came of c, "" for none.
func callTicket(ctx context.Context, e *env, c astreinte.Call) string {
	if c.TicketID != 0 {
		if t, err := e.tickets.ByID(ctx, c.TicketID); err == nil {
			return t.Number
		}
	}
	return ""
}

func writeCalls(ctx context.Context, w io.Writer, e *env, calls []astreinte.Call) {
	if len(calls) == 0 {
		fmt.Fprintln(w, "No calls.")
		return
	}
	loc := e.location()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALLER\tLINE\tCASE\tOUTCOME\tHUNG UP BY\tLENGTH\tTICKET")
	for _, c := range calls {
		length := "-"
		if !c.EndedAt.IsZero() {
			length = c.EndedAt.Sub(c.StartedAt).Round(time.Second).String()
		}
		ticket := orDash(callTicket(ctx, e, c))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(c.StartedAt, loc), caller(c.CallerNumber, c.CallerName),
			c.Line, c.Case, c.Outcome, orDash(c.HangupBy), length, ticket)
	}
	tw.Flush()
}
