package mailer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/astreinte/astreinte/mailer/mailertest"
)

// start runs a real SMTP server that refuses nobody@… recipients.
func start(t *testing.T) (string, *mailertest.Sink) {
	sink := mailertest.Start(t)
	sink.Refuse = func(rcpt string) error {
		if strings.HasPrefix(rcpt, "nobody@") {
			return &smtp.SMTPError{Code: 550, Message: "no such user"}
		}
		return nil
	}
	return sink.Addr, sink
}

func TestSendThreadedWithParts(t *testing.T) {
	addr, be := start(t)
	c := &Config{Addr: addr, From: "Support <support@example.com>", TLS: TLSNone, Timeout: 5 * time.Second}
	m := &Message{
		To:         []*mail.Address{{Name: "Élodie Dupont", Address: "elodie@client.example"}, {Address: "it@client.example"}},
		Subject:    "[2026-000123] Accusé de réception\r\nBcc: evil@example.com",
		MessageID:  NewMessageID("2026-000123", "support@example.com"),
		InReplyTo:  "<abc@client.example>",
		References: []string{"<abc@client.example>"},
		Text:       "Bonjour,\nvotre demande est enregistrée : ticket 2026-000123.\n" + strings.Repeat("é", 100) + "\n",
		Parts: []Part{
			{ContentType: "text/calendar; method=REQUEST; charset=utf-8", Name: "invite.ics", Body: strings.NewReader("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")},
			{ContentType: "audio/wav", Name: "message.wav", Body: bytes.NewReader(bytes.Repeat([]byte{1, 2, 3}, 1000))},
		},
	}
	m.Add("X-Astreinte-Ticket", "2026-000123")
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := be.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received", len(msgs))
	}
	g := msgs[0]
	if g.From != "support@example.com" || strings.Join(g.To, ",") != "elodie@client.example,it@client.example" {
		t.Fatalf("envelope %s → %v", g.From, g.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(g.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if subj != "[2026-000123] Accusé de réception  Bcc: evil@example.com" || h.Get("Bcc") != "" {
		t.Errorf("subject %q, Bcc %q (a header must stay one line)", subj, h.Get("Bcc"))
	}
	if !strings.HasPrefix(h.Get("Message-ID"), "<2026-000123.") || !strings.HasSuffix(h.Get("Message-ID"), "@example.com>") {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	if h.Get("In-Reply-To") != "<abc@client.example>" || h.Get("References") != "<abc@client.example>" || h.Get("X-Astreinte-Ticket") != "2026-000123" {
		t.Errorf("threading headers %v", h)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "Élodie Dupont" {
		t.Errorf("To %v %v", to, err)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %q %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // quoted-printable is decoded by the reader; base64 is not
		ct := p.Header.Get("Content-Type")
		types = append(types, ct)
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			if !strings.Contains(string(body), "ticket 2026-000123") {
				t.Errorf("text %q", body)
			}
		case strings.HasPrefix(ct, "audio/wav"):
			if p.FileName() != "message.wav" {
				t.Errorf("file name %q", p.FileName())
			}
		}
	}
	if len(types) != 3 || !strings.Contains(types[1], "method=REQUEST") {
		t.Errorf("parts %q", types)
	}
}

func TestSendErrors(t *testing.T) {
	addr, _ := start(t)
	c := &Config{Addr: addr, From: "support@example.com", TLS: TLSNone, Timeout: 5 * time.Second}
	err := c.Send(context.Background(), &Message{To: []*mail.Address{{Address: "nobody@example.com"}}, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "RCPT TO <nobody@example.com>") || !strings.Contains(err.Error(), "no such user") {
		t.Errorf("refused recipient: %v", err)
	}
	if err := (&Config{}).Send(context.Background(), &Message{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("no server: %v", err)
	}
	if err := c.Send(context.Background(), &Message{}); err == nil || !strings.Contains(err.Error(), "no recipient") {
		t.Errorf("no recipient: %v", err)
	}
	bad := &Config{Addr: addr, From: "not an address"}
	if err := bad.Send(context.Background(), &Message{To: []*mail.Address{{Address: "a@b.c"}}}); err == nil || !strings.Contains(err.Error(), "From address") {
		t.Errorf("bad From: %v", err)
	}
}
