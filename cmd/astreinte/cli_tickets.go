package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte"
)

func cmdTickets(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("tickets")
	status := fs.String("status", "", "new, acknowledged, called_back, resolved")
	urgent := fs.Bool("urgent", false, "urgent tickets only")
	search := fs.String("search", "", "ticket or caller number")
	all := fs.Bool("all", false, "include resolved tickets")
	limit := fs.Int("limit", 50, "how many")
	by := fs.String("by", "", "who acknowledges (default: your login name)")
	note := fs.String("note", "", "a note")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return exitError{2, err.Error()}
	}
	e, err := openEnv(*cfgPath)
	if err != nil {
		return err
	}
	defer e.Close()
	if len(pos) == 0 || pos[0] == "list" {
		f := astreinte.TicketFilter{Search: *search, Limit: *limit}
		switch {
		case *status != "":
			f.Status = []astreinte.Status{astreinte.Status(*status)}
		case !*all:
			f.Status = []astreinte.Status{astreinte.StatusNew, astreinte.StatusAcknowledged, astreinte.StatusCalledBack}
		}
		if *urgent {
			f.Urgency = astreinte.Urgent
		}
		ts, err := e.db.Tickets(ctx, f)
		if err != nil {
			return err
		}
		writeTickets(stdout, ts, e.cal.Location())
		return nil
	}
	if len(pos) < 2 {
		return exitError{2, fmt.Sprintf("usage: astreinte tickets %s N", pos[0])}
	}
	t, err := e.db.TicketByNumber(ctx, pos[1])
	if errors.Is(err, astreinte.ErrNotFound) {
		return exitError{1, fmt.Sprintf("no ticket %q (see astreinte tickets --all)", pos[1])}
	}
	if err != nil {
		return err
	}
	actor := *by
	if actor == "" {
		actor = loginName()
	}
	switch pos[0] {
	case "show":
		return showTicket(ctx, e, stdout, t)
	case "ack", "acknowledge":
		changed, err := e.db.Acknowledge(ctx, t.ID, actor, "cli")
		if err != nil {
			return err
		}
		if !changed {
			t, _ = e.db.TicketByID(ctx, t.ID)
			fmt.Fprintf(stdout, "Ticket %s was already %s (by %s).\n", t.Number, t.Status, orDash(t.AckedBy))
			return nil
		}
		fmt.Fprintf(stdout, "Ticket %s acknowledged by %s; paging stopped.\n", t.Number, actor)
	case "callback", "called-back":
		if err := e.db.SetStatus(ctx, t.ID, astreinte.StatusCalledBack, actor, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Ticket %s: caller called back.\n", t.Number)
	case "resolve":
		if err := e.db.SetStatus(ctx, t.ID, astreinte.StatusResolved, actor, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Ticket %s resolved.\n", t.Number)
	case "reopen":
		if err := e.db.SetStatus(ctx, t.ID, astreinte.StatusNew, actor, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Ticket %s reopened.\n", t.Number)
	case "note":
		text := strings.Join(pos[2:], " ")
		if text == "" {
			text = *note
		}
		if text == "" {
			return exitError{2, "usage: astreinte tickets note N TEXT"}
		}
		if err := e.db.AddNote(ctx, t.ID, actor, text); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Note added to ticket %s.\n", t.Number)
	case "play", "listen":
		return playRecording(ctx, t, stdout)
	default:
		return exitError{2, fmt.Sprintf("astreinte tickets: unknown action %q", pos[0])}
	}
	return nil
}

// players are tried in order to listen to a recording on this machine.
var players = [][]string{
	{"paplay"}, {"aplay", "-q"}, {"play", "-q"}, {"ffplay", "-nodisp", "-autoexit", "-loglevel", "error"}, {"mpv", "--really-quiet"},
}

// playRecording plays a ticket's message with the first audio player found
// ($ASTREINTE_PLAYER first), or says where the file is when there is none.
func playRecording(ctx context.Context, t astreinte.Ticket, w io.Writer) error {
	if t.Recording == "" {
		return exitError{1, fmt.Sprintf("ticket %s has no recording", t.Number)}
	}
	if _, err := os.Stat(t.Recording); err != nil {
		return exitError{1, fmt.Sprintf("ticket %s: recording %s: %v", t.Number, t.Recording, err)}
	}
	cands := players
	if p := strings.Fields(os.Getenv("ASTREINTE_PLAYER")); len(p) > 0 {
		cands = append([][]string{p}, players...)
	}
	for _, c := range cands {
		bin, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "Playing ticket %s (%s, %s) with %s…\n", t.Number, caller(t.CallerNumber, t.CallerName), t.Duration.Round(time.Second), c[0])
		cmd := exec.CommandContext(ctx, bin, append(c[1:], t.Recording)...)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", c[0], t.Recording, err)
		}
		return nil
	}
	return exitError{1, fmt.Sprintf("no audio player found (paplay, aplay, play, ffplay, mpv; or set ASTREINTE_PLAYER); the message is %s", t.Recording)}
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

func writeTickets(w io.Writer, ts []astreinte.Ticket, loc *time.Location) {
	if len(ts) == 0 {
		fmt.Fprintln(w, "No tickets.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TICKET\tURGENCY\tSTATUS\tRECEIVED\tCALLER\tLENGTH\tDUE\tLINE")
	for _, t := range ts {
		urg := "normal"
		if t.Urgency == astreinte.Urgent {
			urg = "URGENT"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Number, urg, t.Status, fmtTime(t.CreatedAt, loc),
			caller(t.CallerNumber, t.CallerName), t.Duration.Round(time.Second), fmtTime(t.DueAt, loc), t.Line)
	}
	tw.Flush()
}

func showTicket(ctx context.Context, e *env, w io.Writer, t astreinte.Ticket) error {
	loc := e.cal.Location()
	urg := "normal"
	if t.Urgency == astreinte.Urgent {
		urg = "URGENT"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Ticket\t%s (%s)\n", t.Number, urg)
	fmt.Fprintf(tw, "Caller\t%s\n", caller(t.CallerNumber, t.CallerName))
	fmt.Fprintf(tw, "Received\t%s on line %s (%s)\n", fmtTime(t.CreatedAt, loc), t.Line, strings.ReplaceAll(string(t.Case), "_", " "))
	fmt.Fprintf(tw, "Status\t%s\n", t.Status)
	if !t.AckedAt.IsZero() {
		fmt.Fprintf(tw, "Acknowledged\t%s by %s\n", fmtTime(t.AckedAt, loc), t.AckedBy)
	}
	fmt.Fprintf(tw, "Due\t%s\n", fmtTime(t.DueAt, loc))
	fmt.Fprintf(tw, "Message\t%s, %s\n", t.Duration.Round(time.Second), t.Recording)
	tw.Flush()
	evs, err := e.db.Timeline(ctx, t.ID)
	if err != nil {
		return err
	}
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
	return nil
}

func cmdCalls(ctx context.Context, args []string, stdout io.Writer) error {
	fs, cfgPath := newFlags("calls")
	limit := fs.Int("limit", 30, "how many")
	if _, err := parseFlags(fs, args); err != nil {
		return exitError{2, err.Error()}
	}
	e, err := openEnv(*cfgPath)
	if err != nil {
		return err
	}
	defer e.Close()
	calls, err := e.db.Calls(ctx, *limit)
	if err != nil {
		return err
	}
	if len(calls) == 0 {
		fmt.Fprintln(stdout, "No calls.")
		return nil
	}
	loc := e.cal.Location()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALLER\tLINE\tCASE\tOUTCOME\tHUNG UP BY\tLENGTH\tTICKET")
	for _, c := range calls {
		length := "-"
		if !c.EndedAt.IsZero() {
			length = c.EndedAt.Sub(c.StartedAt).Round(time.Second).String()
		}
		ticket := "-"
		if c.TicketID != 0 {
			if t, err := e.db.TicketByID(ctx, c.TicketID); err == nil {
				ticket = t.Number
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(c.StartedAt, loc), caller(c.CallerNumber, c.CallerName),
			c.Line, c.Case, c.Outcome, orDash(c.HangupBy), length, ticket)
	}
	return tw.Flush()
}
