package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"
)

// usageLine is "astreinte tickets ack N [--by ID]": the command, its
// arguments and its own flags (the global ones are said once, below).
func usageLine(c *cobra.Command) string {
	var b strings.Builder
	b.WriteString(c.CommandPath())
	if a := c.Annotations["args"]; a != "" {
		b.WriteString(" " + a)
	} else if c.Annotations["group"] != "" {
		b.WriteString(" SUBCOMMAND")
	}
	localFlags(c).VisitAll(func(f *flag.Flag) {
		name, _ := flag.UnquoteUsage(f)
		if name == "" {
			fmt.Fprintf(&b, " [--%s]", f.Name)
		} else {
			fmt.Fprintf(&b, " [--%s %s]", f.Name, name)
		}
	})
	return b.String()
}

// writeCommandHelp is what "astreinte help X" and "X --help" print.
func writeCommandHelp(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usageLine(c), c.Short)
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", c.Long)
	}
	if len(c.Aliases) > 0 {
		p := commandName(c.Parent())
		var al []string
		for _, a := range c.Aliases {
			al = append(al, strings.TrimSpace(p+" "+a))
		}
		fmt.Fprintf(w, "\nAliases: %s\n", strings.Join(al, ", "))
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", c.Example)
	}
	if fs := localFlags(c); fs.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
	if g := c.InheritedFlags(); g.HasFlags() {
		fmt.Fprintf(w, "\nGlobal flags (before or after the command):\n%s", g.FlagUsages())
	}
	if kids := subcommands(c); len(kids) > 0 {
		fmt.Fprintf(w, "\nSubcommands: %s (astreinte help %s SUBCOMMAND)\n", strings.Join(kids, ", "), commandName(c))
	}
}

// subcommands are the names of c's visible subcommands, in order.
func subcommands(c *cobra.Command) []string {
	var out []string
	for _, k := range c.Commands() {
		if k.IsAvailableCommand() && k.Name() != "help" {
			out = append(out, k.Name())
		}
	}
	return out
}

// visible walks the visible commands under c, depth first, in order.
func visible(c *cobra.Command, f func(*cobra.Command)) {
	for _, k := range c.Commands() {
		if !k.IsAvailableCommand() && k.Name() != "help" || k.Hidden {
			continue
		}
		f(k)
		visible(k, f)
	}
}

// writeRootHelp lists every command, subcommands included, with the
// global flags.
func writeRootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "astreinte — %s\n\n%s\n\nUsage: astreinte COMMAND [ARGS] [FLAGS]\n\nCommands:\n", root.Short, root.Long)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	visible(root, func(c *cobra.Command) {
		name := commandName(c)
		if a := c.Annotations["args"]; a != "" {
			name += " " + a
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, c.Short)
	})
	tw.Flush()
	fmt.Fprintf(w, "\nGlobal flags (before or after the command):\n%s", root.PersistentFlags().FlagUsages())
	fmt.Fprint(w, `
"astreinte help COMMAND" or "astreinte COMMAND --help" tells more.
`)
}
