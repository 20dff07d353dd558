package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/astreinte/astreinte/config"
	flag "github.com/spf13/pflag"
)

func configCheckCommand() *command {
	return &command{
		name: "config check", args: "FILE", nargs: [2]int{1, 1},
		short: "check a configuration file; every problem is reported with its line",
		long: `Besides what stops the service from starting, it reports technicians no
configured channel can page, malformed SIP URIs and email addresses (errors:
exit status 1), and addresses given for a channel that is not configured and
closed hours with nobody on call in the next 8 weeks (warnings: exit status 0,
1 with --strict).`,
		setup: func(fs *flag.FlagSet) runner {
			strict := fs.Bool("strict", false, "exit with status 1 on warnings too")
			return func(_ context.Context, s stdio, args []string) error {
				return configCheck(s, args[0], *strict, time.Now())
			}
		},
	}
}

func configCheck(s stdio, file string, strict bool, now time.Time) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg, r := config.Check(b, file, now)
	if cfg != nil && cfg.Clock.Now != "" {
		if t, err := time.Parse(time.RFC3339, cfg.Clock.Now); err == nil {
			cfg, r = config.Check(b, file, t) // the service's clock starts there
		}
	}
	nerr, nwarn := len(r.Errors.List), len(r.Warnings.List)
	fmt.Fprint(s.out, r.String())
	switch {
	case nerr > 0:
		return exitError{1, fmt.Sprintf("%d problem(s), %d warning(s) found", nerr, nwarn)}
	case nwarn > 0 && strict:
		return exitError{1, fmt.Sprintf("%d warning(s) found (--strict)", nwarn)}
	case nwarn > 0:
		fmt.Fprintf(s.out, "%s: OK with %d warning(s) (%d line(s), %d technician(s), %d rotation(s))\n",
			file, nwarn, len(cfg.Lines), len(cfg.OnCall.People), len(cfg.OnCall.Rotations))
	default:
		fmt.Fprintf(s.out, "%s: OK (%d line(s), %d technician(s), %d rotation(s))\n",
			file, len(cfg.Lines), len(cfg.OnCall.People), len(cfg.OnCall.Rotations))
	}
	return nil
}

func configExampleCommand() *command {
	return &command{
		name: "config example", short: "print the commented built-in configuration",
		setup: func(fs *flag.FlagSet) runner {
			return func(_ context.Context, s stdio, _ []string) error {
				_, err := s.out.Write(config.Example())
				return err
			}
		},
	}
}
