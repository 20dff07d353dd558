package sip

import (
	"strings"
	"testing"

	numbers "github.com/astreinte/astreinte/phone"
	"github.com/emiago/sipgo/sip"
)

func TestLineForCalledNumber(t *testing.T) {
	dir := numbers.NewDirectory("FR")
	dir.Add("0493918009", "support")
	dir.Add("+33493918010", "urgences")
	dir.Add("support", "support")
	invite := func(ruri, to string, extra ...string) *sip.Request {
		raw := "INVITE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n" +
			"From: <sip:caller@192.0.2.9>;tag=1\r\nTo: " + to + "\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n" +
			strings.Join(append(extra, ""), "\r\n") + "Content-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return msg.(*sip.Request)
	}
	tests := []struct {
		name, header string
		req          *sip.Request
		line, called string
		ok           bool
	}{
		{"E.164 Request-URI", "", invite("sip:+33493918009@198.51.100.1", "<sip:+33493918009@198.51.100.1>"), "support", "+33493918009", true},
		{"international without +", "", invite("sip:33493918009@198.51.100.1", "<sip:x@y>"), "support", "33493918009", true},
		{"national", "", invite("sip:0493918010@198.51.100.1", "<sip:x@y>"), "urgences", "0493918010", true},
		{"contact in Request-URI, number in To", "", invite("sip:astreinte-ovh@192.0.2.1:5070", "<sip:0033493918009@trunk.example.net>"), "support", "0033493918009", true},
		{"number in P-Called-Party-ID first", "P-Called-Party-ID",
			invite("sip:astreinte-ovh@192.0.2.1:5070", "<sip:+33493918009@trunk.example.net>", "P-Called-Party-ID: <sip:+33493918010@trunk.example.net;user=phone>"),
			"urgences", "+33493918010", true},
		{"tel URI in the header", "P-Called-Party-ID",
			invite("sip:astreinte-ovh@192.0.2.1:5070", "<sip:x@y>", "P-Called-Party-ID: <tel:+33-4-93-91-80-10>"),
			"urgences", "+33-4-93-91-80-10", true},
		{"header configured but absent", "P-Called-Party-ID", invite("sip:astreinte-ovh@192.0.2.1", "<sip:0493918009@y>"), "support", "0493918009", true},
		{"header not configured is ignored", "",
			invite("sip:astreinte-ovh@192.0.2.1", "<sip:x@y>", "P-Called-Party-ID: <sip:+33493918010@y>"), "", "astreinte-ovh", false},
		{"unknown number", "", invite("sip:+33493918099@198.51.100.1", "<sip:+33493918099@y>"), "", "+33493918099", false},
		{"user name", "", invite("sip:support@198.51.100.1", "<sip:support@y>"), "support", "support", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{Lines: dir.Lookup, CalledHeader: tt.header}}
			line, called, ok := s.lineFor(tt.req)
			if line != tt.line || called != tt.called || ok != tt.ok {
				t.Errorf("lineFor = %q, %q, %v; want %q, %q, %v", line, called, ok, tt.line, tt.called, tt.ok)
			}
		})
	}
}

func TestAddressUser(t *testing.T) {
	tests := map[string]string{
		`<sip:+33493918009@example.net;user=phone>`:    "+33493918009",
		`"Support" <sip:0493918009@example.net>;tag=x`: "0493918009",
		`sip:33493918009@example.net;user=phone`:       "33493918009",
		`<tel:+33493918009;phone-context=example.net>`: "+33493918009",
		`tel:0493918009`: "0493918009",
		`garbage`:        "",
		`<sips:+33493918009@example.net:5061;transport=tls>;x=y`: "+33493918009",
	}
	for in, want := range tests {
		if got := addressUser(in); got != want {
			t.Errorf("addressUser(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCalledUsers: any INVITE's called-number places: no panic.
func FuzzCalledUsers(f *testing.F) {
	for _, s := range []string{`<sip:+33493918009@example.net;user=phone>`, `<tel:+33493918009>`, `"x" <sips:a@b:5061>;tag=1`,
		`sip:33493918009@x`, `<`, `<tel:`, `tel:;`, ``, `<sip:@>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		u := addressUser(v)
		if len(u) > len(v) {
			t.Fatalf("addressUser(%q) = %q: longer than its input", v, u)
		}
	})
}
