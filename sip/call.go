package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte/sip/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrCallEnded is returned by call operations after the call ended.
var ErrCallEnded = errors.New("sip: call ended")

// Party is one end of a call as the signalling names it.
type Party struct {
	User    string // user part of the URI: a number or a name
	Display string // display name, may be empty
	URI     string
}

// Hang-up sides reported by EndedBy.
const (
	EndedByCaller   = "caller"   // the peer sent BYE
	EndedByCancel   = "cancel"   // the caller cancelled before answer
	EndedByUs       = "us"       // we hung up
	EndedByTimeout  = "timeout"  // no media
	EndedByShutdown = "shutdown" // the service stopped
)

// Call is one SIP call, inbound or outbound, with its media once answered.
// Its methods are safe to call from the call's goroutine while the server's
// request handlers (BYE, INFO, re-INVITE) act on it concurrently.
type Call struct {
	ID        string // SIP Call-ID
	Line      string // support line name (inbound)
	From      Party  // the caller (inbound) or us (outbound)
	To        Party  // the called party
	Source    string // where the signalling came from (host:port)
	StartedAt time.Time
	Inbound   bool

	srv  *Server
	log  *slog.Logger
	sess *sipgo.DialogServerSession // inbound
	cli  *sipgo.DialogClientSession // outbound
	dlg  *sipgo.Dialog

	contact sip.ContactHeader // ours, for responses within the dialog
	conn    *net.UDPConn      // RTP socket, handed to the media session on answer
	local   *localSDP
	offer   *Media // the INVITE's offer; nil for an offerless INVITE

	mu        sync.Mutex
	neg       Media
	ackBody   []byte
	media     *media.Session
	earlyKeys []rune // INFO DTMF that arrived before the media started
	lastSDP   []byte
	answered  atomic.Bool
	finalSent atomic.Bool
	endedBy   atomic.Pointer[string]
	endedAt   atomic.Int64 // unix ns, set with endedBy
	hangOnce  sync.Once
}

// Log is the call's logger (call_id, from, line).
func (c *Call) Log() *slog.Logger { return c.log }

// Context is done when the call has ended, whichever side ended it.
func (c *Call) Context() context.Context { return c.dlg.Context() }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.dlg.Context().Done() }

// Answered reports whether the call was answered.
func (c *Call) Answered() bool { return c.answered.Load() }

// EndedBy says which side ended the call, "" while it is up.
func (c *Call) EndedBy() string {
	if p := c.endedBy.Load(); p != nil {
		return *p
	}
	select {
	case <-c.Done():
		if errors.Is(context.Cause(c.dlg.Context()), sip.ErrTransactionCanceled) {
			return EndedByCancel
		}
		return EndedByCaller
	default:
		return ""
	}
}

func (c *Call) setEndedBy(side string) {
	if c.endedBy.CompareAndSwap(nil, &side) {
		c.endedAt.Store(c.srv.now().UnixNano())
	}
}

// EndedAt is when the call ended: the BYE received or decided, the CANCEL,
// the rejection. Zero while the call is up, and when it ended otherwise
// (transaction timeout, media timeout): the caller then uses its own clock.
func (c *Call) EndedAt() time.Time {
	if ns := c.endedAt.Load(); ns != 0 {
		return time.Unix(0, ns).In(time.UTC)
	}
	return time.Time{}
}

// Media is the call's RTP session, nil before Answer.
func (c *Call) Media() *media.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

// Ring sends 180 Ringing.
func (c *Call) Ring() error {
	if c.sess == nil {
		return errors.New("sip: Ring on an outbound call")
	}
	return c.sess.Respond(sip.StatusRinging, "Ringing", nil)
}

// Reject ends an unanswered inbound call with a final status.
func (c *Call) Reject(code int, reason string) error {
	if c.sess == nil || c.answered.Load() {
		return errors.New("sip: Reject on an answered or outbound call")
	}
	if !c.finalSent.CompareAndSwap(false, true) {
		return ErrCallEnded
	}
	c.setEndedBy(EndedByUs)
	return c.sess.Respond(code, reason, nil, allowHeader())
}

// Redirect answers an inbound call with 302 to target (a SIP URI).
func (c *Call) Redirect(target string) error {
	if c.sess == nil || c.answered.Load() {
		return errors.New("sip: Redirect on an answered or outbound call")
	}
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return fmt.Errorf("sip: redirect target %q: %w", target, err)
	}
	if !c.finalSent.CompareAndSwap(false, true) {
		return ErrCallEnded
	}
	c.setEndedBy(EndedByUs)
	return c.sess.Respond(sip.StatusMovedTemporarily, "Moved Temporarily", nil, &sip.ContactHeader{Address: uri})
}

// Answer sends 200 OK with our SDP, waits for the ACK and starts the media.
// For an offerless INVITE our 200 carries the offer and the ACK the answer.
func (c *Call) Answer(ctx context.Context) error {
	if c.sess == nil {
		return errors.New("sip: Answer on an outbound call")
	}
	if !c.finalSent.CompareAndSwap(false, true) {
		return ErrCallEnded
	}
	var body []byte
	if c.offer != nil {
		body = c.local.answer(*c.offer)
	} else {
		body = c.local.offer(SendRecv)
	}
	c.mu.Lock()
	c.lastSDP = body
	c.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(c.sess.InviteRequest, body)
	res.AppendHeader(allowHeader())
	if err := c.sess.WriteResponse(res); err != nil {
		return fmt.Errorf("sip: answer: %w", err)
	}
	select {
	case <-c.Done():
		return ErrCallEnded
	default:
	}
	neg := Media{}
	c.mu.Lock()
	offer := c.offer // a re-INVITE racing the ACK may have replaced it
	c.mu.Unlock()
	if offer != nil {
		neg = *offer
	} else {
		c.mu.Lock()
		ack := c.ackBody
		c.mu.Unlock()
		m, err := parseSDP(ack)
		if err != nil {
			c.log.Warn("no usable SDP answer in the ACK; hanging up", "error", err)
			c.Hangup(ctx)
			return fmt.Errorf("sip: answer in ACK: %w", err)
		}
		neg = m
	}
	if err := c.startMedia(neg); err != nil {
		c.Hangup(ctx)
		return err
	}
	c.answered.Store(true)
	return nil
}

func (c *Call) startMedia(neg Media) error {
	keys, err := c.srtpKeys(neg)
	if err != nil {
		return err
	}
	sess, err := media.NewSession(media.Config{
		SRTP:               keys,
		Conn:               c.conn,
		Remote:             neg.Remote,
		Codec:              neg.Codec,
		DTMFPayloadType:    neg.DTMFType,
		FirstPacketTimeout: c.srv.cfg.FirstPacketTimeout,
		MediaTimeout:       c.srv.cfg.MediaTimeout,
		Logger:             c.log,
	})
	if err != nil {
		return fmt.Errorf("sip: start media: %w", err)
	}
	if neg.Held() {
		sess.SetHold(true)
	}
	c.mu.Lock()
	c.neg = neg
	c.media = sess
	c.conn = nil // owned by the session now
	early := c.earlyKeys
	c.earlyKeys = nil
	c.mu.Unlock()
	for _, k := range early {
		sess.InjectDTMF(k)
	}
	c.log.Debug("media started", "codec", neg.Codec, "remote", neg.Remote, "dtmf_pt", neg.DTMFType, "local", sess.LocalAddr(), "srtp", neg.Secure())
	return nil
}

// Hangup ends the call: BYE when answered. It is idempotent.
func (c *Call) Hangup(ctx context.Context) error {
	var err error
	c.hangOnce.Do(func() {
		select {
		case <-c.Done():
			return
		default:
		}
		if c.srv.hardCtx.Err() != nil {
			c.setEndedBy(EndedByShutdown) // the service is stopping, not a decision of the flow
		}
		c.setEndedBy(EndedByUs)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		switch {
		case c.sess != nil && c.finalSent.Load() && c.sess.InviteResponse != nil && c.sess.InviteResponse.IsSuccess():
			err = c.sess.Bye(ctx)
		case c.sess != nil && !c.finalSent.Load():
			c.finalSent.Store(true)
			err = c.sess.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		case c.cli != nil:
			err = c.cli.Bye(ctx)
		}
	})
	return err
}

// release frees the media and socket after the handler returned.
func (c *Call) release() {
	c.mu.Lock()
	m, conn := c.media, c.conn
	c.mu.Unlock()
	if m != nil {
		m.Close()
	}
	if conn != nil {
		conn.Close()
	}
	if c.sess != nil {
		c.sess.Close()
	}
	if c.cli != nil {
		c.cli.Close()
	}
}

func allowHeader() sip.Header {
	return sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE")
}

// injectKey hands a key from SIP INFO to the media session, or keeps it
// until the session starts when the INFO overtook our handling of the ACK.
func (c *Call) injectKey(k rune) {
	c.mu.Lock()
	m := c.media
	if m == nil {
		if len(c.earlyKeys) < 16 {
			c.earlyKeys = append(c.earlyKeys, k)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	m.InjectDTMF(k)
}
