// Command astreinte is the on-call answering service for technical-support
// phone lines: `astreinte serve` answers the support number, records
// callback messages as tickets and pages the on-call technician; the other
// subcommands let technicians and admins work tickets and the rota.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `astreinte — on-call answering service for support lines

Usage:
  astreinte serve [--config FILE]            run the service
  astreinte config check FILE                check a configuration file
  astreinte config example                   print the commented default configuration
  astreinte tickets [--status S] [--urgent] [--search TEXT] [--all]
                                             list tickets (open ones by default)
  astreinte tickets show N                   one ticket with its timeline and recording
  astreinte tickets play N                   listen to its message (paplay, aplay, play…)
  astreinte tickets ack N [--by NAME]        acknowledge (stops the paging)
  astreinte tickets callback N [--note TEXT] note that the caller was called back
  astreinte tickets resolve N [--note TEXT]  resolve
  astreinte tickets reopen N                 reopen
  astreinte tickets note N TEXT              add a note
  astreinte calls [--limit N]                recent calls and what came of them
  astreinte oncall who [--at TIME]           who is on call now, per tier, until when
  astreinte oncall schedule [--days 14]      shifts with overrides applied
  astreinte oncall check [--weeks 8]         list out-of-hours gaps (exit 1 if any)
  astreinte oncall override add --replace ID [--by ID] --from TIME --to TIME [--note TEXT]
  astreinte oncall override list | remove ID
  astreinte oncall test ID [--channel C]     page ID now with a test ticket, on each channel, and report
  astreinte calendar [--days 14]             open/closed periods with holiday names
  astreinte calendar at TIME                 open or closed at TIME, and why
  astreinte calendar force open|closed --until TIME [--reason TEXT]
  astreinte calendar force clear
  astreinte status [--json]                  the running service: trunk registrations, calls in
                                             progress (exit 1: not running, or a trunk not registered)

Every command takes --config FILE (default: $ASTREINTE_CONFIG, else the
built-in configuration). TIME is "2026-11-24 03:00" in the calendar's time
zone, or RFC 3339.
`

// run dispatches the subcommands; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "config":
		err = cmdConfig(args[1:], stdout)
	case "tickets", "ticket":
		err = cmdTickets(ctx, args[1:], stdout)
	case "calls":
		err = cmdCalls(ctx, args[1:], stdout)
	case "oncall":
		err = cmdOncall(ctx, args[1:], stdout)
	case "calendar":
		err = cmdCalendar(ctx, args[1:], stdout)
	case "status":
		err = cmdStatus(ctx, args[1:], stdout) // cli_status.go
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "astreinte: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ee exitError
		if asExit(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(stderr, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(stderr, "astreinte %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// exitError ends a command with a status and an optional message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func asExit(err error, target *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*target = e
	}
	return ok
}
