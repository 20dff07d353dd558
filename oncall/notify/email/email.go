// Package email pages technicians by email over SMTP: a short text in
// their language with the facts of the ticket (caller, time, urgency, due
// time), a signed one-click acknowledge link and the caller's message
// attached as a WAV file.
//
// A Notifier error means "not delivered, try again": the paging engine
// retries with backoff and puts the error, which carries the server's
// reply, on the ticket's timeline.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

// TLS modes for Config.TLS.
const (
	TLSStartTLS = "starttls" // upgrade with STARTTLS when the server offers it (default)
	TLSRequired = "required" // upgrade with STARTTLS; fail if it is not offered
	TLSNone     = "none"     // never encrypt
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
)

// Defaults for the zero Config.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxAttachment = 10 << 20
)

// Config says how to reach the SMTP server and what to put in pages. Only
// Addr and From are required.
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
	// Links makes the acknowledge link; without it the page only gives
	// the CLI command.
	Links oncall.AckLinks
	// Region is how the number to call back is written: in that region's
	// national form, grouped ("06 12 34 56 78"); "" is phone.DefaultRegion.
	Region string
	// Location is the zone of times in the text (default time.Local).
	Location *time.Location
	// Timeout bounds the whole exchange (default 30 s).
	Timeout time.Duration
	// MaxAttachment is the largest recording attached (default 10 MB);
	// the text says when a recording is too big and where it is.
	MaxAttachment int64
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) maxAttachment() int64 {
	if c.MaxAttachment > 0 {
		return c.MaxAttachment
	}
	return DefaultMaxAttachment
}

// Notifier sends pages by email. It implements oncall.Notifier.
type Notifier struct {
	Cfg Config
	Now func() time.Time // default time.Now
}

var _ oncall.Notifier = (*Notifier)(nil)

// Reaches reports whether p has an email address.
func (n *Notifier) Reaches(p oncall.Person) bool { return p.Email != "" }

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// Notify emails the page to the notice's person. The result's Detail says
// which server accepted it for whom; an error carries the failing step and
// the server's reply.
func (n *Notifier) Notify(ctx context.Context, no oncall.Notice) (oncall.Result, error) {
	from, err := mail.ParseAddress(n.Cfg.From)
	if err != nil {
		return oncall.Result{}, fmt.Errorf("email: From address %q: %w", n.Cfg.From, err)
	}
	if no.Person.Email == "" {
		return oncall.Result{}, fmt.Errorf("email: %s has no email address", no.Person.Name)
	}
	rcpt, err := mail.ParseAddress(no.Person.Email)
	if err != nil {
		return oncall.Result{}, fmt.Errorf("email: address of %s %q: %w", no.Person.Name, no.Person.Email, err)
	}
	to := &mail.Address{Name: clean(no.Person.Name), Address: rcpt.Address}

	m := n.compose(no, from, to, n.now())
	defer m.Close()

	timeout := n.Cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := n.send(ctx, from.Address, to.Address, m); err != nil {
		switch {
		case errors.Is(ctx.Err(), context.Canceled) && !errors.Is(err, context.Canceled):
			// Cancelling unblocked the exchange through the conn's deadline.
			return oncall.Result{}, fmt.Errorf("smtp %s: %w: %w", n.Cfg.Addr, context.Canceled, err)
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
			// The conn's deadline is ctx's: either may be seen first.
			return oncall.Result{}, fmt.Errorf("smtp %s: timed out after %s: %w", n.Cfg.Addr, timeout, err)
		}
		return oncall.Result{}, fmt.Errorf("smtp %s: %w", n.Cfg.Addr, err)
	}
	return oncall.Result{Detail: fmt.Sprintf("accepted by %s for %s", n.Cfg.Addr, to.Address)}, nil
}

// send runs one SMTP exchange. The connection's deadline is ctx's, and
// cancelling ctx unblocks it (net/smtp has no context of its own).
func (n *Notifier) send(ctx context.Context, from, to string, m *message) error {
	host, _, err := net.SplitHostPort(n.Cfg.Addr)
	if err != nil {
		return fmt.Errorf("address: %w", err)
	}
	mode := n.Cfg.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	tlsConf := &tls.Config{}
	if n.Cfg.TLSConfig != nil {
		tlsConf = n.Cfg.TLSConfig.Clone()
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
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", n.Cfg.Addr)
	case TLSStartTLS, TLSRequired, TLSNone:
		conn, err = d.DialContext(ctx, "tcp", n.Cfg.Addr)
	default:
		return fmt.Errorf("tls mode %q: want starttls, required, none or implicit", mode)
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if mode == TLSStartTLS || mode == TLSRequired {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if mode == TLSRequired {
			return errors.New("server does not offer STARTTLS, and tls is \"required\"")
		}
	}
	if n.Cfg.Username != "" {
		if err := n.auth(c, host); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM <%s>: %w", from, err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO <%s>: %w", to, err)
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := m.writeTo(wc); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("message refused: %w", err)
	}
	c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// auth logs in with PLAIN, or LOGIN when that is all the server offers.
func (n *Notifier) auth(c *smtp.Client, host string) error {
	ok, params := c.Extension("AUTH")
	if !ok {
		return errors.New("AUTH: the server offers no authentication (does it need TLS first?)")
	}
	mechs := strings.Fields(strings.ToUpper(params))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", n.Cfg.Username, n.Cfg.Password, host)
	case slices.Contains(mechs, "LOGIN"):
		a = &loginAuth{user: n.Cfg.Username, pass: n.Cfg.Password, host: host}
	default:
		return fmt.Errorf("AUTH: the server offers %s; want PLAIN or LOGIN", params)
	}
	if err := c.Auth(a); err != nil {
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
