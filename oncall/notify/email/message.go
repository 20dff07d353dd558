package email

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
)

// message is one page ready to send: header and text, and the recording
// streamed as an attachment when there is one.
type message struct {
	header string // CRLF-terminated fields, without the Content-* ones
	text   string
	file   *os.File // nil: no attachment
	name   string   // attachment file name
}

// Close releases the recording.
func (m *message) Close() {
	if m.file != nil {
		m.file.Close()
	}
}

// compose builds the page for no. The recording is opened now, so that the
// text can say when it cannot be attached; the message is still sent.
func (n *Notifier) compose(no oncall.Notice, from, to *mail.Address, now time.Time) *message {
	t := no.Ticket
	w := wordsFor(no.Person.Language)
	loc := n.Cfg.Location
	if loc == nil {
		loc = time.Local
	}
	m := &message{}
	if no.Event == oncall.NoticeTaken {
		// A short notice, without the recording: someone else has it.
		line := oncall.TakenText(no.Person.Language, t.Number, clean(no.TakenBy), no.TakenAt, loc)
		m.text = line + ".\n\n" + w.nothingToDo + "\n"
		m.header = header(now, loc, from, to, "Ticket "+line, t, false)
		return m
	}
	var att attachment
	m.file, att = openRecording(t, n.Cfg.maxAttachment(), w)
	m.name = att.name

	ackURL, until := "", time.Time{}
	if n.Cfg.Links != nil && t.ID != 0 { // no link before the ticket is written (paged from memory)
		ackURL, until = n.Cfg.Links.AckURL(t.ID, no.Person.ID)
	}
	m.text = w.body(no, loc, n.Cfg.Region, att, ackURL, until)

	m.header = header(now, loc, from, to, w.subject(t, n.Cfg.Region), t, t.Urgency == astreinte.Urgent)
	return m
}

// header is the message's fields, without the Content-* ones.
func header(now time.Time, loc *time.Location, from, to *mail.Address, subject string, t astreinte.Ticket, high bool) string {
	var h strings.Builder
	field := func(k, v string) { h.WriteString(k + ": " + v + "\r\n") }
	field("Date", now.In(loc).Format(time.RFC1123Z))
	field("From", from.String())
	field("To", to.String())
	field("Subject", mime.QEncoding.Encode("utf-8", subject))
	field("Message-ID", messageID(t, from.Address))
	field("MIME-Version", "1.0")
	field("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	field("X-Astreinte-Ticket", t.Number)
	if high {
		field("X-Priority", "1")
		field("Importance", "high")
	}
	return h.String()
}

// messageID is unique per message: "<2026-000123.<random>@example.com>".
func messageID(t astreinte.Ticket, from string) string {
	domain := "astreinte.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return fmt.Sprintf("<%s.%s@%s>", t.Number, strings.ToLower(rand.Text()), domain)
}

// openRecording opens the ticket's newest WAV file (the message the page
// is about) if it can be attached, and says otherwise why not.
func openRecording(t astreinte.Ticket, limit int64, w *words) (*os.File, attachment) {
	path := newest(t).Path
	if path == "" {
		return nil, attachment{note: w.noRecording}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, attachment{note: fmt.Sprintf(w.missing, path, reason(err))}
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, attachment{note: fmt.Sprintf(w.missing, path, reason(err))}
	}
	if fi.Size() > limit {
		f.Close()
		size := fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
		return nil, attachment{note: fmt.Sprintf(w.tooBig, size, path)}
	}
	if n := len(t.Recordings); n > 1 {
		return f, attachment{name: fmt.Sprintf("ticket-%s-message-%d.wav", t.Number, n)}
	}
	return f, attachment{name: "ticket-" + t.Number + ".wav"}
}

// reason is an error without the path that the text already gives.
func reason(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// writeTo writes the whole message: header, then either a plain text body
// or multipart/mixed with the text and the WAV (base64).
func (m *message) writeTo(w io.Writer) error {
	if m.file == nil {
		if _, err := io.WriteString(w, m.header+textHeader+"\r\n"); err != nil {
			return err
		}
		return writeQP(w, m.text)
	}
	mw := multipart.NewWriter(w)
	if _, err := io.WriteString(w, m.header+
		"Content-Type: multipart/mixed; boundary=\""+mw.Boundary()+"\"\r\n\r\n"); err != nil {
		return err
	}
	tp, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	if err := writeQP(tp, m.text); err != nil {
		return err
	}
	ap, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType("audio/wav", map[string]string{"name": m.name})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": m.name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: ap})
	if _, err := io.Copy(enc, m.file); err != nil {
		return fmt.Errorf("attach %s: %w", m.file.Name(), err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return mw.Close()
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
