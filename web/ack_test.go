package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
)

// fakeStore keeps tickets in memory with the store's acknowledge rule:
// only a new ticket changes.
type fakeStore struct {
	mu      sync.Mutex
	tickets map[int64]astreinte.Ticket
	acks    []string // "by via" of each Acknowledge call
	now     time.Time
}

func (f *fakeStore) ByID(_ context.Context, id int64) (astreinte.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tickets[id]
	if !ok {
		return t, fmt.Errorf("ticket %d: %w", id, astreinte.ErrNotFound)
	}
	return t, nil
}

func (f *fakeStore) Acknowledge(_ context.Context, id int64, by, via string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, by+" "+via)
	t, ok := f.tickets[id]
	if !ok {
		return false, fmt.Errorf("ticket %d: %w", id, astreinte.ErrNotFound)
	}
	if t.Status != astreinte.StatusNew {
		return false, nil
	}
	t.Status, t.AckedBy, t.AckedAt = astreinte.StatusAcknowledged, by, f.now
	f.tickets[id] = t
	return true, nil
}

func (f *fakeStore) ackCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

func (f *fakeStore) ackCount() int { return len(f.ackCalls()) }

func newTestServer(t *testing.T) (*fakeStore, *httptest.Server) {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 2, 12, 0, 0, time.UTC) // 03:12 in Paris
	st := &fakeStore{now: now, tickets: map[int64]astreinte.Ticket{
		123: {ID: 123, Number: "2026-000123", CallerNumber: "+33612345678", CallerName: "Dupont SARL", Line: "support",
			Urgency: astreinte.Urgent, Status: astreinte.StatusNew, Duration: 83 * time.Second, CreatedAt: now.Add(-8 * time.Minute)},
		124: {ID: 124, Number: "2026-000124", Urgency: astreinte.NotUrgent, Status: astreinte.StatusNew, CreatedAt: now},
	}}
	s := &Server{Tickets: st, Key: testKey, Now: func() time.Time { return now }, Location: paris,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return st, ts
}

func link(ts *httptest.Server, id int64, person string, exp time.Time) string {
	return acklink.AckURL(ts.URL, testKey, id, person, exp)
}

func do(t *testing.T, method, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = http.PostForm(u, form)
	} else {
		resp, err = http.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, html.UnescapeString(string(b))
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z])" value="([^"]*)">`)

// formOf returns the hidden fields of the page's acknowledge form, as a
// browser would post them.
func formOf(t *testing.T, page string) url.Values {
	t.Helper()
	f := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	if len(f) != 4 {
		t.Fatalf("form fields = %v in page:\n%s", f, page)
	}
	return f
}

func TestAckPages(t *testing.T) {
	later := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	t.Run("GET shows the ticket and does not acknowledge", func(t *testing.T) {
		st, ts := newTestServer(t)
		code, _, body := do(t, "GET", link(ts, 123, "alice", later), nil)
		if code != http.StatusOK {
			t.Fatalf("status %d\n%s", code, body)
		}
		for _, want := range []string{"2026-000123", "URGENT", "+33612345678", "Dupont SARL", "lun. 2 mars 2026 à 03:04",
			"1 min 23 s", "Prendre en charge", `lang="fr"`, `method="post"`, "alice"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if n := st.ackCount(); n != 0 {
			t.Fatalf("GET acknowledged (%d calls)", n)
		}
	})
	t.Run("POST acknowledges once, then says already", func(t *testing.T) {
		st, ts := newTestServer(t)
		_, _, page := do(t, "GET", link(ts, 123, "alice", later), nil)
		form := formOf(t, page)
		code, _, body := do(t, "POST", ts.URL+"/ack", form)
		if code != http.StatusOK || !strings.Contains(body, "Ticket 2026-000123 pris en charge par alice") {
			t.Fatalf("first POST: %d\n%s", code, body)
		}
		code, _, body = do(t, "POST", ts.URL+"/ack", form)
		if code != http.StatusOK || !strings.Contains(body, "déjà pris en charge par alice à 03:12") {
			t.Fatalf("second POST: %d\n%s", code, body)
		}
		if got := st.ackCalls(); len(got) != 2 || got[0] != "alice email" {
			t.Errorf("Acknowledge calls = %q", got)
		}
	})
	t.Run("someone else was first", func(t *testing.T) {
		st, ts := newTestServer(t)
		if _, err := st.Acknowledge(context.Background(), 123, "bob", "sip"); err != nil {
			t.Fatal(err)
		}
		code, _, body := do(t, "GET", link(ts, 123, "alice", later), nil)
		if code != http.StatusOK || !strings.Contains(body, "déjà pris en charge par bob à 03:12") || strings.Contains(body, "<form") {
			t.Fatalf("GET: %d\n%s", code, body)
		}
		q, _ := url.ParseQuery(acklink.SignAck(testKey, 123, "alice", later))
		code, _, body = do(t, "POST", ts.URL+"/ack", q)
		if code != http.StatusOK || !strings.Contains(body, "déjà pris en charge par bob à 03:12") {
			t.Fatalf("POST: %d\n%s", code, body)
		}
	})
	t.Run("refused links", func(t *testing.T) {
		st, ts := newTestServer(t)
		tampered := strings.Replace(link(ts, 124, "alice", later), "t=124", "t=123", 1)
		expired := link(ts, 123, "alice", st.now.Add(-time.Minute))
		tests := []struct {
			name, method, url string
			want              []string
		}{
			{"GET tampered", "GET", tampered, []string{"pas valable", "astreinte tickets ack <number>"}},
			{"GET expired", "GET", expired, []string{"a expiré", "astreinte tickets ack 2026-000123"}},
			{"GET no params", "GET", ts.URL + "/ack", []string{"pas valable"}},
			{"POST tampered", "POST", tampered, []string{"pas valable"}},
			{"POST expired", "POST", expired, []string{"a expiré"}},
			{"GET other key", "GET", acklink.AckURL(ts.URL, []byte("another key entirely, 32 bytes!!"), 123, "alice", later), []string{"pas valable"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := tt.url
				var form url.Values
				if tt.method == "POST" {
					pu, _ := url.Parse(tt.url)
					u, form = ts.URL+"/ack", pu.Query()
				}
				code, _, body := do(t, tt.method, u, form)
				if code != http.StatusForbidden {
					t.Errorf("status %d, want 403", code)
				}
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("page lacks %q:\n%s", w, body)
					}
				}
			})
		}
		if n := st.ackCount(); n != 0 {
			t.Fatalf("refused links acknowledged (%d calls)", n)
		}
	})
	t.Run("query string alone does not acknowledge a POST", func(t *testing.T) {
		st, ts := newTestServer(t)
		code, _, _ := do(t, "POST", link(ts, 123, "alice", later), url.Values{})
		if code != http.StatusForbidden || st.ackCount() != 0 {
			t.Fatalf("status %d, %d acknowledgements", code, st.ackCount())
		}
	})
	t.Run("unknown ticket", func(t *testing.T) {
		_, ts := newTestServer(t)
		code, _, _ := do(t, "GET", link(ts, 999, "alice", later), nil)
		if code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", code)
		}
	})
}

func TestHeadersAndHealth(t *testing.T) {
	_, ts := newTestServer(t)
	later := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self';",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, u := range []string{ts.URL + "/healthz", link(ts, 123, "alice", later), ts.URL + "/ack?t=1"} {
		t.Run(u[len(ts.URL):min(len(u), len(ts.URL)+12)], func(t *testing.T) {
			_, h, _ := do(t, "GET", u, nil)
			for k, v := range want {
				if !strings.HasPrefix(h.Get(k), v) {
					t.Errorf("%s = %q, want prefix %q", k, h.Get(k), v)
				}
			}
		})
	}
	code, _, body := do(t, "GET", ts.URL+"/healthz", nil)
	if code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz: %d %q", code, body)
	}
}

var testKey = bytes.Repeat([]byte{7}, acklink.KeySize)
