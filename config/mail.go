package config

import (
	"net/mail"
	"strconv"
	"strings"

	"github.com/astreinte/astreinte"
)

// Mail configures the desk's email with requesters: its own addresses and
// the optional inbound SMTP listener. Mail out goes through paging.email.
type Mail struct {
	// Addresses are where requesters write to the desk (support@…): the
	// listener accepts only them, replies to requesters ask for answers
	// there, and mail from them is never taken (no loops).
	Addresses []string `yaml:"addresses"`
	// Listen is the inbound SMTP listener's host:port, so that a relay
	// delivers the desk's mail to astreinte directly; "" (default): off,
	// mail comes through `astreinte mail-in`.
	Listen string `yaml:"listen"`
	// MaxSize bounds one message received, in bytes (default 10 MiB).
	MaxSize int64 `yaml:"max_size"`
	// Line is the support line tickets from email belong to (default: the
	// first line).
	Line string `yaml:"line"`
	// Acknowledge sends every new ticket from email or the customer space
	// an acknowledgement with its number and due time (default true).
	Acknowledge *bool `yaml:"acknowledge"`
	// AcknowledgeCalls also acknowledges a phone message of a caller the
	// line identifies as a customer, to the customer's contacts, with the
	// link to the customer space; the caller hears that the link is on
	// its way (default true; needs acknowledge and paging.email.smtp).
	AcknowledgeCalls *bool `yaml:"acknowledge_calls"`
}

// DefaultMailMaxSize is mail.max_size's default.
const DefaultMailMaxSize = 10 << 20

// Acknowledges reports whether new tickets are acknowledged (default true).
func (m Mail) Acknowledges() bool { return m.Acknowledge == nil || *m.Acknowledge }

// AcknowledgesCalls reports whether identified customers' phone messages
// are acknowledged to their contacts (default true, with Acknowledges).
func (m Mail) AcknowledgesCalls() bool {
	return m.Acknowledges() && (m.AcknowledgeCalls == nil || *m.AcknowledgeCalls)
}

func (c *Config) mailDefaults() {
	if c.Mail.MaxSize == 0 {
		c.Mail.MaxSize = DefaultMailMaxSize
	}
	for i, a := range c.Mail.Addresses {
		c.Mail.Addresses[i] = strings.ToLower(strings.TrimSpace(a))
	}
	if c.Mail.Line == "" {
		c.Mail.Line = c.DefaultLine()
	}
}

func (c *Config) validateMail(errs *astreinte.FieldErrors) {
	m := c.Mail
	for i, a := range m.Addresses {
		if p, err := mail.ParseAddress(a); err != nil || p.Name != "" {
			errs.Add("mail.addresses["+strconv.Itoa(i)+"]", "%q: want a bare address, e.g. support@example.com", a)
		}
	}
	if m.Listen != "" {
		if _, _, err := splitHostPort(m.Listen); err != nil {
			errs.Add("mail.listen", "%v", err)
		}
		if len(m.Addresses) == 0 {
			errs.Add("mail.addresses", "the mail listener needs the support address(es) it accepts, e.g. [support@example.com]")
		}
	}
	if m.MaxSize < 1<<10 || m.MaxSize > 100<<20 {
		errs.Add("mail.max_size", "%d: want between 1024 and 104857600 bytes", m.MaxSize)
	}
	found := false
	for _, l := range c.Lines {
		found = found || l.Name == m.Line
	}
	if !found {
		errs.Add("mail.line", "%q: no such line", m.Line)
	}
}
