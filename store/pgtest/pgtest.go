// Package pgtest starts a real PostgreSQL server for tests: initdb in a
// temporary directory, postgres listening on a loopback port chosen at run
// time, stopped by its process id when the test (or the test binary) ends.
// The store's tests and the end-to-end tests share it.
//
// Without PostgreSQL's programs the tests that need it are skipped, or fail
// under CI=true with what to install.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Install says how to get PostgreSQL's server programs on Debian.
const Install = "apt-get install -y postgresql (PostgreSQL's initdb and postgres, found on PATH or in /usr/lib/postgresql/*/bin)"

// Server is a running PostgreSQL server.
type Server struct {
	// Dir is the data directory, Port the loopback TCP port.
	Dir  string
	Port int

	cmd   *exec.Cmd
	done  chan struct{}
	log   *bytes.Buffer
	seq   atomic.Int64
	admin *sql.DB
}

// Start starts a server for the test, stopped in t.Cleanup. It skips the
// test when PostgreSQL is not installed, and fails it under CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := Bin("postgres"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: %v: install it: %s", err, Install)
		}
		t.Skipf("pgtest: %v (install: %s)", err, Install)
	}
	s, err := StartIn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Bin finds one of PostgreSQL's programs: on PATH, else in Debian's
// /usr/lib/postgresql/VERSION/bin (newest first).
func Bin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		p := filepath.Join(dirs[i], name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL's %s is not installed", name)
}

// StartIn creates a cluster in dir (which must be empty or absent) and
// starts its server. The caller stops it with Stop. The server also dies
// with the process that started it.
func StartIn(dir string) (*Server, error) {
	initdb, err := Bin("initdb")
	if err != nil {
		return nil, err
	}
	postgres, err := Bin("postgres")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "pgdata")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	cred, err := credential(dir, data)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(initdb, "-D", data, "-U", "astreinte", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		s, err := start(postgres, data, cred)
		if err == nil || attempt == 4 {
			return s, err
		}
	}
}

// credential is who runs the server: PostgreSQL refuses to run as root, so
// root hands the directory to the "postgres" user (Debian's package makes
// it) and runs the programs as that user.
func credential(dir, data string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, PostgreSQL needs an unprivileged user: %v (%s)", err, Install)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The user must reach the directory: let it through the parents
	// (t.TempDir makes them 0700) and own the data directory.
	for p := dir; p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				return nil, err
			}
		}
	}
	if err := os.Chown(data, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs postgres on a free loopback port and waits until it accepts
// connections.
func start(postgres, data string, cred *syscall.Credential) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: data, Port: port, done: make(chan struct{}), log: &bytes.Buffer{}}
	s.cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Pdeathsig kills the server if this process dies first (a test
	// binary killed by a timeout); it is tied to the thread that started
	// it, hence the locked thread that lives as long as the server.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		s.cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", s.dsn("postgres"))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = db.PingContext(ctx)
			cancel()
			if err == nil {
				s.admin = db
				return s, nil
			}
			db.Close()
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("pgtest: postgres exited: %s", s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("pgtest: postgres did not accept connections in 30 s: %s", s.log.String())
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://astreinte@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database and returns its connection string.
func (s *Server) NewDatabase() (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.seq.Add(1))
	if _, err := s.admin.Exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.dsn(name), nil
}

// Database is NewDatabase for a test, failing it on error.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	dsn, err := s.NewDatabase()
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Stop stops the server by its process id (a fast shutdown: SIGINT), and
// kills it if it has not exited in 10 s.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close()
		s.admin = nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgtest: stop postgres %d: %w", s.cmd.Process.Pid, err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("pgtest: postgres %d did not stop in 10 s: killed", s.cmd.Process.Pid)
	}
}
