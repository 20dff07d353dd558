package acklink

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKey = bytes.Repeat([]byte{7}, KeySize)
	t0      = time.Date(2026, 3, 2, 3, 4, 0, 0, time.UTC)
)

func TestAckLink(t *testing.T) {
	good := func() url.Values {
		q, err := url.ParseQuery(SignAck(testKey, 123, "alice", t0.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	tests := []struct {
		name   string
		edit   func(q url.Values)
		key    []byte
		now    time.Time
		want   error
		wantID int64
	}{
		{name: "round trip", wantID: 123},
		{name: "one second before expiry", now: t0.Add(time.Hour - time.Second), wantID: 123},
		{name: "expired", now: t0.Add(time.Hour), want: ErrLinkExpired, wantID: 123},
		{name: "wrong key", key: bytes.Repeat([]byte{8}, KeySize), want: ErrLinkInvalid},
		{name: "no key", key: []byte{}, want: ErrLinkInvalid},
		{name: "other ticket", edit: func(q url.Values) { q.Set("t", "124") }, want: ErrLinkInvalid},
		{name: "other person", edit: func(q url.Values) { q.Set("p", "mallory") }, want: ErrLinkInvalid},
		{name: "later expiry", edit: func(q url.Values) { q.Set("e", "9999999999") }, want: ErrLinkInvalid},
		{name: "later expiry on an expired link", edit: func(q url.Values) { q.Set("e", "9999999999") }, now: t0.Add(2 * time.Hour), want: ErrLinkInvalid},
		{name: "signature flipped", edit: func(q url.Values) {
			s := []byte(q.Get("s"))
			s[3] ^= 1
			q.Set("s", string(s))
		}, want: ErrLinkInvalid},
		{name: "signature truncated", edit: func(q url.Values) { q.Set("s", q.Get("s")[:20]) }, want: ErrLinkInvalid},
		{name: "signature not base64", edit: func(q url.Values) { q.Set("s", "!!!") }, want: ErrLinkInvalid},
		{name: "missing person", edit: func(q url.Values) { q.Del("p") }, want: ErrLinkInvalid},
		{name: "repeated ticket", edit: func(q url.Values) { q.Add("t", "124") }, want: ErrLinkInvalid},
		{name: "empty", edit: func(q url.Values) { clear(q) }, want: ErrLinkInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := good()
			if tt.edit != nil {
				tt.edit(q)
			}
			key := testKey
			if tt.key != nil {
				key = tt.key
			}
			now := t0
			if !tt.now.IsZero() {
				now = tt.now
			}
			id, person, err := VerifyAck(key, q, now)
			if tt.want == nil && err != nil {
				t.Fatalf("VerifyAck: %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("VerifyAck error = %v, want %v", err, tt.want)
			}
			if id != tt.wantID {
				t.Errorf("ticket id = %d, want %d", id, tt.wantID)
			}
			if tt.wantID != 0 && person != "alice" {
				t.Errorf("person = %q, want alice", person)
			}
		})
	}
}

func TestAckURL(t *testing.T) {
	for _, base := range []string{"https://astreinte.example.com", "https://astreinte.example.com/"} {
		t.Run(base, func(t *testing.T) {
			u, err := url.Parse(AckURL(base, testKey, 42, "jean-pierre d'à côté", t0.Add(time.Minute)))
			if err != nil {
				t.Fatal(err)
			}
			if u.Path != "/ack" || u.Host != "astreinte.example.com" {
				t.Fatalf("url = %s", u)
			}
			id, person, err := VerifyAck(testKey, u.Query(), t0)
			if err != nil || id != 42 || person != "jean-pierre d'à côté" {
				t.Fatalf("VerifyAck = %d, %q, %v", id, person, err)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Run("create then load", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "link.key")
		k1, err := LoadOrCreateKey(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(k1) != KeySize || bytes.Equal(k1, make([]byte, KeySize)) {
			t.Fatalf("key = %x", k1)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
		}
		k2, err := LoadOrCreateKey(path)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("reload = %x, %v; want %x", k2, err, k1)
		}
	})
	t.Run("concurrent creators agree", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "link.key")
		keys := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := LoadOrCreateKey(path)
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for _, k := range keys[1:] {
			if !bytes.Equal(k, keys[0]) {
				t.Fatalf("keys differ: %x vs %x", k, keys[0])
			}
		}
	})
	t.Run("short file refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "link.key")
		if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(path); err == nil {
			t.Fatal("want an error for a 5-byte key")
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		if _, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "no", "link.key")); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestLinks(t *testing.T) {
	key := make([]byte, KeySize)
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	l := &Links{BaseURL: "https://astreinte.example.com/", Key: key, TTL: time.Hour, Now: func() time.Time { return now }}
	u, until := l.AckURL(42, "alice")
	if !until.Equal(now.Add(time.Hour)) || !strings.HasPrefix(u, "https://astreinte.example.com/ack?") {
		t.Fatalf("AckURL = %q until %v", u, until)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	id, person, err := VerifyAck(key, parsed.Query(), now.Add(59*time.Minute))
	if err != nil || id != 42 || person != "alice" {
		t.Errorf("VerifyAck = %d %q %v, want 42 alice", id, person, err)
	}
	if _, _, err := VerifyAck(key, parsed.Query(), now.Add(time.Hour)); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("after TTL: %v, want expired", err)
	}
	for name, off := range map[string]*Links{
		"nil":       nil,
		"no base":   {Key: key},
		"no key":    {BaseURL: "https://x"},
		"no person": l,
	} {
		person := "bob"
		if name == "no person" {
			person = ""
		}
		if u, _ := off.AckURL(1, person); u != "" {
			t.Errorf("%s: AckURL = %q, want none", name, u)
		}
	}
	def := &Links{BaseURL: "https://x", Key: key, Now: func() time.Time { return now }}
	if _, until := def.AckURL(1, "bob"); !until.Equal(now.Add(DefaultTTL)) {
		t.Errorf("default TTL: until %v, want %v", until, now.Add(DefaultTTL))
	}
}
