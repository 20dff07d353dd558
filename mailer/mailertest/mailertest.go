// Package mailertest runs a real SMTP server (github.com/emersion/go-smtp)
// on loopback for tests: it accepts every message and keeps it, so a test
// reads what astreinte really sent over SMTP.
package mailertest

import (
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message as the server took it.
type Received struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Data []byte   // the whole message
}

// Header is the message's header, parsed.
func (r Received) Header() mail.Header {
	m, err := mail.ReadMessage(strings.NewReader(string(r.Data)))
	if err != nil {
		return mail.Header{}
	}
	return m.Header
}

// Sink is a running SMTP server.
type Sink struct {
	Addr string // host:port
	// Refuse, when set, is asked of each recipient: a non-nil error (an
	// *smtp.SMTPError for a given reply) refuses it.
	Refuse func(rcpt string) error

	mu    sync.Mutex
	msgs  []Received
	got   chan struct{}
	conns []*smtp.Conn // every session opened, in order
}

// Start runs a sink until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{got: make(chan struct{}, 1)}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages is what was received so far.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Wait returns once n messages were received, or what there is after
// timeout.
func (s *Sink) Wait(n int, timeout time.Duration) []Received {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.got:
		case <-deadline.C:
			return s.Messages()
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return &session{s: s}, nil
}

// Sessions is how many SMTP sessions (connections) were opened so far.
func (s *Sink) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Drop closes every session opened so far, as a server does with idle
// clients.
func (s *Sink) Drop() {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type session struct {
	s *Sink
	r Received
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.r.From = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.Refuse != nil {
		if err := x.s.Refuse(to); err != nil {
			return err
		}
	}
	x.r.To = append(x.r.To, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.r.Data = b
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, x.r)
	x.s.mu.Unlock()
	select {
	case x.s.got <- struct{}{}:
	default:
	}
	x.r = Received{}
	return nil
}
func (x *session) Reset()        { x.r = Received{} }
func (x *session) Logout() error { return nil }
