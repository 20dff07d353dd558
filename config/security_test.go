package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecurityDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
	}{
		{"built-in default file", string(defaultYAML)},
		{"no security section", "data_dir: /tmp/x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Security.WithDefaults()
			trusted := s.TrustedPrefixes()
			for _, a := range []string{"127.0.0.1", "::1", "192.168.1.20", "10.1.2.3", "172.20.0.1", "fe80::1", "fd00::5"} {
				if !containsAddr(trusted, netip.MustParseAddr(a)) {
					t.Errorf("%s not trusted by default", a)
				}
			}
			for _, a := range []string{"203.0.113.9", "8.8.8.8", "2001:db8::1", "172.32.0.1"} {
				if containsAddr(trusted, netip.MustParseAddr(a)) {
					t.Errorf("%s trusted by default", a)
				}
			}
			if s.Refuse != RefuseReject || s.Limits.MaxCalls != 200 || s.Limits.CallsPerSource != 50 || s.LogPerMinute != 5 {
				t.Errorf("defaults: %+v", s)
			}
			if len(s.ScannerUserAgents) == 0 || s.ScannerUserAgents[0] != "friendly-scanner" {
				t.Errorf("scanner user agents: %v", s.ScannerUserAgents)
			}
		})
	}
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func TestSecurityExplicit(t *testing.T) {
	cfg, err := Parse([]byte(`security:
  trusted: [127.0.0.1/32, 127.0.0.3]
  refuse: drop
  accounts:
    - {username: pbx, password: "correct horse battery"}
  limits:
    calls_per_source: 5
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Security.WithDefaults()
	got := s.TrustedPrefixes()
	if len(got) != 2 || got[1] != netip.MustParsePrefix("127.0.0.3/32") {
		t.Fatalf("trusted: %v", got)
	}
	if s.Refuse != RefuseDrop || s.Limits.CallsPerSource != 5 || s.Limits.MaxCalls != 200 || s.Accounts[0].Username != "pbx" {
		t.Fatalf("security: %+v", s)
	}
}

func TestSecurityProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"bad values", `data_dir: /tmp/x
security:
  trusted:
    - 10.0.0.0/8
    - 300.1.1.1
  refuse: ignore
  accounts:
    - {username: pbx, password: short}
  limits:
    calls_per_source: 500
`, []string{
			`x.yaml:5: security.trusted[1]: "300.1.1.1"`,
			`x.yaml:6: security.refuse: "ignore": want reject or drop`,
			`x.yaml:8: security.accounts[0].password: use at least 12`,
			`x.yaml:10: security.limits.calls_per_source: 500 is above max_calls (200)`,
		}},
		{"unknown key", `security:
  limits:
    calls_per_secnd: 3
`, []string{`x.yaml:3: security.limits.calls_per_secnd: unknown key "calls_per_secnd"`, `did you mean "calls_per_second"?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "x.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(noColumns(err.Error()), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

// FuzzParse feeds the configuration parser arbitrary files: it must return
// a configuration or problems, never panic. The seed corpus (committed in
// testdata/fuzz/FuzzParse) holds the default file and broken variants.
func FuzzParse(f *testing.F) {
	f.Add(defaultYAML)
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b, "fuzz.yaml")
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", cfg != nil, err)
		}
		if cfg != nil {
			cfg.Security.WithDefaults().TrustedPrefixes()
		}
	})
}

func TestSecurityTrustNobody(t *testing.T) {
	cfg, err := Parse([]byte("security:\n  trusted: []\n  refuse: drop\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Security.WithDefaults().TrustedPrefixes(); len(got) != 0 {
		t.Fatalf("trusted: [] gave %v, want no trusted network", got)
	}
}
