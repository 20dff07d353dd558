// Package acklink makes and checks the acknowledge links sent in pages:
// HMAC-signed, expiring URLs naming a ticket and the person paged, so that
// a technician acknowledges with one click and nobody else can.
package acklink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// KeySize is the length in bytes of a link signing key.
const KeySize = 32

// Errors returned by VerifyAck.
var (
	// ErrLinkExpired means the link was genuine but its time is up.
	ErrLinkExpired = errors.New("acknowledge link expired")
	// ErrLinkInvalid means the link was altered, truncated, or signed with
	// another key.
	ErrLinkInvalid = errors.New("acknowledge link invalid")
)

// ackPayload is what the signature covers: the canonical encoding of the
// three parameters (url.Values.Encode sorts keys and escapes values, so no
// two different triples encode alike), behind a purpose label so that a
// signature made for something else with the same key never verifies here.
func ackPayload(t, p, e string) []byte {
	return []byte("astreinte-ack-v1\n" + url.Values{"t": {t}, "p": {p}, "e": {e}}.Encode())
}

func ackMAC(key []byte, t, p, e string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(ackPayload(t, p, e))
	return m.Sum(nil)
}

// SignAck returns the query string "e=…&p=…&s=…&t=…" of an acknowledge link
// for ticketID by person, valid until expires. The signature is
// HMAC-SHA256 under key, base64url without padding.
func SignAck(key []byte, ticketID int64, person string, expires time.Time) string {
	t := strconv.FormatInt(ticketID, 10)
	e := strconv.FormatInt(expires.Unix(), 10)
	s := base64.RawURLEncoding.EncodeToString(ackMAC(key, t, person, e))
	return url.Values{"t": {t}, "p": {person}, "e": {e}, "s": {s}}.Encode()
}

// VerifyAck checks the parameters of an acknowledge link and returns the
// ticket and person it was made for. It returns an error wrapping
// ErrLinkInvalid when the link is malformed or its signature is wrong (the
// comparison is constant-time), and ErrLinkExpired when it is genuine but
// now is past its expiry; with ErrLinkExpired, ticketID and person are
// still returned (they are authentic) so that the caller can say which
// ticket the link was for.
func VerifyAck(key []byte, q url.Values, now time.Time) (ticketID int64, person string, err error) {
	if len(key) == 0 {
		return 0, "", fmt.Errorf("%w: no signing key", ErrLinkInvalid)
	}
	t, p, e, s := q.Get("t"), q.Get("p"), q.Get("e"), q.Get("s")
	for _, k := range []string{"t", "p", "e", "s"} {
		if len(q[k]) != 1 {
			return 0, "", fmt.Errorf("%w: parameter %s missing or repeated", ErrLinkInvalid, k)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", fmt.Errorf("%w: malformed signature", ErrLinkInvalid)
	}
	if !hmac.Equal(sig, ackMAC(key, t, p, e)) {
		return 0, "", fmt.Errorf("%w: bad signature", ErrLinkInvalid)
	}
	// Signed by us, so well formed unless the key signed garbage.
	id, err1 := strconv.ParseInt(t, 10, 64)
	exp, err2 := strconv.ParseInt(e, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || p == "" {
		return 0, "", fmt.Errorf("%w: malformed parameters", ErrLinkInvalid)
	}
	if now.Unix() >= exp {
		return id, p, fmt.Errorf("%w at %s", ErrLinkExpired, time.Unix(exp, 0).In(now.Location()).Format("2006-01-02 15:04"))
	}
	return id, p, nil
}

// AckURL returns the full acknowledge link: base + "/ack?" + SignAck(…).
// A trailing slash on base is ignored.
func AckURL(base string, key []byte, ticketID int64, person string, expires time.Time) string {
	return strings.TrimRight(base, "/") + "/ack?" + SignAck(key, ticketID, person, expires)
}

// LoadOrCreateKey reads the link signing key from path, creating it with
// KeySize random bytes and mode 0600 when it does not exist. Creation is
// atomic: a concurrent caller or a crash never leaves a short key behind,
// and an existing key is never overwritten.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) < KeySize {
			return nil, fmt.Errorf("link key %s: %d bytes, want %d (delete it to make a new one; outstanding links stop working)", path, len(key), KeySize)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("link key: %w", err)
	}
	key = make([]byte, KeySize)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".linkkey-*")
	if err != nil {
		return nil, fmt.Errorf("create link key: %w", err)
	}
	defer os.Remove(tmp.Name()) // CreateTemp made it 0600
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("create link key: %w", err)
	}
	// Link, unlike Rename, fails if path appeared meanwhile: then the
	// other creator won and its key is the one to use.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKey(path)
		}
		return nil, fmt.Errorf("create link key: %w", err)
	}
	return key, nil
}

// DefaultTTL is how long a link works when Links.TTL is zero.
const DefaultTTL = 72 * time.Hour

// Links makes the acknowledge links put in pages (email, webhook, SIP
// MESSAGE): one component given to every notifier. A nil *Links, or one
// without BaseURL or Key, makes none.
type Links struct {
	BaseURL string           // where the web listener is reached, e.g. https://astreinte.example.com
	Key     []byte           // signing key (LoadOrCreateKey)
	TTL     time.Duration    // how long a link works (default DefaultTTL)
	Now     func() time.Time // default time.Now
}

// AckURL returns the link by which person acknowledges the ticket, and
// until when it works; "" when links are off or there is no person.
func (l *Links) AckURL(ticketID int64, person string) (string, time.Time) {
	if l == nil || l.BaseURL == "" || len(l.Key) == 0 || person == "" {
		return "", time.Time{}
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	until := now().Add(ttl)
	return AckURL(l.BaseURL, l.Key, ticketID, person, until), until
}
