package mailer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"sync"
	"time"
)

// Pool sends messages on SMTP sessions kept open between them, for pages,
// where every millisecond counts: a new session costs a TCP connection,
// the greeting, EHLO and, as configured, a TLS handshake and AUTH before
// the first byte of the message (about 5 ms of a 10 ms page on a busy
// machine, more to a distant server). A kept session is checked (NOOP)
// when it has been idle for a while, and a message that fails on a kept
// session before its body was begun (the server closed it meanwhile) is
// sent again at once on a new one; a session that failed is closed.
// The zero Pool with Config set works; Close closes its idle sessions.
type Pool struct {
	Config *Config
	// MaxIdle is how many sessions are kept open between messages
	// (default 2).
	MaxIdle int
	// IdleTimeout closes a session unused for that long (default 60 s):
	// servers drop idle clients after a few minutes (RFC 5321 asks
	// them to wait 5).
	IdleTimeout time.Duration
	// CheckAfter is how long a session may stay unused before it is
	// checked with a NOOP before its next message (default 5 s).
	CheckAfter time.Duration

	mu     sync.Mutex
	idle   []*session // oldest first
	closed bool
}

// session is an SMTP session ready for a message.
type session struct {
	conn net.Conn
	sc   *smtp.Client
	used time.Time // when its last message ended
}

func (p *Pool) maxIdle() int {
	if p.MaxIdle > 0 {
		return p.MaxIdle
	}
	return 2
}

func (p *Pool) idleTimeout() time.Duration {
	if p.IdleTimeout > 0 {
		return p.IdleTimeout
	}
	return 60 * time.Second
}

func (p *Pool) checkAfter() time.Duration {
	if p.CheckAfter > 0 {
		return p.CheckAfter
	}
	return 5 * time.Second
}

// Send is Config.Send on a kept session.
func (p *Pool) Send(ctx context.Context, m *Message) error {
	from, rcpts, err := p.Config.envelope(m)
	if err != nil {
		return err
	}
	return p.SendRaw(ctx, from, rcpts, m.Encode)
}

// SendRaw is Config.SendRaw on a kept session: a new one when none is
// idle, or when the kept one turns out closed before the message began.
func (p *Pool) SendRaw(ctx context.Context, from string, to []string, body func(io.Writer) error) error {
	c := p.Config
	if !c.Configured() {
		return ErrNotConfigured
	}
	return c.within(ctx, func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err // a kept session would not notice in time
		}
		if s := p.take(); s != nil {
			begun, err := p.send(ctx, s, from, to, body, true)
			if err == nil || begun || ctx.Err() != nil || !dropped(err) {
				return err
			}
			// Closed by the server while idle: nothing was taken; once
			// more, afresh.
		}
		conn, sc, err := c.dial(ctx)
		if err != nil {
			return err
		}
		_, err = p.send(ctx, &session{conn: conn, sc: sc}, from, to, body, false)
		return err
	})
}

// send sends one message on s and keeps s when it went well; kept says
// s was idle in the pool (it is checked first if idle for long).
func (p *Pool) send(ctx context.Context, s *session, from string, to []string, body func(io.Writer) error, kept bool) (begun bool, err error) {
	unbind := bindDeadline(ctx, s.conn)
	if kept && time.Since(s.used) >= p.checkAfter() {
		if err := s.sc.Noop(); err != nil {
			unbind()
			s.sc.Close()
			return false, fmt.Errorf("NOOP: %w", err)
		}
	}
	begun, err = transact(s.sc, from, to, body)
	unbind()
	if err != nil {
		s.sc.Close()
		return begun, err
	}
	s.used = time.Now()
	p.put(s)
	return true, nil
}

// dropped reports whether err says the session is gone (a network error,
// or 421: the server is closing it) rather than a refusal of the message.
func dropped(err error) bool {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code == 421
	}
	return true
}

// take returns an idle session, the most recently used, closing those
// idle for too long; nil when none is left.
func (p *Pool) take() *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	limit := time.Now().Add(-p.idleTimeout())
	for len(p.idle) > 0 && p.idle[0].used.Before(limit) {
		go quit(p.idle[0])
		p.idle = p.idle[1:]
	}
	if len(p.idle) == 0 {
		return nil
	}
	s := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return s
}

// put keeps s for the next message, or ends it when enough are kept.
func (p *Pool) put(s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) >= p.maxIdle() {
		go quit(s)
		return
	}
	p.idle = append(p.idle, s)
}

// Close ends the idle sessions; messages sent afterwards end theirs.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := slices.Clone(p.idle)
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, s := range idle {
		quit(s)
	}
	return nil
}

// quit ends a session politely, within a second.
func quit(s *session) {
	s.conn.SetDeadline(time.Now().Add(time.Second))
	s.sc.Quit()
	s.sc.Close()
}
