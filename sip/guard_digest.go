package sip

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Digest authentication of callers (RFC 3261 section 22, RFC 8760 for
// SHA-256). Nonces are stateless: the time they were made and an HMAC over
// it and the caller's address, so a flood of challenges costs no memory and
// a nonce is good only from the address it was sent to, for nonceTTL.
// Nonce counts are not tracked: within its lifetime and from the same
// address, a captured Authorization header could be replayed for a new
// call; TLS (the trunk engineer's part) closes that.

const nonceTTL = 5 * time.Minute

type authVerdict int

const (
	authChallenge authVerdict = iota // no usable credentials: send 401
	authOK
	authFailed // credentials present but wrong: 403
)

// checkDigest verifies the request's Authorization header. stale is true
// when the credentials were right for an expired nonce (401 stale=true).
func (g *Guard) checkDigest(req *sip.Request, src netip.Addr) (user string, v authVerdict, stale bool) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return "", authChallenge, false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return "", authFailed, false
	}
	pw, ok := g.cfg.Accounts[cred.Username]
	if !ok || cred.Realm != g.cfg.Realm || cred.Userhash {
		return "", authFailed, false
	}
	fresh, valid := g.checkNonce(cred.Nonce, src)
	if !valid {
		// Not a nonce of ours (or for another address): challenge again.
		return "", authChallenge, false
	}
	if !sameTarget(cred.URI, req.Recipient) {
		return "", authFailed, false
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	switch cred.QOP {
	case "":
	case "auth":
		chal.QOP = []string{"auth"}
	default:
		return "", authFailed, false
	}
	switch strings.ToUpper(cred.Algorithm) {
	case "", "MD5", "SHA-256":
	default:
		return "", authFailed, false
	}
	want, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: cred.URI,
		Username: cred.Username, Password: pw, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || subtle.ConstantTimeCompare([]byte(strings.ToLower(want.Response)), []byte(strings.ToLower(cred.Response))) != 1 {
		return "", authFailed, false
	}
	if !fresh {
		return "", authChallenge, true
	}
	return cred.Username, authOK, false
}

// sameTarget reports whether the digest-uri names the Request-URI's host
// (and its user, when it names one), so that credentials computed for
// another server are not taken here. Some clients (SIPp) put only the host
// in the digest-uri.
func sameTarget(uri string, recipient sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return false
	}
	return strings.EqualFold(u.Host, recipient.Host) && (u.User == "" || u.User == recipient.User)
}

// challenges are the WWW-Authenticate headers of a 401: MD5 first, which
// every SIP client knows (some read only the first challenge), then SHA-256.
func (g *Guard) challenges(src netip.Addr, stale bool) []sip.Header {
	nonce := g.makeNonce(src, g.cfg.Now())
	var hs []sip.Header
	for _, alg := range []string{"MD5", "SHA-256"} {
		c := digest.Challenge{Realm: g.cfg.Realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		hs = append(hs, sip.NewHeader("WWW-Authenticate", c.String()))
	}
	return hs
}

func (g *Guard) makeNonce(src netip.Addr, now time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Unix()))
	copy(b[8:], g.nonceMAC(b[:8], src))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce: valid when we made it for src; fresh when also not expired.
func (g *Guard) checkNonce(nonce string, src netip.Addr) (fresh, valid bool) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false, false
	}
	if !hmac.Equal(b[8:], g.nonceMAC(b[:8], src)) {
		return false, false
	}
	made := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	age := g.cfg.Now().Sub(made)
	return age >= -time.Minute && age <= nonceTTL, true
}

// parseNonceTime is the time a nonce says it was made (zero if unreadable).
func parseNonceTime(nonce string) time.Time {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return time.Time{}
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
}

func (g *Guard) nonceMAC(ts []byte, src netip.Addr) []byte {
	m := hmac.New(sha256.New, g.nonceKey[:])
	m.Write(ts)
	a := src.As16()
	m.Write(a[:])
	return m.Sum(nil)[:16]
}
