package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/astreinte/astreinte/config"
)

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return exitError{2, "usage: astreinte config check FILE | astreinte config example"}
	}
	switch args[0] {
	case "example":
		_, err := stdout.Write(config.Example())
		return err
	case "check":
		if len(args) != 2 {
			return exitError{2, "usage: astreinte config check FILE"}
		}
		cfg, err := config.Load(args[1])
		if err != nil {
			var p *config.Problems
			if errors.As(err, &p) {
				return exitError{1, fmt.Sprintf("%v\n%d problem(s) found", err, len(p.List))}
			}
			return err
		}
		fmt.Fprintf(stdout, "%s: OK (%d line(s), %d technician(s), %d rotation(s))\n",
			args[1], len(cfg.Lines), len(cfg.OnCall.People), len(cfg.OnCall.Rotations))
		return nil
	}
	return exitError{2, fmt.Sprintf("astreinte config: unknown subcommand %q (check or example)", args[0])}
}
