package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// The REGISTER transaction: the request, the digest answer to a challenge
// (RFC 8760: SHA-256 preferred), and what the 2xx granted.

// do sends one REGISTER asking for expiry (0: remove the binding) and
// answers up to two digest challenges (a second only when the first
// nonce went stale).
func (r *registration) do(ctx context.Context, expiry time.Duration) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, regTimeout)
	defer cancel()
	var auth sip.Header
	answered := false
	for range 3 {
		req := r.request(expiry, auth)
		res, err := r.s.client.Do(ctx, req)
		if err != nil && r.laddr != nil && errors.Is(err, syscall.EADDRINUSE) {
			// The transport did not find our listening socket: send
			// from a socket of its own from now on.
			r.log.Debug("REGISTER cannot leave from the listening socket", "error", err)
			r.laddr = nil
			req = r.request(expiry, auth)
			res, err = r.s.client.Do(ctx, req)
		}
		if err != nil {
			return nil, fmt.Errorf("registrar unreachable or silent: %w", err)
		}
		if res.StatusCode != sip.StatusUnauthorized && res.StatusCode != sip.StatusProxyAuthRequired {
			return res, nil
		}
		h, stale, err := r.authorize(req, res)
		if err != nil {
			return nil, fmt.Errorf("%d %s: %w", res.StatusCode, res.Reason, err)
		}
		if answered && !stale {
			return res, nil // our credentials were refused
		}
		auth, answered = h, true
	}
	return nil, errors.New("the registrar keeps challenging")
}

// listenerPooled reports whether the transport holds our UDP listening
// socket yet (it adds it once its read loop starts); without it a request
// given that local address would try to bind it again.
func (r *registration) listenerPooled() bool {
	c, err := r.s.ua.TransportLayer().GetConnection("udp", r.laddr.String())
	if err != nil || c == nil {
		return false
	}
	_, _ = c.TryClose() // GetConnection took a reference; a listener is never closed by it
	return true
}

func (r *registration) request(expiry time.Duration, auth sip.Header) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, r.ruri)
	req.SetTransport(r.tp)
	req.SetDestination(r.dest)
	if r.laddr != nil && r.listenerPooled() {
		req.Laddr = *r.laddr
	}
	from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	to := &sip.ToHeader{Address: r.aor}
	callID := sip.CallIDHeader(r.callID)
	r.cseq++
	cseq := &sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER}
	mf := sip.MaxForwardsHeader(70)
	contact := r.contact.Clone()
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(cseq)
	req.AppendHeader(&mf)
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expiry/time.Second))))
	req.AppendHeader(sip.NewHeader("User-Agent", r.s.cfg.UserAgent))
	if auth != nil {
		req.AppendHeader(auth)
	}
	req.SetBody(nil)
	return req
}

// authorize answers the strongest digest challenge we support in res
// (SHA-256 before MD5, RFC 8760 §2.4) for req.
func (r *registration) authorize(req *sip.Request, res *sip.Response) (h sip.Header, stale bool, err error) {
	in, out := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		in, out = "Proxy-Authenticate", "Proxy-Authorization"
	}
	chal, err := bestChallenge(res.GetHeaders(in))
	if err != nil {
		return nil, false, err
	}
	if r.t.Realm != "" && chal.Realm != r.t.Realm {
		return nil, false, fmt.Errorf("challenge for realm %q, configured realm is %q", chal.Realm, r.t.Realm)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: sip.REGISTER.String(), URI: req.Recipient.String(),
		Username: r.t.AuthUsername, Password: r.t.Password,
	})
	if err != nil {
		return nil, false, err
	}
	return sip.NewHeader(out, cred.String()), chal.Stale, nil
}

// algorithmRank orders the digest algorithms we can answer, best first.
var algorithmRank = map[string]int{"SHA-512-256": 4, "SHA-256": 3, "MD5": 1, "": 1}

func bestChallenge(hs []sip.Header) (*digest.Challenge, error) {
	var best *digest.Challenge
	seen := []string{}
	for _, h := range hs {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		c.Algorithm = strings.ToUpper(c.Algorithm)
		seen = append(seen, c.Algorithm)
		if algorithmRank[c.Algorithm] == 0 || !digest.CanDigest(c) {
			continue
		}
		if best == nil || algorithmRank[c.Algorithm] > algorithmRank[best.Algorithm] {
			best = c
		}
	}
	if best == nil {
		if len(seen) == 0 {
			return nil, errors.New("no digest challenge in the response")
		}
		return nil, fmt.Errorf("no supported digest algorithm in %v", seen)
	}
	return best, nil
}

// grantedExpiry reads what the registrar granted our contact: its expires
// parameter in the 2xx, else the Expires header, else what we asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	contacts := res.GetHeaders("Contact")
	var match *sip.ContactHeader
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.User == ours.User && strings.EqualFold(c.Address.Host, ours.Host) && portOr5060(c.Address.Port) == portOr5060(ours.Port) {
			match = c
			break
		}
	}
	if match == nil && len(contacts) == 1 {
		// A registrar behind NAT handling may show our contact rewritten.
		match, _ = contacts[0].(*sip.ContactHeader)
	}
	if match != nil {
		if v, ok := match.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if d, ok := headerSeconds(res, "Expires"); ok {
		return d
	}
	return asked
}

func portOr5060(p int) int {
	if p == 0 {
		return 5060
	}
	return p
}

// headerSeconds reads a header holding a number of seconds (Expires,
// Min-Expires, Retry-After: "120" or "120;duration=60").
func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	h := res.GetHeader(name)
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
