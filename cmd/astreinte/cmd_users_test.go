package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runIn runs a command with stdin; it returns stdout, stderr and the exit
// status.
func (c *cli) runIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "--config", c.cfg), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestUsersAndTokensCommands(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"add a technician, password on stdin", "nuit-blanche-2026\n", []string{"users", "add", "alice", "--person", "alice"}, 0, "User alice added (technician, person alice)."},
		{"add an admin", "root-password\n", []string{"users", "add", "root", "--role", "admin"}, 0, "User root added (admin)."},
		{"a person not in the rota", "whatever-password\n", []string{"users", "add", "zorro", "--person", "zorro"}, 2, `--person "zorro" is not a technician (oncall.people: alice, bob, carol)`},
		{"an unknown role", "whatever-password\n", []string{"users", "add", "x", "--role", "boss"}, 2, `--role "boss"`},
		{"no password", "", []string{"users", "add", "bob", "--person", "bob"}, 1, "no password on standard input"},
		{"a short password", "short\n", []string{"users", "add", "bob", "--person", "bob"}, 1, "password too short"},
		{"the same name twice", "nuit-blanche-2026\n", []string{"users", "add", "alice"}, 1, "user alice already exists"},
		{"list", "", []string{"users"}, 0, "alice  technician  alice"},
		{"change a password", "another-one-2026\n", []string{"users", "passwd", "alice"}, 0, "Password of alice changed."},
		{"passwd of nobody", "another-one-2026\n", []string{"users", "passwd", "nobody"}, 1, "no user nobody"},
		{"remove", "", []string{"users", "remove", "root"}, 0, "User root removed."},
		{"remove again", "", []string{"users", "remove", "root"}, 1, "no user root"},
		{"tokens, none", "", []string{"tokens"}, 0, "No tokens"},
		{"a token for a person", "", []string{"tokens", "add", "helpdesk", "--person", "bob"}, 0, "ast_"},
		{"the same token name", "", []string{"tokens", "add", "helpdesk"}, 1, "token helpdesk already exists"},
		{"tokens list", "", []string{"tokens"}, 0, "helpdesk  technician  bob"},
		{"revoke", "", []string{"tokens", "remove", "helpdesk"}, 0, "Token helpdesk revoked."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := c.runIn(tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out+errs, tt.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", code, tt.code, out, errs, tt.want)
			}
		})
	}
	out, _, _ := c.runIn("", "users")
	if strings.Contains(out, "root") {
		t.Errorf("root still listed:\n%s", out)
	}
}

// The token is printed alone on stdout (for scripts); the advice goes to
// stderr.
func TestTokenPrintedOnce(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	out, errs, code := c.runIn("", "tokens", "add", "script")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "ast_") || len(tok) < 40 || strings.Contains(tok, "\n") || !strings.Contains(errs, "shown only now") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	list, _, _ := c.runIn("", "tokens")
	if strings.Contains(list, tok) || strings.Contains(list, tok[4:20]) {
		t.Fatalf("the secret is listed:\n%s", list)
	}
}
