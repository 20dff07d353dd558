package mailin

import (
	"context"
	"errors"
	"io"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServer(t *testing.T) {
	var mu sync.Mutex
	var got []Message
	fail := errors.New("database locked")
	s := &Server{Addr: "127.0.0.1:0", Recipients: []string{"support@example.test"}, MaxSize: 4 << 10,
		Timeout: 5 * time.Second, Deliver: func(_ context.Context, from string, to []string, r io.Reader) error {
			m, err := Parse(r)
			if err != nil {
				return err
			}
			if m.Subject == "fail" {
				return fail
			}
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
			return nil
		}}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close(context.Background()) })

	send := func(to, body string) error {
		return smtp.SendMail(s.ListenAddr(), nil, "client@example.org", []string{to}, []byte(strings.ReplaceAll(body, "\n", "\r\n")))
	}
	if err := send("Support@Example.test", "From: Client <client@example.org>\nSubject: Panne\nIn-Reply-To: <a@b>\nReferences: <x@y>\n <a@b>\n\nBonjour\n"); err != nil {
		t.Fatalf("delivery to the support address: %v", err)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Subject != "Panne" || strings.Join(got[0].Thread(), " ") != "x@y a@b" {
		t.Errorf("delivered: %+v", got)
	}
	mu.Unlock()
	for _, tc := range []struct {
		name, to, body, code string
	}{
		{"another recipient", "root@example.test", "From: a@b\n\nx\n", "550"},
		{"too large", "support@example.test", "From: a@b\n\n" + strings.Repeat(strings.Repeat("x", 70)+"\n", 80), "552"},
		{"no sender", "support@example.test", "Subject: x\n\nx\n", "554"},
		{"our failure", "support@example.test", "From: a@b\nSubject: fail\n\nx\n", "451"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := send(tc.to, tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.code) {
				t.Errorf("got %v, want %s", err, tc.code)
			}
		})
	}
}

func TestAutomatic(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-replied"},
		{"Auto-Submitted: no\r\n", ""},
		{"Precedence: bulk\r\n", "Precedence: bulk"},
		{"List-Unsubscribe: <mailto:u@x>\r\n", "List-Unsubscribe"},
		{"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", "report (delivery-status)"},
		{"", ""},
	} {
		m, err := Parse(strings.NewReader("From: jean@example.com\r\n" + tc.header + "Subject: s\r\n\r\n--b--\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Auto != tc.want {
			t.Errorf("%q: Auto %q, want %q", tc.header, m.Auto, tc.want)
		}
	}
	m, _ := Parse(strings.NewReader("From: MAILER-DAEMON@example.com\r\nContent-Language: en\r\n\r\nx\r\n"))
	if m.Auto == "" || m.Language != "en" {
		t.Errorf("mailer-daemon: %+v", m)
	}
}
