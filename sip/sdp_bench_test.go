package sip

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/astreinte/astreinte/sip/media"
)

// benchOffers are offers as callers send them: SIPp (the load benchmark's
// caller), a softphone listing wideband codecs first (baresip), and a
// carrier trunk with G.729, ptime and maxptime.
var benchOffers = []struct {
	name  string
	body  []byte
	codec media.Codec
}{
	{"sipp-pcmu", sdpOf("v=0", "o=sipp 53655765 2353687637 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		"m=audio 6000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv"), media.PCMU},
	{"softphone-opus-g722-pcma", sdpOf("v=0", "o=- 2890844526 2890844526 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
		"m=audio 12000 RTP/AVP 111 9 8 0 101", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 stereo=1;sprop-stereo=1",
		"a=rtpmap:9 G722/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=rtcp-mux", "a=ptime:20", "a=sendrecv",
		"a=label:1", "a=ssrc:3210529427 cname:x@example"), media.PCMA},
	{"trunk-pcma-g729", sdpOf("v=0", "o=Trunk 1234 5678 IN IP4 203.0.113.5", "s=SBC call", "c=IN IP4 203.0.113.5", "t=0 0",
		"m=audio 31000 RTP/AVP 8 18 0 96", "a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000", "a=fmtp:18 annexb=no",
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16",
		"a=ptime:20", "a=maxptime:40", "a=sendrecv"), media.PCMA},
}

// BenchmarkSDPOfferAnswer is the SDP work of one incoming call: parse the
// caller's offer, pick the codec, build our answer.
func BenchmarkSDPOfferAnswer(b *testing.B) {
	local := newLocalSDP(netip.MustParseAddr("192.0.2.99"), 20000)
	for _, o := range benchOffers {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(o.body)))
			var ans []byte
			for b.Loop() {
				m, err := parseSDP(o.body)
				if err != nil {
					b.Fatal(err)
				}
				ans = local.answer(m)
			}
			if m, _ := parseSDP(o.body); m.Codec != o.codec || !strings.Contains(string(ans), "m=audio 20000 RTP/AVP ") {
				b.Fatalf("negotiated %v, answer:\n%s", m.Codec, ans)
			}
		})
	}
}

// BenchmarkSDPParse is the offer alone (pion/sdp does most of the work).
func BenchmarkSDPParse(b *testing.B) {
	body := benchOffers[1].body
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseSDP(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSDPAnswer is building our answer alone.
func BenchmarkSDPAnswer(b *testing.B) {
	local := newLocalSDP(netip.MustParseAddr("192.0.2.99"), 20000)
	m := Media{Codec: media.PCMA, DTMFType: 101, Direction: SendRecv}
	b.ReportAllocs()
	for b.Loop() {
		if len(local.answer(m)) == 0 {
			b.Fatal("empty answer")
		}
	}
}
