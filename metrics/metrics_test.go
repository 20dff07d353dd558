package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/store"
)

type fakeSIP struct{}

func (fakeSIP) Stats() sip.Stats { return sip.Stats{ActiveCalls: 2, TotalCalls: 7, Rejected: 3} }
func (fakeSIP) MediaTotals() sip.MediaTotals {
	return sip.MediaTotals{Received: 1000, Lost: 4, Late: 1}
}

type fakeGuard struct{}

func (fakeGuard) Refused() map[sip.RefuseReason]uint64 {
	return map[sip.RefuseReason]uint64{sip.RefusedUntrusted: 5, sip.RefusedScanner: 0}
}
func (fakeGuard) SuppressedLogLines() uint64 { return 11 }
func (fakeGuard) RecentRefusals() []sip.Refusal {
	return []sip.Refusal{{At: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC), Source: netip.MustParseAddr("203.0.113.9"), Reason: sip.RefusedScanner, Count: 40}}
}

func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestMetricsFromAStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "astreinte.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	for _, oc := range []astreinte.CallOutcome{astreinte.OutcomeVoicemail, astreinte.OutcomeVoicemail, astreinte.OutcomeCancelled, astreinte.OutcomeInProgress} {
		c := &astreinte.Call{Line: "support", Case: astreinte.CaseOutOfHours, StartedAt: now, Outcome: oc}
		if err := st.CreateCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tk := &astreinte.Ticket{Line: "support", CallerNumber: "0601020304", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours, CreatedAt: now}
	if err := st.CreateTicket(ctx, tk, &store.NewPage{Policy: "default", NextAt: now}); err != nil {
		t.Fatal(err)
	}

	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := New(Options{SIP: fakeSIP{}, Guard: fakeGuard{}, Counts: db,
		Registrations: func() []Registration { return []Registration{{Trunk: "ovh", State: "registered"}} },
		Shipped: func() Shipped {
			return Shipped{Rows: 120, Bytes: 960000, Dropped: 3, Failed: 2, Owed: 4, Repaid: 1, Lost: 6}
		}})
	ready := make(chan struct{})
	close(ready)
	h := &Health{SIPReady: ready, Probe: db.ProbeWrite, Metrics: m}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "next") })
	mux := Handler(m, h, next)

	code, body := scrape(t, mux, "/readyz")
	if code != 200 || !strings.HasPrefix(body, "ready") {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	code, body = scrape(t, mux, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`astreinte_calls_total{case="out_of_hours",line="support",outcome="voicemail"} 2`,
		`astreinte_calls_total{case="out_of_hours",line="support",outcome="cancelled"} 1`,
		`astreinte_calls_active 2`,
		`astreinte_sip_invites_total 7`,
		`astreinte_sip_refused_total{reason="untrusted"} 5`,
		`astreinte_log_lines_suppressed_total 11`,
		`astreinte_rtp_packets_lost_total 4`,
		`astreinte_rtp_packets_late_total 1`,
		`astreinte_escalations_active 1`,
		`astreinte_trunk_registrations{state="registered",trunk="ovh"} 1`,
		`astreinte_sqlite_write_seconds_count 1`,
		`astreinte_recording_rows_shipped_total 120`,
		`astreinte_recording_bytes_shipped_total 960000`,
		`astreinte_recording_rows_unshipped_total{reason="queue_full"} 3`,
		`astreinte_recording_rows_unshipped_total{reason="refused"} 2`,
		`astreinte_recording_rows_unshipped_total{reason="lost"} 6`,
		`astreinte_recording_rows_owed 4`,
		`astreinte_recording_rows_repaid_total 1`,
		`go_goroutines `,
		`process_open_fds `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `outcome="in_progress"`) {
		t.Errorf("calls in progress counted as ended:\n%s", body)
	}
	if code, body := scrape(t, mux, "/status/refusals"); code != 200 ||
		strings.TrimSpace(body) != `[{"at":"2026-11-24T02:00:00Z","source":"203.0.113.9","reason":"scanner","count":40}]` {
		t.Errorf("/status/refusals: %d %s", code, body)
	}
	if _, body := scrape(t, mux, "/ack"); body != "next" {
		t.Errorf("other paths not handed on: %q", body)
	}
	if code, body := scrape(t, mux, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
}

func TestReadyzFailures(t *testing.T) {
	notYet := make(chan struct{})
	h := &Health{
		SIPReady:   notYet,
		Draining:   func() bool { return true },
		Probe:      func(context.Context) (time.Duration, error) { return 0, errors.New("disk full") },
		Registered: func() error { return errors.New("trunk ovh: 403 Forbidden") },
	}
	code, body := scrape(t, Handler(nil, h, http.NotFoundHandler()), "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz: %d", code)
	}
	for _, want := range []string{"sip: not listening", "sip: draining", "database: disk full", "trunks: trunk ovh: 403"} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz lacks %q:\n%s", want, body)
		}
	}
}

func TestProbeWriteFailsOnReadOnlyDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "astreinte.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ProbeWrite(context.Background()); err != nil {
		t.Fatalf("probe on a writable directory: %v", err)
	}
	// The probe's file is the one thing it writes; make it a directory so
	// that writing it fails (root ignores permission bits).
	probe := filepath.Join(dir, ".write-probe")
	if err := removeAndMkdir(probe); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ProbeWrite(context.Background()); err == nil || !strings.Contains(err.Error(), "data directory write") {
		t.Fatalf("probe with an unwritable file: %v", err)
	}
}
