package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/oncall"
)

var (
	secret = []byte("webhook secret")
	key    = bytes.Repeat([]byte{5}, acklink.KeySize)
	now    = time.Date(2026, 3, 2, 2, 4, 30, 0, time.UTC)
)

func notice(person bool) oncall.Notice {
	no := oncall.Notice{
		Ticket: astreinte.Ticket{ID: 123, Number: "2026-000123", Line: "support", CallerNumber: "+33612345678",
			CallerName: "Dupont SARL", Urgency: astreinte.Urgent, Status: astreinte.StatusNew, Case: astreinte.CaseOutOfHours,
			Recording: "/var/lib/astreinte/rec/123.wav", Duration: 83400 * time.Millisecond, CreatedAt: now.Add(-30 * time.Second)},
		Tier: "primary", Step: 2, Round: 1,
	}
	if person {
		no.Person = oncall.Person{ID: "alice", Name: "Alice Martin", Email: "alice@example.com", SIP: "sip:alice@pbx.example.com"}
	}
	return no
}

// request is what the test endpoint saw.
type request struct {
	header http.Header
	body   []byte
}

func endpoint(t *testing.T, status int, answer string) (*httptest.Server, <-chan request) {
	t.Helper()
	got := make(chan request, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/hook/t0k3n" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		got <- request{r.Header.Clone(), b}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

func TestNotifyDelivers(t *testing.T) {
	tests := []struct {
		name       string
		person     bool
		status     int
		wantDetail string
	}{
		{"person, 200", true, http.StatusOK, "HTTP 200"},
		{"policy-wide, 204", false, http.StatusNoContent, "HTTP 204"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, got := endpoint(t, tt.status, "")
			n := &Notifier{URL: ts.URL + "/hook/t0k3n", Secret: string(secret), Links: &acklink.Links{BaseURL: "https://astreinte.example.com", Key: key, TTL: 24 * time.Hour, Now: func() time.Time { return now }},
				Now: func() time.Time { return now }}
			res, err := n.Notify(context.Background(), notice(tt.person))
			if err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if res.Detail != tt.wantDetail {
				t.Errorf("Detail = %q, want %q", res.Detail, tt.wantDetail)
			}
			r := <-got
			h := r.header
			if err := Verify(secret, h.Get(HeaderTimestamp), h.Get(HeaderSignature), r.body, now.Add(time.Minute), 5*time.Minute); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if h.Get(HeaderTimestamp) != strconv.FormatInt(now.Unix(), 10) || h.Get("User-Agent") != "astreinte" ||
				h.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", h)
			}
			var p Payload
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Version != 1 || p.Event != "page" || p.Delivery == "" || p.Delivery != h.Get(HeaderDelivery) {
				t.Errorf("version %d, event %q, delivery %q (header %q)", p.Version, p.Event, p.Delivery, h.Get(HeaderDelivery))
			}
			want := Ticket{ID: 123, Number: "2026-000123", Urgency: "urgent", Status: "new", Case: "out_of_hours", Line: "support",
				CallerNumber: "+33612345678", CallerName: "Dupont SARL", CreatedAt: "2026-03-02T02:04:00Z",
				DurationSeconds: 83, RecordingPath: "/var/lib/astreinte/rec/123.wav", RecordingCount: 1,
				Recordings: []Recording{{Seq: 1, At: "2026-03-02T02:04:00Z", Urgency: "urgent", DurationSeconds: 83, Path: "/var/lib/astreinte/rec/123.wav"}}}
			if !reflect.DeepEqual(p.Ticket, want) {
				t.Errorf("ticket\n got %+v\nwant %+v", p.Ticket, want)
			}
			if p.Tier != "primary" || p.Step != 2 || p.Round != 1 {
				t.Errorf("tier %q step %d round %d", p.Tier, p.Step, p.Round)
			}
			var raw map[string]json.RawMessage
			json.Unmarshal(r.body, &raw)
			if !tt.person {
				if string(raw["person"]) != "null" || p.AckURL != "" || p.PageKey != "123/2/" {
					t.Errorf("policy-wide: person %s, ack_url %q, page_key %q", raw["person"], p.AckURL, p.PageKey)
				}
				return
			}
			if *p.Person != (Person{ID: "alice", Name: "Alice Martin", Email: "alice@example.com", SIP: "sip:alice@pbx.example.com"}) {
				t.Errorf("person %+v", *p.Person)
			}
			if p.PageKey != "123/2/alice" {
				t.Errorf("page_key %q", p.PageKey)
			}
			u, err := url.Parse(p.AckURL)
			if err != nil {
				t.Fatal(err)
			}
			if id, who, err := acklink.VerifyAck(key, u.Query(), now.Add(time.Hour)); err != nil || id != 123 || who != "alice" {
				t.Errorf("ack_url %s: %d %q %v", p.AckURL, id, who, err)
			}
		})
	}
}

func TestNotifyFails(t *testing.T) {
	long := strings.Repeat("x", 190) + "END-OF-200" + strings.Repeat("y", 500)
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration
		want    []string
		notWant []string
	}{
		{"500", func(t *testing.T) string {
			ts, _ := endpoint(t, http.StatusInternalServerError, "database is down\n")
			return ts.URL + "/hook/t0k3n"
		}, 0, []string{"HTTP 500", `"database is down"`}, nil},
		{"answer cut at 200 bytes", func(t *testing.T) string {
			ts, _ := endpoint(t, http.StatusBadGateway, long)
			return ts.URL + "/hook/t0k3n"
		}, 0, []string{"HTTP 502", "xEND-OF-200\""}, []string{"yyy"}},
		{"redirect", func(t *testing.T) string {
			ts := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
			t.Cleanup(ts.Close)
			return ts.URL + "/hook/t0k3n"
		}, 0, []string{"HTTP 302", "redirects are not followed"}, nil},
		{"timeout", func(t *testing.T) string {
			release := make(chan struct{})
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(func() { close(release); ts.Close() })
			return ts.URL + "/hook/t0k3n"
		}, 100 * time.Millisecond, []string{"no answer within 100ms"}, nil},
		{"connection refused", func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			return "http://" + l.Addr().String() + "/hook/t0k3n"
		}, 0, []string{"refused"}, nil},
		{"not a URL", func(t *testing.T) string { return "ftp://example.com/t0k3n" }, 0, []string{"not an http(s) URL"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &Notifier{URL: tt.url(t), Secret: string(secret), Timeout: tt.timeout}
			_, err := n.Notify(context.Background(), notice(true))
			if err == nil {
				t.Fatal("Notify succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range append(tt.notWant, "t0k3n") {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
}

func TestNoSecretNoSignature(t *testing.T) {
	ts, got := endpoint(t, http.StatusOK, "")
	n := &Notifier{URL: ts.URL + "/hook/t0k3n"}
	if _, err := n.Notify(context.Background(), notice(false)); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.header.Get(HeaderSignature) != "" || r.header.Get(HeaderTimestamp) == "" {
		t.Errorf("headers %v", r.header)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"version":1}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(secret, ts, body)
	tests := []struct {
		name      string
		secret    []byte
		ts, sig   string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "good", tolerance: 5 * time.Minute},
		{name: "good, 4 min late", now: now.Add(4 * time.Minute), tolerance: 5 * time.Minute},
		{name: "too old", now: now.Add(6 * time.Minute), tolerance: 5 * time.Minute, want: ErrStaleTimestamp},
		{name: "from the future", now: now.Add(-6 * time.Minute), tolerance: 5 * time.Minute, want: ErrStaleTimestamp},
		{name: "no tolerance check", now: now.Add(time.Hour)},
		{name: "body altered", body: []byte(`{"version":2}`), want: ErrBadSignature},
		{name: "timestamp altered", ts: strconv.FormatInt(now.Unix()+1, 10), want: ErrBadSignature},
		{name: "wrong secret", secret: []byte("other"), want: ErrBadSignature},
		{name: "no secret", secret: []byte{}, want: ErrBadSignature},
		{name: "no prefix", sig: strings.TrimPrefix(sig, "sha256="), want: ErrBadSignature},
		{name: "bad hex", sig: "sha256=zz", want: ErrBadSignature},
		{name: "empty", sig: "-", want: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, tsv, sg, b, n := secret, ts, sig, body, now
			if tt.secret != nil {
				s = tt.secret
			}
			if tt.ts != "" {
				tsv = tt.ts
			}
			if tt.sig == "-" {
				sg = ""
			} else if tt.sig != "" {
				sg = tt.sig
			}
			if tt.body != nil {
				b = tt.body
			}
			if !tt.now.IsZero() {
				n = tt.now
			}
			err := Verify(s, tsv, sg, b, n, tt.tolerance)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
