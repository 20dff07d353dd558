package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs the command line in-process; it returns stdout, stderr and
// the exit status.
func runCLI(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in stdout
	}{
		{"help", []string{"help"}, []string{"Commands:", "tickets ack N", "oncall override add", "version"}},
		{"help of a command", []string{"help", "tickets", "ack"}, []string{"Usage: astreinte tickets ack N [--by ID]", "acknowledge", "-by ID", "-config file"}},
		{"--help of a command", []string{"tickets", "ack", "--help"}, []string{"Usage: astreinte tickets ack N [--by ID]", "-by ID"}},
		{"-h of a command", []string{"oncall", "override", "add", "-h"}, []string{"--replace ID", "--from TIME", "-note string"}},
		{"help of a group lists its subcommands", []string{"help", "tickets"}, []string{"Usage: astreinte tickets [--all] [--json]", "Subcommands: show, play, ack"}},
		{"an alias", []string{"help", "tickets", "acknowledge"}, []string{"Usage: astreinte tickets ack N"}},
		{"version", []string{"version"}, []string{"astreinte "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"a flag of another subcommand", []string{"tickets", "ack", "4", "--urgent"}, "unknown flag: --urgent"},
		{"unknown flag", []string{"oncall", "who", "--when", "now"}, "unknown flag: --when"},
		{"unknown subcommand", []string{"tickets", "frobnicate"}, `unknown subcommand "frobnicate" (show, play, ack`},
		{"missing argument", []string{"tickets", "ack"}, "wrong number of arguments"},
		{"too many arguments", []string{"calendar", "at", "2026-12-01", "10:00"}, "wrong number of arguments"},
		{"help of nothing", []string{"help", "frobnicate"}, `no command "frobnicate"`},
		{"bad status", []string{"tickets", "--status", "done", "--config", "/nonexistent.yaml"}, `--status "done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
		})
	}
	if _, errOut, code := runCLI(); code != 2 || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no arguments: exit %d, want 2 and the command list:\n%s", code, errOut)
	}
}
