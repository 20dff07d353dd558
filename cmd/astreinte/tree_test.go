package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md from the command tree")

// allCommands walks the whole tree, hidden commands included, except
// cobra's internal completion request commands.
func allCommands(c *cobra.Command, f func(*cobra.Command)) {
	for _, k := range c.Commands() {
		if strings.HasPrefix(k.Name(), "__") {
			continue
		}
		f(k)
		allCommands(k, f)
	}
}

// Every command and subcommand, walked from the tree: "X --help" and
// "help X" exit 0 and show its usage, its flags and, for our own
// commands, an example.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRoot(stdio{})
	n := 0
	allCommands(root, func(c *cobra.Command) {
		n++
		words := strings.Fields(commandName(c))
		t.Run(strings.Join(words, "_"), func(t *testing.T) {
			for _, args := range [][]string{append(words, "--help"), append([]string{"help"}, words...), append(words, "-h")} {
				out, errOut, code := runCLI(args...)
				if code != 0 {
					t.Fatalf("astreinte %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				for _, w := range []string{"Usage: astreinte " + strings.Join(words, " "), c.Short, "Global flags", "--config file"} {
					if !strings.Contains(out, w) {
						t.Errorf("astreinte %s: %q missing from\n%s", strings.Join(args, " "), w, out)
					}
				}
				if _, ours := c.Annotations["args"]; ours && !strings.Contains(out, "Examples:\n  astreinte ") {
					t.Errorf("astreinte %s: no example in\n%s", strings.Join(args, " "), out)
				}
				c.LocalFlags().VisitAll(func(f *pflag.Flag) {
					if !strings.Contains(out, "--"+f.Name) {
						t.Errorf("astreinte %s: flag --%s missing from\n%s", strings.Join(args, " "), f.Name, out)
					}
				})
			}
		})
	})
	if n < 50 {
		t.Errorf("walked %d commands; the tree should have more than 50", n)
	}
}

// Every example in the help names a real command with real flags and the
// right number of arguments.
func TestExamplesParse(t *testing.T) {
	root := newRoot(stdio{})
	for name, ex := range examples {
		for line := range strings.SplitSeq(ex, "\n") {
			args := shellWords(strings.TrimSpace(line))
			if len(args) == 0 || args[0] != "astreinte" {
				t.Errorf("%s: example %q does not start with astreinte", name, line)
				continue
			}
			c, rest, err := root.Find(args[1:])
			if err != nil || commandName(c) != name && c.Annotations["name"] != name {
				t.Errorf("%s: example %q runs %q (%v)", name, line, commandName(c), err)
				continue
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Errorf("%s: example %q: %v", name, line, err)
				continue
			}
			if c.Args != nil {
				if err := c.Args(c, c.Flags().Args()); err != nil {
					t.Errorf("%s: example %q: %v", name, line, err)
				}
			}
		}
	}
	for _, d := range commands() {
		if examples[d.name] == "" {
			t.Errorf("%s has no example", d.name)
		}
	}
}

// shellWords splits an example line: words, "double-quoted strings", and
// stops at a redirection.
func shellWords(s string) []string {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " ")
		switch {
		case s == "":
		case s[0] == '>' || s[0] == '<' || s[0] == '|':
			return out
		case s[0] == '"':
			end := strings.IndexByte(s[1:], '"') + 1
			out = append(out, s[1:end])
			s = s[end+1:]
		default:
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			out = append(out, s[:end])
			s = s[end:]
		}
	}
	return out
}

// --config is a global flag: before the command, after it, or from
// $ASTREINTE_CONFIG, the same configuration is read.
func TestConfigFlagAnywhere(t *testing.T) {
	c := newCLI(t, "2026-11-23 09:00")
	for _, args := range [][]string{
		{"--config", c.cfg, "oncall", "who"},
		{"oncall", "--config", c.cfg, "who"},
		{"oncall", "who", "--config", c.cfg},
		{"oncall", "who", "--config=" + c.cfg},
	} {
		out, errOut, code := runCLI(args...)
		if code != 0 || !strings.Contains(out, "Bob Durand") {
			t.Errorf("astreinte %s: exit %d, want Bob Durand on call:\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	t.Setenv("ASTREINTE_CONFIG", c.cfg)
	if out, errOut, code := runCLI("oncall", "who"); code != 0 || !strings.Contains(out, "Bob Durand") {
		t.Errorf("ASTREINTE_CONFIG: exit %d, want Bob Durand on call:\n%s%s", code, out, errOut)
	}
}

// --json is global too, before or after the command; a command that prints
// no table refuses it rather than ignoring it.
func TestJSONFlag(t *testing.T) {
	c := newCLI(t, "2026-11-23 09:00")
	for _, args := range [][]string{{"--json", "tickets"}, {"tickets", "--json"}} {
		out, code := c.run(args...)
		if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "[") {
			t.Errorf("astreinte %s: exit %d, want a JSON list:\n%s", strings.Join(args, " "), code, out)
		}
	}
	if out, code := c.run("--json", "calendar", "at"); code != 2 || !strings.Contains(out, "prints no table") {
		t.Errorf("calendar at --json: exit %d, want 2 and why:\n%s", code, out)
	}
}

// A mistyped command or subcommand gets the nearest names.
func TestDidYouMean(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"tickts"}, "Did you mean this?\n\ttickets"},
		{[]string{"tickets", "shwo", "1"}, "Did you mean this?\n\tshow"},
		{[]string{"oncall", "overide"}, "Did you mean this?\n\toverride"},
		{[]string{"config", "chek"}, "Did you mean this?\n\tcheck"},
		{[]string{"help", "custmers"}, "Did you mean this?\n\tcustomers"},
	} {
		_, errOut, code := runCLI(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("astreinte %s: exit %d, want 2 and %q:\n%s", strings.Join(tt.args, " "), code, tt.want, errOut)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_astreinte",
		"zsh":  "#compdef astreinte",
		"fish": "complete -c astreinte",
	} {
		out, errOut, code := runCLI("completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, want %q in the script (%d bytes)\n%s", shell, code, want, len(out), errOut)
		}
	}
}

// docs/cli.md is the command tree's help, generated: this test rewrites it
// with -update and fails when it is stale.
func TestCLIReferenceIsCurrent(t *testing.T) {
	var b bytes.Buffer
	writeCLIReference(&b, newRoot(stdio{}))
	path := filepath.Join("..", "..", "docs", "cli.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("docs/cli.md is stale: run go test ./cmd/astreinte -run CLIReference -update")
	}
}

// writeCLIReference writes docs/cli.md: every visible command's help, in
// the order of the tree.
func writeCLIReference(w io.Writer, root *cobra.Command) {
	fmt.Fprint(w, "# Command reference\n\n<!-- Generated from the command tree by TestCLIReferenceIsCurrent (go test ./cmd/astreinte -run CLIReference -update); do not edit. -->\n\n")
	fmt.Fprint(w, "`astreinte help COMMAND` and `astreinte COMMAND --help` print the same.\n\n")
	var b bytes.Buffer
	writeRootHelp(&b, root)
	fmt.Fprintf(w, "## astreinte\n\n```\n%s```\n", b.String())
	visible(root, func(c *cobra.Command) {
		b.Reset()
		writeCommandHelp(&b, c)
		fmt.Fprintf(w, "\n## astreinte %s\n\n```\n%s```\n", commandName(c), b.String())
	})
}
