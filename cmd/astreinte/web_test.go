package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/web"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns
// their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "astreinte test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// TestHTTPS: with http.tls_cert and tls_key the listener speaks TLS only.
func TestHTTPS(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t)
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP = config.HTTP{Listen: "127.0.0.1:0", TLSCert: certPath, TLSKey: keyPath}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := startHTTP(&env{cfg: cfg}, log, &web.Server{Key: make([]byte, 32), Log: log}, func(h http.Handler) http.Handler { return h })
	if err != nil {
		t.Fatal(err)
	}
	defer h.shutdown()
	addr := h.ln.Addr().String()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	resp, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "ok" || resp.TLS == nil {
		t.Fatalf("https healthz: %d %q", resp.StatusCode, b)
	}
	resp, err = (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the TLS listener")
		}
	}

	cfg.HTTP.TLSKey = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := startHTTP(&env{cfg: cfg}, log, &web.Server{Key: make([]byte, 32), Log: log}, func(h http.Handler) http.Handler { return h }); err == nil ||
		!strings.Contains(err.Error(), "http.tls_cert") {
		t.Fatalf("a missing key: %v", err)
	}
}

func TestListenHint(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = net.Listen("tcp", taken.Addr().String())
	if err == nil {
		t.Fatal("a second listener on the same port succeeded")
	}
	if got := listenHint(err, "http.listen").Error(); !strings.Contains(got, "set http.listen in the configuration") {
		t.Errorf("hint for a port in use: %q", got)
	}
	if other := errors.New("boom"); listenHint(other, "sip.listen") != other {
		t.Error("an unrelated error is not left as it is")
	}
}
