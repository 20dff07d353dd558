package sip

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// RefuseReason says why a request was refused; it labels the metrics.
type RefuseReason string

// Why requests are refused.
const (
	RefusedUntrusted       RefuseReason = "untrusted"       // INVITE from outside the trusted networks and trunks, no account
	RefusedUnauthenticated RefuseReason = "unauthenticated" // INVITE from outside, challenged for credentials (401)
	RefusedAuthFailed      RefuseReason = "auth_failed"     // wrong or unknown credentials (403)
	RefusedScanner         RefuseReason = "scanner"         // a scanner's User-Agent: dropped unparsed
	RefusedRequestRate     RefuseReason = "request_rate"    // past the per-source request rate: dropped unparsed
	RefusedCallRate        RefuseReason = "call_rate"       // past the per-source new-call rate (503)
	RefusedSourceCalls     RefuseReason = "source_calls"    // the source's calls in progress at their cap (503)
	RefusedMaxCalls        RefuseReason = "max_calls"       // all calls in progress at the cap (503)
	RefusedRTPPorts        RefuseReason = "rtp_ports"       // no RTP port left (503)
	RefusedMalformed       RefuseReason = "malformed"       // a message the SIP stack could not parse
)

// RefuseReasons lists every reason, in a stable order.
var RefuseReasons = []RefuseReason{RefusedUntrusted, RefusedUnauthenticated, RefusedAuthFailed, RefusedScanner,
	RefusedRequestRate, RefusedCallRate, RefusedSourceCalls, RefusedMaxCalls, RefusedRTPPorts, RefusedMalformed}

// GuardConfig configures a Guard. The limits have no defaults here: the
// configuration owns them (config.Security) and sets every one.
type GuardConfig struct {
	// Trusted networks: their INVITEs are served without authentication.
	Trusted []netip.Prefix
	// Trunks, when set, returns the addresses of the registered trunks,
	// which are trusted too. It is called for each new INVITE from an
	// address outside Trusted, so it must be cheap.
	Trunks func() []netip.Prefix
	// Drop makes refused INVITEs go unanswered instead of getting 403.
	Drop bool
	// Realm and Accounts (username → password): callers outside the
	// trusted networks that pass digest authentication as one of them are
	// served. No accounts: they are refused.
	Realm    string
	Accounts map[string]string
	// ScannerUserAgents are User-Agent substrings (any case) whose
	// requests are dropped before they are parsed.
	ScannerUserAgents []string
	// Per-source request rate (every request, checked before parsing).
	RequestsPerSecond float64
	RequestsBurst     int
	// Per-source new-call rate.
	CallsPerSecond float64
	CallsBurst     int
	// Caps on calls in progress, per source and in all.
	CallsPerSource, MaxCalls int
	// Sources bounds the number of addresses the rate limits remember.
	Sources int
	// RetryAfter is sent with 503.
	RetryAfter time.Duration
	// LogPerMinute bounds the lines one source writes to the log per
	// minute for one message; the rest is summed up.
	LogPerMinute int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of the rate limits (default time.Now).
	Now func() time.Time
}

// Refusal is one refused source, for `astreinte status`.
type Refusal struct {
	At     time.Time
	Source netip.Addr
	Reason RefuseReason
	Count  uint64 // refusals of this source for this reason since it entered the list
}

// Guard decides who may call in and bounds what each source costs: it drops
// scanners and floods before the SIP stack parses them, refuses strangers'
// INVITEs, caps the calls in progress (503 before any RTP port is taken),
// and keeps the log readable under attack. Safe for concurrent use.
type Guard struct {
	cfg      GuardConfig
	log      *slog.Logger // throttled
	throttle *throttleState
	reqs     *rateLimiter
	newCalls *rateLimiter
	active   *callCounter
	scanners [][]byte // lower case
	nonceKey [32]byte

	refused [16]atomic.Uint64 // by index in RefuseReasons

	recentMu sync.Mutex
	recent   []Refusal // most recent last, bounded

	lastUDPMu sync.Mutex
	lastUDP   netip.Addr // source of the datagram being parsed (one UDP reader)
}

const maxRecent = 32

// NewGuard builds a Guard. Every limit, RetryAfter, LogPerMinute and
// Realm must be set: their defaults belong to the configuration
// (config.Security), which passes them down; a zero one is a programming
// error, and NewGuard panics on it.
func NewGuard(cfg GuardConfig) *Guard {
	for name, unset := range map[string]bool{
		"RequestsPerSecond": cfg.RequestsPerSecond <= 0, "RequestsBurst": cfg.RequestsBurst <= 0,
		"CallsPerSecond": cfg.CallsPerSecond <= 0, "CallsBurst": cfg.CallsBurst <= 0,
		"CallsPerSource": cfg.CallsPerSource <= 0, "MaxCalls": cfg.MaxCalls <= 0, "Sources": cfg.Sources <= 0,
		"RetryAfter": cfg.RetryAfter <= 0, "LogPerMinute": cfg.LogPerMinute <= 0, "Realm": cfg.Realm == "",
	} {
		if unset {
			panic("sip: NewGuard: GuardConfig." + name + " is not set")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	g := &Guard{
		cfg:      cfg,
		reqs:     newRateLimiter(cfg.RequestsPerSecond, cfg.RequestsBurst, cfg.Sources),
		newCalls: newRateLimiter(cfg.CallsPerSecond, cfg.CallsBurst, cfg.Sources),
		active:   newCallCounter(cfg.CallsPerSource, cfg.MaxCalls),
	}
	_, _ = rand.Read(g.nonceKey[:])
	for _, s := range cfg.ScannerUserAgents {
		if s = strings.TrimSpace(s); s != "" {
			g.scanners = append(g.scanners, []byte(strings.ToLower(s)))
		}
	}
	g.throttle = newThrottle(cfg.LogPerMinute, time.Minute, cfg.Now)
	g.throttle.lastUDP = g.lastUDPSource
	g.throttle.onParseError = func(src netip.Addr) { g.count(RefusedMalformed, src) }
	g.log = g.Logger(cfg.Logger)
	return g
}

// Logger wraps l so that what it logs is throttled per source and message,
// like the refusals: use it for anything a stranger can make us log.
func (g *Guard) Logger(l *slog.Logger) *slog.Logger {
	return slog.New(&throttleHandler{next: l.Handler(), st: g.throttle})
}

// Refused returns the number of refused requests by reason.
func (g *Guard) Refused() map[RefuseReason]uint64 {
	m := make(map[RefuseReason]uint64, len(RefuseReasons))
	for i, r := range RefuseReasons {
		m[r] = g.refused[i].Load()
	}
	return m
}

// RecentRefusals returns the last refused sources, most recent first.
func (g *Guard) RecentRefusals() []Refusal {
	g.recentMu.Lock()
	defer g.recentMu.Unlock()
	out := make([]Refusal, len(g.recent))
	for i, r := range g.recent {
		out[len(g.recent)-1-i] = r
	}
	return out
}

// SuppressedLogLines is the number of log lines the throttle held back.
func (g *Guard) SuppressedLogLines() uint64 { return g.throttle.suppressed.Load() }

// ActiveCalls is the number of calls holding a slot under the caps.
func (g *Guard) ActiveCalls() int { return g.active.active() }

// run writes the summaries of throttled log lines once their minute is
// over, until ctx is done.
func (g *Guard) run(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.throttle.flush(g.cfg.Now(), true)
			return
		case <-t.C:
			g.throttle.flush(g.cfg.Now(), false)
		}
	}
}

func (g *Guard) count(r RefuseReason, src netip.Addr) {
	for i, rr := range RefuseReasons {
		if rr == r {
			g.refused[i].Add(1)
			break
		}
	}
	if !src.IsValid() {
		return
	}
	now := g.cfg.Now()
	g.recentMu.Lock()
	defer g.recentMu.Unlock()
	for i := len(g.recent) - 1; i >= 0; i-- {
		if g.recent[i].Source == src && g.recent[i].Reason == r {
			e := g.recent[i]
			e.At, e.Count = now, e.Count+1
			copy(g.recent[i:], g.recent[i+1:])
			g.recent[len(g.recent)-1] = e
			return
		}
	}
	if len(g.recent) >= maxRecent {
		copy(g.recent, g.recent[1:])
		g.recent = g.recent[:len(g.recent)-1]
	}
	g.recent = append(g.recent, Refusal{At: now, Source: src, Reason: r, Count: 1})
}

// logRefusal logs a refusal through the throttle, deciding before the
// record is built: a flood's suppressed lines cost no allocation.
func (g *Guard) logRefusal(l slog.Level, msg string, src netip.Addr, r RefuseReason, attrs ...slog.Attr) {
	h := g.cfg.Logger.Handler()
	ctx := context.Background()
	if !h.Enabled(ctx, l) || !g.throttle.admit(throttleKey{src: src, msg: msg}, l, h) {
		return
	}
	rec := slog.NewRecord(time.Now(), l, msg, 0)
	rec.AddAttrs(slog.String("src", src.String()), slog.String("reason", string(r)))
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

// trusted reports whether a is in the trusted networks or is a trunk.
func (g *Guard) trusted(a netip.Addr) bool {
	for _, p := range g.cfg.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	if g.cfg.Trunks != nil {
		for _, p := range g.cfg.Trunks() {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// --- Before parsing ----------------------------------------------------------

// readFilter runs on every datagram or TCP read before sipgo parses it: it
// drops scanners and sources past their request rate. On UDP it only ever
// drops (an error would stop sipgo's read loop); on TCP an error closes the
// connection, which is the way to shed a stream.
func (g *Guard) readFilter(p sip.TransportReadProps, data []byte) ([]byte, error) {
	src := addrOf(p.RemoteAddr)
	udp := p.Transport == "udp" || p.Transport == "UDP"
	if udp {
		g.lastUDPMu.Lock()
		g.lastUDP = src
		g.lastUDPMu.Unlock()
	}
	if !g.reqs.allow(src, g.cfg.Now()) {
		g.count(RefusedRequestRate, src)
		g.logRefusal(slog.LevelWarn, "sip traffic dropped: past the request rate", src, RefusedRequestRate)
		if udp {
			return nil, nil
		}
		return nil, errRefusedStream
	}
	if len(g.scanners) > 0 && !bytes.HasPrefix(data, []byte("SIP/")) {
		if ua := userAgent(data); ua != nil && g.isScanner(ua) {
			g.count(RefusedScanner, src)
			g.logRefusal(slog.LevelWarn, "sip traffic dropped: scanner", src, RefusedScanner, slog.String("user_agent", string(ua)))
			if udp {
				return nil, nil
			}
			return nil, errRefusedStream
		}
	}
	return data, nil
}

type refusedStreamError struct{}

func (refusedStreamError) Error() string { return "refused by the guard (rate or scanner); closing" }

var errRefusedStream error = refusedStreamError{}

func (g *Guard) lastUDPSource() netip.Addr {
	g.lastUDPMu.Lock()
	defer g.lastUDPMu.Unlock()
	return g.lastUDP
}

func (g *Guard) isScanner(ua []byte) bool {
	for _, s := range g.scanners {
		if containsFold(ua, s) {
			return true
		}
	}
	return false
}

// userAgent finds the User-Agent header's value in a raw SIP message, or
// nil. It reads no further than the end of the headers.
func userAgent(data []byte) []byte {
	i := 0
	for {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return nil
		}
		i += j + 1
		line := data[i:]
		if len(line) == 0 || line[0] == '\r' || line[0] == '\n' {
			return nil // end of headers
		}
		const name = "user-agent"
		if len(line) > len(name) && hasPrefixFold(line, name) {
			v := bytes.TrimLeft(line[len(name):], " \t")
			if len(v) == 0 || v[0] != ':' {
				continue
			}
			v = v[1:]
			if k := bytes.IndexAny(v, "\r\n"); k >= 0 {
				v = v[:k]
			}
			return bytes.TrimSpace(v)
		}
	}
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(b[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case ASCII sub.
func containsFold(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if hasPrefixFold(b[i:], string(sub)) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// addrOf is the IP address of a net.Addr or "host:port" string.
func addrOf(a any) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		if v != nil {
			return v.AddrPort().Addr().Unmap()
		}
	case *net.TCPAddr:
		if v != nil {
			return v.AddrPort().Addr().Unmap()
		}
	case string:
		if ap, err := netip.ParseAddrPort(v); err == nil {
			return ap.Addr().Unmap()
		}
		if ip, err := netip.ParseAddr(v); err == nil {
			return ip.Unmap()
		}
		if h, _, err := net.SplitHostPort(v); err == nil {
			if ip, err := netip.ParseAddr(h); err == nil {
				return ip.Unmap()
			}
		}
	case net.Addr:
		return addrOf(v.String())
	}
	return netip.Addr{}
}

// --- New calls ---------------------------------------------------------------

// admitInvite decides on a new INVITE before any work is done for it. When
// the call may go on it returns the function that frees its slot under the
// caps (call it when the call ends); otherwise it has answered (or dropped)
// the request and ok is false.
func (g *Guard) admitInvite(req *sip.Request, tx sip.ServerTransaction) (release func(), ok bool) {
	src := addrOf(req.Source())
	refuse := func(r RefuseReason, code int, reason string, hdrs ...sip.Header) {
		if code != 0 {
			respond(tx, req, code, reason, hdrs...)
		}
		g.count(r, src) // after the answer: a counted refusal has been answered
		g.logRefusal(slog.LevelInfo, "sip request refused", src, r, slog.Int("status", code), slog.String("method", string(req.Method)))
	}
	user := ""
	if !g.trusted(src) {
		if len(g.cfg.Accounts) == 0 {
			code := sip.StatusForbidden
			if g.cfg.Drop {
				code = 0
			}
			refuse(RefusedUntrusted, code, "Forbidden")
			return nil, false
		}
		u, verdict, stale := g.checkDigest(req, src)
		switch verdict {
		case authOK:
			user = u
		case authChallenge:
			refuse(RefusedUnauthenticated, sip.StatusUnauthorized, "Unauthorized", g.challenges(src, stale)...)
			return nil, false
		default:
			code := sip.StatusForbidden
			if g.cfg.Drop {
				code = 0
			}
			refuse(RefusedAuthFailed, code, "Forbidden")
			return nil, false
		}
	}
	retry := sip.NewHeader("Retry-After", strconv.Itoa(int(g.cfg.RetryAfter/time.Second)))
	if !g.newCalls.allow(src, g.cfg.Now()) {
		refuse(RefusedCallRate, sip.StatusServiceUnavailable, "Service Unavailable", retry)
		return nil, false
	}
	release, why := g.active.acquire(src)
	if why != "" {
		refuse(why, sip.StatusServiceUnavailable, "Service Unavailable", retry)
		return nil, false
	}
	if user != "" {
		g.cfg.Logger.Info("caller authenticated", "src", src, "account", user, "call_id", callID(req))
	}
	return release, true
}

// --- Wiring into the Server ----------------------------------------------------

// stackLog is the logger handed to sipgo: values cut short and, with a
// guard, lines throttled per source.
func (s *Server) stackLog() *slog.Logger {
	l := stackLogger(s.log)
	if g := s.cfg.Guard; g != nil {
		l = g.Logger(l)
	}
	return l
}

// guardOptions are the guard's options for sipgo's transport layer (one
// list: sipgo keeps only the last WithUserAgentTransportLayerOptions). It
// starts the guard's log summaries until ctx is done.
func (s *Server) guardOptions(ctx context.Context) []sip.TransportLayerOption {
	g := s.cfg.Guard
	if g == nil {
		return nil
	}
	go g.run(ctx)
	return []sip.TransportLayerOption{sip.WithTransportLayerReadFilter(g.readFilter)}
}

// admit runs the guard on a new INVITE. Without a guard, every INVITE goes on.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) (release func(), ok bool) {
	if s.cfg.Guard == nil {
		return func() {}, true
	}
	return s.cfg.Guard.admitInvite(req, tx)
}

// strangerDropped drops an out-of-dialog request other than INVITE
// (OPTIONS, MESSAGE, …) from outside the trusted networks and trunks when
// the guard is set to drop: a scanner probing with OPTIONS learns nothing.
// With refuse: reject such requests are answered as usual (a remote PBX
// with an account keeps qualifying us with OPTIONS).
func (s *Server) strangerDropped(req *sip.Request) bool {
	g := s.cfg.Guard
	if g == nil || !g.cfg.Drop {
		return false
	}
	src := addrOf(req.Source())
	if g.trusted(src) {
		return false
	}
	g.count(RefusedUntrusted, src)
	g.logRefusal(slog.LevelInfo, "sip request refused", src, RefusedUntrusted, slog.Int("status", 0), slog.String("method", string(req.Method)))
	return true
}

// noRTPPort answers an INVITE when the RTP port range is exhausted: 503,
// with the guard's Retry-After (security.limits.retry_after; none without
// a guard), counted, logged through the throttle.
func (s *Server) noRTPPort(sess *sipgo.DialogServerSession, req *sip.Request, err error) {
	s.rejected.Add(1)
	log := s.log
	var hdrs []sip.Header
	if g := s.cfg.Guard; g != nil {
		g.count(RefusedRTPPorts, addrOf(req.Source()))
		hdrs = append(hdrs, sip.NewHeader("Retry-After", strconv.Itoa(int(g.cfg.RetryAfter/time.Second))))
		log = g.log
	}
	log.Error("no RTP port for the call", "src", addrOf(req.Source()), "reason", RefusedRTPPorts, "error", err)
	_ = sess.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, hdrs...)
	sess.Close()
}

// Draining reports whether Shutdown has begun (new calls get 503).
func (s *Server) Draining() bool { return s.draining.Load() }

// MediaTotals are RTP counters summed over the calls that ended.
type MediaTotals struct {
	Received, Lost, Late uint64
}

// mediaTotals accumulates MediaTotals (see callEnded).
type mediaTotals struct{ received, lost, late atomic.Uint64 }

// callEnded adds an ended call's RTP counters to the server's totals.
func (s *Server) callEnded(c *Call) {
	m := c.Media()
	if m == nil {
		return
	}
	st := m.Stats()
	s.media.received.Add(st.PacketsReceived)
	s.media.lost.Add(st.LostPackets)
	s.media.late.Add(st.Late)
}

// MediaTotals returns the RTP counters of the calls that ended.
func (s *Server) MediaTotals() MediaTotals {
	return MediaTotals{Received: s.media.received.Load(), Lost: s.media.lost.Load(), Late: s.media.late.Load()}
}
