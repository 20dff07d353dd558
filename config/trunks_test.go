package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTrunksDefaults(t *testing.T) {
	certFile, keyFile := writeKeyPair(t)
	cfg, err := Parse([]byte(strings.NewReplacer("%CERT%", certFile, "%KEY%", keyFile).Replace(`
sip:
  tls:
    cert_file: %CERT%
    key_file: %KEY%
lines:
  - name: support
    numbers: ["0493918009"]
trunks:
  called_header: P-Called-Party-ID
  register:
    - name: ovh
      host: sip.example.net
      username: "0033493918009"
      password: secret
    - name: pbx
      host: 192.0.2.10
      transport: tls
      username: astreinte
      auth_username: "1001"
      password: p
      domain: pbx.example.com
      expiry: 1h
paging:
  sip:
    trunk: ovh
`)), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.TLS.Listen != "0.0.0.0:5061" {
		t.Errorf("sip.tls.listen %q, want 0.0.0.0:5061", cfg.SIP.TLS.Listen)
	}
	tr := cfg.Trunks
	if tr.Region != "FR" || tr.CalledHeader != "P-Called-Party-ID" {
		t.Errorf("region %q, called header %q", tr.Region, tr.CalledHeader)
	}
	ovh, pbx := tr.Register[0], tr.Register[1]
	if ovh.Port != 5060 || ovh.Transport != "udp" || ovh.Domain != "sip.example.net" || ovh.AuthUsername != "0033493918009" ||
		ovh.Expiry != 10*time.Minute || ovh.RetryMin != 5*time.Second || ovh.RetryMax != 5*time.Minute {
		t.Errorf("ovh defaults: %+v", ovh)
	}
	if pbx.Port != 5061 || pbx.Domain != "pbx.example.com" || pbx.AuthUsername != "1001" || pbx.Expiry != time.Hour {
		t.Errorf("pbx: %+v", pbx)
	}
	ps := cfg.Paging.SIP
	if ps.Proxy != "sip.example.net:5060" || ps.Username != "0033493918009" || ps.Password != "secret" || ps.FromUser != "0033493918009" {
		t.Errorf("paging through the trunk: proxy %q user %q password %q from %q", ps.Proxy, ps.Username, ps.Password, ps.FromUser)
	}
}

func TestTrunksProblems(t *testing.T) {
	_, err := Parse([]byte(`sip:
  transports: [udp]
  tls:
    cert_file: /nonexistent/sip.crt
    ca_file: /nonexistent/ca.pem
lines:
  - name: support
    numbers: ["0493918009"]
  - name: other
    numbers: ["+33 4 93 91 80 09"]
trunks:
  region: XX
  register:
    - name: ovh
      transport: sctp
      port: 70000
      expiry: 5s
    - name: ovh
      host: h
      username: u
      transport: tcp
paging:
  sip:
    trunk: nope
`), "bad.yaml")
	var p *Problems
	if !errors.As(err, &p) {
		t.Fatalf("want *Problems, got %v", err)
	}
	msg := noColumns(err.Error())
	for _, want := range []string{
		`trunks.region: "XX"`,
		"trunks.register[0].host: the registrar's host is required",
		"trunks.register[0].username: the account's user name is required",
		`trunks.register[0].transport: "sctp": want udp, tcp or tls`,
		"trunks.register[0].port: 70000",
		"trunks.register[0].expiry: 5s",
		`bad.yaml:18: trunks.register[1].name: "ovh" is used by another trunk`,
		`lines[1].numbers[0]: "+33 4 93 91 80 09" is +33493918009, already answered by line "support"`,
		"sip.tls: SIP over TLS needs both cert_file and key_file",
		"sip.tls.ca_file: open /nonexistent/ca.pem",
		"trunks.register[1].transport: tcp: add tcp to sip.transports",
		`paging.sip.trunk: "nope" is not a trunk`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

// writeKeyPair writes a self-signed certificate and its key (PEM).
func writeKeyPair(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "astreinte"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	cert, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, keyPath
}
