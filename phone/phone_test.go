package phone

import (
	"strings"
	"testing"
)

func TestE164(t *testing.T) {
	tests := []struct {
		in, region, want string
		ok               bool
	}{
		{"+33493918009", "FR", "+33493918009", true},
		{"0493918009", "FR", "+33493918009", true},
		{"33493918009", "FR", "+33493918009", true},
		{"0033493918009", "FR", "+33493918009", true},
		{"04 93 91 80 09", "FR", "+33493918009", true},
		{"04.93.91.80.09", "FR", "+33493918009", true},
		{"tel:+33-4-93-91-80-09", "FR", "+33493918009", true},
		{"sip:+33493918009@trunk.example.net;user=phone", "FR", "+33493918009", true},
		{"+33 (0)4 93 91 80 09", "FR", "+33493918009", true},
		{"0612345678", "FR", "+33612345678", true},
		{"0493918009", "", "+33493918009", true}, // default region FR
		// The same national digits read in another region.
		{"025123456", "BE", "+3225123456", true},
		{"3225123456", "FR", "+3225123456", true},
		{"+41445551234", "FR", "+41445551234", true},
		{"support", "FR", "", false},
		{"astreinte", "FR", "", false},
		{"", "FR", "", false},
		{"12", "FR", "", false},
		{"+33 4 93 ext 12", "FR", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in+"/"+tt.region, func(t *testing.T) {
			got, ok := E164(tt.in, tt.region)
			if got != tt.want || ok != tt.ok {
				t.Errorf("E164(%q, %q) = %q, %v; want %q, %v", tt.in, tt.region, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"+33493918009", "0493918009", true},
		{"0493918009", "33493918009", true},
		{"33493918009", "+33493918009", true},
		{"+33493918009", "+33493918008", false},
		{"0493918009", "0093918009", false},
		{"support", "support", true},
		{"support", "sales", false},
		{"support", "0493918009", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b, "FR"); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDirectoryLookup(t *testing.T) {
	d := NewDirectory("FR")
	d.Add("support", "support")
	d.Add("0493918009", "support")
	d.Add("+33 4 93 91 80 10", "urgences")
	d.Add("2000", "pbx") // a PBX extension: matched as written only
	tests := []struct {
		called, line string
		ok           bool
	}{
		{"support", "support", true},
		{"+33493918009", "support", true},
		{"33493918009", "support", true},
		{"0493918009", "support", true},
		{"0033493918009", "support", true},
		{"0493918010", "urgences", true},
		{"33493918010", "urgences", true},
		{"2000", "pbx", true},
		{"+33493918011", "", false},
		{"sales", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.called, func(t *testing.T) {
			line, ok := d.Lookup(tt.called)
			if line != tt.line || ok != tt.ok {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.called, line, ok, tt.line, tt.ok)
			}
		})
	}
}

func TestValidRegion(t *testing.T) {
	for r, want := range map[string]bool{"FR": true, "BE": true, "CH": true, "US": true, "XX": false, "fr": false, "": false, "FRA": false} {
		if got := ValidRegion(r); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", r, got, want)
		}
	}
}

// FuzzE164: any called user from the network: no panic, and a number
// found is E.164 and stays itself when read again.
func FuzzE164(f *testing.F) {
	for _, s := range []string{"+33493918009", "0493918009", "33493918009", "0033 4 93 91 80 09", "tel:+33-4-93-91-80-09",
		"sip:+33493918009@x;user=phone", "support", "", "+", "00", "+999999999999999999", "0(((", "+33 (0)4"} {
		f.Add(s, "FR")
	}
	f.Add("025123456", "BE")
	f.Add("5551234", "US")
	f.Fuzz(func(t *testing.T, s, region string) {
		n, ok := E164(s, region)
		if !ok {
			if n != "" {
				t.Fatalf("E164(%q) = %q but not ok", s, n)
			}
			return
		}
		if len(n) < 2 || n[0] != '+' || strings.Trim(n[1:], "0123456789") != "" {
			t.Fatalf("E164(%q, %q) = %q: not E.164", s, region, n)
		}
		if again, ok := E164(n, region); !ok || again != n {
			t.Fatalf("E164(%q) = %q, read again %q, %v", s, n, again, ok)
		}
	})
}
