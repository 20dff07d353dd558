package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte/oncall/notify/webhook"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The receiving ends of paging: a real SMTP server and a webhook receiver,
// both in the test process on 127.0.0.1.

// serveUntilCleanup runs serve(ln) until the test ends, then closes it and
// waits for it; on failure it calls report first.
func serveUntilCleanup(t testing.TB, ln net.Listener, serve func(net.Listener) error, closeFn func() error, report func()) {
	done := make(chan struct{})
	go func() { defer close(done); _ = serve(ln) }()
	t.Cleanup(func() {
		if t.Failed() {
			report()
		}
		closeFn()
		<-done
	})
}

// --- SMTP ------------------------------------------------------------------

// mailSink is an SMTP server that keeps every message it accepts. Made
// with startSecureMailSink it offers STARTTLS with its own CA (caFile) and
// takes mail only after AUTH PLAIN with user and password, over TLS.
type mailSink struct {
	addr     string
	caFile   string
	user     string
	password string
	mu       sync.Mutex
	msgs     []mailMsg
	authed   int // successful logins
}

// mailMsg is one accepted message, parsed.
type mailMsg struct {
	at      time.Time
	from    string
	to      []string
	subject string
	text    string // the text/plain part
	wavName string // the attachment's file name
	wav     []byte // the attachment, decoded
	raw     []byte
}

type mailBackend struct{ s *mailSink }

func (b mailBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{s: b.s, conn: c}, nil
}

type mailSession struct {
	s      *mailSink
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (m *mailSession) AuthMechanisms() []string {
	if m.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (m *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if _, tlsOn := m.conn.TLSConnectionState(); !tlsOn {
			return errors.New("credentials in clear")
		}
		if user != m.s.user || pass != m.s.password {
			return smtp.ErrAuthFailed
		}
		m.authed = true
		m.s.mu.Lock()
		m.s.authed++
		m.s.mu.Unlock()
		return nil
	}), nil
}

func (m *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if m.s.user != "" && !m.authed {
		return smtp.ErrAuthRequired
	}
	m.from = from
	return nil
}

func (m *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	m.to = append(m.to, to)
	return nil
}

func (m *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := mailMsg{at: time.Now(), from: m.from, to: m.to, raw: raw}
	if err := msg.parse(); err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparsable message: " + err.Error()}
	}
	m.s.mu.Lock()
	m.s.msgs = append(m.s.msgs, msg)
	m.s.mu.Unlock()
	return nil
}

func (m *mailSession) Reset()        { m.from, m.to = "", nil }
func (m *mailSession) Logout() error { return nil }

// parse reads the subject, the text part and the WAV attachment.
func (m *mailMsg) parse() error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	if m.subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content-type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body := io.Reader(msg.Body)
		if strings.EqualFold(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding")), "quoted-printable") {
			body = quotedprintable.NewReader(body) // net/mail leaves a single part encoded
		}
		b, err := decodePart("", body)
		m.text = string(b)
		return err
	}
	return m.walk(multipart.NewReader(msg.Body, params["boundary"]))
}

func (m *mailMsg) walk(mr *multipart.Reader) error {
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		mt, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") {
			if err := m.walk(multipart.NewReader(p, params["boundary"])); err != nil {
				return err
			}
			continue
		}
		b, err := decodePart(p.Header.Get("Content-Transfer-Encoding"), p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(mt, "audio/"):
			m.wav, m.wavName = b, p.FileName()
		case mt == "text/plain" && m.text == "":
			m.text = string(b)
		}
	}
}

func decodePart(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
	case "quoted-printable":
		// A whole message's body (multipart.Reader decodes the parts
		// itself and drops their header).
		return io.ReadAll(quotedprintable.NewReader(r))
	default:
		return io.ReadAll(r)
	}
}

// startMailSink starts an SMTP server on a free loopback port.
func startMailSink(t testing.TB) *mailSink {
	t.Helper()
	return serveMail(t, &mailSink{}, nil)
}

// startSecureMailSink starts an SMTP server that offers STARTTLS with a
// certificate from a CA of its own (written to caFile) and requires AUTH.
func startSecureMailSink(t testing.TB, user, password string) *mailSink {
	t.Helper()
	s := &mailSink{user: user, password: password, caFile: filepath.Join(testDir(t), "smtp-ca.pem")}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return serveMail(t, s, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
}

func serveMail(t testing.TB, s *mailSink, tlsCfg *tls.Config) *mailSink {
	t.Helper()
	srv := smtp.NewServer(mailBackend{s})
	srv.TLSConfig = tlsCfg
	srv.Domain = "sink.e2e.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 50 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	serveUntilCleanup(t, ln, srv.Serve, srv.Close, func() {
		for _, m := range s.all() {
			t.Logf("==== mail to %v at %s: %s ====\n%s", m.to, m.at.Format("15:04:05.000"), m.subject, m.text)
		}
	})
	return s
}

func (s *mailSink) all() []mailMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailMsg(nil), s.msgs...)
}

// to returns the messages sent to addr.
func (s *mailSink) to(addr string) []mailMsg {
	var out []mailMsg
	for _, m := range s.all() {
		for _, r := range m.to {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// waitTo waits until n messages reached addr.
func (s *mailSink) waitTo(addr string, n int, d time.Duration) ([]mailMsg, bool) {
	return poll(d, func() []mailMsg { return s.to(addr) }, func(ms []mailMsg) bool { return len(ms) >= n })
}

// --- Webhook ---------------------------------------------------------------

// hookSink receives webhook pages and checks their signature.
type hookSink struct {
	url    string
	secret string
	clock  func() time.Time // the sender's clock, for the timestamp check
	mu     sync.Mutex
	hooks  []hookPost
}

// hookPost is one POST received.
type hookPost struct {
	at        time.Time
	verifyErr error
	body      []byte
	payload   struct {
		Version  int    `json:"version"`
		Event    string `json:"event"`
		Delivery string `json:"delivery"`
		PageKey  string `json:"page_key"`
		Ticket   struct {
			ID           int64  `json:"id"`
			Number       string `json:"number"`
			Urgency      string `json:"urgency"`
			CallerNumber string `json:"caller_number"`
			Recording    string `json:"recording_path"`
		} `json:"ticket"`
		Tier   string `json:"tier"`
		Step   int    `json:"step"`
		Person *struct {
			ID string `json:"id"`
		} `json:"person"`
		AckURL string `json:"ack_url"`
	}
}

// startHookSink starts an HTTP receiver; clock is astreinte's clock (the
// signed timestamp is checked against it with a five-minute tolerance).
func startHookSink(t testing.TB, secret string, clock func() time.Time) *hookSink {
	t.Helper()
	h := &hookSink{secret: secret, clock: clock}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String() + "/astreinte"
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	serveUntilCleanup(t, ln, srv.Serve, srv.Close, func() {
		for _, p := range h.all() {
			t.Logf("==== webhook at %s (verify: %v) ====\n%s", p.at.Format("15:04:05.000"), p.verifyErr, p.body)
		}
	})
	return h
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p := hookPost{at: at, body: body}
	p.verifyErr = webhook.Verify([]byte(h.secret), r.Header.Get(webhook.HeaderTimestamp),
		r.Header.Get(webhook.HeaderSignature), body, h.clock(), 5*time.Minute)
	if err := json.Unmarshal(body, &p.payload); err != nil && p.verifyErr == nil {
		p.verifyErr = fmt.Errorf("body: %w", err)
	}
	if d := r.Header.Get(webhook.HeaderDelivery); d == "" || d != p.payload.Delivery {
		p.verifyErr = errors.Join(p.verifyErr, fmt.Errorf("delivery header %q, body %q", d, p.payload.Delivery))
	}
	h.mu.Lock()
	h.hooks = append(h.hooks, p)
	h.mu.Unlock()
	if p.verifyErr != nil {
		http.Error(w, p.verifyErr.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookSink) all() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.hooks...)
}

// wait waits until n posts arrived.
func (h *hookSink) wait(n int, d time.Duration) ([]hookPost, bool) {
	return poll(d, h.all, func(ps []hookPost) bool { return len(ps) >= n })
}

// --- The timeline ----------------------------------------------------------

// eventRow is a row of the events table.
type eventRow struct {
	At      string
	Kind    string
	Actor   string
	Channel string
	Detail  string
}

func (e eventRow) String() string {
	return fmt.Sprintf("%s %-20s %-8s %-8s %s", e.At, e.Kind, e.Actor, e.Channel, e.Detail)
}

func (s *service) events(ticketID int64) []eventRow {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT at, kind, actor, channel, detail FROM events WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		s.t.Fatalf("events: %v", err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var e eventRow
		if err := rows.Scan(&e.At, &e.Kind, &e.Actor, &e.Channel, &e.Detail); err != nil {
			s.t.Fatalf("events: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// sendRow is a row of the sends table (the paging outbox).
type sendRow struct {
	Step     int
	Channel  string
	Person   string
	State    string
	Attempts int
	LastErr  string
}

func (s *service) sends(ticketID int64) []sendRow {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT step, channel, person, state, attempts, last_error FROM sends WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		s.t.Fatalf("sends: %v", err)
	}
	defer rows.Close()
	var out []sendRow
	for rows.Next() {
		var r sendRow
		if err := rows.Scan(&r.Step, &r.Channel, &r.Person, &r.State, &r.Attempts, &r.LastErr); err != nil {
			s.t.Fatalf("sends: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// ticketState reads a ticket's status and who acknowledged it.
func (s *service) ticketState(id int64) (status, ackedBy string) {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	if err := db.QueryRow(`SELECT status, acked_by FROM tickets WHERE id = ?`, id).Scan(&status, &ackedBy); err != nil {
		s.t.Fatalf("ticket %d: %v", id, err)
	}
	return status, ackedBy
}

// pageState reads the state of a ticket's page and its next step.
func (s *service) pageState(ticketID int64) (state string, step int) {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	if err := db.QueryRow(`SELECT state, step FROM pages WHERE ticket_id = ?`, ticketID).Scan(&state, &step); err != nil {
		s.t.Fatalf("page of ticket %d: %v", ticketID, err)
	}
	return state, step
}

// waitTicket waits for the first ticket to exist.
func (s *service) waitTicket(d time.Duration) (ticketRow, bool) {
	ts, ok := poll(d, s.tickets, func(ts []ticketRow) bool { return len(ts) > 0 })
	if !ok {
		return ticketRow{}, false
	}
	return ts[0], true
}

// hasEvent reports whether the timeline has an event of kind whose actor,
// channel and detail contain the given strings.
func hasEvent(evs []eventRow, kind, actor, channel, detail string) bool {
	for _, e := range evs {
		if e.Kind == kind && strings.Contains(e.Actor, actor) && strings.Contains(e.Channel, channel) && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

func timeline(evs []eventRow) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

// logins counts the successful AUTHs (over TLS).
func (s *mailSink) logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authed
}
