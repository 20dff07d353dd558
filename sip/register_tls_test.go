package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// selfSigned makes a certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registrar"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestRegisterOverTLS: a trunk with transport tls registers with a
// registrar whose certificate our TLS client configuration trusts; the
// Contact says transport=tls. With the system roots only, the handshake
// fails and the state says so.
func TestRegisterOverTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tls-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	regSrv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	reqs := make(chan *sip.Request, 8)
	regSrv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		reqs <- req
		if req.GetHeader("Authorization") == nil {
			_ = tx.Respond(challenge(req, sip.StatusUnauthorized, false, "SHA-256"))
			return
		}
		if _, err := checkDigest(req, "Authorization", "tls-user", "tls-pass"); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
			return
		}
		_ = tx.Respond(ok(req, 300))
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go regSrv.ServeTLS(ln)
	t.Cleanup(func() { ln.Close(); regSrv.Close(); ua.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	tr := Trunk{Name: "secure", Host: "127.0.0.1", Port: port, Transport: "tls", Domain: "127.0.0.1",
		Username: "tls-user", AuthUsername: "tls-user", Password: "tls-pass",
		Expiry: time.Hour, RetryMin: time.Second, RetryMax: time.Minute}

	t.Run("trusted", func(t *testing.T) {
		srv := newRegServerWith(t, nil, &tls.Config{RootCAs: pool})
		timers := newFakeTimers(t)
		if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
			t.Fatal(err)
		}
		first := <-reqs
		if tp := first.Transport(); tp != "TLS" {
			t.Errorf("REGISTER over %s, want TLS", tp)
		}
		if c := first.Contact(); c == nil || c.Address.UriParams.GetOr("transport", "") != "tls" {
			t.Errorf("Contact %v, want transport=tls", first.Contact())
		}
		<-reqs
		st := waitState(t, srv, RegRegistered)
		if st.Granted != 300*time.Second || st.Registrar != "127.0.0.1:"+strconv.Itoa(port)+"/tls" {
			t.Errorf("state %+v", st)
		}
		if tm := timers.next(); tm.d != 255*time.Second {
			t.Errorf("refresh in %s, want 255s", tm.d)
		}
		shutdown(t, srv)
		for req := range reqs { // the un-REGISTER, challenged then answered
			if req.GetHeader("Authorization") != nil {
				if e := req.GetHeader("Expires"); e == nil || e.Value() != "0" {
					t.Errorf("un-REGISTER Expires %v", e)
				}
				break
			}
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		srv := newRegServerWith(t, nil, nil)
		timers := newFakeTimers(t)
		if err := srv.startRegistrations(context.Background(), []Trunk{tr}, timers.after); err != nil {
			t.Fatal(err)
		}
		st := waitState(t, srv, RegFailed)
		if st.LastCode != 0 || st.LastError == "" {
			t.Errorf("state %+v, want a TLS error", st)
		}
		timers.next()
		select {
		case req := <-reqs:
			t.Errorf("the registrar got a REGISTER over an untrusted connection: %v", req.StartLine())
		default:
		}
	})
}
