package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialOptions configures an outbound call.
type DialOptions struct {
	// FromUser and FromDisplay are our caller ID (default "astreinte").
	FromUser, FromDisplay string
	// RingTimeout bounds the ringing (default 30 s); then the call is
	// cancelled and Dial returns a DialError with Outcome "no_answer".
	RingTimeout time.Duration
	// Username and Password answer a 401/407 digest challenge.
	Username, Password string
	// Proxy, when set ("host:port"), is where the INVITE is sent instead of
	// the target's host (an outbound proxy or trunk).
	Proxy string
}

// Dial outcomes, as recorded on a ticket's timeline.
const (
	OutcomeBusy     = "busy"
	OutcomeNoAnswer = "no_answer"
	OutcomeRejected = "rejected"
	OutcomeFailed   = "failed"
)

// DialError is an outbound call that was not answered.
type DialError struct {
	Status  int    // final SIP status, 0 when none arrived
	Reason  string // reason phrase or cause
	Outcome string // busy, no_answer, rejected, failed
}

func (e *DialError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("call %s: %s", e.Outcome, e.Reason)
	}
	return fmt.Sprintf("call %s: %d %s", e.Outcome, e.Status, e.Reason)
}

func outcomeOf(status int) string {
	switch status {
	case sip.StatusBusyHere, 600:
		return OutcomeBusy
	case sip.StatusRequestTimeout, sip.StatusTemporarilyUnavailable, sip.StatusRequestTerminated:
		return OutcomeNoAnswer
	case sip.StatusForbidden, sip.StatusNotFound, 603, 604:
		return OutcomeRejected
	}
	return OutcomeFailed
}

// Dial calls target (a SIP URI) and returns the answered call with its media
// running. The caller must Close it.
func (s *Server) Dial(ctx context.Context, target string, opts DialOptions) (*Call, error) {
	select {
	case <-s.ready:
	default:
		return nil, errors.New("sip: Dial before the server is listening")
	}
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return nil, &DialError{Outcome: OutcomeFailed, Reason: fmt.Sprintf("bad URI %q: %v", target, err)}
	}
	if opts.RingTimeout == 0 {
		opts.RingTimeout = 30 * time.Second
	}
	if opts.FromUser == "" {
		opts.FromUser = "astreinte"
	}
	dest := net.JoinHostPort(uri.Host, fmt.Sprint(max(uri.Port, 5060)))
	if opts.Proxy != "" {
		dest = opts.Proxy
	}
	conn, err := s.ports.Listen()
	if err != nil {
		return nil, &DialError{Outcome: OutcomeFailed, Reason: err.Error()}
	}
	mediaIP := s.mediaAddrFor(dest)
	local := newLocalSDP(mediaIP, uint16(conn.LocalAddr().(*net.UDPAddr).Port))
	contact := s.contactFor(dest)
	ua := &sipgo.DialogUA{Client: s.client, ContactHDR: contact, RewriteContact: true}

	req := sip.NewRequest(sip.INVITE, uri)
	from := &sip.FromHeader{DisplayName: opts.FromDisplay,
		Address: sip.Uri{Scheme: "sip", User: opts.FromUser, Host: mediaIP.String()}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(allowHeader())
	req.SetBody(local.offer(SendRecv))
	req.SetDestination(dest)
	if tr, ok := uri.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(tr)
	}
	log := s.log.With("call_id", "", "to", target, "dir", "out")

	dlg, err := ua.WriteInvite(ctx, req)
	if err != nil {
		conn.Close()
		return nil, &DialError{Outcome: OutcomeFailed, Reason: err.Error()}
	}
	if h := req.CallID(); h != nil {
		log = s.log.With("call_id", h.Value(), "to", target, "dir", "out")
	}
	ringCtx, cancel := context.WithTimeout(ctx, opts.RingTimeout)
	err = dlg.WaitAnswer(ringCtx, sipgo.AnswerOptions{Username: opts.Username, Password: opts.Password})
	cancel()
	if err != nil {
		conn.Close()
		dlg.Close()
		var re *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &re):
			return nil, &DialError{Status: re.Res.StatusCode, Reason: re.Res.Reason, Outcome: outcomeOf(re.Res.StatusCode)}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			return nil, &DialError{Outcome: OutcomeNoAnswer, Reason: fmt.Sprintf("not answered within %s", opts.RingTimeout)}
		default:
			return nil, &DialError{Outcome: OutcomeFailed, Reason: err.Error()}
		}
	}
	if err := dlg.Ack(ctx); err != nil {
		log.Warn("ack failed", "error", err)
	}
	c := &Call{
		ID: dlg.InviteRequest.CallID().Value(), To: Party{User: uri.User, URI: uri.String()},
		From: Party{User: opts.FromUser, Display: opts.FromDisplay}, StartedAt: s.now(),
		srv: s, log: log, cli: dlg, dlg: &dlg.Dialog, conn: conn, local: local, contact: contact,
	}
	c.finalSent.Store(true)
	s.track(dlg.ID, c)
	neg, err := parseSDP(dlg.InviteResponse.Body())
	if err != nil {
		log.Warn("answer without usable SDP", "error", err)
		c.Close(ctx)
		return nil, &DialError{Status: 200, Outcome: OutcomeFailed, Reason: err.Error()}
	}
	if err := c.startMedia(neg); err != nil {
		c.Close(ctx)
		return nil, &DialError{Status: 200, Outcome: OutcomeFailed, Reason: err.Error()}
	}
	c.answered.Store(true)
	log.Info("outbound call answered", "remote_media", neg.Remote)
	return c, nil
}

// Close hangs up an outbound call and releases it. For inbound calls the
// server does this when the handler returns.
func (c *Call) Close(ctx context.Context) {
	c.Hangup(ctx)
	c.release()
	if c.cli != nil {
		c.srv.untrack(c.cli.ID)
	}
}

var _ = netip.Addr{}
