package main

import (
	"context"
	"fmt"
	flag "github.com/spf13/pflag"

	"github.com/astreinte/astreinte/oncall/feed"
)

func oncallFeedCommand() *command {
	return &command{
		name: "oncall feed", args: "PERSON", nargs: [2]int{1, 1},
		short: "the address of PERSON's on-call calendar (iCalendar), to subscribe to",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				p, ok := e.sched.Person(args[0])
				if !ok {
					return exitError{1, "unknown technician " + args[0]}
				}
				links, err := ackLinks(e)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "On-call calendar of %s (keep it secret: it needs no password):\n%s\n", p.Name, feed.URL(links.BaseURL, links.Key, p.ID))
				return nil
			})
		},
	}
}
