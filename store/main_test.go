package store

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/astreinte/astreinte/store/pgtest"
)

// storeEnv names the back-end the store's tests run on. TestMain runs the
// whole suite on SQLite, then the same tests again on a PostgreSQL server it
// starts, in a child process of the same test binary: a plain
// `go test ./store` tests both.
const storeEnv = "ASTREINTE_TEST_STORE"

// testPG is the PostgreSQL server of the PostgreSQL run (nil on SQLite):
// openTest gives each test a database of its own on it.
var testPG *pgtest.Server

func TestMain(m *testing.M) {
	switch os.Getenv(storeEnv) {
	case "":
		if code := m.Run(); code != 0 {
			os.Exit(code)
		}
		os.Exit(runOnPostgres())
	case "postgres":
		dir, err := os.MkdirTemp("", "astreinte-pgtest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s, err := pgtest.StartIn(dir)
		if err != nil {
			os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		testPG = s
		code := m.Run()
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		os.RemoveAll(dir)
		os.Exit(code)
	default:
		os.Exit(m.Run())
	}
}

// runOnPostgres runs this test binary again with storeEnv=postgres and
// returns its exit code.
func runOnPostgres() int {
	if _, err := pgtest.Bin("postgres"); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "store: the PostgreSQL run of the store's tests cannot start: %v: install it: %s\n", err, pgtest.Install)
			return 1
		}
		fmt.Printf("store: PostgreSQL run skipped: %v (install: %s)\n", err, pgtest.Install)
		return 0
	}
	var args []string
	for _, a := range os.Args[1:] {
		// The parent's own outputs: the child would overwrite them.
		if !strings.HasPrefix(a, "-test.testlogfile") && !strings.HasPrefix(a, "-test.coverprofile") &&
			!strings.HasPrefix(a, "-test.cpuprofile") && !strings.HasPrefix(a, "-test.memprofile") {
			args = append(args, a)
		}
	}
	fmt.Println("store: the same tests on PostgreSQL")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), storeEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "store: PostgreSQL run:", err)
		return 1
	}
	return 0
}

// openStore opens a fresh, empty store of the back-end under test.
func openStore(t testing.TB) *DB {
	t.Helper()
	var (
		db  *DB
		err error
	)
	if testPG != nil {
		db, err = OpenPostgres(testPG.Database(t))
	} else {
		db, err = Open(t.TempDir() + "/astreinte.db")
	}
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// openNodes opens n stores on one fresh database, as n nodes sharing it
// would (on SQLite, n handles on one file), each with its clock at t0.
func openNodes(t testing.TB, n int) []*DB {
	t.Helper()
	var open func() (*DB, error)
	if testPG != nil {
		dsn := testPG.Database(t)
		open = func() (*DB, error) { return OpenPostgres(dsn) }
	} else {
		path := t.TempDir() + "/astreinte.db"
		open = func() (*DB, error) { return Open(path) }
	}
	var dbs []*DB
	for range n {
		db, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Error(err)
			}
		})
		c := &clock{t: t0}
		db.Now = c.Now
		dbs = append(dbs, db)
	}
	return dbs
}
