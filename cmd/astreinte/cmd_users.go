package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/astreinte/astreinte/accounts"
	flag "github.com/spf13/pflag"
)

func usersAddCommand() *command {
	return &command{
		name: "users add", args: "NAME", nargs: [2]int{1, 1},
		short: "add a web user; the password is read from standard input, or asked",
		long: `A technician is linked to a person of the rota (--person ID, from
oncall.people): what they do on the web is recorded under that id.`,
		setup: func(fs *flag.FlagSet) runner {
			role := fs.String("role", "technician", "`role`: admin or technician")
			person := fs.String("person", "", "the technician `ID` in oncall.people this user is")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				if err := checkPerson(e, *person); err != nil {
					return err
				}
				if !accounts.Role(*role).Valid() {
					return usageError("--role %q: want admin or technician", *role)
				}
				pw, err := readPassword(s, "Password for "+pos[0]+": ")
				if err != nil {
					return err
				}
				u, err := accounts.New(e.db, e.now, nil).AddUser(ctx, pos[0], accounts.Role(*role), *person, pw)
				if errors.Is(err, accounts.ErrExists) {
					return exitError{1, fmt.Sprintf("user %s already exists (astreinte users passwd %s to change the password)", pos[0], pos[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "User %s added (%s%s).\n", u.Name, u.Role, personSuffix(u.Person))
				return nil
			})
		},
	}
}

func personSuffix(p string) string {
	if p == "" {
		return ""
	}
	return ", person " + p
}

// checkPerson refuses an id that is not a person of the rota.
func checkPerson(e *env, id string) error {
	if id == "" {
		return nil
	}
	if _, ok := e.sched.Person(id); ok {
		return nil
	}
	var ids []string
	for _, p := range e.sched.People() {
		ids = append(ids, p.ID)
	}
	return usageError("--person %q is not a technician (oncall.people: %s)", id, strings.Join(ids, ", "))
}

// readPassword asks twice without echo on a terminal, else reads the
// first line of standard input.
func readPassword(s stdio, prompt string) (string, error) {
	if f, ok := s.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(s.err, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(s.err)
		if err != nil {
			return "", err
		}
		fmt.Fprint(s.err, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(s.err)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", exitError{1, "the passwords differ"}
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", exitError{1, "no password on standard input"}
	}
	return line, nil
}

func usersListCommand() *command {
	return &command{
		name: "users", aliases: []string{"users list"}, short: "list the web users",
		setup: func(fs *flag.FlagSet) runner {
			asJSON := fs.Bool("json", false, "print JSON")
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, _ []string) error {
				us, err := accounts.New(e.db, e.now, nil).Users(ctx)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(s.out, listOf(us, userOf))
				}
				if len(us) == 0 {
					fmt.Fprintln(s.out, "No users (astreinte users add NAME --role technician --person ID).")
					return nil
				}
				tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tPERSON\tLANGUAGE\tCREATED")
				for _, u := range us {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, orDash(u.Person), orDash(u.Language), fmtTime(u.CreatedAt, e.location()))
				}
				return tw.Flush()
			})
		},
	}
}

func usersRemoveCommand() *command {
	return &command{
		name: "users remove", aliases: []string{"users rm"}, args: "NAME", nargs: [2]int{1, 1},
		short: "remove a web user (their sessions end)",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				err := accounts.New(e.db, e.now, nil).RemoveUser(ctx, pos[0])
				if errors.Is(err, accounts.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no user %s", pos[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "User %s removed.\n", pos[0])
				return nil
			})
		},
	}
}

func usersPasswdCommand() *command {
	return &command{
		name: "users passwd", args: "NAME", nargs: [2]int{1, 1},
		short: "change a web user's password (read from standard input, or asked); their sessions end",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				pw, err := readPassword(s, "New password for "+pos[0]+": ")
				if err != nil {
					return err
				}
				err = accounts.New(e.db, e.now, nil).SetPassword(ctx, pos[0], pw)
				if errors.Is(err, accounts.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no user %s", pos[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "Password of %s changed.\n", pos[0])
				return nil
			})
		},
	}
}

func usersLanguageCommand() *command {
	return &command{
		name: "users language", args: "NAME [fr|en]", nargs: [2]int{1, 2},
		short: "set the language a web user reads the pages in (none: their person's, else their browser's)",
		setup: func(fs *flag.FlagSet) runner {
			return withEnv(fs, func(ctx context.Context, e *env, s stdio, pos []string) error {
				language := ""
				if len(pos) > 1 {
					language = pos[1]
				}
				err := accounts.New(e.db, e.now, nil).SetLanguage(ctx, pos[0], language)
				if errors.Is(err, accounts.ErrNotFound) {
					return exitError{1, fmt.Sprintf("no user %s", pos[0])}
				}
				if err != nil {
					return usageError("%v", err)
				}
				fmt.Fprintf(s.out, "Language of %s: %s.\n", pos[0], orDash(language))
				return nil
			})
		},
	}
}
