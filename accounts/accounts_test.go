package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/store"
)

func newService(t *testing.T) (*accounts.Service, *time.Time) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	s := accounts.New(db, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Cost = 4
	return s, &now
}

func TestUsersAndSessions(t *testing.T) {
	s, now := newService(t)
	ctx := context.Background()
	if _, err := s.AddUser(ctx, "alice", accounts.Technician, "alice", "short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if _, err := s.AddUser(ctx, "alice", "boss", "", "long enough"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	u, err := s.AddUser(ctx, "alice", accounts.Technician, "alice", "long enough")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == "long enough" || len(u.PasswordHash) < 50 {
		t.Fatalf("password stored as %q", u.PasswordHash)
	}
	if _, err := s.AddUser(ctx, "alice", accounts.Admin, "", "long enough"); !errors.Is(err, accounts.ErrExists) {
		t.Fatalf("second alice: %v", err)
	}
	secret, _, _, err := s.Login(ctx, "alice", "long enough", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := s.Session(ctx, secret); err != nil || got.Name != "alice" || got.Actor() != "alice" {
		t.Fatalf("session: %+v %v", got, err)
	}
	// A new password ends the sessions.
	if err := s.SetPassword(ctx, "alice", "another one"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, secret); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("session after passwd: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "alice", "long enough", "192.0.2.1"); !errors.Is(err, accounts.ErrBadLogin) {
		t.Fatalf("old password: %v", err)
	}
	// Sessions expire.
	secret, _, _, err = s.Login(ctx, "alice", "another one", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(s.SessionLength)
	if _, _, err := s.Session(ctx, secret); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if err := s.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveUser(ctx, "alice"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	s, now := newService(t)
	ctx := context.Background()
	if _, err := s.AddUser(ctx, "alice", accounts.Technician, "", "long enough"); err != nil {
		t.Fatal(err)
	}
	// One address guessing many names is stopped, even for a real account.
	for i := range accounts.MaxPerAddress {
		if _, _, _, err := s.Login(ctx, fmt.Sprintf("guess%d", i), "x", "198.51.100.7"); !errors.Is(err, accounts.ErrBadLogin) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if _, _, _, err := s.Login(ctx, "alice", "long enough", "198.51.100.7"); !errors.Is(err, accounts.ErrRateLimited) {
		t.Fatalf("from the guessing address: %v", err)
	}
	if _, _, _, err := s.Login(ctx, "alice", "long enough", "192.0.2.1"); err != nil {
		t.Fatalf("from another address: %v", err)
	}
	*now = now.Add(accounts.Window)
	if _, _, _, err := s.Login(ctx, "alice", "long enough", "198.51.100.7"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestTokens(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	secret, tok, err := s.AddToken(ctx, "helpdesk", accounts.Technician, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TokenBySecret(ctx, secret)
	if err != nil || got.ID != tok.ID || got.LastUsed.IsZero() {
		t.Fatalf("token: %+v %v", got, err)
	}
	if _, err := s.TokenBySecret(ctx, secret+"x"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("altered secret: %v", err)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "helpdesk" {
		t.Fatalf("tokens %v %v", list, err)
	}
}
