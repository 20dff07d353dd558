package tickets

import (
	"testing"
	"time"
)

func TestParseWork(t *testing.T) {
	for in, want := range map[string]time.Duration{"30m": 30 * time.Minute, "1h15": 75 * time.Minute,
		"1h15m": 75 * time.Minute, "1:15": 75 * time.Minute, "90": 90 * time.Minute, "2h": 2 * time.Hour, "30h": 30 * time.Hour} {
		if got, err := ParseWork(in); err != nil || got != want {
			t.Errorf("ParseWork(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "30s", "abc", "1:75", "-5", "1001h"} {
		if d, err := ParseWork(in); err == nil {
			t.Errorf("ParseWork(%q) = %v, want an error", in, d)
		}
	}
}
