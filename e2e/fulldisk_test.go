package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFullDiskStillPages_SIPp: the data directory (the database) is on a
// small tmpfs filled to the last byte; the recordings are elsewhere (a
// symlink), so only the ticket's write fails. A message left then still
// pages the technician at once, from memory: her phone (SIPp) rings and
// her email arrives. Once space is freed the ticket is written, without a
// restart, with the story on its timeline, and paging goes on from the
// store where the page from memory left it.
func TestFullDiskStillPages_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := testDir(t)
	disk := filepath.Join(dir, "disk")
	recs := filepath.Join(dir, "recordings")
	for _, d := range []string{disk, recs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v\n%s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here: %v\n%s", err, out)
	}
	t.Cleanup(func() { // after the service has stopped (cleanups run last first)
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v\n%s", disk, err, out)
		}
	})
	if err := os.Symlink(recs, filepath.Join(disk, "recordings")); err != nil {
		t.Fatal(err)
	}

	mail := startMailSink(t)
	phone := startSIPpUAS(t, "uas_ringing.xml")
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	o := pagingOverrides(people, nil, tiers, mail, nil, "out_of_hours")
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "4s"}
	o["data_dir"] = disk
	svc := startAstreinte(t, o)
	svc.dataDir = disk

	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	leaveMessageSIPp(t, svc, "0622222222")

	if _, ok := poll(20*time.Second, phone.invites, func(n int) bool { return n >= 1 }); !ok {
		t.Fatalf("alice's phone did not ring with the disk full; log:\n%s", tail(svc.log(), 40))
	}
	msgs, ok := mail.waitTo("alice@e2e.test", 1, 20*time.Second)
	if !ok {
		t.Fatalf("alice was not emailed with the disk full; log:\n%s", tail(svc.log(), 40))
	}
	if len(msgs[0].wav) == 0 {
		t.Errorf("the email from memory should carry the recording: %q", msgs[0].subject)
	}
	if !strings.Contains(svc.log(), "kept in memory") {
		t.Fatalf("the ticket's write did not fail: the test proves nothing; log:\n%s", tail(svc.log(), 40))
	}
	if ts := svc.tickets(); len(ts) != 0 {
		t.Fatalf("a ticket was written on a full disk: %+v", ts)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	tk, ok := svc.waitTicket(30 * time.Second)
	if !ok {
		t.Fatalf("the ticket was not written once space was freed; log:\n%s", tail(svc.log(), 40))
	}
	t.Logf("ticket %s written %s after space was freed", tk.Number, time.Since(freedAt).Round(100*time.Millisecond))
	if !strings.HasPrefix(tk.Recording, recs) && !strings.HasPrefix(tk.Recording, filepath.Join(disk, "recordings")) {
		t.Errorf("ticket recording %q, want the message under %s", tk.Recording, recs)
	}
	// The page from memory is handed over once its step ends (the phone
	// rings for up to 4 s): the stored page then goes on at step 1.
	if _, ok := poll(20*time.Second, func() int { _, step := svc.pageState(tk.ID); return step }, func(n int) bool { return n >= 1 }); !ok {
		t.Errorf("the page from memory was not handed over to the store; log:\n%s", tail(svc.log(), 30))
	}
	evs := svc.events(tk.ID)
	for _, want := range []string{"paging from memory", "Alice Martin", "written", "paging goes on from the store at step 1"} {
		if !hasEvent(evs, "", "", "", want) && !strings.Contains(timeline(evs), want) {
			t.Errorf("the timeline lacks %q:\n%s", want, timeline(evs))
		}
	}
	if st, step := svc.pageState(tk.ID); st != "active" || step != 1 {
		t.Errorf("page %s at step %d, want active at step 1 (tier 1 paged from memory, its 10-minute delay running)", st, step)
	}
	if n := phone.invites(); n != 1 {
		t.Errorf("alice's phone was called %d times, want once (from memory; the store does not page step 0 again)", n)
	}
	if out, err := svc.cli("tickets", "show", tk.Number); err != nil || !strings.Contains(out, "paging from memory") {
		t.Errorf("tickets show (err=%v):\n%s", err, out)
	}
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			return
		}
	}
}
