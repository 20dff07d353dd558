package sip

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestStackLoggerCutsLongValues(t *testing.T) {
	var buf bytes.Buffer
	l := stackLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	garbage := strings.Repeat("A", 60000)
	l.Error("failed to parse", "data", garbage, "raw", []byte(garbage), "n", 60000, "short", "kept")
	out := buf.String()
	if len(out) > 1000 {
		t.Errorf("log line of %d bytes", len(out))
	}
	for _, want := range []string{"failed to parse", "…(cut)", "n=60000", "short=kept", "component=sipgo"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from %s", want, out)
		}
	}
	buf.Reset()
	l.With("call", "x").Info("fine", "v", "small")
	if out := buf.String(); !strings.Contains(out, "v=small") || strings.Contains(out, "cut") {
		t.Errorf("short values must pass unchanged: %s", out)
	}
}
