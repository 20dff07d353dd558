package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Lines) != 1 || cfg.Lines[0].Numbers[0] != "support" || cfg.SIP.Listen != "0.0.0.0:5060" {
		t.Fatalf("default: %+v", cfg)
	}
	if lo, hi, err := cfg.SIP.RTPRange(); err != nil || lo != 10000 || hi != 20000 {
		t.Fatalf("rtp range %d-%d %v", lo, hi, err)
	}
	if cfg.Lines[0].Record.MaxLength != 3*time.Minute || cfg.Lines[0].Language != "fr" {
		t.Fatalf("line defaults: %+v", cfg.Lines[0])
	}
}

func TestEmptyFileGetsDefaults(t *testing.T) {
	cfg, err := Parse([]byte("# nothing\n"), "empty.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "./data" || len(cfg.Lines) != 1 || cfg.Lines[0].UrgencyTimeout == 0 {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
}

func TestProblemsHaveLines(t *testing.T) {
	yaml := `data_dir: /tmp/x
sip:
  listen: 127.0.0.1
  rtp_ports: 20000-10000
lines:
  - name: support
    numbers: [support]
    language: de
    open_action: redirect
    srtp: always
  - name: support
    numbers: [support]
calendar:
  timezone: Europe/Pariss
`
	_, err := Parse([]byte(yaml), "bad.yaml")
	var p *Problems
	if !errors.As(err, &p) {
		t.Fatalf("want *Problems, got %v", err)
	}
	msg := noColumns(err.Error())
	for _, want := range []string{
		"bad.yaml:3: sip.listen:",
		"bad.yaml:4: sip.rtp_ports:",
		"bad.yaml:8: lines[0].language: \"de\"",
		"lines[0].redirect_to: open_action redirect needs a SIP URI",
		"bad.yaml:10: lines[0].srtp: \"always\": want offered or required",
		"bad.yaml:11: lines[1].name: \"support\" is used by another line",
		"lines[1].numbers[0]: \"support\" is already answered by line \"support\"",
		"bad.yaml:14: calendar.timezone:",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestUnknownKeyAndBadTypes(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"unknown key", "sip:\n  lisen: 1.2.3.4:5060\n", `bad.yaml:2:3: sip.lisen: unknown key "lisen": want one of listen, transports`},
		{"unknown key, spelling", "sip:\n  lisen: 1.2.3.4:5060\n", `; did you mean "listen"?`},
		{"bad duration", "lines:\n  - name: a\n    numbers: [a]\n    answer_after: soon\n", "bad.yaml:4:"},
		{"not yaml", "sip: [\n", "bad.yaml:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "bad.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestExampleIsTheDefault(t *testing.T) {
	if _, err := Parse(Example(), "example"); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultBaseURL(t *testing.T) {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	for _, tt := range []struct{ listen, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://" + host + ":8080"},
		{":9000", "http://" + host + ":9000"},
		{"[::]:8080", "http://" + host + ":8080"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"off", ""},
	} {
		if got := defaultBaseURL(tt.listen); got != tt.want {
			t.Errorf("defaultBaseURL(%q) = %q, want %q", tt.listen, got, tt.want)
		}
	}
	c, err := Parse([]byte("http:\n  listen: 127.0.0.1:8181\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Paging.BaseURL != "http://127.0.0.1:8181" {
		t.Errorf("base_url %q derived from http.listen", c.Paging.BaseURL)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"paging:\n  base_url: https://old.example.com/\n", "https://old.example.com"},
		{"http:\n  base_url: https://support.example.com\npaging:\n  base_url: https://old.example.com\n", "https://support.example.com"},
	} {
		c, err := Parse([]byte(tt.yaml), "t.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTP.BaseURL != tt.want || c.Paging.BaseURL != tt.want {
			t.Errorf("%q: http.base_url %q, paging.base_url %q, want %q", tt.yaml, c.HTTP.BaseURL, c.Paging.BaseURL, tt.want)
		}
	}
}

func TestEmailCAFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tt := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.pem"), "no such file"},
		{notPEM, "no PEM certificate"},
	} {
		y := "paging:\n  email:\n    smtp: smtp.example.com:587\n    from: a@example.com\n    ca_file: " + tt.file + "\n"
		_, err := Parse([]byte(y), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), "paging.email.ca_file") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ca_file %s: %v", tt.file, err)
		}
	}
}

func TestLineDefaultsForMail(t *testing.T) {
	c, err := Parse([]byte("http:\n  base_url: https://support.example.com\nlines:\n  - name: hotline\n    numbers: [hotline]\n    language: en\n  - name: support\n    numbers: [support]\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultLine() != "hotline" || c.Mail.Line != "hotline" || c.CustomerLanguage() != "en" || !c.HTTP.SecureCookies() {
		t.Errorf("default line %q, mail line %q, customer language %q, secure cookies %v", c.DefaultLine(), c.Mail.Line, c.CustomerLanguage(), c.HTTP.SecureCookies())
	}
	c, err = Parse([]byte("http:\n  listen: 127.0.0.1:8080\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.CustomerLanguage() != "fr" || c.HTTP.SecureCookies() {
		t.Errorf("default configuration: customer language %q, secure cookies %v", c.CustomerLanguage(), c.HTTP.SecureCookies())
	}
}
