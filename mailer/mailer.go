// Package mailer sends email through the line's SMTP server: one
// transport (TLS modes, PLAIN/LOGIN authentication, a deadline bound to
// the context) and one MIME writer (quoted-printable text, base64
// attachments, threading headers) for everything astreinte mails — pages
// to technicians, the desk's copy, acknowledgements and replies to
// customers, sign-in links and invitations.
package mailer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"
)

// TLS modes for Config.TLS.
const (
	TLSStartTLS = "starttls" // upgrade with STARTTLS when the server offers it (default)
	TLSRequired = "required" // upgrade with STARTTLS; fail if it is not offered
	TLSNone     = "none"     // never encrypt
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
)

// DefaultTimeout bounds one exchange with the server when Config.Timeout
// is zero.
const DefaultTimeout = 30 * time.Second

// ErrNotConfigured is returned by Send when no SMTP server is set.
var ErrNotConfigured = errors.New("mailer: no SMTP server configured (paging.email.smtp)")

// Config says how to reach the SMTP server. Only Addr and From are
// required.
type Config struct {
	Addr     string // host:port
	From     string // "astreinte@example.com" or "Astreinte <astreinte@example.com>"
	Username string // AUTH PLAIN (or LOGIN) when set
	Password string
	// TLS is one of TLSStartTLS (default), TLSRequired, TLSNone or
	// TLSImplicit. Credentials are never sent in clear except to
	// localhost (net/smtp refuses).
	TLS       string
	TLSConfig *tls.Config // optional: roots, ServerName (default: Addr's host)
	// Timeout bounds the whole exchange (default 30 s).
	Timeout time.Duration
}

// Configured reports whether mail can be sent at all.
func (c *Config) Configured() bool { return c != nil && c.Addr != "" }

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Sender parses Config.From.
func (c *Config) Sender() (*mail.Address, error) {
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("mailer: From address %q: %w", c.From, err)
	}
	return from, nil
}

// Send delivers m to every address of m.To (and m.Cc) in one exchange.
// m.From defaults to Config.From. The error carries the failing step and
// the server's reply; a timeout and a cancellation say so.
func (c *Config) Send(ctx context.Context, m *Message) error {
	from, rcpts, err := c.envelope(m)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, from, rcpts, m.Encode)
}

// envelope is m's sender (m.From, set to Config.From when nil) and
// recipients.
func (c *Config) envelope(m *Message) (from string, rcpts []string, err error) {
	if !c.Configured() {
		return "", nil, ErrNotConfigured
	}
	if m.From == nil {
		f, err := c.Sender()
		if err != nil {
			return "", nil, err
		}
		m.From = f
	}
	for _, a := range slices.Concat(m.To, m.Cc) {
		rcpts = append(rcpts, a.Address)
	}
	if len(rcpts) == 0 {
		return "", nil, errors.New("mailer: no recipient")
	}
	return m.From.Address, rcpts, nil
}

// SendRaw runs one SMTP exchange, the message written by body. The
// connection's deadline is ctx's (bounded by Timeout), and cancelling ctx
// unblocks it (net/smtp has no context of its own).
func (c *Config) SendRaw(ctx context.Context, from string, to []string, body func(io.Writer) error) error {
	if !c.Configured() {
		return ErrNotConfigured
	}
	return c.within(ctx, func(ctx context.Context) error { return c.exchange(ctx, from, to, body) })
}

// within runs an exchange bounded by Timeout and words its error: the
// server, and a timeout or a cancellation said as such.
func (c *Config) within(ctx context.Context, exchange func(ctx context.Context) error) error {
	timeout := c.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := exchange(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.Canceled) && !errors.Is(err, context.Canceled):
		// Cancelling unblocked the exchange through the conn's deadline.
		return fmt.Errorf("smtp %s: %w: %w", c.Addr, context.Canceled, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		// The conn's deadline is ctx's: either may be seen first.
		return fmt.Errorf("smtp %s: timed out after %s: %w", c.Addr, timeout, err)
	}
	return fmt.Errorf("smtp %s: %w", c.Addr, err)
}

func (c *Config) exchange(ctx context.Context, from string, to []string, body func(io.Writer) error) error {
	conn, sc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	stop := bindDeadline(ctx, conn)
	defer stop()
	defer sc.Close()
	if _, err := transact(sc, from, to, body); err != nil {
		return err
	}
	sc.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// bindDeadline makes ctx's deadline conn's, and cancelling ctx unblock
// it; the function returned unbinds them (the conn then has no deadline).
func bindDeadline(ctx context.Context, conn net.Conn) (unbind func()) {
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		if stop() {
			conn.SetDeadline(time.Time{})
		}
	}
}

// dial connects to the server and readies a session for messages:
// greeting, EHLO, STARTTLS and AUTH as configured. conn is the network
// connection under the session, for its deadlines.
func (c *Config) dial(ctx context.Context) (net.Conn, *smtp.Client, error) {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("address: %w", err)
	}
	mode := c.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	tlsConf := &tls.Config{}
	if c.TLSConfig != nil {
		tlsConf = c.TLSConfig.Clone()
	}
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	if tlsConf.MinVersion == 0 {
		tlsConf.MinVersion = tls.VersionTLS12
	}

	var d net.Dialer
	var conn net.Conn
	switch mode {
	case TLSImplicit:
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", c.Addr)
	case TLSStartTLS, TLSRequired, TLSNone:
		conn, err = d.DialContext(ctx, "tcp", c.Addr)
	default:
		return nil, nil, fmt.Errorf("tls mode %q: want starttls, required, none or implicit", mode)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	stop := bindDeadline(ctx, conn)
	defer stop()

	sc, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("greeting: %w", err)
	}
	fail := func(err error) (net.Conn, *smtp.Client, error) {
		sc.Close()
		return nil, nil, err
	}
	if err := sc.Hello(helloName()); err != nil {
		return fail(fmt.Errorf("EHLO: %w", err))
	}
	if mode == TLSStartTLS || mode == TLSRequired {
		if ok, _ := sc.Extension("STARTTLS"); ok {
			if err := sc.StartTLS(tlsConf); err != nil {
				return fail(fmt.Errorf("STARTTLS: %w", err))
			}
		} else if mode == TLSRequired {
			return fail(errors.New("server does not offer STARTTLS, and tls is \"required\""))
		}
	}
	if c.Username != "" {
		if err := c.auth(sc, host); err != nil {
			return fail(err)
		}
	}
	return conn, sc, nil
}

// transact sends one message on a ready session. begun says the body
// was begun (DATA accepted): after an error with begun false the server
// has taken nothing and body was not called, so the message may be sent
// again on another session.
func transact(sc *smtp.Client, from string, to []string, body func(io.Writer) error) (begun bool, err error) {
	if err := sc.Mail(from); err != nil {
		return false, fmt.Errorf("MAIL FROM <%s>: %w", from, err)
	}
	for _, r := range to {
		if err := sc.Rcpt(r); err != nil {
			return false, fmt.Errorf("RCPT TO <%s>: %w", r, err)
		}
	}
	// DATA by hand: net/smtp's writer (textproto's DotWriter) goes a
	// byte at a time, a millisecond of CPU for a page with its recording.
	id, err := sc.Text.Cmd("DATA")
	if err != nil {
		return false, fmt.Errorf("DATA: %w", err)
	}
	sc.Text.StartResponse(id)
	_, _, err = sc.Text.ReadResponse(354)
	sc.Text.EndResponse(id)
	if err != nil {
		return false, fmt.Errorf("DATA: %w", err)
	}
	dw := &dotWriter{w: sc.Text.W}
	if err := body(dw); err != nil {
		return true, fmt.Errorf("DATA: %w", err)
	}
	if err := dw.end(); err != nil {
		return true, fmt.Errorf("DATA: %w", err)
	}
	if _, _, err := sc.Text.ReadResponse(250); err != nil {
		return true, fmt.Errorf("message refused: %w", err)
	}
	return true, nil
}

// dotWriter writes a message body as SMTP's DATA wants it (RFC 5321
// 4.5.2): lines end in CRLF (a bare LF becomes CRLF), and a line that
// starts with a dot gets another one. It goes a line at a time, where
// textproto's DotWriter goes a byte at a time.
type dotWriter struct {
	w      *bufio.Writer
	midway bool // the last byte written did not end a line
	cr     bool // the last byte written was CR
}

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		line := p
		i := bytes.IndexByte(p, '\n')
		if i >= 0 {
			line = p[:i]
		}
		if len(line) > 0 {
			if !d.midway && line[0] == '.' {
				d.w.WriteByte('.')
			}
			d.w.Write(line)
			d.midway, d.cr = true, line[len(line)-1] == '\r'
		}
		if i < 0 {
			break
		}
		if !d.cr {
			d.w.WriteByte('\r')
		}
		d.w.WriteByte('\n')
		d.midway, d.cr = false, false
		p = p[i+1:]
	}
	// bufio keeps its first error and returns it from every later call.
	if _, err := d.w.Write(nil); err != nil {
		return 0, err
	}
	return n, nil
}

// end ends the body: its last line, then the line with a lone dot.
func (d *dotWriter) end() error {
	switch {
	case d.cr:
		d.w.WriteByte('\n')
	case d.midway:
		d.w.WriteString("\r\n")
	}
	d.w.WriteString(".\r\n")
	return d.w.Flush()
}

// auth logs in with PLAIN, or LOGIN when that is all the server offers.
func (c *Config) auth(sc *smtp.Client, host string) error {
	ok, params := sc.Extension("AUTH")
	if !ok {
		return errors.New("AUTH: the server offers no authentication (does it need TLS first?)")
	}
	mechs := strings.Fields(strings.ToUpper(params))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", c.Username, c.Password, host)
	case slices.Contains(mechs, "LOGIN"):
		a = &loginAuth{user: c.Username, pass: c.Password, host: host}
	default:
		return fmt.Errorf("AUTH: the server offers %s; want PLAIN or LOGIN", params)
	}
	if err := sc.Auth(a); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks; like PlainAuth
// it refuses to send credentials in clear except to localhost.
type loginAuth struct{ user, pass, host string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", challenge)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// helloName is the name given in EHLO: this host's name, else localhost.
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
