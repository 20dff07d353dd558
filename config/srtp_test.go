package config

import "testing"

func TestLineRequiresSRTP(t *testing.T) {
	cfg, err := Parse([]byte(`lines:
  - name: public
    numbers: ["0493918009"]
    srtp: required
  - name: internal
    numbers: [support]
`), "srtp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]bool{"public": true, "internal": false, "unknown": false} {
		if got := cfg.LineRequiresSRTP(line); got != want {
			t.Errorf("LineRequiresSRTP(%q) = %v, want %v", line, got, want)
		}
	}
}
