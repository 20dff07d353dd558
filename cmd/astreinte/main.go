// Command astreinte is the on-call answering service for technical-support
// phone lines: `astreinte serve` answers the support number, records
// callback messages as tickets and pages the on-call technician; the other
// subcommands let technicians and admins work tickets and the rota.
//
// This package only wires: each command has its own file and flag set
// (commands() lists them; tree.go makes them a cobra command tree), and
// builds what it needs from the configuration in dependency order; the
// rules live in the packages (tickets, calendar, oncall, voicemail…).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	flag "github.com/spf13/pflag"
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
		ticketResolveCommand(), ticketReopenCommand(), ticketNoteCommand(), ticketReplyCommand(), ticketExportCommand(),
		callsCommand(),
		oncallWhoCommand(), oncallScheduleCommand(), oncallCheckCommand(), oncallFeedCommand(), oncallPayCommand(),
		swapOfferCommand(), swapTakeCommand(), swapApproveCommand(), swapListCommand(),
		overrideAddCommand(), overrideListCommand(), overrideRemoveCommand(), oncallTestCommand(),
		calendarCommand(), calendarAtCommand(), calendarForceCommand(), calendarClearCommand(),
		configCheckCommand(), configExampleCommand(), configShowCommand(),
		usersListCommand(), usersAddCommand(), usersRemoveCommand(), usersPasswdCommand(), usersLanguageCommand(),
		tokensListCommand(), tokensAddCommand(), tokensRemoveCommand(),
		versionCommand(),
		customersListCommand(), customersShowCommand(), customersAddCommand(), customersEditCommand(), customersRemoveCommand(), customersImportCommand(),
		worklogAddCommand(), ticketConfirmCommand(), ticketWaiveCommand(),
		quoteSetCommand(), quoteAcceptCommand(), quoteRefuseCommand(),
		ticketAskConfirmationCommand(), appointmentsCommand(),
		statementCommand(),
		mailInCommand(),
		storeCopyCommand(),
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
