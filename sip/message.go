package sip

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SendMessage sends text to target in a SIP MESSAGE (RFC 3428), directly or
// through opts.Proxy, answering a digest challenge with opts' credentials.
// It returns once the far end accepted it (2xx) or with why it did not.
func (s *Server) SendMessage(ctx context.Context, target, text string, opts DialOptions) error {
	select {
	case <-s.ready:
	default:
		return errors.New("sip: SendMessage before the server is listening")
	}
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return fmt.Errorf("bad URI %q: %v", target, err)
	}
	if opts.FromUser == "" {
		opts.FromUser = "astreinte"
	}
	dest := net.JoinHostPort(uri.Host, fmt.Sprint(max(uri.Port, 5060)))
	if opts.Proxy != "" {
		dest = opts.Proxy
	}
	req := sip.NewRequest(sip.MESSAGE, uri)
	from := &sip.FromHeader{DisplayName: opts.FromDisplay,
		Address: sip.Uri{Scheme: "sip", User: opts.FromUser, Host: s.mediaAddrFor(dest).String()}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: uri})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	req.SetBody([]byte(text))
	req.SetDestination(dest)
	if tr, ok := uri.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(tr)
	}
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("message to %s: %w", target, err)
	}
	if (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && opts.Username != "" {
		res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: opts.Username, Password: opts.Password})
		if err != nil {
			return fmt.Errorf("message to %s: %w", target, err)
		}
	}
	if !res.IsSuccess() {
		return fmt.Errorf("message to %s: %d %s", target, res.StatusCode, res.Reason)
	}
	s.log.Info("message delivered", "to", target, "status", res.StatusCode)
	return nil
}
