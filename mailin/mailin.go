// Package mailin receives email for the support desk: it reads one message
// (RFC 5322, with MIME parts and RFC 2047 encoded words) as a mail
// server's pipe or the inbound SMTP listener (server.go) hands it over, and
// finds what the desk needs: the sender, the subject, the text, the
// threading headers, the ticket number named in the subject
// ("Re: [2026-000123] …"), the reader's language and whether a program
// rather than a person sent it (RFC 3834).
package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxSize is the most of a message read; the rest is ignored.
const MaxSize = 10 << 20

// MaxText is the most of the text kept.
const MaxText = 64 << 10

// Message is what a support email carries.
type Message struct {
	From      string // bare address, lower case
	Name      string // the sender's display name
	Subject   string
	Text      string // the text/plain part (or the HTML part without tags)
	MessageID string // without angle brackets
	// InReplyTo and References are the Message-IDs the message answers
	// and its thread, without angle brackets, oldest first.
	InReplyTo  []string
	References []string
	// Ref is the ticket number the subject names ("2026-000123"), or "".
	Ref string
	// Language is the Content-Language header, AcceptLanguage the
	// Accept-Language header some clients send: the reader's language.
	Language       string
	AcceptLanguage string
	// Auto says why a program, not a person, sent the message (an
	// auto-reply, a bounce, a list, bulk mail), or "" for a person: such
	// mail is never answered (RFC 3834).
	Auto string
}

// Thread is every Message-ID the message names: References, then
// In-Reply-To, newest last.
func (m Message) Thread() []string {
	out := make([]string, 0, len(m.References)+len(m.InReplyTo))
	seen := map[string]bool{}
	for _, id := range append(append([]string{}, m.References...), m.InReplyTo...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ErrUnreadable is wrapped by every error that says the message itself is
// bad (not RFC 5322, no sender): it must bounce, not be tried again.
var ErrUnreadable = errors.New("unreadable message")

// ErrNoSender is returned for a message without a usable From.
var ErrNoSender = fmt.Errorf("%w: no sender address", ErrUnreadable)

var refRe = regexp.MustCompile(`\[#?(\d{4}-\d{1,9})\]`)

var decoder = &mime.WordDecoder{CharsetReader: charsetReader}

// Parse reads one message.
func Parse(r io.Reader) (Message, error) {
	var m Message
	msg, err := mail.ReadMessage(io.LimitReader(r, MaxSize))
	if err != nil {
		return m, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	ap := mail.AddressParser{WordDecoder: decoder}
	from := msg.Header.Get("From")
	a, err := ap.Parse(from)
	if err != nil || a.Address == "" {
		return m, fmt.Errorf("%w (From %q)", ErrNoSender, from)
	}
	m.From, m.Name = strings.ToLower(a.Address), a.Name
	if s, err := decoder.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = strings.TrimSpace(s)
	} else {
		m.Subject = strings.TrimSpace(msg.Header.Get("Subject"))
	}
	m.MessageID = strings.Trim(msg.Header.Get("Message-Id"), "<> ")
	m.InReplyTo = msgIDs(msg.Header.Get("In-Reply-To"))
	m.References = msgIDs(strings.Join(msg.Header["References"], " "))
	m.Language = strings.TrimSpace(msg.Header.Get("Content-Language"))
	m.AcceptLanguage = strings.TrimSpace(msg.Header.Get("Accept-Language"))
	m.Auto = automatic(msg.Header, m.From)
	if sm := refRe.FindStringSubmatch(m.Subject); sm != nil {
		m.Ref = sm[1]
	}
	text, html, err := body(textproto(msg.Header), msg.Body, 0)
	if err != nil {
		return m, err
	}
	if strings.TrimSpace(text) == "" && html != "" {
		text = stripTags(html)
	}
	m.Text = cut(strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n")), MaxText)
	return m, nil
}

type header interface{ Get(string) string }

func textproto(h mail.Header) header { return h }

// body returns the first text/plain and text/html contents of a part.
func body(h header, r io.Reader, depth int) (text, html string, err error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 5 {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if text != "" || html != "" {
					break
				}
				return "", "", fmt.Errorf("%w: MIME part: %w", ErrUnreadable, err)
			}
			t, hm, err := body(p.Header, p, depth+1)
			if err != nil {
				return "", "", err
			}
			if text == "" {
				text = t
			}
			if html == "" {
				html = hm
			}
		}
		return text, html, nil
	}
	if mt != "text/plain" && mt != "text/html" {
		return "", "", nil
	}
	if strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment") {
		return "", "", nil
	}
	var dec io.Reader = r
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		dec = quotedprintable.NewReader(r)
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, &unfold{r: r})
	}
	b, err := io.ReadAll(io.LimitReader(dec, MaxSize))
	if err != nil {
		return "", "", fmt.Errorf("%w: decode %s part: %w", ErrUnreadable, mt, err)
	}
	s := toUTF8(b, params["charset"])
	if mt == "text/html" {
		return "", s, nil
	}
	return s, "", nil
}

// unfold drops the line breaks of base64 text.
type unfold struct{ r io.Reader }

func (u *unfold) Read(p []byte) (int, error) {
	for {
		n, err := u.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// toUTF8 decodes the charsets mail uses in France: UTF-8, US-ASCII,
// ISO-8859-1/15 and Windows-1252 (read as Latin-1).
func toUTF8(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso-8859-15", "latin1", "windows-1252", "cp1252":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		return input, nil
	case "iso-8859-1", "iso-8859-15", "latin1", "windows-1252", "cp1252":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		return strings.NewReader(toUTF8(b, charset)), nil
	}
	return nil, fmt.Errorf("unhandled charset %q", charset)
}

var tagRe = regexp.MustCompile(`(?s)<(script|style).*?</(script|style)>|<[^>]*>`)

func stripTags(s string) string {
	s = tagRe.ReplaceAllString(s, " ")
	r := strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'")
	return strings.Join(strings.Fields(r.Replace(s)), " ")
}

// cut shortens s to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	b := []byte(s[:n])
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(bytes.TrimSpace(b)) + "\n[…]"
}
