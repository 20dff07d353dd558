package e2e

import (
	"strings"
	"testing"

	"github.com/astreinte/astreinte/store/pgtest"
)

// The service on PostgreSQL (store.driver: postgres) instead of its SQLite
// file: a caller's message becomes a ticket with its recording in the
// shared database, and the CLI, reading the same configuration, lists it.
func TestServeOnPostgres_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	pg := pgtest.Start(t)
	svc := startAstreinte(t, map[string]any{"store": map[string]any{"driver": "postgres", "dsn": pg.Database(t)}})
	leaveMessageSIPp(t, svc, "0612345678")
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Status: "new", Line: "support", CallerNumber: "0612345678", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "")
	// The caller talks for 3 s after the beep (leaveMessageSIPp).
	if pcm := readWAV8k(t, tk.Recording); len(pcm) < 2*8000 {
		t.Errorf("recording %s holds %d samples, want ≥ 2 s", tk.Recording, len(pcm))
	}
	if fileExists(svc.dataDir + "/astreinte.db") {
		t.Error("a SQLite file was created in data_dir beside the PostgreSQL store")
	}
	out, err := svc.cli("tickets", "show", tk.Number)
	if err != nil || !strings.Contains(out, "0612345678") {
		t.Errorf("tickets show %s on PostgreSQL (err=%v):\n%s", tk.Number, err, out)
	}
	// /readyz probes the PostgreSQL writer; /metrics counts from it.
	if code, body := svc.get("/readyz"); code != 200 || !strings.HasPrefix(body, "ready") {
		t.Errorf("/readyz: %d %s", code, body)
	}
	if code, body := svc.get("/metrics"); code != 200 || !strings.Contains(body, "astreinte_") {
		t.Errorf("/metrics: %d %.300s", code, body)
	}
}
