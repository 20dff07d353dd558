package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Trunk is one registration astreinte keeps with a carrier's or a PBX's
// registrar, so that calls to its numbers are sent here. Every field but
// Password and Realm must be set: the defaults belong to the
// configuration (config.Trunk, filled by config.Parse).
type Trunk struct {
	Name      string
	Host      string // registrar host name or IP
	Port      int
	Transport string // "udp", "tcp" or "tls"
	// Domain is the domain of the address of record sip:Username@Domain
	// and of the Request-URI.
	Domain       string
	Username     string
	AuthUsername string
	Password     string
	// Realm, when set, is the only realm credentials are given to.
	Realm string
	// Expiry is asked for; the registrar's grant is what the refresh is
	// timed on.
	Expiry time.Duration
	// RetryMin and RetryMax bound the back-off after failures (doubling,
	// jittered).
	RetryMin, RetryMax time.Duration
}

// RegStatus is where a trunk's registration stands.
type RegStatus string

// The registration states.
const (
	RegStarting   RegStatus = "starting"     // first attempt under way
	RegRegistered RegStatus = "registered"   // the registrar holds our contact
	RegFailed     RegStatus = "failed"       // no answer, network error, 5xx…: retried with back-off
	RegRejected   RegStatus = "rejected"     // credentials refused, 403, 404: retried slowly, needs an admin
	RegStopped    RegStatus = "unregistered" // removed on shutdown
)

// RegState is a snapshot of one trunk's registration.
type RegState struct {
	Trunk     string        `json:"trunk"`
	Registrar string        `json:"registrar"` // host:port/transport
	AOR       string        `json:"aor"`       // sip:user@domain
	Status    RegStatus     `json:"status"`
	Since     time.Time     `json:"since"`                // when Status last changed
	LastCode  int           `json:"last_code,omitempty"`  // last final response (0: none)
	LastError string        `json:"last_error,omitempty"` // why the last attempt failed
	Granted   time.Duration `json:"granted,omitempty"`    // expiry the registrar granted
	Expires   time.Time     `json:"expires,omitzero"`     // end of the current binding
	NextTry   time.Time     `json:"next_try,omitzero"`    // next refresh or retry
	Failures  int           `json:"failures,omitempty"`   // consecutive failed attempts
	// Remote is where the registrar's last 2xx came from (ip:port): the
	// address calls through this trunk arrive from, for an admission
	// check that trusts registered trunks.
	Remote string `json:"remote,omitempty"`
}

// regTimeout bounds one REGISTER transaction (Timer F is 64×T1 = 32 s).
const regTimeout = 35 * time.Second

// unregisterTimeout bounds the un-REGISTER of every trunk at shutdown.
const unregisterTimeout = 3 * time.Second

// registrar keeps the registrations of a Server.
type registrar struct {
	regs   []*registration
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartRegistrations registers with each trunk and keeps the registrations
// up (refresh before the granted expiry, back-off after failures) until
// ctx is done or the server shuts down, when they are removed. Call it
// once the server is Ready.
func (s *Server) StartRegistrations(ctx context.Context, trunks []Trunk) error {
	return s.startRegistrations(ctx, trunks, time.After)
}

func (s *Server) startRegistrations(ctx context.Context, trunks []Trunk, after func(time.Duration) <-chan time.Time) error {
	if len(trunks) == 0 {
		return nil
	}
	select {
	case <-s.ready:
	default:
		return errors.New("sip: registrations started before the server is listening")
	}
	r := &registrar{}
	for _, t := range trunks {
		reg, err := s.newRegistration(t, after)
		if err != nil {
			return err
		}
		r.regs = append(r.regs, reg)
	}
	ctx, r.cancel = context.WithCancel(ctx)
	s.mu.Lock()
	if s.reg != nil {
		s.mu.Unlock()
		r.cancel()
		return errors.New("sip: registrations already started")
	}
	s.reg = r
	s.mu.Unlock()
	for _, reg := range r.regs {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			reg.run(ctx)
		}()
	}
	return nil
}

// Registrations returns the state of every trunk registration, in the
// order they were configured (nil when there are none).
func (s *Server) Registrations() []RegState {
	s.mu.Lock()
	r := s.reg
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	out := make([]RegState, len(r.regs))
	for i, reg := range r.regs {
		out[i] = reg.snapshot()
	}
	return out
}

// stopRegistrations removes every registration (Expires: 0), waiting at
// most unregisterTimeout. Shutdown calls it before closing the transports.
func (s *Server) stopRegistrations() {
	s.mu.Lock()
	r := s.reg
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
}

type registration struct {
	t     Trunk
	s     *Server
	log   *slog.Logger
	after func(time.Duration) <-chan time.Time

	callID  string
	fromTag string
	cseq    uint32
	aor     sip.Uri
	ruri    sip.Uri
	dest    string // host:port
	tp      string // UDP, TCP, TLS
	contact sip.ContactHeader
	// laddr, for UDP, makes the REGISTER leave from our listening socket,
	// so that a NAT maps the port calls come to; nil when unusable.
	laddr *sip.Addr

	mu       sync.Mutex
	state    RegState
	lastLog  string // status/code of the last state logged
	everUp   bool   // a binding may exist at the registrar
	attempts int    // consecutive failures
}

func (s *Server) newRegistration(t Trunk, after func(time.Duration) <-chan time.Time) (*registration, error) {
	// The configuration owns the trunk defaults (config.Trunks): a trunk
	// comes here complete.
	if t.Name == "" || t.Host == "" || t.Port == 0 || t.Domain == "" || t.Username == "" || t.AuthUsername == "" {
		return nil, fmt.Errorf("sip: trunk %q: name, host, port, domain, username and auth username are required", t.Name)
	}
	if t.Expiry <= 0 || t.RetryMin <= 0 || t.RetryMax < t.RetryMin {
		return nil, fmt.Errorf("sip: trunk %s: expiry %s, retry %s–%s: want a positive expiry and 0 < retry_min ≤ retry_max", t.Name, t.Expiry, t.RetryMin, t.RetryMax)
	}
	t.Transport = strings.ToLower(t.Transport)
	if t.Transport != "udp" && t.Transport != "tcp" && t.Transport != "tls" {
		return nil, fmt.Errorf("sip: trunk %s: transport %q (want udp, tcp or tls)", t.Name, t.Transport)
	}
	dest := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	r := &registration{
		t: t, s: s, after: after,
		log:     s.log.With("trunk", t.Name, "registrar", dest+"/"+t.Transport),
		callID:  sip.GenerateTagN(24) + "@astreinte",
		fromTag: sip.GenerateTagN(16),
		cseq:    1 + rand.Uint32N(1<<15),
		aor:     sip.Uri{Scheme: "sip", User: t.Username, Host: t.Domain},
		dest:    dest,
		tp:      strings.ToUpper(t.Transport),
	}
	r.ruri = sip.Uri{Scheme: "sip", Host: t.Domain}
	if t.Domain == t.Host {
		r.ruri.Port = t.Port
	}
	port := s.listenPort
	if t.Transport == "tls" && s.tlsPort != 0 {
		port = s.tlsPort
	}
	r.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: t.Username, Host: s.mediaAddrFor(dest).String(), Port: port}}
	if t.Transport != "udp" {
		r.contact.Address.UriParams = sip.NewParams()
		r.contact.Address.UriParams.Add("transport", t.Transport)
	}
	if t.Transport == "udp" && slices.Contains(s.cfg.Transports, "udp") {
		if ip := net.ParseIP(s.listenHost); ip != nil {
			r.laddr = &sip.Addr{IP: ip, Port: s.listenPort}
		}
	}
	r.state = RegState{Trunk: t.Name, Registrar: dest + "/" + t.Transport, AOR: r.aor.String(), Status: RegStarting, Since: s.now()}
	return r, nil
}

func (r *registration) snapshot() RegState {
	r.mu.Lock()
	st := r.state
	r.mu.Unlock()
	if st.Status == RegRegistered && !st.Expires.IsZero() && r.s.now().After(st.Expires) {
		// The refresh is still unanswered (a registrar gone silent: Timer
		// F is 32 s) and the binding has lapsed: say so now.
		st.Status, st.Since = RegFailed, st.Expires
		if st.LastError == "" {
			st.LastError = "the registration expired, its refresh is unanswered"
		}
	}
	return st
}

// run registers, then refreshes or retries until ctx is done, then
// removes the binding.
func (r *registration) run(ctx context.Context) {
	expiry := r.t.Expiry
	if r.laddr != nil {
		// The listener's read loop has just started: give the transport
		// a moment to hold it, so the first REGISTER leaves from it too.
		for i := 0; i < 100 && !r.listenerPooled(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for {
		res, err := r.do(ctx, expiry)
		if ctx.Err() != nil {
			break
		}
		wait, next := r.outcome(res, err, expiry)
		expiry = next
		r.mu.Lock()
		r.state.NextTry = r.s.now().Add(wait)
		r.mu.Unlock()
		if wait <= 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-r.after(wait):
			continue
		}
		break
	}
	r.unregister()
}

// outcome records what a REGISTER got and returns how long to wait before
// the next one and the expiry to ask for then.
func (r *registration) outcome(res *sip.Response, err error, asked time.Duration) (time.Duration, time.Duration) {
	now := r.s.now()
	if err == nil && res.StatusCode == sip.StatusIntervalToBrief {
		// 423: ask again at once with the registrar's minimum.
		if m, ok := headerSeconds(res, "Min-Expires"); ok && m > asked && m <= 24*time.Hour {
			r.log.Info("registrar wants a longer expiry", "asked", asked, "min_expires", m)
			return 0, m
		}
	}
	if err == nil && res.StatusCode >= 200 && res.StatusCode < 300 {
		granted := grantedExpiry(res, r.contact.Address, asked)
		if granted > 0 {
			r.mu.Lock()
			r.attempts = 0
			r.everUp = true
			r.setState(RegRegistered, res.StatusCode, "", now)
			r.state.Granted = granted
			r.state.Expires = now.Add(granted)
			r.state.Failures = 0
			r.state.Remote = res.Source()
			logged := r.logChange("registered", r.log.Info, "trunk registered", "granted", granted, "asked", asked)
			r.mu.Unlock()
			if !logged {
				r.log.Debug("trunk registration refreshed", "granted", granted)
			}
			return refreshIn(granted), asked
		}
		err = errors.New("the registrar granted no time (expires=0)")
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	r.state.Failures = r.attempts
	wait := backoff(r.attempts, r.t.RetryMin, r.t.RetryMax)
	code, msg, status := 0, "", RegFailed
	switch {
	case err != nil:
		msg = err.Error()
	default:
		code = res.StatusCode
		msg = fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
		switch code {
		case sip.StatusUnauthorized, sip.StatusProxyAuthRequired:
			status, msg = RegRejected, msg+": credentials refused (check username, auth_username, password, realm)"
		case sip.StatusForbidden:
			status, msg = RegRejected, msg+": the registrar refuses this account (check username, domain, password)"
		case sip.StatusNotFound:
			status, msg = RegRejected, msg+": the registrar does not know this user or domain (check username, domain)"
		}
		if ra, ok := headerSeconds(res, "Retry-After"); ok && ra > wait {
			wait = min(ra, r.t.RetryMax)
		}
	}
	if r.state.Status == RegRegistered && now.Before(r.state.Expires) {
		// The binding still holds until it expires: stay registered in
		// the state, but say the refresh failed.
		r.state.LastCode, r.state.LastError = code, msg
	} else {
		r.setState(status, code, msg, now)
		r.state.Granted, r.state.Expires = 0, time.Time{}
	}
	lvl := r.log.Warn
	if status == RegRejected {
		lvl = r.log.Error
	}
	if !r.logChange(fmt.Sprintf("%s/%d", status, code), lvl, "trunk registration failed", "status", r.state.Status, "error", msg, "retry_in", wait.Round(time.Millisecond)) {
		r.log.Debug("trunk registration failed again", "error", msg, "failures", r.attempts, "retry_in", wait.Round(time.Millisecond))
	}
	return wait, asked
}

// setState changes the status (keeping Since when it is unchanged); r.mu held.
func (r *registration) setState(st RegStatus, code int, msg string, now time.Time) {
	if r.state.Status != st {
		r.state.Status, r.state.Since = st, now
	}
	r.state.LastCode, r.state.LastError = code, msg
}

// logChange logs msg with lvl when key differs from the last state logged,
// so that a trunk failing the same way for hours logs it once; r.mu held.
func (r *registration) logChange(key string, lvl func(string, ...any), msg string, args ...any) bool {
	if key == r.lastLog {
		return false
	}
	r.lastLog = key
	lvl(msg, args...)
	return true
}

// refreshIn is when to refresh a binding granted for d: at 85 %, so that a
// lost refresh still leaves time for a retry.
func refreshIn(d time.Duration) time.Duration {
	if d < 2*time.Second {
		return d / 2
	}
	return d * 85 / 100
}

// backoff is the wait after n consecutive failures: lo doubled n-1 times,
// capped at hi, then jittered into its upper half so that many instances
// do not retry in step.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// unregister removes our binding (Expires: 0) when one may exist.
func (r *registration) unregister() {
	r.mu.Lock()
	up := r.everUp
	r.mu.Unlock()
	if !up {
		r.mu.Lock()
		r.setState(RegStopped, 0, "", r.s.now())
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
	defer cancel()
	res, err := r.do(ctx, 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Granted, r.state.Expires, r.state.NextTry = 0, time.Time{}, time.Time{}
	switch {
	case err != nil:
		r.setState(RegStopped, 0, err.Error(), r.s.now())
		r.log.Warn("trunk un-registration got no answer", "error", err)
	case res.StatusCode >= 300:
		r.setState(RegStopped, res.StatusCode, fmt.Sprintf("%d %s", res.StatusCode, res.Reason), r.s.now())
		r.log.Warn("trunk un-registration refused", "status", res.StatusCode)
	default:
		r.setState(RegStopped, res.StatusCode, "", r.s.now())
		r.log.Info("trunk unregistered")
	}
}
