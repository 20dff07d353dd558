package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/sip"
)

// TestStatusCommand: `astreinte status` reaches a running SIP server
// through the status socket; without one it says astreinte is not running.
func TestStatusCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "astreinte.yaml")
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+data+"\nhttp: {listen: \"off\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	status := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(context.Background(), append(append([]string{"status"}, args...), "--config", cfgPath), strings.NewReader(""), &out, &out)
		return out.String(), code
	}

	if out, code := status(); code != 1 || !strings.Contains(out, "astreinte is not running") {
		t.Errorf("without a service: exit %d:\n%s", code, out)
	}

	log := slog.New(slog.DiscardHandler)
	srv, err := sip.NewServer(sip.Config{Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 40400, RTPMax: 40500, Logger: log,
		Lines: func(string) (string, bool) { return "", false }, Handler: sip.HandlerFunc(func(context.Context, *sip.Call) {})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.ListenAndServe(ctx)
	<-srv.Ready()
	defer srv.Shutdown(context.Background())
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	refused := []RefusedSource{{Source: "203.0.113.9", Reason: "scanner", Count: 412, Last: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)}}
	st, err := startStatus(cfg, statusSource{SIP: srv}, log)
	if err != nil {
		t.Fatal(err)
	}
	out, code := status()
	if code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"SIP " + srv.Addr(), "Registrations: none configured", "Calls in progress: none", "Last refused sources: not available"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	st.close()
	if _, err := os.Stat(statusSocket(cfg)); !os.IsNotExist(err) {
		t.Errorf("socket left behind after close: %v", err)
	}

	// With the admission guard's hook.
	st, err = startStatus(cfg, statusSource{SIP: srv, RefusedSources: func() []RefusedSource { return refused }}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if _, err := startStatus(cfg, statusSource{SIP: srv}, log); err == nil || !strings.Contains(err.Error(), "another astreinte") {
		t.Errorf("a second service on the same data directory: %v", err)
	}
	out, _ = status()
	if !strings.Contains(out, "203.0.113.9") || !strings.Contains(out, "scanner") || !strings.Contains(out, "412") {
		t.Errorf("refused sources missing:\n%s", out)
	}
	out, code = status("--json")
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
		t.Fatalf("status --json (exit %d): %v\n%s", code, err, out)
	}
	if r.SIP != srv.Addr() || len(r.RefusedSources) != 1 || r.RefusedSources[0].Count != 412 || r.Registrations == nil {
		t.Errorf("json report: %+v", r)
	}
}
