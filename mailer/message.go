package mailer

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one email: its header fields, a plain text body and any
// attachments. The zero Date is the time of writing.
type Message struct {
	Date       time.Time
	From       *mail.Address // default: Config.From
	To, Cc     []*mail.Address
	ReplyTo    *mail.Address
	Subject    string
	MessageID  string   // "<…@…>"; NewMessageID makes one
	InReplyTo  string   // the Message-ID answered
	References []string // the thread, oldest first
	// Header holds further fields ("Auto-Submitted", "X-Astreinte-Ticket",
	// "X-Priority"…), written in order.
	Header [][2]string
	Text   string
	Parts  []Part
}

// Part is an attachment, or an alternative body such as an invitation.
type Part struct {
	// ContentType is the media type with its parameters, e.g.
	// `audio/wav` or `text/calendar; method=REQUEST; charset=utf-8`.
	ContentType string
	// Name is the attachment's file name; "" makes an inline part.
	Name string
	Body io.Reader
}

// Add appends a header field.
func (m *Message) Add(key, value string) { m.Header = append(m.Header, [2]string{key, value}) }

// NewMessageID is a unique Message-ID in From's domain, its left part
// starting with prefix (a ticket number, say): "<2026-000123.x4k…@example.com>".
func NewMessageID(prefix, from string) string {
	domain := "astreinte.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = strings.Trim(from[i+1:], "> ")
	}
	if prefix != "" {
		prefix += "."
	}
	return fmt.Sprintf("<%s%s@%s>", prefix, strings.ToLower(rand.Text()), domain)
}

// Encode writes the whole message: header, then either the plain text
// alone or multipart/mixed with the text and the parts (base64).
func (m *Message) Encode(w io.Writer) error {
	if _, err := io.WriteString(w, m.header()); err != nil {
		return err
	}
	if len(m.Parts) == 0 {
		if _, err := io.WriteString(w, textHeader+"\r\n"); err != nil {
			return err
		}
		return writeQP(w, m.Text)
	}
	mw := multipart.NewWriter(w)
	if _, err := io.WriteString(w, "Content-Type: multipart/mixed; boundary=\""+mw.Boundary()+"\"\r\n\r\n"); err != nil {
		return err
	}
	tp, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	if err := writeQP(tp, m.Text); err != nil {
		return err
	}
	for _, p := range m.Parts {
		if err := writePart(mw, p); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writePart(mw *multipart.Writer, p Part) error {
	h := textproto.MIMEHeader{"Content-Transfer-Encoding": {"base64"}}
	ct := p.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if p.Name != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return fmt.Errorf("part %s: content type %q: %w", p.Name, ct, err)
		}
		params["name"] = p.Name
		ct = mime.FormatMediaType(mt, params)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.Name}))
	}
	h.Set("Content-Type", ct)
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: pw})
	if _, err := io.Copy(enc, p.Body); err != nil {
		return fmt.Errorf("attach %s: %w", p.Name, err)
	}
	return enc.Close()
}

func (m *Message) header() string {
	var h strings.Builder
	field := func(k, v string) { h.WriteString(k + ": " + v + "\r\n") }
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	field("Date", date.Format(time.RFC1123Z))
	if m.From != nil {
		field("From", m.From.String())
	}
	if len(m.To) > 0 {
		field("To", addressList(m.To))
	}
	if len(m.Cc) > 0 {
		field("Cc", addressList(m.Cc))
	}
	if m.ReplyTo != nil {
		field("Reply-To", m.ReplyTo.String())
	}
	field("Subject", mime.QEncoding.Encode("utf-8", clean(m.Subject)))
	if m.MessageID != "" {
		field("Message-ID", m.MessageID)
	}
	if m.InReplyTo != "" {
		field("In-Reply-To", m.InReplyTo)
	}
	if len(m.References) > 0 {
		field("References", strings.Join(m.References, " "))
	}
	field("MIME-Version", "1.0")
	for _, kv := range m.Header {
		field(kv[0], clean(kv[1]))
	}
	return h.String()
}

func addressList(as []*mail.Address) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// clean keeps a header value on one line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

const textHeader = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"

func writeQP(w io.Writer, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, text); err != nil {
		return err
	}
	return qp.Close()
}

// lineWriter breaks base64 into CRLF-terminated lines of 76 characters
// (RFC 2045).
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(76-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		l.col += k
		p = p[k:]
		if l.col == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return n, err
			}
			l.col = 0
		}
	}
	return n, nil
}
