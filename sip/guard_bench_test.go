package sip

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"
)

var benchInvite = []byte("INVITE sip:support@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK-1\r\n" +
	"From: <sip:100@203.0.113.9>;tag=1\r\nTo: <sip:support@192.0.2.10>\r\nCall-ID: bench\r\nCSeq: 1 INVITE\r\n" +
	"Contact: <sip:100@203.0.113.9>\r\nUser-Agent: Linphone/5.2\r\nContent-Length: 0\r\n\r\n")

// BenchmarkReadFilter is the cost of the guard for each datagram: a
// source within its rate (passed on) and a flooding one (dropped).
func BenchmarkReadFilter(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"passed", 1e12}, {"dropped", 1e-9}} {
		b.Run(tc.name, func(b *testing.B) {
			g := NewGuard(limited(GuardConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: slog.New(slog.DiscardHandler),
				ScannerUserAgents: []string{"friendly-scanner", "sipvicious", "sipcli", "vaxsipuseragent"},
				RequestsPerSecond: tc.rate, RequestsBurst: 1}))
			props := sip.TransportReadProps{Transport: "UDP", RemoteAddr: &net.UDPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 5060}}
			b.ReportAllocs()
			for b.Loop() {
				g.readFilter(props, benchInvite)
			}
		})
	}
}
