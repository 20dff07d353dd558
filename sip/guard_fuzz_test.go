package sip

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// torturePaths are the RFC 4475 messages and broken SDP bodies, the seeds
// of the fuzz targets that read SIP.
func torturePaths() []string {
	var out []string
	for _, g := range []string{"valid/*.dat", "invalid/*.dat"} {
		m, _ := filepath.Glob(filepath.Join("testdata", "torture", g))
		out = append(out, m...)
	}
	return out
}

// FuzzInboundRequest runs what we do with an inbound message before and
// after sipgo parses it: the guard's read filter (User-Agent scan, rate),
// and on a parsed INVITE the digest check, the SDP offer and DTMF INFO
// bodies. Nothing may panic; a scanner's message is dropped. Seeds: the
// RFC 4475 torture messages, committed corpus in testdata/fuzz.
func FuzzInboundRequest(f *testing.F) {
	for _, p := range torturePaths() {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK2\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:support@127.0.0.1>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n" +
		"Authorization: Digest username=\"pbx\", realm=\"astreinte\", nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", uri=\"sip:support@127.0.0.1\", response=\"0\", qop=auth, nc=zz, cnonce=\"\"\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: 0\r\n\r\n"))
	g := NewGuard(limited(GuardConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Accounts: map[string]string{"pbx": "a long secret"},
		ScannerUserAgents: []string{"friendly-scanner", "sipvicious"}, RequestsPerSecond: 1e9, RequestsBurst: 1 << 30,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}))
	props := sip.TransportReadProps{Transport: "udp", RemoteAddr: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 5060}}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := g.readFilter(props, b)
		if err != nil {
			t.Fatalf("UDP read filter returned an error (it would stop sipgo's reader): %v", err)
		}
		// Responses are not scanned: a scanner sends requests.
		if ua := userAgent(b); ua != nil && g.isScanner(ua) && out != nil && !bytes.HasPrefix(b, []byte("SIP/")) {
			t.Fatalf("scanner %q let through", ua)
		}
		if out == nil {
			return
		}
		msg, err := sip.NewParser().ParseSIP(out)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("192.0.2.9:5060")
		if user, v, _ := g.checkDigest(req, netip.MustParseAddr("192.0.2.9")); v == authOK && user == "" {
			t.Fatal("authenticated without a user")
		}
		if body := req.Body(); len(body) > 0 {
			_, _ = parseSDP(body)
			_, _ = parseDTMFRelay(string(body))
		}
	})
}

// FuzzDigestNonce checks that only nonces we made, for the address they
// were made for, are valid.
func FuzzDigestNonce(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte{192, 0, 2, 1})
	f.Add("", []byte{127, 0, 0, 1})
	now := time.Unix(1_800_000_000, 0)
	g := NewGuard(limited(GuardConfig{Now: func() time.Time { return now }}))
	f.Fuzz(func(t *testing.T, nonce string, ip []byte) {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		if _, valid := g.checkNonce(nonce, a); valid && nonce != g.makeNonce(a, parseNonceTime(nonce)) {
			t.Fatalf("foreign nonce %q accepted for %s", nonce, a)
		}
	})
}
