package sip

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte/sip/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// freeRTPRange returns a small RTP port range that is free now, so that the
// test does not collide with services running on the machine.
func freeRTPRange(t *testing.T) (int, int) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	port -= port % 2
	return port, port + 8
}

type sampleSink struct {
	mu sync.Mutex
	n  int
	hi int16
}

func (s *sampleSink) WriteSamples(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += len(pcm)
	for _, v := range pcm {
		s.hi = max(s.hi, v)
	}
	return nil
}

// TestSRTPCall: a line that requires SRTP refuses plain offers with 488
// and answers an SDES offer with RTP/SAVP and a key of its own; audio then
// flows encrypted both ways between the service and a pion/srtp peer.
func TestSRTPCall(t *testing.T) {
	lo, hi := freeRTPRange(t)
	sink := &sampleSink{}
	answered := make(chan error, 1)
	finished := make(chan struct{})
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: lo, RTPMax: hi,
		Logger:       slog.New(slog.DiscardHandler),
		Lines:        func(user string) (string, bool) { return user, user == "secure" || user == "support" },
		SRTPRequired: func(line string) bool { return line == "secure" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {
			err := c.Answer(ctx)
			answered <- err
			if err != nil {
				return
			}
			c.Media().SetRecorder(sink)
			tone := make([]int16, 25*media.FrameSamples)
			for i := range tone {
				tone[i] = 4000
			}
			c.Media().Play(ctx, tone)
			<-c.Done()
			c.Media().SetRecorder(nil)
			close(finished)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ua, _ := sipgo.NewUA(sipgo.WithUserAgent("srtp-peer"))
	defer ua.Close()
	client, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	rtpConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpConn.Close()
	host, port, _ := net.SplitHostPort(srv.Addr())
	uri := func(user string) sip.Uri {
		var n int
		fmt.Sscan(port, &n)
		return sip.Uri{Scheme: "sip", User: user, Host: host, Port: n}
	}
	theirs := media.NewSRTPKey()
	offer := func(proto, crypto string) []byte {
		s := fmt.Sprintf("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d %s 0\r\n", rtpConn.LocalAddr().(*net.UDPAddr).Port, proto)
		if crypto != "" {
			s += "a=crypto:1 " + crypto + "\r\n"
		}
		return []byte(s + "a=sendrecv\r\n")
	}
	key := "inline:" + base64.StdEncoding.EncodeToString(theirs)

	for _, tt := range []struct {
		name, user string
		body       []byte
		warning    string
	}{
		{"plain offer to a line that requires SRTP", "secure", offer("RTP/AVP", ""), "requires SRTP"},
		{"offerless INVITE to a line that requires SRTP", "secure", nil, "requires SRTP"},
		{"SRTP with a suite we lack", "support", offer("RTP/SAVP", "AES_256_CM_HMAC_SHA1_80 "+key+key[7:]), "SRTP: only SDES"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, uri(tt.user))
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
			if tt.body != nil {
				req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				req.SetBody(tt.body)
			}
			res, err := client.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if w := res.GetHeader("Warning"); res.StatusCode != 488 || w == nil || !strings.Contains(w.Value(), tt.warning) {
				t.Fatalf("got %s, Warning %v; want 488 saying %q", res.StartLine(), w, tt.warning)
			}
		})
	}

	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
	d, err := dc.Invite(ctx, uri("secure"), offer("RTP/SAVP", "AES_CM_128_HMAC_SHA1_80 "+key), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	ans, err := parseSDP(d.InviteResponse.Body())
	if err != nil || ans.Proto != "RTP/SAVP" || ans.Crypto == nil || ans.Crypto.Tag != 1 {
		t.Fatalf("answer %+v (%v):\n%s", ans, err, d.InviteResponse.Body())
	}
	const p = srtp.ProtectionProfileAes128CmHmacSha1_80
	tx, _ := srtp.CreateContext(theirs[:16], theirs[16:], p)
	rx, _ := srtp.CreateContext(ans.Crypto.Key[:16], ans.Crypto.Key[16:], p)

	// 1 s of caller audio, encrypted with the caller's key.
	for k := range 50 {
		pk := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(k), Timestamp: uint32(k * 160), SSRC: 77},
			Payload: make([]byte, 160)}
		for i := range pk.Payload {
			pk.Payload[i] = media.UlawEncode(3000)
		}
		plain, _ := pk.Marshal()
		b, err := tx.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		rtpConn.WriteToUDPAddrPort(b, ans.Remote)
		time.Sleep(20 * time.Millisecond)
	}
	// What the service sent decrypts with the key of its answer, and the
	// prompt is in it.
	rtpConn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	prompt := 0
	for prompt < 5 {
		n, err := rtpConn.Read(buf)
		if err != nil {
			t.Fatalf("reading the service's SRTP: %v (%d prompt packets)", err, prompt)
		}
		plain, err := rx.DecryptRTP(nil, buf[:n], nil)
		if err != nil {
			t.Fatalf("the service's packet does not authenticate: %v", err)
		}
		if plain[12] == media.UlawEncode(4000) {
			prompt++
		}
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	<-finished
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.n < 40*media.FrameSamples || sink.hi != media.UlawDecode(media.UlawEncode(3000)) {
		t.Errorf("recorded %d samples peaking at %d, want about 1 s at %d", sink.n, sink.hi, media.UlawDecode(media.UlawEncode(3000)))
	}
}
