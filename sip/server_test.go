package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// peer is a real SIP user agent (sipgo) calling our server over loopback.
type peer struct {
	t      *testing.T
	srv    *Server
	client *sipgo.Client
	dialog *sipgo.DialogClientCache
	rtp    *net.UDPConn
	calls  chan *Call
	keys   chan rune
	ended  chan string
	addr   string
}

func newPeer(t *testing.T, handler func(ctx context.Context, c *Call, p *peer)) *peer {
	t.Helper()
	p := &peer{t: t, calls: make(chan *Call, 4), keys: make(chan rune, 8), ended: make(chan string, 4)}
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 40000, RTPMax: 40100,
		Logger: slog.New(slog.DiscardHandler),
		Lines:  func(user string) (string, bool) { return "support", user == "support" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {
			p.calls <- c
			handler(ctx, c, p)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	p.srv, p.addr = srv, srv.Addr()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-peer"))
	if err != nil {
		t.Fatal(err)
	}
	p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p.dialog = sipgo.NewDialogClientCache(p.client, sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
	t.Cleanup(func() {
		ua.Close()
		p.rtp.Close()
	})
	return p
}

func (p *peer) uri(user string) sip.Uri {
	host, port, _ := net.SplitHostPort(p.addr)
	var n int
	fmt.Sscan(port, &n)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: n}
}

func (p *peer) offer(codecs string, dir string) []byte {
	port := p.rtp.LocalAddr().(*net.UDPAddr).Port
	return []byte(fmt.Sprintf("v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %s 101\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", port, codecs, dir))
}

func (p *peer) do(req *sip.Request) *sip.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// answerAndWait answers, reports keys, and waits for the call to end.
func answerAndWait(ctx context.Context, c *Call, p *peer) {
	if err := c.Answer(ctx); err != nil {
		p.ended <- "answer failed: " + err.Error()
		return
	}
	for {
		select {
		case k := <-c.Media().DTMF():
			p.keys <- k
		case <-c.Done():
			p.ended <- c.EndedBy()
			return
		case <-ctx.Done():
			p.ended <- "ctx"
			return
		}
	}
}

func TestOptionsAndUnsupportedMethods(t *testing.T) {
	p := newPeer(t, answerAndWait)
	res := p.do(sip.NewRequest(sip.OPTIONS, p.uri("support")))
	if res.StatusCode != 200 || !strings.Contains(res.GetHeader("Allow").Value(), "INVITE") {
		t.Fatalf("OPTIONS: %s, Allow %v", res.StartLine(), res.GetHeader("Allow"))
	}
	res = p.do(sip.NewRequest(sip.MESSAGE, p.uri("support")))
	if res.StatusCode != 405 || res.GetHeader("Allow") == nil {
		t.Fatalf("MESSAGE: %s", res.StartLine())
	}
	res = p.do(sip.NewRequest(sip.BYE, p.uri("support")))
	if res.StatusCode != 481 {
		t.Fatalf("BYE outside a dialog: %s", res.StartLine())
	}
}

func TestInviteRejections(t *testing.T) {
	p := newPeer(t, answerAndWait)
	tests := []struct {
		name string
		user string
		body []byte
		want int
	}{
		{"unknown number", "nobody", p.offer("0", "sendrecv"), 404},
		{"no common codec", "support", p.offer("9", "sendrecv"), 488},
		{"malformed SDP", "support", []byte("this is not SDP"), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, p.uri(tt.user))
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
			req.SetBody(tt.body)
			if res := p.do(req); res.StatusCode != tt.want {
				t.Fatalf("got %s, want %d", res.StartLine(), tt.want)
			}
		})
	}
}

func TestCallWithHoldInfoDTMFAndBye(t *testing.T) {
	p := newPeer(t, answerAndWait)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := p.dialog.Invite(ctx, p.uri("support"), p.offer("8 0", "sendrecv"), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	ans := string(d.InviteResponse.Body())
	if !strings.Contains(ans, "m=audio") || !strings.Contains(ans, "RTP/AVP 8 101") || !strings.Contains(ans, "a=sendrecv") {
		t.Fatalf("answer:\n%s", ans)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	c := <-p.calls
	if c.From.User == "" || c.Line != "support" {
		t.Fatalf("call %+v", c)
	}
	// Hold: re-INVITE with sendonly is answered recvonly.
	reinv := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
	reinv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	reinv.SetBody(p.offer("8", "sendonly"))
	res, err := d.Do(ctx, reinv)
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold re-INVITE: %v %v\n%s", err, res, res.Body())
	}
	ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
	ack.SetBody(nil)
	d.WriteRequest(ack)
	// DTMF by SIP INFO.
	info := sip.NewRequest(sip.INFO, d.InviteResponse.Contact().Address)
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	info.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	if res, err := d.Do(ctx, info); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", err, res)
	}
	select {
	case k := <-p.keys:
		if k != '5' {
			t.Fatalf("key %q", k)
		}
	case <-ctx.Done():
		t.Fatal("INFO DTMF not delivered")
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if by := <-p.ended; by != EndedByCaller {
		t.Fatalf("ended by %q", by)
	}
}

func TestOfferlessInvite(t *testing.T) {
	p := newPeer(t, answerAndWait)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := p.dialog.Invite(ctx, p.uri("support"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	offer := string(d.InviteResponse.Body())
	if !strings.Contains(offer, "RTP/AVP 0 8 101") {
		t.Fatalf("our offer:\n%s", offer)
	}
	// The answer goes in the ACK: PCMA only.
	ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(p.offer("8", "sendrecv"))
	if err := d.WriteAck(ctx, ack); err != nil {
		t.Fatal(err)
	}
	c := <-p.calls
	deadline := time.Now().Add(5 * time.Second)
	for c.Media() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c.Media() == nil {
		t.Fatal("media not started after the ACK's answer")
	}
	// Our RTP arrives at the peer's port, in PCMA.
	p.rtp.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := p.rtp.ReadFromUDP(buf)
	if err != nil || n < 12 || buf[1]&0x7f != 8 {
		t.Fatalf("RTP: n=%d pt=%d err=%v", n, buf[1]&0x7f, err)
	}
	d.Bye(ctx)
	<-p.ended
}

func TestDrainRefusesNewCalls(t *testing.T) {
	var once sync.Once
	release := make(chan struct{})
	p := newPeer(t, func(ctx context.Context, c *Call, p *peer) {
		once.Do(func() {})
		c.Reject(486, "Busy Here")
		<-release
	})
	p.srv.draining.Store(true)
	defer close(release)
	req := sip.NewRequest(sip.INVITE, p.uri("support"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Host: "127.0.0.1", Port: 5099}})
	req.SetBody(p.offer("0", "sendrecv"))
	if res := p.do(req); res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("INVITE while draining: %s", res.StartLine())
	}
	if res := p.do(sip.NewRequest(sip.OPTIONS, p.uri("support"))); res.StatusCode != 503 {
		t.Fatalf("OPTIONS while draining: %s", res.StartLine())
	}
}

// Bad datagrams on the SIP port (RFC 4475 in spirit): garbage, truncated
// requests, missing mandatory headers, a lying Content-Length. The server
// answers what it can with 400, drops the rest, and keeps serving.
func TestMalformedSIPIsSurvived(t *testing.T) {
	p := newPeer(t, answerAndWait)
	conn, err := net.Dial("udp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := []string{
		"\x00\x01\x02\x03 garbage",
		"INVITE sip:support@127.0.0.1 SIP/2.0\r\n", // truncated
		"INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-bad1\r\nContent-Length: 0\r\n\r\n", // no From, To, Call-ID, CSeq
		"INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-bad2\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n" +
			"To: <sip:support@127.0.0.1>\r\nCall-ID: bad2\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 9000\r\n\r\nv=0\r\n", // lying length
		"INVITE sip:support@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-bad3\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n" +
			"To: <sip:support@127.0.0.1>\r\nCall-ID: bad3\r\nCSeq: notanumber INVITE\r\nContent-Length: 0\r\n\r\n", // bad CSeq
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-stray\r\nCall-ID: stray\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", // stray response
		strings.Repeat("A", 60000),
	}
	for _, m := range msgs {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	// Still serving. The UDP listener reads datagrams in order, so once
	// this OPTIONS is answered every bad datagram above has been read.
	res := p.do(sip.NewRequest(sip.OPTIONS, p.uri("support")))
	if res.StatusCode != 200 {
		t.Fatalf("OPTIONS after bad input: %s", res.StartLine())
	}
	// A good call made now is the first call the handler sees: none of
	// the malformed INVITEs, dispatched earlier, became a call.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := p.dialog.Invite(ctx, p.uri("support"), p.offer("0", "sendrecv"), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("a good call after bad input: %v", err)
	}
	c := <-p.calls
	if want := d.InviteRequest.CallID().Value(); c.ID != want {
		t.Fatalf("the first call handled is %q, not the good one %q: a malformed INVITE became a call", c.ID, want)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.ended: // by the caller, or during the answer if the BYE overtook the ACK
	case <-ctx.Done():
		t.Fatal("the good call never ended")
	}
	if n := len(p.calls); n != 0 {
		t.Fatalf("%d more call(s) handled after the good one", n)
	}
}
