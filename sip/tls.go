package sip

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TLSConfig configures SIP over TLS.
type TLSConfig struct {
	// Listen is the TLS listening address (host:port).
	Listen string
	// CertFile and KeyFile are the PEM certificate chain and private key,
	// read at start and again by ReloadTLS.
	CertFile, KeyFile string
}

// tlsListener serves the current certificate to each new connection.
type tlsListener struct {
	cfg  TLSConfig
	addr string // bound address
	cert atomic.Pointer[tls.Certificate]
}

func (l *tlsListener) load() (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(l.cfg.CertFile, l.cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sip: tls certificate %s: %w", l.cfg.CertFile, err)
	}
	if c.Leaf == nil && len(c.Certificate) > 0 {
		c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	return &c, nil
}

// listenTLS binds the TLS listener when one is configured; its serve
// error goes to errc.
func (s *Server) listenTLS(errc chan<- error) error {
	if s.cfg.TLS == nil {
		return nil
	}
	l := &tlsListener{cfg: *s.cfg.TLS}
	c, err := l.load()
	if err != nil {
		return err
	}
	l.cert.Store(c)
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return l.cert.Load(), nil
		},
	}
	ln, err := tls.Listen("tcp", l.cfg.Listen, conf)
	if err != nil {
		return fmt.Errorf("sip: listen tls %s: %w", l.cfg.Listen, err)
	}
	l.addr = ln.Addr().String()
	s.tls = l
	s.tlsPort = ln.Addr().(*net.TCPAddr).Port
	go func() {
		err := s.srv.ServeTLS(ln)
		select {
		case errc <- err:
		default: // ListenAndServe already returned: nobody reads errc
		}
	}()
	s.listeners = append(s.listeners, ln.Close)
	s.log.Info("sip listening on tls", "addr", ln.Addr().String(), "cert_expires", certExpiry(c))
	return nil
}

// TLSAddr is the bound SIP over TLS address ("" without TLS).
func (s *Server) TLSAddr() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.addr
}

// contactForReq is our Contact for a dialog the request opens: on the TLS
// listener, with transport=tls, when the request came over TLS, so that
// the peer's in-dialog requests stay encrypted.
func (s *Server) contactForReq(req *sip.Request) sip.ContactHeader {
	c := s.contactFor(req.Source())
	if s.tls != nil && strings.EqualFold(req.Transport(), "TLS") {
		c.Address.Port = s.tlsPort
		c.Address.UriParams = sip.NewParams()
		c.Address.UriParams.Add("transport", "tls")
	}
	return c
}

// ReloadTLS reads the certificate and key files again; new TLS
// connections get the new certificate, established ones keep theirs. On
// error the certificate in use is kept.
func (s *Server) ReloadTLS() error {
	if s.tls == nil {
		return nil
	}
	c, err := s.tls.load()
	if err != nil {
		return err
	}
	s.tls.cert.Store(c)
	s.log.Info("sip tls certificate reloaded", "file", s.tls.cfg.CertFile, "cert_expires", certExpiry(c))
	return nil
}

func certExpiry(c *tls.Certificate) string {
	if c.Leaf == nil {
		return ""
	}
	return c.Leaf.NotAfter.UTC().Format(time.RFC3339)
}
