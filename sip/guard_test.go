package sip

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// guarded starts a UDP server with a guard on 127.0.0.1; its handler holds
// each call until hold is closed (or the call ends).
type guarded struct {
	srv   *Server
	guard *Guard
	hold  chan struct{}
	calls atomic.Int32
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// limited fills the limits a test leaves out with generous fixture values
// (the service's come from config.Security).
func limited(gc GuardConfig) GuardConfig {
	gc.RequestsPerSecond = cmp.Or(gc.RequestsPerSecond, 100)
	gc.RequestsBurst = cmp.Or(gc.RequestsBurst, 200)
	gc.CallsPerSecond = cmp.Or(gc.CallsPerSecond, 10)
	gc.CallsBurst = cmp.Or(gc.CallsBurst, 20)
	gc.CallsPerSource = cmp.Or(gc.CallsPerSource, 50)
	gc.MaxCalls = cmp.Or(gc.MaxCalls, 200)
	gc.Sources = cmp.Or(gc.Sources, 10000)
	gc.RetryAfter = cmp.Or(gc.RetryAfter, 30*time.Second)
	gc.LogPerMinute = cmp.Or(gc.LogPerMinute, 5)
	gc.Realm = cmp.Or(gc.Realm, "astreinte")
	return gc
}

func startGuarded(t *testing.T, gc GuardConfig) *guarded {
	t.Helper()
	g := &guarded{hold: make(chan struct{}), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(g.logs, nil))
	gc.Logger = log
	g.guard = NewGuard(limited(gc))
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 40200, RTPMax: 40300,
		Logger: log, Guard: g.guard,
		Lines: func(user string) (string, bool) { return "support", user == "support" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {
			g.calls.Add(1)
			select {
			case <-g.hold:
			case <-c.Done():
			case <-ctx.Done():
			}
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	g.srv = srv
	t.Cleanup(func() {
		select {
		case <-g.hold:
		default:
			close(g.hold)
		}
		// Calls still finishing (their final response acknowledged) end
		// before Shutdown: the server's WaitGroup wants its Add before Wait.
		deadline := time.Now().Add(5 * time.Second)
		for g.guard.ActiveCalls() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	})
	return g
}

// rawPeer sends hand-written SIP over UDP from a chosen loopback address.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	n    int
}

func newRawPeer(t *testing.T, ip, to string) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ra, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	return &rawPeer{t: t, conn: c, to: ra}
}

// request sends a request and returns its Call-ID.
func (p *rawPeer) request(method, ua string, extra ...string) string {
	p.n++
	id := fmt.Sprintf("guard-%d-%s", p.n, p.conn.LocalAddr())
	p.requestID(method, id, 1, ua, extra...)
	return id
}

func (p *rawPeer) requestID(method, id string, cseq int, ua string, extra ...string) {
	p.t.Helper()
	la := p.conn.LocalAddr().(*net.UDPAddr)
	target := fmt.Sprintf("sip:support@%s", p.to)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, target)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d;rport\r\n", la, strings.ReplaceAll(id, ":", "-"), cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:caller@%s>;tag=t%d\r\nTo: <%s>\r\n", la.IP, p.n, target)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:caller@%s>\r\n", id, cseq, method, la)
	if ua != "" {
		fmt.Fprintf(&b, "User-Agent: %s\r\n", ua)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if _, err := p.conn.WriteToUDP([]byte(b.String()), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// ackFailure sends the ACK of a non-2xx final response to an INVITE, as a
// UAC must (RFC 3261 section 17.1.1.3), so the server stops retransmitting.
func (p *rawPeer) ackFailure(res *sip.Response) {
	var b strings.Builder
	target := fmt.Sprintf("sip:support@%s", p.to)
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\n", target)
	fmt.Fprintf(&b, "Via: %s\r\n", res.Via().Value())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n", res.From().Value(), res.To().Value())
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n", res.CallID().Value(), res.CSeq().SeqNo)
	_, _ = p.conn.WriteToUDP([]byte(b.String()), p.to)
}

// final reads responses until a final one for callID.
func (p *rawPeer) final(callID string) *sip.Response {
	p.t.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			p.t.Fatalf("no final response for %s: %v", callID, err)
		}
		msg, err := sip.NewParser().ParseSIP(buf[:n])
		if err != nil {
			p.t.Fatalf("parse response: %v", err)
		}
		res, ok := msg.(*sip.Response)
		if !ok || res.IsProvisional() {
			continue
		}
		if res.CallID() != nil && res.CallID().Value() == callID {
			if res.StatusCode >= 300 && res.CSeq() != nil && res.CSeq().MethodName == sip.INVITE {
				p.ackFailure(res)
			}
			return res
		}
	}
}

func waitCount(t *testing.T, g *Guard, r RefuseReason, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Refused()[r] < want {
		if time.Now().After(deadline) {
			t.Fatalf("refused[%s] = %d, want %d", r, g.Refused()[r], want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var loopback1 = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func TestGuardRefusesStrangers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gc     GuardConfig
		from   string
		status int
		reason RefuseReason
	}{
		{"trusted network", GuardConfig{Trusted: loopback1}, "127.0.0.1", sip.StatusTemporarilyUnavailable, ""},
		{"stranger gets 403", GuardConfig{Trusted: loopback1}, "127.0.0.2", sip.StatusForbidden, RefusedUntrusted},
		{"registered trunk", GuardConfig{Trusted: loopback1, Trunks: func() []netip.Prefix {
			return []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
		}}, "127.0.0.2", sip.StatusTemporarilyUnavailable, ""},
		{"stranger challenged when accounts exist", GuardConfig{Trusted: loopback1, Accounts: map[string]string{"pbx": "a long secret"}},
			"127.0.0.2", sip.StatusUnauthorized, RefusedUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGuarded(t, tc.gc)
			close(g.hold) // calls that get through end at once: 480
			p := newRawPeer(t, tc.from, g.srv.Addr())
			res := p.final(p.request("INVITE", "test"))
			if res.StatusCode != tc.status {
				t.Fatalf("INVITE from %s: %d %s, want %d", tc.from, res.StatusCode, res.Reason, tc.status)
			}
			if tc.reason != "" {
				waitCount(t, g.guard, tc.reason, 1)
				rr := g.guard.RecentRefusals()
				if len(rr) != 1 || rr[0].Source.String() != tc.from || rr[0].Reason != tc.reason {
					t.Errorf("recent refusals: %+v", rr)
				}
			}
		})
	}
}

func TestGuardDropIsSilent(t *testing.T) {
	g := startGuarded(t, GuardConfig{Trusted: loopback1, Drop: true})
	p := newRawPeer(t, "127.0.0.2", g.srv.Addr())
	p.request("INVITE", "test")
	waitCount(t, g.guard, RefusedUntrusted, 1)
	// A stranger's OPTIONS is dropped too: nothing tells a scanner that
	// something listens.
	p.request("OPTIONS", "test")
	waitCount(t, g.guard, RefusedUntrusted, 2)
	// A refusal is counted after its answer is written, so an answer, had
	// there been one, is already in the stranger's socket buffer.
	p.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := p.conn.Read(make([]byte, 2048)); err == nil {
		t.Fatalf("the stranger got an answer (%d bytes)", n)
	}
	// A trusted peer's OPTIONS is still answered.
	trusted := newRawPeer(t, "127.0.0.1", g.srv.Addr())
	if res := trusted.final(trusted.request("OPTIONS", "test")); res.StatusCode != sip.StatusOK {
		t.Fatalf("trusted OPTIONS: %d", res.StatusCode)
	}
}

func TestGuardDigestAccount(t *testing.T) {
	g := startGuarded(t, GuardConfig{Trusted: loopback1, Realm: "astreinte",
		Accounts: map[string]string{"pbx": "correct horse battery"}})
	close(g.hold)
	for _, tc := range []struct {
		name, password, algorithm string
		status                    int
	}{
		{"MD5", "correct horse battery", "MD5", sip.StatusTemporarilyUnavailable},
		{"SHA-256", "correct horse battery", "SHA-256", sip.StatusTemporarilyUnavailable},
		{"wrong password", "incorrect horse", "MD5", sip.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRawPeer(t, "127.0.0.2", g.srv.Addr())
			id := p.request("INVITE", "test")
			res := p.final(id)
			if res.StatusCode != sip.StatusUnauthorized {
				t.Fatalf("first INVITE: %d, want 401", res.StatusCode)
			}
			var chal *digest.Challenge
			for _, h := range res.GetHeaders("WWW-Authenticate") {
				c, err := digest.ParseChallenge(h.Value())
				if err != nil {
					t.Fatal(err)
				}
				if c.Algorithm == tc.algorithm {
					chal = c
				}
			}
			if chal == nil {
				t.Fatalf("no %s challenge in %v", tc.algorithm, res.GetHeaders("WWW-Authenticate"))
			}
			uri := fmt.Sprintf("sip:support@%s", g.srv.Addr())
			cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "pbx", Password: tc.password})
			if err != nil {
				t.Fatal(err)
			}
			p.requestID("INVITE", id, 2, "test", "Authorization: "+cred.String())
			res = p.final(id)
			if res.StatusCode != tc.status {
				t.Fatalf("authenticated INVITE: %d %s, want %d", res.StatusCode, res.Reason, tc.status)
			}
		})
	}
	// A nonce is bound to the address it was sent to.
	nonce := g.guard.makeNonce(netip.MustParseAddr("127.0.0.2"), time.Now())
	if _, valid := g.guard.checkNonce(nonce, netip.MustParseAddr("127.0.0.4")); valid {
		t.Error("a nonce made for 127.0.0.2 is valid from 127.0.0.4")
	}
}

func TestGuardCallCaps(t *testing.T) {
	g := startGuarded(t, GuardConfig{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		CallsPerSource: 2, MaxCalls: 3, RetryAfter: 7 * time.Second})
	a := newRawPeer(t, "127.0.0.1", g.srv.Addr())
	b := newRawPeer(t, "127.0.0.3", g.srv.Addr())
	held := []string{a.request("INVITE", "test"), a.request("INVITE", "test")}
	waitCalls(t, g, 2)
	res := a.final(a.request("INVITE", "test"))
	if res.StatusCode != sip.StatusServiceUnavailable || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != "7" {
		t.Fatalf("third call from one source: %d %v, want 503 with Retry-After: 7", res.StatusCode, res.GetHeader("Retry-After"))
	}
	waitCount(t, g.guard, RefusedSourceCalls, 1)
	heldB := b.request("INVITE", "test")
	waitCalls(t, g, 3)
	res = b.final(b.request("INVITE", "test"))
	if res.StatusCode != sip.StatusServiceUnavailable {
		t.Fatalf("fourth call in all: %d, want 503", res.StatusCode)
	}
	waitCount(t, g.guard, RefusedMaxCalls, 1)
	if got := g.guard.ActiveCalls(); got != 3 {
		t.Errorf("active calls under the caps: %d, want 3", got)
	}
	close(g.hold) // the calls end (480, which we acknowledge): their slots are free again
	for _, id := range held {
		a.final(id)
	}
	b.final(heldB)
	deadline := time.Now().Add(5 * time.Second)
	for g.guard.ActiveCalls() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("slots not released: %d", g.guard.ActiveCalls())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res := a.final(a.request("INVITE", "test")); res.StatusCode != sip.StatusTemporarilyUnavailable {
		t.Fatalf("call after the others ended: %d, want 480 from the handler", res.StatusCode)
	}
}

func waitCalls(t *testing.T, g *guarded, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.calls.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls reached the handler, want %d\n%s", g.calls.Load(), n, g.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// frozen is a clock that moves only when told.
type frozen struct {
	mu sync.Mutex
	t  time.Time
}

func (f *frozen) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *frozen) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestGuardRates(t *testing.T) {
	clock := &frozen{t: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)}
	g := startGuarded(t, GuardConfig{Trusted: loopback1, Now: clock.now, CallsPerSecond: 1, CallsBurst: 2,
		RequestsPerSecond: 1, RequestsBurst: 7})
	close(g.hold)
	p := newRawPeer(t, "127.0.0.1", g.srv.Addr())
	for i := range 2 {
		if res := p.final(p.request("INVITE", "test")); res.StatusCode != sip.StatusTemporarilyUnavailable {
			t.Fatalf("call %d within the burst: %d", i+1, res.StatusCode)
		}
	}
	// Each INVITE took one request token, and the ACK of its final response
	// another: 4 of 7.
	if res := p.final(p.request("INVITE", "test")); res.StatusCode != sip.StatusServiceUnavailable {
		t.Fatalf("call past the burst: %d, want 503", res.StatusCode)
	}
	waitCount(t, g.guard, RefusedCallRate, 1)
	clock.add(time.Second) // one call token back, one request token back: 2 left
	if res := p.final(p.request("INVITE", "test")); res.StatusCode != sip.StatusTemporarilyUnavailable {
		t.Fatalf("call a second later: %d", res.StatusCode)
	}
	// The request bucket is empty now: the next requests are dropped
	// unparsed, whatever they are.
	before := g.guard.Refused()[RefusedRequestRate]
	p.request("OPTIONS", "test")
	p.request("OPTIONS", "test")
	waitCount(t, g.guard, RefusedRequestRate, before+2)
}

func TestGuardDropsScanners(t *testing.T) {
	g := startGuarded(t, GuardConfig{Trusted: loopback1, ScannerUserAgents: []string{"friendly-scanner", "sipvicious"}})
	p := newRawPeer(t, "127.0.0.1", g.srv.Addr())
	p.request("OPTIONS", "Friendly-Scanner 1.0")
	p.request("INVITE", "sipvicious")
	waitCount(t, g.guard, RefusedScanner, 2)
	if res := p.final(p.request("OPTIONS", "Linphone/5.2")); res.StatusCode != sip.StatusOK {
		t.Fatalf("a softphone's OPTIONS: %d", res.StatusCode)
	}
	if g.calls.Load() != 0 {
		t.Errorf("a scanner's INVITE reached the handler")
	}
}

func TestUserAgentHeader(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"OPTIONS sip:x SIP/2.0\r\nVia: a\r\nUser-Agent: friendly-scanner\r\n\r\n", "friendly-scanner"},
		{"OPTIONS sip:x SIP/2.0\r\nuser-agent  :  sipcli/v1.8 \r\nTo: x\r\n\r\n", "sipcli/v1.8"},
		{"OPTIONS sip:x SIP/2.0\r\nFrom: \"User-Agent: sipvicious\" <sip:a@b>\r\n\r\n", ""},
		{"OPTIONS sip:x SIP/2.0\r\n\r\nUser-Agent: in the body\r\n", ""},
		{"garbage", ""},
		{"", ""},
	} {
		if got := string(userAgent([]byte(tc.msg))); got != tc.want {
			t.Errorf("userAgent(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	r := newRateLimiter(1, 1, 100)
	now := time.Now()
	for i := range 10000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if !r.allow(a, now) {
			t.Fatalf("new source %s refused", a)
		}
	}
	if r.size() != 100 || r.evicted != 9900 {
		t.Fatalf("size %d evicted %d, want 100 and 9900", r.size(), r.evicted)
	}
	last := netip.AddrFrom4([4]byte{10, 0, 39, 15}) // 9999: still remembered, bucket empty
	if r.allow(last, now) {
		t.Fatal("a remembered source got a second token within the second")
	}
}

func TestThrottleLog(t *testing.T) {
	clock := &frozen{t: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)}
	var buf syncBuffer
	st := newThrottle(3, time.Minute, clock.now)
	log := slog.New(&throttleHandler{next: slog.NewTextHandler(&buf, nil), st: st})
	for range 100 {
		log.Error("failed to parse", "src", "203.0.113.9:5060")
	}
	log.With("src", "198.51.100.7:5080").Error("failed to parse")
	if n := strings.Count(buf.String(), "failed to parse"); n != 4 {
		t.Fatalf("%d lines written, want 3 for the first source and 1 for the second:\n%s", n, buf.String())
	}
	clock.add(time.Minute)
	st.flush(clock.now(), false)
	out := buf.String()
	if !strings.Contains(out, `msg="log lines suppressed" src=203.0.113.9 message="failed to parse" count=97`) {
		t.Fatalf("no summary line:\n%s", out)
	}
	if strings.Count(out, "log lines suppressed") != 1 {
		t.Fatalf("want one summary:\n%s", out)
	}
	log.Error("failed to parse", "src", "203.0.113.9:5060")
	if n := strings.Count(buf.String(), "failed to parse\" src=203.0.113.9:5060"); n != 4 {
		t.Fatalf("a new minute should let a line through again: %d", n)
	}
}

func TestGuardThrottlesStackParseErrors(t *testing.T) {
	g := startGuarded(t, GuardConfig{Trusted: loopback1, LogPerMinute: 3})
	p := newRawPeer(t, "127.0.0.2", g.srv.Addr())
	for i := range 50 {
		if _, err := p.conn.WriteToUDP([]byte(fmt.Sprintf("NOT SIP AT ALL %d\r\n\r\n", i)), p.to); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, g.guard, RefusedMalformed, 50)
	logs := g.logs.String()
	if n := strings.Count(logs, "failed to parse"); n != 3 {
		t.Fatalf("%d parse errors logged, want 3:\n%s", n, logs)
	}
	if !strings.Contains(logs, "src=127.0.0.2") {
		t.Errorf("parse errors do not name their source:\n%s", logs)
	}
	if rr := g.guard.RecentRefusals(); len(rr) == 0 || rr[0].Source.String() != "127.0.0.2" || rr[0].Count != 50 {
		t.Errorf("recent refusals: %+v", rr)
	}
}

func TestNoRTPPortIs503(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	g := NewGuard(limited(GuardConfig{Trusted: loopback1, Logger: log, RetryAfter: 9 * time.Second}))
	hold := make(chan struct{})
	// One even port: room for one call.
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 40400, RTPMax: 40401,
		Logger: log, Guard: g,
		Lines: func(user string) (string, bool) { return "support", user == "support" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {
			select {
			case <-hold:
			case <-c.Done():
			}
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	p := newRawPeer(t, "127.0.0.1", srv.Addr())
	first := p.request("INVITE", "test")
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().ActiveCalls != 1 {
		if time.Now().After(deadline) {
			t.Fatal("first call not in progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	res := p.final(p.request("INVITE", "test"))
	if res.StatusCode != sip.StatusServiceUnavailable || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != "9" {
		t.Fatalf("second call with no RTP port left: %d %v, want 503 with Retry-After: 9", res.StatusCode, res.GetHeader("Retry-After"))
	}
	waitCount(t, g, RefusedRTPPorts, 1)
	// Its slot under the caps is freed once the 503 is acknowledged.
	deadline = time.Now().Add(5 * time.Second)
	for g.ActiveCalls() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the refused call still holds a slot: %d active", g.ActiveCalls())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(hold)
	if res := p.final(first); res.StatusCode != sip.StatusTemporarilyUnavailable {
		t.Errorf("first call: %d", res.StatusCode)
	}
	for g.ActiveCalls() > 0 && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGuardClosesScannerTCP(t *testing.T) {
	g := NewGuard(limited(GuardConfig{Trusted: loopback1, Logger: slog.New(slog.DiscardHandler), ScannerUserAgents: []string{"sipvicious"}}))
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp", "tcp"}, RTPMin: 40500, RTPMax: 40510,
		Logger: slog.New(slog.DiscardHandler), Guard: g,
		Lines:   func(user string) (string, bool) { return "support", user == "support" },
		Handler: HandlerFunc(func(ctx context.Context, c *Call) {}),
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	la := c.LocalAddr().String()
	fmt.Fprintf(c, "OPTIONS sip:support@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-scan\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:support@x>\r\n"+
		"Call-ID: scan-tcp\r\nCSeq: 1 OPTIONS\r\nUser-Agent: sipvicious 0.3\r\nContent-Length: 0\r\n\r\n", srv.Addr(), la)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 1024))
	if err == nil {
		t.Fatalf("the scanner got %d bytes of answer over TCP", n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the scanner's TCP connection was left open")
	}
	waitCount(t, g, RefusedScanner, 1)
}

func TestDigestURITarget(t *testing.T) {
	rcpt := sip.Uri{Scheme: "sip", User: "support", Host: "192.0.2.10", Port: 5060}
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{"sip:support@192.0.2.10:5060", true},
		{"sip:192.0.2.10:5060", true}, // SIPp's form
		{"sip:support@192.0.2.99", false},
		{"sip:sales@192.0.2.10", false},
		{"not a uri", false},
	} {
		if got := sameTarget(tc.uri, rcpt); got != tc.want {
			t.Errorf("sameTarget(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}
