package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/tickets"
	flag "github.com/spf13/pflag"
)

func statementCommand() *command {
	return &command{
		name: "statement", args: "CUSTOMER", nargs: [2]int{1, 1},
		short: "a customer's bill for a month: time, billed units, HT/VAT/TTC in cents, caps, warranty",
		long: "Each ticket is priced under its contract as a whole: a started unit (half-hour, ticket)\n" +
			"is billed once, in the month it was started; an accepted quote caps the ticket; work done\n" +
			"after a reopening within the warranty is not billed. VAT is rounded to the cent per ticket.",
		setup: func(fs *flag.FlagSet) runner {
			month := fs.String("month", "", "the `month`, 2026-12 (default: this month)")
			format := fs.String("format", "text", "text or csv")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, args []string) error {
				if *format != "text" && *format != "csv" {
					return usageError("--format %q: want text or csv", *format)
				}
				loc := e.location()
				now := e.now().In(loc)
				from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
				if *month != "" {
					m, err := time.ParseInLocation("2006-01", *month, loc)
					if err != nil {
						return usageError("--month %q: want YYYY-MM, e.g. 2026-12", *month)
					}
					from = m
				}
				to := from.AddDate(0, 1, 0)
				c, err := e.db.CustomerByNumber(ctx, args[0])
				name := ""
				if err == nil {
					name = c.Name
				} else if !errors.Is(err, astreinte.ErrNotFound) {
					return err
				}
				st, err := e.ledger().Statement(ctx, args[0], from, to)
				if err != nil {
					return err
				}
				if name == "" && len(st.Lines) == 0 {
					return exitError{1, fmt.Sprintf("no customer %q (see astreinte customers)", args[0])}
				}
				if *format == "csv" {
					return writeStatementCSV(s.out, st)
				}
				writeStatement(s.out, st, name, loc)
				return nil
			})
		},
	}
}

func units(l tickets.StatementLine) string {
	if l.Unbillable != "" {
		return "-"
	}
	return unitCount(l.Units, l.Contract.Billing.Unit)
}

func writeStatement(w io.Writer, st tickets.Statement, name string, loc *time.Location) {
	fmt.Fprintf(w, "Statement for customer %s %s, %s\n\n", st.Customer, name, st.From.In(loc).Format("January 2006"))
	if len(st.Lines) == 0 {
		fmt.Fprintln(w, "No work this month.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TICKET\tCONTRACT\tWORKED\tBILLED\tEXCL. VAT\tVAT\tINCL. VAT\tNOTES\t")
	for _, l := range st.Lines {
		var notes []string
		if l.Capped {
			notes = append(notes, "capped by the accepted quote")
		}
		if l.Flat {
			notes = append(notes, "fixed price (accepted quote)")
		}
		if l.Free {
			notes = append(notes, "free support (no accepted quote)")
		}
		if l.Warranty > 0 {
			notes = append(notes, fmt.Sprintf("%s under warranty, not billed", l.Warranty))
		}
		if l.Unbillable != "" {
			notes = append(notes, l.Unbillable)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Ticket.Number, orDash(l.Ticket.Contract), l.Worked, units(l),
			lang.EN.Money(l.HT), lang.EN.Money(l.VAT), lang.EN.Money(l.TTC), joinOr(notes, ""))
	}
	fmt.Fprintf(tw, "TOTAL\t\t%s\t\t%s\t%s\t%s\t\t\n", st.Worked, lang.EN.Money(st.HT), lang.EN.Money(st.VAT), lang.EN.Money(st.TTC))
	tw.Flush()
}

func joinOr(ss []string, none string) string {
	if len(ss) == 0 {
		return none
	}
	out := ss[0]
	for _, s := range ss[1:] {
		out += "; " + s
	}
	return out
}

// writeStatementCSV writes one row per ticket, amounts in integer cents.
func writeStatementCSV(w io.Writer, st tickets.Statement) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"customer", "month", "ticket", "contract", "worked_min", "warranty_min", "units", "unit_min",
		"ht_cents", "vat_cents", "ttc_cents", "capped", "note"})
	month := st.From.Format("2006-01")
	mins := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Minute), 10) }
	for _, l := range st.Lines {
		cw.Write([]string{st.Customer, month, l.Ticket.Number, l.Ticket.Contract, mins(l.Worked), mins(l.Warranty),
			strconv.FormatInt(l.Units, 10), mins(l.Contract.Billing.Unit), strconv.FormatInt(l.HT, 10),
			strconv.FormatInt(l.VAT, 10), strconv.FormatInt(l.TTC, 10), strconv.FormatBool(l.Capped), l.Unbillable})
	}
	cw.Write([]string{st.Customer, month, "TOTAL", "", mins(st.Worked), mins(st.WarrantyTotal), "", "",
		strconv.FormatInt(st.HT, 10), strconv.FormatInt(st.VAT, 10), strconv.FormatInt(st.TTC, 10), "", ""})
	cw.Flush()
	return cw.Error()
}
