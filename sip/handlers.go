package sip

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func (s *Server) routes() {
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a pending INVITE is answered by the
		// transaction layer (200, then 487 for the INVITE).
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	})
	s.srv.OnOptions(s.onOptions)
	s.srv.OnInfo(s.onInfo)
	s.srv.OnUpdate(s.onUpdate)
	s.srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		if s.strangerDropped(req) { // guard.go
			return
		}
		respond(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed", allowHeader())
	})
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.strangerDropped(req) { // guard.go
		return
	}
	if s.draining.Load() {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "60"))
		return
	}
	respond(tx, req, sip.StatusOK, "OK", allowHeader(), sip.NewHeader("Accept", "application/sdp"))
}

// lineFor matches the configured called-number header, then the
// Request-URI user, then the To user (calledUsers, called.go).
func (s *Server) lineFor(req *sip.Request) (string, string, bool) {
	for _, u := range calledUsers(req, s.cfg.CalledHeader) {
		if l, ok := s.cfg.Lines(u); ok {
			return l, u, true
		}
	}
	return "", req.Recipient.User, false
}

// onInvite answers a new INVITE and runs the call on the transaction
// layer's goroutine for as long as it lasts. The set-up, whose frame is
// large (SDP, headers, the Call), is a function of its own that returns
// before the call is served: the goroutine then waits through the call
// with only a small frame here below the flow's, and its stack stays at
// 8 KiB rather than growing to 16 (issue 27's memory per call).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	s.total.Add(1)
	release, ok := s.admit(req, tx) // before any work: guard.go
	if !ok {
		s.rejected.Add(1)
		return
	}
	defer release()
	c := s.inboundCall(req, tx)
	if c == nil {
		return
	}
	s.serveInbound(c)
}

// inboundCall checks an admitted INVITE and makes its Call, with its
// dialog and RTP socket; nil when the INVITE was answered with an error.
func (s *Server) inboundCall(req *sip.Request, tx sip.ServerTransaction) *Call {
	log := s.log.With("call_id", callID(req), "from", fromUser(req), "src", req.Source())
	reject := func(code int, reason string, hdrs ...sip.Header) {
		s.rejected.Add(1)
		log.Info("call rejected", "status", code, "reason", reason)
		respond(tx, req, code, reason, hdrs...)
	}
	if s.draining.Load() {
		reject(sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "60"))
		return nil
	}
	line, called, ok := s.lineFor(req)
	if !ok {
		reject(sip.StatusNotFound, "Not Found")
		return nil
	}
	log = log.With("line", line)
	var offer *Media
	if body := req.Body(); len(body) > 0 {
		if ct := req.ContentType(); ct != nil && !strings.Contains(strings.ToLower(ct.Value()), "application/sdp") {
			reject(sip.StatusUnsupportedMediaType, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
			return nil
		}
		m, err := parseSDP(body)
		switch {
		case errors.Is(err, ErrNoCommonCrypto):
			reject(sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `304 astreinte "SRTP: only SDES `+cryptoSuite+` is supported"`))
			return nil
		case errors.Is(err, ErrNoCommonCodec):
			reject(sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `304 astreinte "only PCMU and PCMA audio are supported"`))
			return nil
		case err != nil:
			reject(sip.StatusBadRequest, "Bad Request: "+oneLine(err.Error()))
			return nil
		}
		offer = &m
	}
	if s.srtpRequired(line) && (offer == nil || !offer.Secure()) {
		reject(sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `304 astreinte "this line requires SRTP (SDES `+cryptoSuite+`)"`))
		return nil
	}
	ua := &sipgo.DialogUA{Client: s.client, ContactHDR: s.contactForReq(req), RewriteContact: true}
	sess, err := ua.ReadInvite(req, tx)
	if err != nil {
		reject(sip.StatusBadRequest, "Bad Request: "+oneLine(err.Error()))
		return nil
	}
	conn, err := s.ports.Listen()
	if err != nil {
		s.noRTPPort(sess, req, err)
		return nil
	}
	c := &Call{
		contact: ua.ContactHDR,
		ID:      callID(req), Line: line, Inbound: true, Source: req.Source(), StartedAt: time.Now(),
		From: partyOf(req.From()), To: Party{User: called, URI: req.Recipient.String()},
		srv: s, log: log, sess: sess, dlg: &sess.Dialog, conn: conn, offer: offer,
		local: newLocalSDP(s.mediaAddrFor(req.Source()), uint16(conn.LocalAddr().(*net.UDPAddr).Port)),
	}
	return c
}

// serveInbound runs the handler for an inbound call, then hangs up and
// releases what the call holds.
func (s *Server) serveInbound(c *Call) {
	s.track(c.sess.ID, c)
	s.active.Add(1)
	s.nActive.Add(1)
	defer func() {
		s.untrack(c.sess.ID)
		s.nActive.Add(-1)
		s.active.Done()
	}()
	c.log.Info("incoming call", "to", c.To.User)
	ctx, cancel := context.WithCancel(s.hardCtx)
	defer cancel()
	s.safeServe(ctx, c)
	if s.hardCtx.Err() != nil {
		c.setEndedBy(EndedByShutdown)
	}
	c.Hangup(ctx)
	c.release()
	s.callEnded(c)
}

func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		respond(tx, req, sip.StatusInternalServerError, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	body, code, reason := c.renegotiate(req.Body())
	if code != sip.StatusOK {
		respond(tx, req, code, reason)
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&c.contact))
	_ = tx.Respond(res)
}

// onUpdate handles UPDATE (RFC 3311): a session refresh without a body, or
// a new offer like a re-INVITE.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		respond(tx, req, sip.StatusOK, "OK")
		return
	}
	body, code, reason := c.renegotiate(req.Body())
	if code != sip.StatusOK {
		respond(tx, req, code, reason)
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&c.contact))
	_ = tx.Respond(res)
}

// renegotiate answers a new offer within the call (hold, unhold, moved
// media, session refresh). An empty offer gets our current SDP as an offer.
func (c *Call) renegotiate(offer []byte) ([]byte, int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(offer) == 0 {
		if c.lastSDP != nil {
			return c.lastSDP, sip.StatusOK, ""
		}
		return c.local.offer(SendRecv), sip.StatusOK, ""
	}
	m, err := parseSDP(offer)
	if err != nil {
		if errors.Is(err, ErrNoCommonCodec) {
			return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
		}
		return nil, sip.StatusBadRequest, "Bad Request"
	}
	if c.media != nil && !sameCrypto(c.neg.Crypto, m.Crypto) {
		// The media session keeps its SRTP keys for the whole call.
		return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
	}
	if c.media != nil && m.Codec != c.neg.Codec {
		// Keep the codec of the running session when the offer still has it.
		if !slices.Contains(m.Offered, c.neg.Codec) {
			return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
		}
		m.Codec = c.neg.Codec
	}
	changed := m.Direction != c.neg.Direction || m.Remote != c.neg.Remote || m.DTMFType != c.neg.DTMFType
	if c.media != nil {
		if m.Remote != c.neg.Remote && m.Remote.Addr().IsValid() && !m.Remote.Addr().IsUnspecified() {
			c.media.SetRemote(m.Remote)
		}
		c.media.SetHold(m.Held())
		c.log.Info("media renegotiated", "direction", m.Direction, "remote", m.Remote, "held", m.Held())
	}
	if changed {
		c.local.Version++
	}
	c.neg = m
	if c.offer != nil {
		c.offer = &m
	}
	c.lastSDP = c.local.answer(m)
	return c.lastSDP, sip.StatusOK, ""
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil || c.sess == nil {
		return
	}
	if body := req.Body(); len(body) > 0 {
		c.mu.Lock()
		if c.offer == nil && c.ackBody == nil {
			c.ackBody = body
		}
		c.mu.Unlock()
	}
	if err := c.sess.ReadAck(req, tx); err != nil {
		c.log.Debug("ack not matched", "error", err)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	c.setEndedBy(EndedByCaller)
	var err error
	if c.sess != nil {
		err = c.sess.ReadBye(req, tx)
	} else {
		err = c.cli.ReadBye(req, tx)
	}
	if err != nil {
		c.log.Warn("bye not matched", "error", err)
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	c.log.Info("remote hung up")
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay or application/dtmf).
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callFor(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	if len(req.Body()) == 0 {
		respond(tx, req, sip.StatusOK, "OK") // keep-alive INFO
		return
	}
	key, ok := rune(0), false
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		key, ok = parseDTMFRelay(string(req.Body()))
	case strings.HasPrefix(ct, "application/dtmf"):
		key, ok = dtmfKey(strings.TrimSpace(string(req.Body())))
	default:
		respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	if !ok {
		respond(tx, req, sip.StatusBadRequest, "Bad Request: no DTMF signal")
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
	c.injectKey(key)
	c.log.Debug("dtmf from INFO", "key", string(key))
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160".
func parseDTMFRelay(body string) (rune, bool) {
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
			return dtmfKey(strings.TrimSpace(v))
		}
	}
	return 0, false
}

func dtmfKey(v string) (rune, bool) {
	switch v {
	case "10":
		return '*', true
	case "11":
		return '#', true
	}
	if len(v) != 1 {
		return 0, false
	}
	r := rune(v[0])
	switch {
	case r >= '0' && r <= '9', r == '*', r == '#':
		return r, true
	case r >= 'A' && r <= 'D':
		return r, true
	case r >= 'a' && r <= 'd':
		return r - 'a' + 'A', true
	}
	return 0, false
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func fromUser(req *sip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}
	return ""
}

func partyOf(h *sip.FromHeader) Party {
	if h == nil {
		return Party{}
	}
	return Party{User: h.Address.User, Display: strings.Trim(h.DisplayName, `"`), URI: h.Address.String()}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
