package sip

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// registrarPeer is a real SIP registrar (sipgo) on loopback whose answers
// the test scripts.
type registrarPeer struct {
	t    *testing.T
	addr *net.UDPAddr
	reqs chan *sip.Request
	mu   sync.Mutex
	// answer builds the response to each REGISTER.
	answer func(req *sip.Request) *sip.Response
}

func newRegistrarPeer(t *testing.T) *registrarPeer {
	t.Helper()
	r := &registrarPeer{t: t, reqs: make(chan *sip.Request, 32)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		r.mu.Lock()
		answer := r.answer
		r.mu.Unlock()
		r.reqs <- req
		if answer != nil {
			_ = tx.Respond(answer(req))
		}
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = conn.LocalAddr().(*net.UDPAddr)
	go srv.ServeUDP(conn)
	t.Cleanup(func() { conn.Close(); srv.Close(); ua.Close() })
	return r
}

func (r *registrarPeer) setAnswer(f func(req *sip.Request) *sip.Response) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

// next waits for the next REGISTER.
func (r *registrarPeer) next() *sip.Request {
	r.t.Helper()
	select {
	case req := <-r.reqs:
		return req
	case <-time.After(10 * time.Second):
		r.t.Fatal("no REGISTER reached the registrar")
		return nil
	}
}

func (r *registrarPeer) trunk() Trunk {
	return Trunk{Name: "ovh", Host: "127.0.0.1", Port: r.addr.Port, Transport: "udp", Domain: "127.0.0.1",
		Username: "0033493918009", AuthUsername: "0033493918009", Password: "s3cret", Expiry: time.Hour, RetryMin: 4 * time.Second, RetryMax: 60 * time.Second}
}

// challenge answers 401 (or 407) with one challenge per algorithm.
func challenge(req *sip.Request, code int, stale bool, algs ...string) *sip.Response {
	reason, hdr := "Unauthorized", "WWW-Authenticate"
	if code == sip.StatusProxyAuthRequired {
		reason, hdr = "Proxy Authentication Required", "Proxy-Authenticate"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, a := range algs {
		c := &digest.Challenge{Realm: "trunk.test", Nonce: sip.GenerateTagN(16), Algorithm: a, QOP: []string{"auth"}, Stale: stale}
		res.AppendHeader(sip.NewHeader(hdr, c.String()))
	}
	return res
}

// checkDigest verifies the credentials in req's header against password,
// computing the digest itself; it returns the algorithm used.
func checkDigest(req *sip.Request, header, user, password string) (string, error) {
	h := req.GetHeader(header)
	if h == nil {
		return "", fmt.Errorf("no %s header", header)
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return "", err
	}
	if cred.Username != user {
		return "", fmt.Errorf("username %q, want %q", cred.Username, user)
	}
	want, err := digest.Digest(&digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, QOP: []string{cred.QOP}},
		digest.Options{Method: "REGISTER", URI: cred.URI, Username: user, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		return "", err
	}
	if want.Response != cred.Response {
		return "", fmt.Errorf("digest response does not match (algorithm %s)", cred.Algorithm)
	}
	return cred.Algorithm, nil
}

// ok answers 200 with our contact bound for granted seconds.
func ok(req *sip.Request, granted int) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	c := req.Contact().Clone()
	c.Params = sip.NewParams()
	c.Params.Add("expires", strconv.Itoa(granted))
	res.AppendHeader(c)
	return res
}

// fakeTimers replaces time.After: the test sees each wait asked for and
// decides when it ends.
type fakeTimers struct {
	t  *testing.T
	ch chan fakeTimer
}

type fakeTimer struct {
	d time.Duration
	c chan time.Time
}

func newFakeTimers(t *testing.T) *fakeTimers {
	return &fakeTimers{t: t, ch: make(chan fakeTimer, 64)}
}

func (f *fakeTimers) after(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.ch <- fakeTimer{d: d, c: c}
	return c
}

// next returns the next wait the registration asked for.
func (f *fakeTimers) next() fakeTimer {
	f.t.Helper()
	select {
	case tm := <-f.ch:
		return tm
	case <-time.After(10 * time.Second):
		f.t.Fatal("the registration set no timer")
		return fakeTimer{}
	}
}

func (tm fakeTimer) fire() { tm.c <- time.Now() }

// logRecords keeps what was logged.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// count counts records at level or above whose message is msg.
func (l *logRecords) count(level slog.Level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.Level >= level && r.Message == msg {
			n++
		}
	}
	return n
}

// newRegServer starts our server on loopback with its registrations driven
// by fake timers.
func newRegServer(t *testing.T, logs *logRecords) *Server {
	t.Helper()
	return newRegServerWith(t, logs, nil)
}

func newRegServerWith(t *testing.T, logs *logRecords, tlsClient *tls.Config) *Server {
	t.Helper()
	var h slog.Handler = slog.DiscardHandler
	if logs != nil {
		h = logs
	}
	srv, err := NewServer(Config{
		Listen: "127.0.0.1:0", Transports: []string{"udp", "tcp"}, RTPMin: 40200, RTPMax: 40300,
		Logger: slog.New(h), Lines: func(string) (string, bool) { return "", false },
		Handler: HandlerFunc(func(context.Context, *Call) {}), TLSClient: tlsClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	return srv
}

func shutdown(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitState(t *testing.T, srv *Server, want RegStatus) RegState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := srv.Registrations()
		if len(st) == 1 && st[0].Status == want {
			return st[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration state %+v, want %s", st, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func expiresHeader(t *testing.T, req *sip.Request) string {
	t.Helper()
	h := req.GetHeader("Expires")
	if h == nil {
		t.Fatal("REGISTER without Expires")
	}
	return h.Value()
}

func TestRegisterDigestChallenges(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		algs     []string // challenges offered, in order
		wantAlg  string
		wantHdr  string
		granted  int
		wantWait time.Duration // refresh timer: 85 % of granted
	}{
		{"401 MD5", sip.StatusUnauthorized, []string{"MD5"}, "MD5", "Authorization", 120, 102 * time.Second},
		{"401 no algorithm (MD5)", sip.StatusUnauthorized, []string{""}, "", "Authorization", 3600, 3060 * time.Second},
		{"401 SHA-256", sip.StatusUnauthorized, []string{"SHA-256"}, "SHA-256", "Authorization", 60, 51 * time.Second},
		{"401 SHA-256 preferred to MD5", sip.StatusUnauthorized, []string{"MD5", "SHA-256"}, "SHA-256", "Authorization", 60, 51 * time.Second},
		{"407 SHA-256", sip.StatusProxyAuthRequired, []string{"SHA-256"}, "SHA-256", "Proxy-Authorization", 300, 255 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newRegistrarPeer(t)
			tr := reg.trunk()
			authErr := make(chan error, 8)
			reg.setAnswer(func(req *sip.Request) *sip.Response {
				if req.GetHeader(tt.wantHdr) == nil {
					return challenge(req, tt.code, false, tt.algs...)
				}
				alg, err := checkDigest(req, tt.wantHdr, tr.Username, tr.Password)
				if err == nil && alg != tt.wantAlg {
					err = fmt.Errorf("answered with %q, want %q", alg, tt.wantAlg)
				}
				if err != nil {
					authErr <- err
					return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
				}
				return ok(req, tt.granted)
			})
			srv := newRegServer(t, nil)
			timers := newFakeTimers(t)
			if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
				t.Fatal(err)
			}
			first := reg.next()
			if first.GetHeader("Authorization") != nil || first.GetHeader("Proxy-Authorization") != nil {
				t.Fatal("credentials sent before any challenge")
			}
			if got := expiresHeader(t, first); got != "3600" {
				t.Errorf("asked Expires %s, want 3600", got)
			}
			if to := first.To(); to == nil || to.Address.User != tr.Username || to.Address.Host != "127.0.0.1" {
				t.Errorf("To %v, want the address of record sip:%s@127.0.0.1", first.To(), tr.Username)
			}
			second := reg.next()
			st := waitState(t, srv, RegRegistered)
			select {
			case err := <-authErr:
				t.Fatal(err)
			default:
			}
			if st.Granted != time.Duration(tt.granted)*time.Second {
				t.Errorf("granted %s, want %ds", st.Granted, tt.granted)
			}
			if src := first.Source(); src != srv.Addr() {
				t.Errorf("REGISTER left from %s, want the listening socket %s (what a NAT must map)", src, srv.Addr())
			}
			if st.Remote != reg.addr.String() {
				t.Errorf("remote %q, want the registrar's %s", st.Remote, reg.addr)
			}
			// The refresh is timed on the granted expiry, not the asked one.
			tm := timers.next()
			if tm.d != tt.wantWait {
				t.Errorf("refresh in %s, want %s (85%% of the granted %ds)", tm.d, tt.wantWait, tt.granted)
			}
			tm.fire()
			refresh := reg.next()
			if refresh.CallID().Value() != first.CallID().Value() {
				t.Error("refresh changed Call-ID")
			}
			if refresh.CSeq().SeqNo <= second.CSeq().SeqNo {
				t.Errorf("refresh CSeq %d not above %d", refresh.CSeq().SeqNo, second.CSeq().SeqNo)
			}
			reg.next() // its authenticated retry
			if tm := timers.next(); tm.d != tt.wantWait {
				t.Errorf("second refresh in %s, want %s", tm.d, tt.wantWait)
			}
			// Shutdown removes the binding.
			shutdown(t, srv)
			var un *sip.Request
			for un == nil || un.GetHeader(tt.wantHdr) == nil {
				un = reg.next()
			}
			if got := expiresHeader(t, un); got != "0" {
				t.Errorf("un-REGISTER Expires %s, want 0", got)
			}
			if st := srv.Registrations()[0]; st.Status != RegStopped || st.LastError != "" {
				t.Errorf("after shutdown: %+v", st)
			}
		})
	}
}

func TestRegisterWrongPasswordIsRejectedOnce(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	tr.Password = "wrong"
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		if _, err := checkDigest(req, "Authorization", tr.Username, "s3cret"); err == nil {
			return ok(req, 60)
		}
		return challenge(req, sip.StatusUnauthorized, false, "MD5")
	})
	logs := &logRecords{}
	srv := newRegServer(t, logs)
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	reg.next()
	reg.next() // with the wrong credentials; no third try
	st := waitState(t, srv, RegRejected)
	if st.LastCode != 401 || !strings.Contains(st.LastError, "credentials refused") {
		t.Errorf("state %+v, want 401 credentials refused", st)
	}
	tm := timers.next()
	if tm.d < tr.RetryMin/2 || tm.d > tr.RetryMin {
		t.Errorf("first retry in %s, want within [%s, %s]", tm.d, tr.RetryMin/2, tr.RetryMin)
	}
	select {
	case req := <-reg.reqs:
		t.Fatalf("a REGISTER was sent before the back-off ended: CSeq %d", req.CSeq().SeqNo)
	default:
	}
	if n := logs.count(slog.LevelError, "trunk registration failed"); n != 1 {
		t.Errorf("%d error lines, want 1", n)
	}
}

func TestRegisterForbiddenBacksOffThenRecovers(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
	})
	logs := &logRecords{}
	srv := newRegServer(t, logs)
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	// Each failure doubles the step (4s, 8s, 16s, 32s, then the 60s cap),
	// the wait jittered within the step's upper half.
	steps := []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 60 * time.Second, 60 * time.Second}
	for i, step := range steps {
		reg.next()
		tm := timers.next()
		if tm.d < step/2 || tm.d > step {
			t.Errorf("retry %d in %s, want within [%s, %s]", i+1, tm.d, step/2, step)
		}
		st := srv.Registrations()[0]
		if st.Status != RegRejected || st.LastCode != 403 || st.Failures != i+1 {
			t.Errorf("after failure %d: %+v", i+1, st)
		}
		if i == len(steps)-1 {
			reg.setAnswer(func(req *sip.Request) *sip.Response { return ok(req, 90) })
		}
		tm.fire()
	}
	reg.next()
	st := waitState(t, srv, RegRegistered)
	if st.Failures != 0 || st.LastError != "" {
		t.Errorf("registered with %+v", st)
	}
	if n := logs.count(slog.LevelError, "trunk registration failed"); n != 1 {
		t.Errorf("403 logged %d times at error level over %d attempts, want once", n, len(steps))
	}
	if n := logs.count(slog.LevelInfo, "trunk registered"); n != 1 {
		t.Errorf("%d 'trunk registered' lines, want 1", n)
	}
	if tm := timers.next(); tm.d != 76500*time.Millisecond {
		t.Errorf("refresh in %s, want 76.5s", tm.d)
	}
}

func TestRegisterServiceUnavailableRetries(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		res := sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "7"))
		return res
	})
	srv := newRegServer(t, nil)
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	reg.next()
	tm := timers.next()
	if tm.d != 7*time.Second {
		t.Errorf("retry in %s, want the 7s of Retry-After", tm.d)
	}
	if st := srv.Registrations()[0]; st.Status != RegFailed || st.LastCode != 503 {
		t.Errorf("state %+v, want failed 503", st)
	}
	reg.setAnswer(func(req *sip.Request) *sip.Response { return ok(req, 600) })
	tm.fire()
	reg.next()
	st := waitState(t, srv, RegRegistered)
	if st.Granted != 10*time.Minute {
		t.Errorf("granted %s", st.Granted)
	}

	// A refresh that fails while the binding holds: still registered, the
	// error shown, retried with back-off; then the registrar is back.
	tm = timers.next()
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		return sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
	})
	tm.fire()
	reg.next()
	tm = timers.next()
	if tm.d < tr.RetryMin/2 || tm.d > tr.RetryMin {
		t.Errorf("retry after a failed refresh in %s, want within [%s, %s]", tm.d, tr.RetryMin/2, tr.RetryMin)
	}
	if st := srv.Registrations()[0]; st.Status != RegRegistered || st.LastCode != 503 {
		t.Errorf("state after a failed refresh %+v, want registered with last code 503", st)
	}
}

func TestRegisterIntervalTooBrief(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	tr.Expiry = time.Minute
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		if req.GetHeader("Expires").Value() == "60" {
			res := sip.NewResponseFromRequest(req, sip.StatusIntervalToBrief, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", "1800"))
			return res
		}
		return ok(req, 1800)
	})
	srv := newRegServer(t, nil)
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	reg.next()
	if got := expiresHeader(t, reg.next()); got != "1800" {
		t.Errorf("asked %s after 423, want Min-Expires 1800", got)
	}
	waitState(t, srv, RegRegistered)
	if tm := timers.next(); tm.d != 1530*time.Second {
		t.Errorf("refresh in %s, want 1530s", tm.d)
	}
}

func TestGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "u", Host: "192.0.2.1", Port: 5070}
	mk := func(lines ...string) *sip.Response {
		raw := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1\r\nFrom: <sip:u@x>;tag=1\r\nTo: <sip:u@x>;tag=2\r\n" +
			"Call-ID: c\r\nCSeq: 2 REGISTER\r\n" + strings.Join(lines, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return msg.(*sip.Response)
	}
	tests := []struct {
		name string
		res  *sip.Response
		want time.Duration
	}{
		{"contact param", mk("Contact: <sip:u@192.0.2.1:5070>;expires=120"), 120 * time.Second},
		{"ours among others", mk("Contact: <sip:u@198.51.100.9:5060>;expires=3000, <sip:u@192.0.2.1:5070>;expires=90"), 90 * time.Second},
		{"ours among others, two headers", mk("Contact: <sip:u@198.51.100.9>;expires=3000", "Contact: <sip:u@192.0.2.1:5070>;expires=45"), 45 * time.Second},
		{"Expires header", mk("Expires: 300"), 300 * time.Second},
		{"rewritten contact", mk("Contact: <sip:u@203.0.113.7:41000>;expires=180"), 180 * time.Second},
		{"nothing: what we asked", mk(), time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := grantedExpiry(tt.res, ours, time.Hour); got != tt.want {
				t.Errorf("granted %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 1; n < 40; n++ {
		step := min(time.Second<<min(n-1, 20), 30*time.Second)
		for range 50 {
			d := backoff(n, time.Second, 30*time.Second)
			if d < step/2 || d > step {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, step/2, step)
			}
		}
	}
}

// TestRegisterLapsedBindingShowsFailed: a refresh left unanswered past the
// granted expiry shows as failed at once, not after the transaction's
// 32 s timeout.
func TestRegisterLapsedBindingShowsFailed(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	reg.setAnswer(func(req *sip.Request) *sip.Response { return ok(req, 2) })
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := newRegServer(t, nil)
	srv.cfg.Now = clock
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	reg.next()
	st := waitState(t, srv, RegRegistered)
	if !st.Expires.Equal(now.Add(2 * time.Second)) {
		t.Errorf("expires %s, want %s", st.Expires, now.Add(2*time.Second))
	}
	reg.setAnswer(nil) // the registrar goes silent
	timers.next().fire()
	reg.next()
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	st = srv.Registrations()[0]
	if st.Status != RegFailed || !strings.Contains(st.LastError, "expired") || !st.Since.Equal(now.Add(-time.Second)) {
		t.Errorf("after the binding lapsed: %+v", st)
	}
	reg.setAnswer(func(req *sip.Request) *sip.Response { return ok(req, 0) }) // answers the un-REGISTER
}

// TestRegisterStaleNonce: credentials on an expired nonce get 401 with
// stale=true; astreinte answers the new challenge instead of giving up
// (emiago/sipgo#329).
func TestRegisterStaleNonce(t *testing.T) {
	reg := newRegistrarPeer(t)
	tr := reg.trunk()
	n := 0
	reg.setAnswer(func(req *sip.Request) *sip.Response {
		n++
		switch n {
		case 1:
			return challenge(req, sip.StatusUnauthorized, false, "MD5")
		case 2:
			if _, err := checkDigest(req, "Authorization", tr.Username, tr.Password); err != nil {
				return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
			}
			return challenge(req, sip.StatusUnauthorized, true, "MD5")
		}
		if _, err := checkDigest(req, "Authorization", tr.Username, tr.Password); err != nil {
			return sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
		}
		return ok(req, 120)
	})
	srv := newRegServer(t, nil)
	timers := newFakeTimers(t)
	if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
		t.Fatal(err)
	}
	reg.next()
	second := reg.next()
	third := reg.next()
	st := waitState(t, srv, RegRegistered)
	if st.Failures != 0 || st.Granted != 2*time.Minute {
		t.Errorf("state %+v", st)
	}
	c2, _ := digest.ParseCredentials(second.GetHeader("Authorization").Value())
	c3, _ := digest.ParseCredentials(third.GetHeader("Authorization").Value())
	if c2 == nil || c3 == nil || c2.Nonce == c3.Nonce {
		t.Error("the retry after stale=true should answer the new nonce")
	}
	reg.setAnswer(func(req *sip.Request) *sip.Response { return ok(req, 0) })
}
