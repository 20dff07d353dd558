package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte/sip/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Handler serves one call. ServeCall runs on the call's own goroutine and may
// block for the whole call; when it returns the call is hung up (if it is
// still up) and its media released.
type Handler interface {
	ServeCall(ctx context.Context, c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call)

// ServeCall calls f(ctx, c).
func (f HandlerFunc) ServeCall(ctx context.Context, c *Call) { f(ctx, c) }

// LineMatcher maps the user part of a Request-URI (or To) to a support line
// name; ok is false for numbers we do not answer (404).
type LineMatcher func(user string) (line string, ok bool)

// Config configures a Server. The zero value of every field but Handler and
// Lines has a working default.
type Config struct {
	// Listen is the SIP listening address, on UDP and TCP (default 0.0.0.0:5060).
	Listen string
	// Transports lists "udp" and/or "tcp" (default both).
	Transports []string
	// ExternalIP is the address advertised in SDP and Contact (public IP
	// behind NAT). Default: the listening IP, or when that is unspecified,
	// the local address that routes to the peer.
	ExternalIP netip.Addr
	// RTPMin and RTPMax bound the RTP port range (default 10000–20000).
	RTPMin, RTPMax int
	// MediaIP is the address RTP sockets bind to (default: the listening IP).
	MediaIP netip.Addr
	// FirstPacketTimeout and MediaTimeout end calls without RTP.
	FirstPacketTimeout, MediaTimeout time.Duration
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string
	// Lines maps a called user to a line.
	Lines LineMatcher
	// CalledHeader names a header carrying the called number (e.g.
	// P-Called-Party-ID), looked at before the Request-URI and To.
	CalledHeader string
	// TLS, when set, adds a SIP over TLS listener (tls.go).
	TLS *TLSConfig
	// TLSClient configures outgoing TLS connections (a trunk over TLS
	// with a private CA); nil: the system's roots.
	TLSClient *tls.Config
	// SRTPRequired reports whether a line takes only SRTP calls (a plain
	// RTP offer gets 488). nil: SRTP when the caller offers it, plain RTP
	// otherwise, on every line.
	SRTPRequired func(line string) bool
	// Handler serves answered calls.
	Handler Handler
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock calls are timed with (default time.Now).
	Now func() time.Time
	// Guard, when set, admits new calls and bounds each source (guard.go).
	Guard *Guard
	// MaxCalls is the most calls expected at once (the guard's cap): each
	// RTP socket's receive buffer is sized for it (media.ReadBufferFor),
	// so that a receiver short of CPU loses no datagram. 0 leaves the
	// kernel's default.
	MaxCalls int
}

// Stats is a snapshot of the server's activity.
type Stats struct {
	ActiveCalls int64
	TotalCalls  uint64
	Rejected    uint64
}

// Server is the SIP user agent: it answers calls and places them.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	ports  *media.PortRange

	listenHost string
	listenPort int
	mu         sync.Mutex
	calls      map[string]*Call // by dialog id
	draining   atomic.Bool
	active     sync.WaitGroup
	nActive    atomic.Int64
	total      atomic.Uint64
	rejected   atomic.Uint64
	hardStop   context.CancelFunc
	hardCtx    context.Context
	listeners  []func() error
	ready      chan struct{}
	reg        *registrar   // trunk registrations (register.go)
	tls        *tlsListener // SIP over TLS (tls.go)
	tlsPort    int
	media      mediaTotals
}

// NewServer checks cfg and prepares the user agent. Call ListenAndServe.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Handler == nil || cfg.Lines == nil {
		return nil, errors.New("sip: Handler and Lines are required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "0.0.0.0:5060"
	}
	if len(cfg.Transports) == 0 {
		cfg.Transports = []string{"udp", "tcp"}
	}
	if cfg.RTPMin == 0 && cfg.RTPMax == 0 {
		cfg.RTPMin, cfg.RTPMax = 10000, 20000
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "astreinte"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen address %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("sip: listen address %q: bad port", cfg.Listen)
	}
	listenIP, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("sip: listen address %q: host must be an IP address", cfg.Listen)
	}
	if !cfg.MediaIP.IsValid() {
		cfg.MediaIP = listenIP
	}
	ports, err := media.NewPortRange(cfg.MediaIP, cfg.RTPMin, cfg.RTPMax)
	if err != nil {
		return nil, fmt.Errorf("sip: rtp ports: %w", err)
	}
	if cfg.MaxCalls > 0 {
		want := media.ReadBufferFor(cfg.MaxCalls)
		got, err := ports.SetReadBuffer(want)
		switch {
		case err != nil:
			return nil, fmt.Errorf("sip: rtp ports: %w", err)
		case got < want:
			cfg.Logger.Warn("rtp receive buffers capped by the kernel: raise net.core.rmem_max (sysctl) for no datagram lost when short of CPU",
				"max_calls", cfg.MaxCalls, "wanted", want, "granted", got)
		default:
			cfg.Logger.Info("rtp receive buffers", "max_calls", cfg.MaxCalls, "bytes", got)
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ports: ports, calls: map[string]*Call{}, ready: make(chan struct{}),
		listenHost: host, listenPort: port}
	s.hardCtx, s.hardStop = context.WithCancel(context.Background())
	return s, nil
}

// ListenAndServe binds the configured transports and serves until ctx is
// done. Bind errors are returned at once.
func (s *Server) ListenAndServe(ctx context.Context) error {
	stackLog := s.stackLog()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(s.cfg.UserAgent), sipgo.WithUserAgenTLSConfig(s.cfg.TLSClient),
		sipgo.WithUserAgentTransportLayerOptions(append(s.guardOptions(ctx), sip.WithTransportLayerLogger(stackLog))...),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(stackLog)))
	if err != nil {
		return fmt.Errorf("sip: user agent: %w", err)
	}
	s.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(stackLog))
	if err != nil {
		return fmt.Errorf("sip: server: %w", err)
	}
	s.srv = srv
	s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(s.advertisedHost()), sipgo.WithClientPort(s.listenPort),
		sipgo.WithClientLogger(stackLog))
	if err != nil {
		return fmt.Errorf("sip: client: %w", err)
	}
	s.routes()

	errc := make(chan error, len(s.cfg.Transports))
	for _, tr := range s.cfg.Transports {
		switch tr {
		case "udp":
			conn, err := net.ListenPacket("udp", s.cfg.Listen)
			if err != nil {
				return fmt.Errorf("sip: listen udp %s: %w", s.cfg.Listen, err)
			}
			if s.listenPort == 0 {
				s.listenPort = conn.LocalAddr().(*net.UDPAddr).Port
			}
			go func() { errc <- srv.ServeUDP(conn) }()
			s.listeners = append(s.listeners, conn.Close)
		case "tcp":
			addr := net.JoinHostPort(s.listenHost, strconv.Itoa(s.listenPort))
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("sip: listen tcp %s: %w", addr, err)
			}
			go func() { errc <- srv.ServeTCP(l) }()
			s.listeners = append(s.listeners, l.Close)
		default:
			return fmt.Errorf("sip: unknown transport %q (udp or tcp)", tr)
		}
	}
	if err := s.listenTLS(errc); err != nil {
		return err
	}
	s.log.Info("sip listening", "addr", s.Addr(), "transports", strings.Join(s.cfg.Transports, ","),
		"rtp", fmt.Sprintf("%d-%d", s.cfg.RTPMin, s.cfg.RTPMax))
	close(s.ready)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("sip: serve: %w", err)
		}
		return nil
	}
}

// Ready is closed once the listeners are bound.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound SIP address (host:port).
func (s *Server) Addr() string {
	return net.JoinHostPort(s.listenHost, strconv.Itoa(s.listenPort))
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	return Stats{ActiveCalls: s.nActive.Load(), TotalCalls: s.total.Load(), Rejected: s.rejected.Load()}
}

// Shutdown stops taking calls (new INVITEs get 503), lets the calls in
// progress finish until ctx is done, then ends the remaining ones (their
// handlers see their context cancelled and keep what they recorded), and
// closes the listeners.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.stopRegistrations()
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("shutdown: ending calls still in progress", "calls", s.nActive.Load())
		s.hardStop()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			err = errors.New("sip: calls did not end within 5s of the hard stop")
		}
	}
	s.hardStop()
	for _, c := range s.listeners {
		c()
	}
	if s.srv != nil {
		s.srv.Close()
	}
	if s.ua != nil {
		s.ua.Close()
	}
	return err
}

func (s *Server) advertisedHost() string {
	if s.cfg.ExternalIP.IsValid() {
		return s.cfg.ExternalIP.String()
	}
	if ip, err := netip.ParseAddr(s.listenHost); err == nil && !ip.IsUnspecified() {
		return ip.String()
	}
	return ""
}

// mediaAddrFor is the address we advertise in SDP to a peer at remote.
func (s *Server) mediaAddrFor(remote string) netip.Addr {
	if s.cfg.ExternalIP.IsValid() {
		return s.cfg.ExternalIP
	}
	if !s.cfg.MediaIP.IsUnspecified() {
		return s.cfg.MediaIP
	}
	// The local address that routes to the peer: connect a UDP socket
	// (no packet is sent) and read its local address.
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	if c, err := net.Dial("udp", net.JoinHostPort(host, "9")); err == nil {
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				return ip.Unmap()
			}
		}
	}
	return netip.IPv4Unspecified()
}

func (s *Server) contactFor(remote string) sip.ContactHeader {
	host := s.mediaAddrFor(remote).String()
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "astreinte", Host: host, Port: s.listenPort}}
}

func (s *Server) track(id string, c *Call) {
	s.mu.Lock()
	s.calls[id] = c
	s.mu.Unlock()
}

func (s *Server) untrack(id string) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
}

func (s *Server) lookup(id string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// callFor finds the call an in-dialog request belongs to, in either role.
func (s *Server) callFor(req *sip.Request) *Call {
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := s.lookup(id); c != nil {
			return c
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := s.lookup(id); c != nil {
			return c
		}
	}
	return nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// safeServe runs the handler with a recover so that one panicking call
// never takes the others down; the call is then hung up by the caller of
// safeServe and whatever was recorded is kept by the handler's defers.
func (s *Server) safeServe(ctx context.Context, c *Call) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("call handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	s.cfg.Handler.ServeCall(ctx, c)
}
