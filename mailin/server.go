package mailin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Deliver takes one message the listener accepted: from is the envelope
// sender ("" for a bounce: MAIL FROM:<>), to the accepted recipients. An
// error wrapping ErrUnreadable refuses the message for good (the relay
// bounces it); any other error asks the relay to try again later.
type Deliver func(ctx context.Context, from string, to []string, r io.Reader) error

// Server is the inbound SMTP listener: a relay (the mail server of the
// support domain) delivers the desk's mail to it directly, instead of
// piping it to `astreinte mail-in`. It accepts only the support
// addresses, refuses messages above MaxSize at once (SIZE, then while
// reading), and bounds each connection's time and the connections at once.
// It offers no authentication and no relaying: listen on loopback or a
// private address the relay alone reaches.
type Server struct {
	Addr string // host:port
	// Recipients are the addresses accepted (case does not matter); any
	// other RCPT TO gets 550.
	Recipients []string
	Deliver    Deliver
	// MaxSize bounds one message in bytes (default MaxSize).
	MaxSize int64
	// MaxConns bounds the connections served at once (default 20).
	MaxConns int
	// Timeout bounds each read and write on a connection (default 1 min).
	Timeout time.Duration
	Domain  string // the name in the greeting (default: localhost)
	Log     *slog.Logger

	srv *smtp.Server
	ln  net.Listener
}

// Listen takes the address; Serve then accepts connections until Close.
func (s *Server) Listen() error {
	if s.Deliver == nil || len(s.Recipients) == 0 {
		return errors.New("mail listener: no recipient address to accept (mail.addresses)")
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail listen %s: %w", s.Addr, err)
	}
	s.ln = &limitListener{Listener: ln, sem: make(chan struct{}, cmp(s.MaxConns, 20))}
	srv := smtp.NewServer(backend{s})
	srv.Domain = s.Domain
	if srv.Domain == "" {
		srv.Domain = "localhost"
	}
	srv.MaxMessageBytes = s.maxSize()
	srv.MaxRecipients = 20
	// Lenient with lines past RFC 5321's 1000 (some programs write HTML on
	// one line): a request is not lost to its layout.
	srv.MaxLineLength = 64 << 10
	srv.ReadTimeout = cmp(s.Timeout, time.Minute)
	srv.WriteTimeout = srv.ReadTimeout
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.Log != nil {
		srv.ErrorLog = slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)
	}
	s.srv = srv
	return nil
}

// ListenAddr is where the listener listens, once Listen succeeded.
func (s *Server) ListenAddr() string { return s.ln.Addr().String() }

// Serve accepts connections until Close; it returns nil then.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting and waits up to ctx for the sessions under way.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

func (s *Server) maxSize() int64 {
	if s.MaxSize > 0 {
		return s.MaxSize
	}
	return MaxSize
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func cmp[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	s      *Server
	remote string
	from   string
	to     []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from, x.to = from, nil
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	addr := strings.ToLower(strings.TrimSpace(to))
	if !slices.ContainsFunc(x.s.Recipients, func(r string) bool { return strings.EqualFold(r, addr) }) {
		x.s.log().Info("mail listener: recipient refused", "to", to, "remote", x.remote)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "no such mailbox here: this server takes mail for the support desk only"}
	}
	if !slices.Contains(x.to, addr) {
		x.to = append(x.to, addr)
	}
	return nil
}

func (x *session) Data(r io.Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := x.s.Deliver(ctx, x.from, x.to, r)
	// Whatever was not read (the message was cut at MaxSize) is drained,
	// so that the size error, if any, is go-smtp's.
	if _, derr := io.Copy(io.Discard, r); derr != nil {
		return derr
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnreadable):
		x.s.log().Warn("mail listener: message refused", "from", x.from, "remote", x.remote, "error", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message refused: " + oneLine(err.Error())}
	}
	x.s.log().Error("mail listener: message not taken, the relay will try again", "from", x.from, "remote", x.remote, "error", err)
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure, try again later"}
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// limitListener serves at most cap(sem) connections at once; the others
// wait in the kernel's backlog.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
