package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
)

// received is one message as the test server got it.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// backend is an in-memory SMTP server: it requires AUTH PLAIN when user is
// set (offered only after STARTTLS) and keeps what it receives.
type backend struct {
	user, pass string
	mu         sync.Mutex
	msgs       []received
	conns      map[*smtp.Conn]bool // connections seen (STARTTLS starts a new session on one)
}

func (be *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	be.mu.Lock()
	if be.conns == nil {
		be.conns = map[*smtp.Conn]bool{}
	}
	be.conns[c] = true
	be.mu.Unlock()
	return &session{be: be, conn: c}, nil
}

func (be *backend) messages() []received {
	be.mu.Lock()
	defer be.mu.Unlock()
	return append([]received(nil), be.msgs...)
}

type session struct {
	be   *backend
	conn *smtp.Conn
	user string
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.be.user || pass != s.be.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = received{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.msg.user = s.user
	s.be.mu.Lock()
	s.be.msgs = append(s.be.msgs, s.msg)
	s.be.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// selfSigned returns a server certificate for 127.0.0.1 and a client
// config that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "astreinte test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

// startSMTP runs a go-smtp server on 127.0.0.1, port chosen by the system.
// mode is "starttls" (STARTTLS offered), "implicit" (TLS listener) or
// "none".
func startSMTP(t *testing.T, mode string, be *backend) (addr string, client *tls.Config) {
	t.Helper()
	srvTLS, client := selfSigned(t)
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = smtpLog{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "starttls":
		s.TLSConfig = srvTLS
	case "implicit":
		s.TLSConfig = srvTLS
		l = tls.NewListener(l, srvTLS)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(l) }()
	t.Cleanup(func() { s.Close(); <-done })
	return l.Addr().String(), client
}

type smtpLog struct{ t *testing.T }

func (l smtpLog) Printf(f string, v ...any) { l.t.Logf("smtp server: "+f, v...) }
func (l smtpLog) Println(v ...any)          { l.t.Log(append([]any{"smtp server:"}, v...)...) }

var (
	key   = bytes.Repeat([]byte{3}, acklink.KeySize)
	now   = time.Date(2026, 3, 2, 2, 4, 30, 0, time.UTC) // 03:04 in Paris
	paris = mustLoad("Europe/Paris")
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func notice(t *testing.T, lang string, wav []byte) oncall.Notice {
	t.Helper()
	rec := filepath.Join(t.TempDir(), "rec.wav")
	if wav != nil {
		if err := os.WriteFile(rec, wav, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return oncall.Notice{
		Ticket: astreinte.Ticket{ID: 123, Number: "2026-000123", Line: "support", CallerNumber: "+33612345678",
			CallerName: "Dupont SARL", Urgency: astreinte.Urgent, Status: astreinte.StatusNew, Recording: rec,
			Duration: 83 * time.Second, CreatedAt: now.Add(-30 * time.Second), DueAt: now.Add(2 * time.Hour)},
		Person: oncall.Person{ID: "alice", Name: "Alice Martin", Email: "alice@example.com", Language: lang},
		Tier:   "primary", Step: 0,
	}
}

// fakeWAV is a RIFF header and noise: what matters is the bytes round trip.
func fakeWAV(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, "RIFF\x00\x00\x00\x00WAVEfmt ")
	return b
}

// parsed is a received message taken apart.
type parsed struct {
	header  mail.Header
	subject string
	text    string
	wav     []byte
	wavName string
	wavType string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	p := parsed{header: msg.Header}
	p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mt == "text/plain" {
		// Only multipart.Reader decodes quoted-printable by itself.
		mr := multipart.NewReader(io.MultiReader(strings.NewReader("--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"),
			msg.Body, strings.NewReader("\r\n--b--\r\n")), "b")
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		p.text = string(b)
		return p
	}
	if mt != "multipart/mixed" {
		t.Fatalf("Content-Type %s", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			p.text = string(b) // multipart.Reader decoded the quoted-printable
			continue
		}
		p.wavType, _, _ = mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.wavName = part.FileName()
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
			t.Fatalf("attachment encoding %q", cte)
		}
		for _, line := range strings.Split(string(b), "\r\n") {
			if len(line) > 76 {
				t.Fatalf("base64 line of %d characters", len(line))
			}
		}
		p.wav, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("decode attachment: %v", err)
		}
	}
	return p
}

// ackLink returns the first http(s) line of the text.
func ackLink(text string) string {
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "http") {
			return line
		}
	}
	return ""
}

func TestNotifyDelivers(t *testing.T) {
	wav := fakeWAV(50_000)
	tests := []struct {
		name        string
		server      string // starttls, implicit, none
		tls         string
		auth        bool
		lang        string
		wav         []byte // nil: no file on disk
		max         int64
		wantSubject string
		wantText    []string
		wantTLS     bool
		attached    bool
	}{
		{name: "starttls, auth plain, French", server: "starttls", tls: "starttls", auth: true, lang: "", wav: wav, wantTLS: true, attached: true,
			wantSubject: "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78 (Dupont SARL)",
			wantText: []string{"URGENT — Ticket 2026-000123", "Appelant : 06 12 34 56 78 (Dupont SARL)", "Ligne : support",
				"Reçu : lun. 02/03/2026 03:04 CET", "Message : 1 min 23 s, enregistrement en pièce jointe (ticket-2026-000123.wav)",
				"À traiter avant : lun. 02/03/2026 05:04 CET", "niveau « primary », tour 1",
				"lien valable jusqu'au mar. 03/03/2026 03:04 CET", "ou : astreinte tickets ack 2026-000123"}},
		{name: "required, English", server: "starttls", tls: "required", auth: true, lang: "en", wav: wav, wantTLS: true, attached: true,
			wantSubject: "[URGENT] Ticket 2026-000123 — call from 06 12 34 56 78 (Dupont SARL)",
			wantText: []string{"Caller: 06 12 34 56 78 (Dupont SARL)", "Received: Mon 2026-03-02 03:04 CET",
				"Due: Mon 2026-03-02 05:04 CET", `tier "primary", round 1`, "Acknowledge (link valid until Tue 2026-03-03 03:04 CET):",
				"or: astreinte tickets ack 2026-000123"}},
		{name: "implicit TLS", server: "implicit", tls: "implicit", auth: true, lang: "en", wav: wav, wantTLS: true, attached: true,
			wantSubject: "[URGENT] Ticket 2026-000123 — call from 06 12 34 56 78 (Dupont SARL)"},
		{name: "plain server, recording missing", server: "none", tls: "starttls", lang: "fr",
			wantSubject: "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78 (Dupont SARL)",
			wantText:    []string{"enregistrement illisible sur le serveur", "no such file or directory"}},
		{name: "recording too big", server: "none", tls: "none", lang: "en", wav: wav, max: 10_000,
			wantSubject: "[URGENT] Ticket 2026-000123 — call from 06 12 34 56 78 (Dupont SARL)",
			wantText:    []string{"recording too big to attach (0.1 MB); it is on the server: /", "/ack?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			if tt.auth {
				be.user, be.pass = "astreinte", "s3cret"
			}
			addr, clientTLS := startSMTP(t, tt.server, be)
			n := &Notifier{Now: func() time.Time { return now }, Cfg: Config{
				Config: mailer.Config{Addr: addr, From: "Astreinte <astreinte@example.com>", TLS: tt.tls, TLSConfig: clientTLS,
					Username: be.user, Password: be.pass, Timeout: 10 * time.Second}, Links: &acklink.Links{BaseURL: "https://astreinte.example.com", Key: key, TTL: 24 * time.Hour, Now: func() time.Time { return now }},
				Location: paris, MaxAttachment: tt.max,
			}}
			no := notice(t, tt.lang, tt.wav)
			res, err := n.Notify(context.Background(), no)
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if want := "accepted by " + addr + " for alice@example.com"; res.Detail != want {
				t.Errorf("Detail = %q, want %q", res.Detail, want)
			}
			msgs := be.messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages", len(msgs))
			}
			got := msgs[0]
			if got.from != "astreinte@example.com" || len(got.to) != 1 || got.to[0] != "alice@example.com" {
				t.Errorf("envelope %s → %v", got.from, got.to)
			}
			if got.tls != tt.wantTLS || got.user != be.user {
				t.Errorf("tls %v, user %q; want %v, %q", got.tls, got.user, tt.wantTLS, be.user)
			}
			p := parse(t, got.data)
			if p.subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", p.subject, tt.wantSubject)
			}
			for _, h := range []string{"Date", "Message-Id", "Mime-Version", "From", "To"} {
				if p.header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if to, err := p.header.AddressList("To"); err != nil || to[0].Name != "Alice Martin" {
				t.Errorf("To = %v, %v", to, err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(p.text, w) {
					t.Errorf("text lacks %q:\n%s", w, p.text)
				}
			}
			u, err := url.Parse(ackLink(p.text))
			if err != nil || u.Host != "astreinte.example.com" {
				t.Fatalf("ack link %q (%v) in:\n%s", u, err, p.text)
			}
			id, person, err := acklink.VerifyAck(key, u.Query(), now.Add(23*time.Hour))
			if err != nil || id != 123 || person != "alice" {
				t.Errorf("VerifyAck = %d, %q, %v", id, person, err)
			}
			if tt.attached {
				if !bytes.Equal(p.wav, tt.wav) || p.wavName != "ticket-2026-000123.wav" || p.wavType != "audio/wav" {
					t.Errorf("attachment %q %s, %d bytes, equal %v", p.wavName, p.wavType, len(p.wav), bytes.Equal(p.wav, tt.wav))
				}
			} else if p.wav != nil {
				t.Errorf("unexpected attachment of %d bytes", len(p.wav))
			}
		})
	}
}

func TestNotifyFails(t *testing.T) {
	down := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	// silent accepts connections and never says a word.
	silent := func(t *testing.T, accepted func()) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			c, err := l.Accept()
			if err == nil {
				if accepted != nil {
					accepted()
				}
				io.Copy(io.Discard, c) // until the client gives up
				c.Close()
			}
		})
		t.Cleanup(func() { l.Close(); wg.Wait() })
		return l.Addr().String()
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, c *Config)
		want  []string
	}{
		{"tls required, no STARTTLS", func(t *testing.T, c *Config) {
			c.Addr, _ = startSMTP(t, "none", &backend{})
			c.TLS = "required"
		}, []string{"does not offer STARTTLS"}},
		{"wrong password", func(t *testing.T, c *Config) {
			c.Addr, c.TLSConfig = startSMTP(t, "starttls", &backend{user: "astreinte", pass: "right"})
			c.Username, c.Password = "astreinte", "wrong"
		}, []string{"AUTH", "535", "Authentication failed"}},
		{"untrusted certificate", func(t *testing.T, c *Config) {
			c.Addr, _ = startSMTP(t, "starttls", &backend{})
		}, []string{"STARTTLS", "certificate"}},
		{"server down", func(t *testing.T, c *Config) { c.Addr = down(t) }, []string{"connect", "refused"}},
		{"server silent", func(t *testing.T, c *Config) {
			c.Addr = silent(t, nil)
			c.Timeout = 200 * time.Millisecond
		}, []string{"timed out after 200ms", "greeting"}},
		{"unknown tls mode", func(t *testing.T, c *Config) { c.Addr, c.TLS = "127.0.0.1:1", "ssl" }, []string{`"ssl"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Notifier{Now: func() time.Time { return now }, Cfg: Config{Config: mailer.Config{From: "astreinte@example.com"}, Location: paris}}
			tt.setup(t, &n.Cfg)
			_, err := n.Notify(context.Background(), notice(t, "fr", nil))
			if err == nil {
				t.Fatal("Notify succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n := &Notifier{Cfg: Config{Config: mailer.Config{Addr: silent(t, nil), From: "astreinte@example.com"}}}
		if _, err := n.Notify(ctx, notice(t, "fr", nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
	t.Run("cancelled while waiting for the server", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := &Notifier{Cfg: Config{Config: mailer.Config{Addr: silent(t, cancel), From: "astreinte@example.com"}}}
		if _, err := n.Notify(ctx, notice(t, "fr", nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	})
}

func TestSubject(t *testing.T) {
	tests := []struct {
		lang, number, name string
		urgency            astreinte.Urgency
		want               string
	}{
		{"fr", "+33612345678", "", astreinte.Urgent, "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78"},
		{"en", "+33612345678", "", astreinte.Urgent, "[URGENT] Ticket 2026-000123 — call from 06 12 34 56 78"},
		{"fr", "", "", astreinte.NotUrgent, "[non urgent] Ticket 2026-000123 — appel de numéro masqué"},
		{"en", "anonymous", "", astreinte.NotUrgent, "[not urgent] Ticket 2026-000123 — call from hidden number"},
		{"de", "+33612345678", "Évian\r\nBcc: x@y", astreinte.Urgent, "[URGENT] Ticket 2026-000123 — appel de 06 12 34 56 78 (Évian  Bcc: x@y)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			tk := astreinte.Ticket{Number: "2026-000123", CallerNumber: tt.number, CallerName: tt.name, Urgency: tt.urgency}
			if got := wordsFor(tt.lang).subject(tk, ""); got != tt.want {
				t.Errorf("subject = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNotifyKeptSession: with Sessions, pages go on one SMTP connection
// kept open, still encrypted and authenticated.
func TestNotifyKeptSession(t *testing.T) {
	be := &backend{user: "astreinte", pass: "s3cret"}
	addr, clientTLS := startSMTP(t, "starttls", be)
	n := &Notifier{Now: func() time.Time { return now }, Cfg: Config{
		Config: mailer.Config{Addr: addr, From: "Astreinte <astreinte@example.com>", TLS: "required", TLSConfig: clientTLS,
			Username: be.user, Password: be.pass, Timeout: 10 * time.Second}, Location: paris,
	}}
	n.Sessions = &mailer.Pool{Config: &n.Cfg.Config}
	defer n.Sessions.Close()
	for range 3 {
		if _, err := n.Notify(context.Background(), notice(t, "en", nil)); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	msgs := be.messages()
	if len(msgs) != 3 {
		t.Fatalf("server got %d messages, want 3", len(msgs))
	}
	for _, m := range msgs {
		if !m.tls || m.user != be.user {
			t.Errorf("tls %v, user %q; want TLS as %q", m.tls, m.user, be.user)
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.conns) != 1 {
		t.Errorf("%d SMTP connections, want 1", len(be.conns))
	}
}
