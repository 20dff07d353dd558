package sip

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// BenchmarkCallSetup is one whole call's SIP signalling through our server,
// in process over loopback UDP: INVITE with an offer → 200 OK with our
// answer (the handler answers at once) → ACK → BYE → 200, and the handler
// returning. No media flows (the answer still opens the call's RTP socket
// and pacing). ns/op and allocs/op count both sides, the sipgo client as
// well as our server; invite-to-200-us is the client's view of the answer.
func BenchmarkCallSetup(b *testing.B) {
	ended := make(chan struct{}, 1)
	lo := 45000 + 2*rand.IntN(6000)
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: lo, RTPMax: lo + 199,
		Logger: slog.New(slog.DiscardHandler),
		Lines:  func(user string) (string, bool) { return "support", user == "support" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {
			defer func() { ended <- struct{}{} }()
			if err := c.Answer(ctx); err != nil {
				return
			}
			select {
			case <-c.Done():
			case <-ctx.Done():
			}
		}),
	})
	if err != nil {
		b.Fatal(err)
	}
	serveTest(b, srv)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bench-peer"))
	if err != nil {
		b.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		b.Fatal(err)
	}
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ua.Close()
		rtp.Close()
	})
	dialogs := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
	host, port, _ := net.SplitHostPort(srv.Addr())
	var sipPort int
	fmt.Sscan(port, &sipPort)
	target := sip.Uri{Scheme: "sip", User: "support", Host: host, Port: sipPort}
	offer := []byte(fmt.Sprintf("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n",
		rtp.LocalAddr().(*net.UDPAddr).Port))

	var answerTotal time.Duration
	b.ReportAllocs()
	for b.Loop() {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		t0 := time.Now()
		d, err := dialogs.Invite(cctx, target, offer, sip.NewHeader("Content-Type", "application/sdp"))
		if err != nil {
			b.Fatal(err)
		}
		if err := d.WaitAnswer(cctx, sipgo.AnswerOptions{}); err != nil {
			b.Fatal(err)
		}
		answerTotal += time.Since(t0)
		if err := d.Ack(cctx); err != nil {
			b.Fatal(err)
		}
		if err := d.Bye(cctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-ended:
		case <-cctx.Done():
			b.Fatal("the handler did not return after BYE")
		}
		d.Close()
		ccancel()
	}
	b.ReportMetric(float64(answerTotal.Microseconds())/float64(b.N), "invite-to-200-us")
}
