package email

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/mailer"
)

// TestNotifyJoinedMessage: the page of a ticket a later call joined
// attaches the new message, says which message from the same caller it is
// and lists the earlier ones, in French and English.
func TestNotifyJoinedMessage(t *testing.T) {
	first, second := fakeWAV(20_000), fakeWAV(30_000)
	tests := []struct {
		lang, subject string
		text          []string
	}{
		{"fr", "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78 (Dupont SARL), 2e message du même appelant",
			[]string{"2e message du même appelant", "Reçu : lun. 02/03/2026 03:04 CET",
				"Message : 0 min 17 s, enregistrement en pièce jointe (ticket-2026-000123-message-2.wav)",
				"Messages précédents :", "  1. lun. 02/03/2026 02:34 CET, 1 min 23 s, non urgent"}},
		{"en", "[URGENT] Ticket 2026-000123 — call from 06 12 34 56 78 (Dupont SARL), 2nd message from the same caller",
			[]string{"2nd message from the same caller", "Message: 0 min 17 s, recording attached (ticket-2026-000123-message-2.wav)",
				"Earlier messages:", "  1. Mon 2026-03-02 02:34 CET, 1 min 23 s, not urgent"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			be := &backend{}
			addr, _ := startSMTP(t, "none", be)
			n := &Notifier{Now: func() time.Time { return now }, Cfg: Config{Config: mailer.Config{Addr: addr, From: "astreinte@example.com", TLS: "none",
				Timeout: 10 * time.Second}, Location: paris}}
			no := notice(t, tt.lang, first)
			later := filepath.Join(t.TempDir(), "later.wav")
			if err := os.WriteFile(later, second, 0o600); err != nil {
				t.Fatal(err)
			}
			no.Ticket.Recordings = []astreinte.Recording{
				{Path: later, Duration: 17 * time.Second, At: now.Add(-30 * time.Second), Urgency: astreinte.Urgent},
				{Path: no.Ticket.Recording, Duration: no.Ticket.Duration, At: now.Add(-30*time.Minute - 30*time.Second), Urgency: astreinte.NotUrgent},
			}
			if _, err := n.Notify(context.Background(), no); err != nil {
				t.Fatal(err)
			}
			msgs := be.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			p := parse(t, msgs[0].data)
			if p.subject != tt.subject {
				t.Errorf("Subject = %q, want %q", p.subject, tt.subject)
			}
			for _, w := range tt.text {
				if !strings.Contains(p.text, w) {
					t.Errorf("text lacks %q:\n%s", w, p.text)
				}
			}
			if !bytes.Equal(p.wav, second) || p.wavName != "ticket-2026-000123-message-2.wav" {
				t.Errorf("attachment %q, %d bytes: want the new message's %d bytes", p.wavName, len(p.wav), len(second))
			}
		})
	}
}

// TestNotifyGrowingRecording: a message paged while the caller still
// speaks is attached as its header describes it, not with the samples
// written since (a header and a length that disagree).
func TestNotifyGrowingRecording(t *testing.T) {
	be := &backend{}
	addr, _ := startSMTP(t, "none", be)
	n := &Notifier{Now: func() time.Time { return now }, Cfg: Config{Config: mailer.Config{Addr: addr, From: "astreinte@example.com", TLS: "none",
		Timeout: 10 * time.Second}, Location: paris}}
	var h [audio.WAVHeaderSize]byte
	audio.PutWAVHeader(&h, 16000)
	filed := append(h[:], bytes.Repeat([]byte{7, 0}, 8000)...)
	path := filepath.Join(t.TempDir(), "growing.wav")
	// What the recorder wrote after the checkpoint, before the next
	// header update.
	if err := os.WriteFile(path, append(filed, bytes.Repeat([]byte{9, 0}, 4000)...), 0o600); err != nil {
		t.Fatal(err)
	}
	no := notice(t, "fr", nil)
	no.Ticket.Recording = path
	no.Ticket.Recordings = nil
	if _, err := n.Notify(context.Background(), no); err != nil {
		t.Fatal(err)
	}
	p := parse(t, be.messages()[0].data)
	if !bytes.Equal(p.wav, filed) {
		t.Fatalf("attachment is %d bytes, want the %d the header describes", len(p.wav), len(filed))
	}
}
