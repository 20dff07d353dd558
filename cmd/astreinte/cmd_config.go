package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte/config"
	flag "github.com/spf13/pflag"
)

func configCheckCommand() *command {
	return &command{
		name: "config check", args: "FILE", nargs: [2]int{1, 1},
		short: "check a configuration file; every problem is reported with its line",
		long: `Every problem at once, each with file:line:column, the key, the value and
what is expected. Errors (exit status 1; serve refuses to start on them too):
unknown keys (with the likely spelling), values of the wrong kind, impossible
times, overlapping hours, a trunk without credentials, a technician no
configured channel can deliver to (a phone number needs paging.sip.proxy or
paging.sip.trunk, an email paging.email.smtp), malformed SIP URIs and email
addresses, and, when a contract promises on-call (one of the file, or one
that customers in the database are on, such as the built-in isp), the first
closed hour of the next 8 weeks with nobody on call (--allow-gaps, or
customers.allow_gaps: true, makes those warnings). Warnings (exit status 0, 1 with --strict): addresses given
for a channel that is not configured, closed hours with nobody on call that
no contract promises.`,
		setup: func(fs *flag.FlagSet) runner {
			strict := fs.Bool("strict", false, "exit with status 1 on warnings too")
			allowGaps := fs.Bool("allow-gaps", false, "closed hours with nobody on call are warnings, even under a contract that promises on-call")
			return func(_ context.Context, s stdio, args []string) error {
				return configCheck(s, args[0], *strict, config.CheckOptions{AllowGaps: *allowGaps, Customers: customersOnContracts}, time.Now())
			}
		},
	}
}

func configCheck(s stdio, file string, strict bool, opt config.CheckOptions, now time.Time) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	cfg, r := config.Check(b, file, now, opt)
	if cfg != nil && cfg.Clock.Now != "" {
		if t, err := time.Parse(time.RFC3339, cfg.Clock.Now); err == nil {
			cfg, r = config.Check(b, file, t, opt) // the service's clock starts there
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

func configShowCommand() *command {
	return &command{
		name: "config show", short: "print the configuration in force: every default, the contracts (built in or yours)",
		long: `With --effective, every key is printed with the value in force: the
defaults applied, the contracts that apply (the built-in isp and tickets, or
the file's, each marked with where it comes from), passwords and secrets
hidden. Without it, the contracts in force and their rules, one a line.`,
		setup: func(fs *flag.FlagSet) runner {
			effective := fs.Bool("effective", false, "print the whole configuration in force, as YAML")
			cfgPath := configFlag(fs)
			return func(_ context.Context, s stdio, _ []string) error {
				cfg, err := loadConfig(*cfgPath)
				if err != nil {
					return err
				}
				if *effective {
					b, err := cfg.EffectiveYAML()
					if err != nil {
						return err
					}
					_, err = s.out.Write(b)
					return err
				}
				showContracts(s.out, cfg)
				return nil
			}
		},
	}
}

// showContracts lists the contracts in force with their rules and origin.
func showContracts(w io.Writer, cfg *config.Config) {
	_, from := cfg.Contracts()
	ps := cfg.ContractPolicies()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTRACT\tLABEL\tRULES\tFROM")
	for _, n := range cfg.ContractNames() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, ps[n].Label, contractSummary(ps[n]), from[n])
	}
	tw.Flush()
	if cfg.UnidentifiedOnCall() {
		fmt.Fprintln(w, "Callers matched to no customer may wake the on-call technician (customers.unidentified.on_call).")
	} else {
		fmt.Fprintln(w, "Callers matched to no customer are called back on the next business day (customers.unidentified.on_call: false).")
	}
}
