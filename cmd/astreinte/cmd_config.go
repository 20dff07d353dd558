package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/astreinte/astreinte/config"
)

func configCheckCommand() *command {
	return &command{
		name: "config check", args: "FILE", nargs: [2]int{1, 1},
		short: "check a configuration file; every problem is reported with its line",
		setup: func(fs *flag.FlagSet) runner {
			return func(_ context.Context, s stdio, args []string) error {
				cfg, err := config.Load(args[0])
				if err != nil {
					var p *config.Problems
					if errors.As(err, &p) {
						return exitError{1, fmt.Sprintf("%v\n%d problem(s) found", err, len(p.List))}
					}
					return err
				}
				fmt.Fprintf(s.out, "%s: OK (%d line(s), %d technician(s), %d rotation(s))\n",
					args[0], len(cfg.Lines), len(cfg.OnCall.People), len(cfg.OnCall.Rotations))
				return nil
			}
		},
	}
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
