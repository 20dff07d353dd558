package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/store/pgtest"
)

// store copy moves a SQLite installation into a PostgreSQL database that
// the test starts, verifies it, and writes the recordings' sums.
func TestStoreCopyToPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "astreinte.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	audio := []byte("RIFF....WAVE a recorded message")
	rec := filepath.Join(dir, "m.wav")
	if err := os.WriteFile(rec, audio, 0o600); err != nil {
		t.Fatal(err)
	}
	tk := &astreinte.Ticket{CallerNumber: "+33612345678", Recording: rec}
	if err := db.CreateTicket(context.Background(), tk, &store.NewPage{Policy: "default"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dsn := srv.Database(t)
	manifest := filepath.Join(dir, "recordings.sha256")

	out, errOut, code := runCLI("store", "copy", "--from", "sqlite:"+path, "--to", "postgres:"+dsn, "--manifest", manifest)
	if code != 0 {
		t.Fatalf("store copy: status %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"tickets ", "copied from " + path, "and verified", "1 recording(s) read (31 bytes)."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sum := sha256.Sum256(audio)
	if b, err := os.ReadFile(manifest); err != nil || string(b) != hex.EncodeToString(sum[:])+"  "+rec+"\n" {
		t.Errorf("manifest %q, %v", b, err)
	}
	pg, err := store.OpenPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	got, err := pg.TicketByNumber(context.Background(), tk.Number)
	if err != nil || got.Recording != rec {
		t.Errorf("ticket in PostgreSQL: %+v, %v", got, err)
	}

	// Again: the destination has rows now.
	if out, errOut, code := runCLI("store", "copy", "--from", "sqlite:"+path, "--to", dsn); code != 1 || !strings.Contains(errOut, "empty store") {
		t.Errorf("second copy: status %d, %s%s; want 1 and refused", code, out, errOut)
	}
	if _, errOut, code := runCLI("store", "copy", "--from", "sqlite:"+path); code != 2 || !strings.Contains(errOut, "--to") {
		t.Errorf("without --to: status %d, %s", code, errOut)
	}
	if _, errOut, code := runCLI("store", "copy", "--from", "sqlite:"+filepath.Join(dir, "none.db"), "--to", dsn); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("from a missing file: status %d, %s", code, errOut)
	}
}
