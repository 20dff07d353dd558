package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"
)

func init() {
	// The help lists commands in the order commands() gives them: the
	// order a technician meets them, not the alphabet.
	cobra.EnableCommandSorting = false
}

// pathFlag is the value of the global --config flag. Commands reach it
// with configFlag, which finds it among their own flags.
type pathFlag struct{ path string }

func (p *pathFlag) String() string     { return p.path }
func (p *pathFlag) Set(s string) error { p.path = s; return nil }
func (p *pathFlag) Type() string       { return "file" }

// newRoot builds the command tree from commands(): one cobra command per
// word of each command's name ("oncall override add" is three), the global
// flags --config and --json on the root, the help and completion commands.
// Each command's flags are declared by its own setup on its own flag set,
// so two commands never share one.
func newRoot(s stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "astreinte",
		Short: "on-call answering service for support lines",
		Long: `astreinte answers the support line, records messages as tickets and pages
the on-call technician. TIME is "2026-11-24 03:00" in the calendar's time
zone, RFC 3339, "now" or "+2h".`,
		SilenceErrors:              true,
		SuggestionsMinimumDistance: 2,
		SilenceUsage:               true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	cfg := &pathFlag{path: os.Getenv("ASTREINTE_CONFIG")}
	root.PersistentFlags().Var(cfg, "config", "configuration `file` (default: $ASTREINTE_CONFIG, else built in)")
	root.PersistentFlags().Lookup("config").DefValue = "" // said in the usage, not the value found here
	root.PersistentFlags().Bool("json", false, "print JSON instead of a table (the commands that print one)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("astreinte %s: %v", commandName(c), err)
	})
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if f := c.Flags().Lookup("json"); f != nil && f == root.PersistentFlags().Lookup("json") && f.Changed {
			return usageError("astreinte %s: --json: this command prints no table (%s do)", commandName(c), strings.Join(jsonCommands(root), ", "))
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, args []string) error {
		writeRootHelp(s.err, root)
		return exitError{code: 2}
	}
	root.Args = subcommandArgs()

	nodes := map[string]*cobra.Command{"": root}
	for _, d := range commands() {
		node := place(root, nodes, d, d.name, s)
		for _, a := range d.aliases {
			if parent(a) == parent(d.name) && !strings.HasPrefix(a, "-") {
				node.Aliases = append(node.Aliases, last(a))
				continue
			}
			if a == "--version" {
				continue // handled in run: cobra takes "--version" for a flag
			}
			alias := place(root, nodes, d, a, s)
			alias.Short = d.short + " (" + d.name + ")"
			if !alias.HasSubCommands() {
				alias.Hidden = true // "tickets list": the same as "tickets"
			}
		}
	}
	for name, c := range nodes {
		if c.RunE == nil && c != root {
			group(c, name)
		}
	}
	root.SetHelpCommand(helpCommand(root, s))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "print a shell completion script (bash, zsh, fish, powershell)"
			c.Example = "  source <(astreinte completion bash)\n  astreinte completion zsh > \"${fpath[1]}/_astreinte\"\n  astreinte completion fish > ~/.config/fish/completions/astreinte.fish"
		}
	}
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if c == root {
			writeRootHelp(c.OutOrStdout(), root)
			return
		}
		writeCommandHelp(c.OutOrStdout(), c)
	})
	root.SetUsageFunc(func(c *cobra.Command) error {
		writeCommandHelp(c.ErrOrStderr(), c)
		return nil
	})
	return root
}

// jsonCommands are the commands that print JSON with --json (their own
// flag, which shadows the global one).
func jsonCommands(root *cobra.Command) []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.LocalNonPersistentFlags().Lookup("json"); f != nil && !c.Hidden {
			out = append(out, commandName(c))
		}
		for _, k := range c.Commands() {
			walk(k)
		}
	}
	walk(root)
	return out
}

// place makes the command at path (the words of a name) run d, creating
// the groups above it; it returns the command.
func place(root *cobra.Command, nodes map[string]*cobra.Command, d *command, path string, s stdio) *cobra.Command {
	c := node(root, nodes, path)
	use := last(path)
	if d.args != "" {
		use += " " + d.args
	}
	c.Use = use
	c.Short, c.Long = d.short, strings.TrimSpace(d.long)
	c.Example = examples[d.name]
	c.Annotations = map[string]string{"args": d.args, "name": d.name}
	// The global --config is one of this command's flags before setup
	// declares the others, so that configFlag finds it.
	c.Flags().AddFlag(root.PersistentFlags().Lookup("config"))
	runIt := d.setup(c.Flags())
	c.Args = argsOf(d, c)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return runIt(cmd.Context(), s, args)
	}
	return c
}

// node returns the command at path, creating it and its parents as
// groups.
func node(root *cobra.Command, nodes map[string]*cobra.Command, path string) *cobra.Command {
	if c, ok := nodes[path]; ok {
		return c
	}
	p := node(root, nodes, parent(path))
	c := &cobra.Command{Use: last(path), SuggestionsMinimumDistance: 2}
	p.AddCommand(c)
	nodes[path] = c
	return c
}

// group makes c a command that only holds others: alone, it shows its help.
func group(c *cobra.Command, name string) {
	c.Short = map[string]string{
		"config":  "check or print a configuration",
		"store":   "the database: copy an installation into another store",
		"quote":   "a ticket's quote: propose, accept, refuse",
		"worklog": "time spent on tickets",
	}[name]
	if c.Short == "" {
		c.Short = name + " commands"
	}
	c.Annotations = map[string]string{"name": name, "group": "yes"}
	c.Args = subcommandArgs()
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// argsOf checks a command's positional arguments: an unknown word where a
// subcommand was expected gets the nearest names.
func argsOf(d *command, c *cobra.Command) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		lo, hi := d.nargs[0], d.nargs[1]
		if len(args) > 0 && hi == 0 {
			if cmd.HasAvailableSubCommands() {
				return subcommandArgs()(cmd, args)
			}
			return usageError("astreinte %s: unexpected argument %q", commandName(cmd), args[0])
		}
		if len(args) < lo || (hi >= 0 && len(args) > hi) {
			return usageError("astreinte %s: wrong number of arguments", commandName(cmd))
		}
		return nil
	}
}

// subcommandArgs refuses any argument to a group: it names no subcommand.
func subcommandArgs() cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var kids []string
		for _, k := range cmd.Commands() {
			if k.IsAvailableCommand() && k.Name() != "help" {
				kids = append(kids, k.Name())
			}
		}
		msg := fmt.Sprintf("astreinte %s: unknown subcommand %q (%s)", commandName(cmd), args[0], strings.Join(kids, ", "))
		if cmd == cmd.Root() {
			msg = fmt.Sprintf("astreinte: unknown command %q (see astreinte help)", args[0])
		}
		if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(sug, "\n\t")
		}
		return usageError("%s", msg)
	}
}

// helpCommand is "astreinte help [COMMAND...]": the help of a command, or
// of them all; a command that does not exist is a usage error.
func helpCommand(root *cobra.Command, s stdio) *cobra.Command {
	return &cobra.Command{
		Use:     "help [COMMAND]",
		Short:   "help about any command: its flags and an example",
		Example: "  astreinte help\n  astreinte help tickets ack",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || target == nil {
				msg := fmt.Sprintf("astreinte help: no command %q", strings.Join(args, " "))
				if target == nil {
					target, rest = root, args
				}
				if len(rest) > 0 {
					if sug := target.SuggestionsFor(rest[0]); len(sug) > 0 {
						msg += "\n\nDid you mean this?\n\t" + strings.Join(sug, "\n\t")
					}
				}
				writeRootHelp(s.err, root)
				return usageError("%s", msg)
			}
			if target == root {
				writeRootHelp(s.out, root)
				return nil
			}
			writeCommandHelp(s.out, target)
			return nil
		},
	}
}

// commandName is the command's path without the program: "tickets ack".
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), c.Root().Name()), " ")
}

func parent(name string) string {
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		return name[:i]
	}
	return ""
}

func last(name string) string { return name[strings.LastIndexByte(name, ' ')+1:] }

// run builds the command tree, runs the command args name and returns the
// exit status: 0, 1 for a failure, 2 for a usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := stdio{in: stdin, out: stdout, err: stderr}
	if stdin == nil {
		s.in = strings.NewReader("")
	}
	root := newRoot(s)
	switch {
	case len(args) == 1 && args[0] == "--version":
		args = []string{"version"}
	case slices.Contains(args, "-help"):
		args = slices.Clone(args)
		args[slices.Index(args, "-help")] = "--help"
	}
	root.SetArgs(args)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		if ee.code == 2 && c != nil && c != root && c.Name() != "help" {
			fmt.Fprintf(stderr, "usage: %s (astreinte help %s)\n", usageLine(c), commandName(c))
		}
		return ee.code
	}
	if c == nil || c == root {
		fmt.Fprintf(stderr, "astreinte: %v\n", err)
	} else {
		fmt.Fprintf(stderr, "astreinte %s: %v\n", commandName(c), err)
	}
	return 1
}

// localFlags are the flags a command declares itself, without --help and
// the global ones.
func localFlags(c *cobra.Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name(), flag.ContinueOnError)
	c.LocalFlags().VisitAll(func(f *flag.Flag) {
		if f.Name != "help" {
			fs.AddFlag(f)
		}
	})
	return fs
}
