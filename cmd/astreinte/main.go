// Command astreinte is the on-call answering service for technical-support
// phone lines: `astreinte serve` answers the support number, records
// callback messages as tickets and pages the on-call technician; the other
// subcommands let technicians and admins work tickets and the rota.
//
// This package only wires: each command has its own file and flag set, and
// builds what it needs from the configuration in dependency order; the
// rules live in the packages (tickets, calendar, oncall, voicemail…).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// stdio is a command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// runner runs a command with its positional arguments, once its flags are
// parsed.
type runner func(ctx context.Context, s stdio, args []string) error

// command is one subcommand, e.g. "tickets ack": its usage, and its flags
// declared by setup on a flag set of its own.
type command struct {
	name    string   // the words that select it: "tickets ack"
	aliases []string // other words for it: "tickets acknowledge"
	args    string   // positional arguments, for the usage line: "N"
	short   string   // one line for the command list
	long    string   // more, for its own help (optional)
	nargs   [2]int   // least and most positional arguments (-1: no limit)
	setup   func(fs *flag.FlagSet) runner
}

// commands lists every command in the order the help shows them.
func commands() []*command {
	return []*command{
		serveCommand(), statusCommand(),
		ticketsCommand(), ticketShowCommand(), ticketPlayCommand(), ticketAckCommand(), ticketCallbackCommand(),
		ticketResolveCommand(), ticketReopenCommand(), ticketNoteCommand(), ticketExportCommand(),
		callsCommand(),
		oncallWhoCommand(), oncallScheduleCommand(), oncallCheckCommand(), oncallFeedCommand(), oncallPayCommand(),
		overrideAddCommand(), overrideListCommand(), overrideRemoveCommand(), oncallTestCommand(),
		calendarCommand(), calendarAtCommand(), calendarForceCommand(), calendarClearCommand(),
		configCheckCommand(), configExampleCommand(),
		usersListCommand(), usersAddCommand(), usersRemoveCommand(), usersPasswdCommand(),
		tokensListCommand(), tokensAddCommand(), tokensRemoveCommand(),
		versionCommand(),
		customersListCommand(), customersShowCommand(), customersAddCommand(), customersEditCommand(), customersRemoveCommand(), customersImportCommand(),
		worklogAddCommand(), ticketConfirmCommand(), ticketWaiveCommand(),
		quoteSetCommand(), quoteAcceptCommand(), quoteRefuseCommand(),
		statementCommand(),
		mailInCommand(),
	}
}

// exitError ends a command with a status and an optional message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// usageError is a mistake in how a command was called: exit status 2.
func usageError(format string, args ...any) error {
	return exitError{2, fmt.Sprintf(format, args...)}
}

// run dispatches the subcommands; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := stdio{in: stdin, out: stdout, err: stderr}
	cmds := commands()
	if len(args) == 0 {
		writeUsage(stderr, cmds)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) == 1 {
			writeUsage(stdout, cmds)
			return 0
		}
		c, rest := find(cmds, args[1:])
		if c == nil || len(rest) > 0 {
			fmt.Fprintf(stderr, "astreinte help: no command %q\n\n", strings.Join(args[1:], " "))
			writeUsage(stderr, cmds)
			return 2
		}
		writeCommandHelp(stdout, c, cmds)
		return 0
	}
	c, rest := find(cmds, args)
	if c == nil {
		fmt.Fprintf(stderr, "astreinte: unknown command %q (see astreinte help)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet("astreinte "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runIt := c.setup(fs)
	pos, err := parseFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		writeCommandHelp(stdout, c, cmds)
		return 0
	}
	if err == nil {
		err = checkArgs(c, cmds, pos)
	}
	if err == nil {
		err = runIt(ctx, s, pos)
	}
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		if ee.code == 2 {
			fmt.Fprintf(stderr, "usage: %s (astreinte help %s)\n", usageLine(c), c.name)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "astreinte %s: %v\n", c.name, err)
	return 1
}

// find returns the command named by the longest run of leading words of
// args, and the arguments after them.
func find(cmds []*command, args []string) (*command, []string) {
	var best *command
	n := 0
	for _, c := range cmds {
		for _, name := range append([]string{c.name}, c.aliases...) {
			words := strings.Fields(name)
			if len(words) > n && len(words) <= len(args) && slices.Equal(words, args[:len(words)]) {
				best, n = c, len(words)
			}
		}
	}
	if best == nil {
		return nil, args
	}
	return best, args[n:]
}

// children lists the commands under c ("tickets ack" under "tickets").
func children(c *command, cmds []*command) []string {
	var out []string
	for _, o := range cmds {
		if rest, ok := strings.CutPrefix(o.name, c.name+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

func checkArgs(c *command, cmds []*command, pos []string) error {
	lo, hi := c.nargs[0], c.nargs[1]
	if len(pos) > 0 && hi == 0 {
		if kids := children(c, cmds); len(kids) > 0 {
			return usageError("astreinte %s: unknown subcommand %q (%s)", c.name, pos[0], strings.Join(kids, ", "))
		}
		return usageError("astreinte %s: unexpected argument %q", c.name, pos[0])
	}
	if len(pos) < lo || (hi >= 0 && len(pos) > hi) {
		return usageError("astreinte %s: wrong number of arguments", c.name)
	}
	return nil
}

// parseFlags parses args allowing flags after positional arguments; "--"
// ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError("astreinte %s: %v", strings.TrimPrefix(fs.Name(), "astreinte "), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if fs.NArg() > 0 && len(args) > 0 && args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func usageLine(c *command) string {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	var b strings.Builder
	b.WriteString("astreinte " + c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		name, _ := flag.UnquoteUsage(f)
		if name == "" {
			fmt.Fprintf(&b, " [--%s]", f.Name)
		} else {
			fmt.Fprintf(&b, " [--%s %s]", f.Name, name)
		}
	})
	return b.String()
}

func writeCommandHelp(w io.Writer, c *command, cmds []*command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usageLine(c), c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if kids := children(c, cmds); len(kids) > 0 {
		fmt.Fprintf(w, "\nSubcommands: %s (astreinte help %s SUBCOMMAND)\n", strings.Join(kids, ", "), c.name)
	}
}

func writeUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "astreinte — on-call answering service for support lines\n\nUsage: astreinte COMMAND [ARGS] [FLAGS]\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cmds {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, c.short)
	}
	tw.Flush()
	fmt.Fprint(w, `
Every command that reads the configuration takes --config FILE (default:
$ASTREINTE_CONFIG, else the built-in configuration). TIME is
"2026-11-24 03:00" in the calendar's time zone, RFC 3339, "now" or "+2h".
"astreinte help COMMAND" or "astreinte COMMAND --help" tells more.
`)
}
