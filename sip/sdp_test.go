package sip

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/astreinte/astreinte/sip/media"
)

func sdpOf(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func TestParseSDP(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	tests := []struct {
		name string
		body []byte
		want Media
		err  error
		held bool
	}{
		{
			name: "PCMU first with telephone-event 101",
			body: sdpOf(append(head, "m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=ptime:20")...),
			want: Media{Remote: netip.MustParseAddrPort("192.0.2.1:4000"), Codec: media.PCMU, DTMFType: 101, Direction: SendRecv, Ptime: 20},
		},
		{
			name: "peer prefers PCMA, dynamic DTMF type 96",
			body: sdpOf(append(head, "m=audio 4002 RTP/AVP 8 0 96", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-15")...),
			want: Media{Remote: netip.MustParseAddrPort("192.0.2.1:4002"), Codec: media.PCMA, DTMFType: 96, Direction: SendRecv},
		},
		{
			name: "G.722 and Opus skipped for PCMA",
			body: sdpOf(append(head, "m=audio 4004 RTP/AVP 9 111 8", "a=rtpmap:9 G722/8000", "a=rtpmap:111 opus/48000/2")...),
			want: Media{Remote: netip.MustParseAddrPort("192.0.2.1:4004"), Codec: media.PCMA, Direction: SendRecv},
		},
		{
			name: "media-level connection wins, hold with sendonly",
			body: sdpOf(append(head, "m=audio 4006 RTP/AVP 0", "c=IN IP4 198.51.100.7", "a=sendonly")...),
			want: Media{Remote: netip.MustParseAddrPort("198.51.100.7:4006"), Codec: media.PCMU, Direction: SendOnly},
			held: true,
		},
		{
			name: "old-style hold with 0.0.0.0",
			body: sdpOf("v=0", "o=- 1 2 IN IP4 192.0.2.1", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 4008 RTP/AVP 0"),
			want: Media{Remote: netip.MustParseAddrPort("0.0.0.0:4008"), Codec: media.PCMU, Direction: SendRecv},
			held: true,
		},
		{
			name: "session-level inactive",
			body: sdpOf(append(head, "a=inactive", "m=audio 4010 RTP/AVP 8")...),
			want: Media{Remote: netip.MustParseAddrPort("192.0.2.1:4010"), Codec: media.PCMA, Direction: Inactive},
			held: true,
		},
		{
			name: "video and a disabled audio stream are skipped",
			body: sdpOf(append(head, "m=video 5000 RTP/AVP 96", "m=audio 0 RTP/AVP 0", "m=audio 4012 RTP/AVP 0")...),
			want: Media{Remote: netip.MustParseAddrPort("192.0.2.1:4012"), Codec: media.PCMU, Direction: SendRecv},
		},
		{
			name: "IPv6",
			body: sdpOf("v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:db8::1", "t=0 0", "m=audio 4014 RTP/AVP 0"),
			want: Media{Remote: netip.MustParseAddrPort("[2001:db8::1]:4014"), Codec: media.PCMU, Direction: SendRecv},
		},
		{
			name: "no common codec",
			body: sdpOf(append(head, "m=audio 4016 RTP/AVP 9 18", "a=rtpmap:9 G722/8000", "a=rtpmap:18 G729/8000")...),
			err:  ErrNoCommonCodec,
		},
		{
			name: "SRTP profile without crypto",
			body: sdpOf(append(head, "m=audio 4018 RTP/SAVP 0")...),
			err:  ErrNoCommonCrypto,
		},
		{name: "garbage", body: []byte("hello\r\n"), err: ErrBadSDP},
		{name: "empty", body: nil, err: ErrBadSDP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSDP(tt.body)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Offered = nil
			if got.Remote != tt.want.Remote || got.Codec != tt.want.Codec || got.DTMFType != tt.want.DTMFType ||
				got.Direction != tt.want.Direction || got.Ptime != tt.want.Ptime {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if got.Held() != tt.held {
				t.Fatalf("Held() = %v, want %v", got.Held(), tt.held)
			}
		})
	}
}

func TestAnswerMirrorsTheOffer(t *testing.T) {
	l := newLocalSDP(netip.MustParseAddr("203.0.113.5"), 10002)
	tests := []struct {
		offer Media
		want  []string
	}{
		{Media{Codec: media.PCMA, DTMFType: 96, Direction: SendRecv},
			[]string{"c=IN IP4 203.0.113.5", "m=audio 10002 RTP/AVP 8 96", "a=rtpmap:8 PCMA/8000", "a=rtpmap:96 telephone-event/8000", "a=ptime:20", "a=sendrecv"}},
		{Media{Codec: media.PCMU, Direction: SendOnly}, []string{"m=audio 10002 RTP/AVP 0\r\n", "a=recvonly"}},
		{Media{Codec: media.PCMU, Direction: Inactive}, []string{"a=inactive"}},
		{Media{Codec: media.PCMU, Direction: RecvOnly}, []string{"a=sendonly"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.offer.Direction), func(t *testing.T) {
			ans := string(l.answer(tt.offer))
			for _, w := range tt.want {
				if !strings.Contains(ans, w) {
					t.Errorf("answer lacks %q:\n%s", w, ans)
				}
			}
			// Our own answer must parse back to the same choice.
			back, err := parseSDP([]byte(ans))
			if err != nil || back.Codec != tt.offer.Codec {
				t.Fatalf("answer does not parse back: %v %+v", err, back)
			}
		})
	}
}

func TestOfferListsBothCodecsAndDTMF(t *testing.T) {
	l := newLocalSDP(netip.MustParseAddr("127.0.0.1"), 10000)
	m, err := parseSDP(l.offer(SendRecv))
	if err != nil {
		t.Fatal(err)
	}
	if m.Codec != media.PCMU || m.DTMFType != 101 || len(m.Offered) != 2 || m.Remote.Port() != 10000 {
		t.Fatalf("offer parsed as %+v", m)
	}
}

func TestDTMFRelay(t *testing.T) {
	tests := []struct {
		body string
		want rune
		ok   bool
	}{
		{"Signal=5\r\nDuration=160\r\n", '5', true},
		{"Signal= #\nDuration=100", '#', true},
		{"signal=10\r\n", '*', true},
		{"Signal=11", '#', true},
		{"Signal=b", 'B', true},
		{"Duration=160", 0, false},
		{"Signal=55", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDTMFRelay(tt.body)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseDTMFRelay(%q) = %q,%v want %q,%v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("v=0\r\nc=IN IP6 ::1\r\nm=audio 70000 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\r\nm=audio 1 RTP/AVP 999 -1 x\r\na=rtpmap:x\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSDP(b)
		if err != nil {
			return
		}
		if m.Codec != media.PCMU && m.Codec != media.PCMA {
			t.Fatalf("negotiated codec %v", m.Codec)
		}
		// Whatever we accepted, our answer to it must parse again.
		l := newLocalSDP(netip.MustParseAddr("127.0.0.1"), 10000)
		if _, err := parseSDP(l.answer(m)); err != nil {
			t.Fatalf("our answer to an accepted offer does not parse: %v", err)
		}
	})
}

// A key of 30 bytes, 0x00 to 0x1d, in base64.
const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"

func TestParseSDPCrypto(t *testing.T) {
	head := []string{"v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0"}
	tests := []struct {
		name  string
		lines []string
		tag   int // the tag picked; -1 for plain RTP
		err   error
	}{
		{"SAVP with our suite", []string{"m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey}, 1, nil},
		{"lifetime accepted", []string{"m=audio 4000 RTP/SAVP 0", "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^31"}, 3, nil},
		{
			"other suites and an MKI skipped",
			[]string{"m=audio 4000 RTP/SAVP 0",
				"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + testKey + testKey,
				"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" + testKey,
				"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20|1:4",
				"a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + " UNENCRYPTED_SRTP",
				"a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:" + testKey},
			5, nil,
		},
		{"best-effort SRTP on RTP/AVP", []string{"m=audio 4000 RTP/AVP 0", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + testKey}, 7, nil},
		{"plain RTP", []string{"m=audio 4000 RTP/AVP 0"}, -1, nil},
		{"SAVP, only a short key", []string{"m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODw=="}, 0, ErrNoCommonCrypto},
		{"SAVP, only AES-256", []string{"m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + testKey + testKey}, 0, ErrNoCommonCrypto},
		{
			"SAVP without crypto, then a plain stream",
			[]string{"m=audio 4000 RTP/SAVP 0", "m=audio 4002 RTP/AVP 0"}, -1, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseSDP(sdpOf(append(head, tt.lines...)...))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, ErrNoCommonCodec) {
					t.Fatalf("err = %v, want %v (an ErrNoCommonCodec too)", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.tag < 0 && m.Crypto != nil:
				t.Fatalf("crypto %+v for plain RTP", m.Crypto)
			case tt.tag < 0:
			case m.Crypto == nil:
				t.Fatal("no crypto picked")
			case m.Crypto.Tag != tt.tag || len(m.Crypto.Key) != media.SRTPKeyLen || m.Crypto.Key[29] != 0x1d:
				t.Fatalf("crypto tag %d key % x, want tag %d and the test key", m.Crypto.Tag, m.Crypto.Key, tt.tag)
			}
		})
	}
}

func TestAnswerSRTP(t *testing.T) {
	offer, err := parseSDP(sdpOf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0",
		"m=audio 4000 RTP/SAVP 8 101", "a=rtpmap:101 telephone-event/8000",
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"+testKey))
	if err != nil {
		t.Fatal(err)
	}
	l := newLocalSDP(netip.MustParseAddr("203.0.113.5"), 10002)
	ans := string(l.answer(offer))
	if !strings.Contains(ans, "m=audio 10002 RTP/SAVP 8 101\r\n") {
		t.Errorf("answer does not keep RTP/SAVP:\n%s", ans)
	}
	back, err := parseSDP([]byte(ans))
	if err != nil {
		t.Fatalf("answer does not parse back: %v\n%s", err, ans)
	}
	if back.Crypto == nil || back.Crypto.Tag != 2 || len(back.Crypto.Key) != media.SRTPKeyLen {
		t.Fatalf("answer crypto %+v, want tag 2 and a key of ours:\n%s", back.Crypto, ans)
	}
	if sameCrypto(back.Crypto, offer.Crypto) {
		t.Error("the answer reuses the caller's key")
	}
	// A re-INVITE is answered with the same key: the media keeps it.
	if again, _ := parseSDP(l.answer(offer)); !sameCrypto(again.Crypto, back.Crypto) {
		t.Error("a second answer changed our key")
	}
	// A plain offer gets a plain answer.
	plain := string(l.answer(Media{Codec: media.PCMU, Direction: SendRecv}))
	if strings.Contains(plain, "crypto") || !strings.Contains(plain, "RTP/AVP 0") {
		t.Errorf("plain answer:\n%s", plain)
	}
}
