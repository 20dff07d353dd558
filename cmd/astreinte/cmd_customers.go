package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

// customerDirectory is the customer matching the tickets service uses:
// the contracts in force (built in, or from the configuration).
func customerDirectory(cfg *config.Config, db *store.DB) tickets.Customers {
	return &customers.Directory{Store: db, Contracts: cfg.ContractPolicies(), Region: cfg.Customers.Region,
		UnidentifiedOnCall: cfg.UnidentifiedOnCall()}
}

// contractNames lists the contracts in force, sorted.
func contractNames(cfg *config.Config) []string { return cfg.ContractNames() }

func customersListCommand() *command {
	return &command{
		name: "customers", aliases: []string{"customers list"}, short: "list customers with their contract and phone numbers",
		setup: func(fs *flag.FlagSet) runner {
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				cs, err := e.db.Customers(ctx)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, listOf(cs, customerOf))
				}
				if len(cs) == 0 {
					fmt.Fprintln(s.out, "No customers (astreinte customers import FILE.csv).")
					return nil
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tCONTRACT\tPHONES\tEMAILS")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Number, c.Name, c.Contract, orDash(strings.Join(c.Phones, " ")), orDash(strings.Join(c.Emails, " ")))
				}
				return tw.Flush()
			})
		},
	}
}

func customersShowCommand() *command {
	return &command{
		name: "customers show", args: "NUMBER", nargs: [2]int{1, 1}, short: "one customer: contract, its rules, phones, open tickets",
		setup: func(fs *flag.FlagSet) runner {
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				c, err := e.db.CustomerByNumber(ctx, args[0])
				if errors.Is(err, astreinte.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no customer %q (see astreinte customers)", args[0])}
				}
				if err != nil {
					return err
				}
				if *asJSON {
					return showCustomerJSON(ctx, s, e, c)
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "Customer\t%s\n", c.Number)
				fmt.Fprintf(tw, "Name\t%s\n", c.Name)
				fmt.Fprintf(tw, "Contract\t%s\n", c.Contract)
				if k, ok := e.cfg.ContractPolicies()[c.Contract]; ok {
					fmt.Fprintf(tw, "\t%s\n", contractSummary(k))
				} else {
					fmt.Fprintf(tw, "\t(not in the configuration: contracts are %s)\n", strings.Join(contractNames(e.cfg), ", "))
				}
				fmt.Fprintf(tw, "Phones\t%s\n", orDash(strings.Join(c.Phones, ", ")))
				fmt.Fprintf(tw, "Emails\t%s\n", orDash(strings.Join(c.Emails, ", ")))
				if c.Notes != "" {
					fmt.Fprintf(tw, "Notes\t%s\n", c.Notes)
				}
				fmt.Fprintf(tw, "Language\t%s\n", c.Lang(e.cfg.CustomerLanguage()))
				tw.Flush()
				ts, err := e.db.TicketsOfCustomer(ctx, c.Number)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "\n%d ticket(s):\n", len(ts))
				slices.Reverse(ts)
				writeTickets(s.out, ts, e.location())
				return nil
			})
		},
	}
}

// showCustomerJSON prints customers show --json: the customer, its
// contract's rules and its tickets, oldest first.
func showCustomerJSON(ctx context.Context, s stdio, e *env, c customers.Customer) error {
	j := customerOf(c)
	if k, ok := e.cfg.ContractPolicies()[c.Contract]; ok {
		j.Rules = contractSummary(k)
	}
	ts, err := e.db.TicketsOfCustomer(ctx, c.Number)
	if err != nil {
		return err
	}
	slices.Reverse(ts)
	list := tickets.ListJSON(ts, e.now())
	if list == nil {
		list = []tickets.JSON{}
	}
	j.Tickets = &list
	return writeJSON(s.out, j)
}

// contractSummary says a contract's rules in one line.
func contractSummary(k customers.Contract) string {
	var parts []string
	if k.OnCall {
		parts = append(parts, "on-call included")
	} else {
		parts = append(parts, "no on-call")
	}
	parts = append(parts, billingSummary(k))
	for _, ch := range []astreinte.Channel{astreinte.ChannelPhone, astreinte.ChannelEmail} {
		if d, ok := k.Due[ch]; ok {
			parts = append(parts, fmt.Sprintf("%s due in %d business day(s)", ch, d))
		}
	}
	if k.ConfirmAbove > 0 {
		parts = append(parts, fmt.Sprintf("confirmation above %d unit(s)", k.ConfirmAbove))
	}
	if k.Warranty > 0 {
		parts = append(parts, "warranty "+k.Warranty.String())
	}
	return strings.Join(parts, "; ")
}

func customerFlags(fs *flag.FlagSet) (name, contract, phones, emails, notes *string) {
	name = fs.String("name", "", "the customer's `name`")
	contract = fs.String("contract", "", "`contract` name (customers.contracts in the configuration)")
	phones = fs.String("phones", "", "known phone `numbers`, separated by ';' (replace the list)")
	emails = fs.String("emails", "", "known email `addresses`, separated by ';' (replace the list)")
	notes = fs.String("notes", "", "free `text`")
	fs.String("language", "", "the `language` of mails to the contacts: fr or en (\"\" : the desk's default)")
	return
}

// fillCustomer applies the flags that were given to c and checks it.
func fillCustomer(fs *flag.FlagSet, e *env, c *customers.Customer, name, contract, phones, emails, notes string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["name"] {
		c.Name = strings.TrimSpace(name)
	}
	if set["contract"] {
		c.Contract = strings.TrimSpace(contract)
	}
	if set["notes"] {
		c.Notes = notes
	}
	if set["language"] {
		v, _ := fs.GetString("language")
		c.Language = ""
		if strings.TrimSpace(v) != "" {
			l, err := customers.ParseLanguage(v)
			if err != nil {
				return usageError("--language: %v", err)
			}
			c.Language = l
		}
	}
	if set["phones"] {
		c.Phones = nil
		for _, p := range strings.Split(phones, ";") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			n, err := customers.NormalizePhone(p, e.cfg.Customers.Region)
			if err != nil {
				return usageError("--phones: %v", err)
			}
			c.Phones = append(c.Phones, n)
		}
	}
	if set["emails"] {
		c.Emails = nil
		for _, a := range strings.Split(emails, ";") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			n, err := customers.NormalizeEmail(a)
			if err != nil {
				return usageError("--emails: %v", err)
			}
			c.Emails = append(c.Emails, n)
		}
	}
	if c.Name == "" {
		return usageError("a customer needs a --name")
	}
	if !slices.Contains(contractNames(e.cfg), c.Contract) {
		return usageError("--contract %q: want one of %s", c.Contract, strings.Join(contractNames(e.cfg), ", "))
	}
	return nil
}

func customersAddCommand() *command {
	return &command{
		name: "customers add", args: "NUMBER", nargs: [2]int{1, 1}, short: "add a customer",
		setup: func(fs *flag.FlagSet) runner {
			name, contract, phones, emails, notes := customerFlags(fs)
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				c := customers.Customer{Number: strings.TrimSpace(args[0])}
				if err := fillCustomer(fs, e, &c, *name, *contract, *phones, *emails, *notes); err != nil {
					return err
				}
				if err := e.db.AddCustomer(ctx, c); err != nil {
					return exitError{1, fmt.Sprintf("astreinte customers add: %v", err)}
				}
				fmt.Fprintf(s.out, "Customer %s (%s) added, contract %s.\n", c.Number, c.Name, c.Contract)
				return nil
			})
		},
	}
}

func customersEditCommand() *command {
	return &command{
		name: "customers edit", args: "NUMBER", nargs: [2]int{1, 1}, short: "change a customer (only the flags given)",
		setup: func(fs *flag.FlagSet) runner {
			name, contract, phones, emails, notes := customerFlags(fs)
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				c, err := e.db.CustomerByNumber(ctx, args[0])
				if errors.Is(err, astreinte.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no customer %q (see astreinte customers)", args[0])}
				}
				if err != nil {
					return err
				}
				if err := fillCustomer(fs, e, &c, *name, *contract, *phones, *emails, *notes); err != nil {
					return err
				}
				if err := e.db.UpdateCustomer(ctx, c); err != nil {
					return exitError{1, fmt.Sprintf("astreinte customers edit: %v", err)}
				}
				fmt.Fprintf(s.out, "Customer %s updated.\n", c.Number)
				return nil
			})
		},
	}
}

func customersRemoveCommand() *command {
	return &command{
		name: "customers remove", args: "NUMBER", nargs: [2]int{1, 1}, short: "remove a customer (its tickets keep its number)",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				if err := e.db.RemoveCustomer(ctx, args[0]); errors.Is(err, astreinte.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no customer %q (see astreinte customers)", args[0])}
				} else if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Customer %s removed.\n", args[0])
				return nil
			})
		},
	}
}

func customersImportCommand() *command {
	c := &command{
		name: "customers import", args: "FILE.csv", nargs: [2]int{1, 1}, short: "add or update customers from CSV: all rows, or none",
		long: "The header names the columns number,name,phones,contract (and optionally emails,notes,language);\n" +
			"phones and emails are separated by ';'. \"-\" reads standard input. Every bad row is reported\n" +
			"with its line and then nothing is imported.",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				var r io.Reader = s.in
				if args[0] != "-" {
					f, err := os.Open(args[0])
					if err != nil {
						return exitError{1, fmt.Sprintf("astreinte customers import: %v", err)}
					}
					defer f.Close()
					r = f
				}
				names := contractNames(e.cfg)
				cs, err := customers.ParseCSV(r, e.cfg.Customers.Region, func(n string) bool {
					return slices.Contains(names, n)
				})
				if err != nil {
					return exitError{1, fmt.Sprintf("%s: nothing imported:\n%v", args[0], err)}
				}
				added, updated, err := e.db.ImportCustomers(ctx, cs)
				if err != nil {
					return exitError{1, fmt.Sprintf("%s: nothing imported: %v", args[0], err)}
				}
				fmt.Fprintf(s.out, "%d customer(s) added, %d updated.\n", added, updated)
				return nil
			})
		},
	}
	return c
}
