package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
)

// SIP over TLS: astreinte's TLS listener with a certificate made here, a
// call placed over it by a sipgo user agent (SIPp in Debian is built
// without TLS), and the certificate replaced on SIGHUP.

// writeCert makes a self-signed certificate for 127.0.0.1 named cn and
// writes it and its key (PEM) to dir/name.crt and dir/name.key.
func writeCert(t testing.TB, dir, name, cn string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	// Written to a temporary name then renamed, as a certificate renewal
	// tool does: SIGHUP never reads half a file.
	for path, b := range map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
	} {
		writeFile(t, path+".new", b)
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, cert
}

// servedCert is the certificate the TLS listener at addr presents,
// trusted only if it is want.
func servedCert(t testing.TB, addr string, want *x509.Certificate) (string, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(want)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

// TestCallOverTLS_SIGHUPReload: a caller's INVITE, ACK and BYE go over TLS
// to astreinte (certificate verified against the one made here); the
// caller hears the prompts, leaves a message after the beep and hangs up:
// the message becomes a ticket. Then the certificate files are replaced
// and astreinte gets SIGHUP: new connections get the new certificate, the
// service runs on.
func TestCallOverTLS_SIGHUPReload(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	certFile, keyFile, cert1 := writeCert(t, dir, "sip", "astreinte-first")
	tlsPort := freeTCPPort(t)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	svc := startAstreinte(t, map[string]any{"sip": map[string]any{"tls": map[string]any{
		"listen": tlsAddr, "cert_file": certFile, "key_file": keyFile,
	}}})
	if cn, err := servedCert(t, tlsAddr, cert1); err != nil || cn != "astreinte-first" {
		t.Fatalf("TLS listener serves %q (err %v), want the certificate astreinte-first", cn, err)
	}

	rec := svc.watchRecording()
	callOverTLS(t, svc, tlsPort, cert1, rec)
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0633333333", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "caller")
	checkRecordingPattern(t, tk, 2)

	// Renewal: new files, SIGHUP.
	_, _, cert2 := writeCert(t, dir, "sip", "astreinte-renewed")
	if err := svc.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !svc.waitLog("sip tls certificate reloaded", 10*time.Second) {
		t.Fatalf("no reload logged after SIGHUP:\n%s", tail(svc.log(), 20))
	}
	if cn, err := servedCert(t, tlsAddr, cert2); err != nil || cn != "astreinte-renewed" {
		t.Errorf("after SIGHUP the TLS listener serves %q (err %v), want astreinte-renewed", cn, err)
	}
	if !svc.p.running() {
		t.Fatal("astreinte stopped on SIGHUP")
	}

	// A broken renewal keeps the certificate in use.
	writeFile(t, keyFile, []byte("not a key"))
	if err := svc.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !svc.waitLog("tls certificate not reloaded, keeping the current one", 10*time.Second) {
		t.Errorf("a bad key file on SIGHUP was not reported:\n%s", tail(svc.log(), 20))
	}
	if cn, err := servedCert(t, tlsAddr, cert2); err != nil || cn != "astreinte-renewed" {
		t.Errorf("after a failed reload the TLS listener serves %q (err %v), want astreinte-renewed still", cn, err)
	}
}

// callOverTLS places one call to the support line over TLS with a sipgo
// user agent trusting only ca: silence until astreinte starts recording,
// then the tone pattern three times, then the caller hangs up.
func callOverTLS(t *testing.T, svc *service, tlsPort int, ca *x509.Certificate, rec *recordingWatch) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("e2e-tls-caller"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	media, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	go func() { // drain what astreinte sends
		buf := make([]byte, 1500)
		for {
			if _, _, err := media.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	port := media.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n", port)

	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "0633333333", Host: "127.0.0.1", Port: tlsPort + 1,
		UriParams: sip.HeaderParams{{K: "transport", V: "tls"}}}}
	dialogs := sipgo.NewDialogClientCache(client, contact)
	to := sip.Uri{Scheme: "sip", User: "support", Host: "127.0.0.1", Port: tlsPort, UriParams: sip.HeaderParams{{K: "transport", V: "tls"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	from := &sip.FromHeader{DisplayName: "TLS caller", Address: sip.Uri{Scheme: "sip", User: "0633333333", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	sess, err := dialogs.Invite(ctx, to, []byte(sdp), from, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatalf("INVITE over TLS: %v", err)
	}
	defer sess.Close()
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("no answer over TLS: %v", err)
	}
	if tp := sess.InviteResponse.Transport(); !strings.EqualFold(tp, "TLS") {
		t.Errorf("200 OK came over %s, want TLS", tp)
	}
	if c := sess.InviteResponse.Contact(); c == nil || c.Address.UriParams.GetOr("transport", "") != "tls" || c.Address.Port != tlsPort {
		t.Errorf("astreinte's Contact %v: want its TLS port %d with transport=tls", sess.InviteResponse.Contact(), tlsPort)
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	remote := sdpAudioAddr(t, sess.InviteResponse.Body())

	// RTP: silence until the recording starts, then the pattern.
	silence := make([]int16, samplesIn(20*time.Millisecond))
	talk := callerAudio(300*time.Millisecond, 3, time.Second)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0x5eed, SequenceNumber: 1}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(90 * time.Second)
	sent := 0
	for sent < len(talk) {
		<-tick.C
		if time.Now().After(deadline) {
			t.Fatal("astreinte did not start recording within 90s")
		}
		frame := silence
		if !rec.started().IsZero() {
			frame = talk[sent:min(sent+len(silence), len(talk))]
			sent += len(frame)
		}
		pkt.Payload = encodeG711(frame, false)
		b, _ := pkt.Marshal()
		if _, err := media.WriteTo(b, remote); err != nil {
			t.Fatal(err)
		}
		pkt.SequenceNumber++
		pkt.Timestamp += uint32(len(frame))
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("BYE over TLS: %v", err)
	}
	svc.waitCalls(30*time.Second, allEnded(1))
	waitTickets(t, svc, 1, 30*time.Second)
}

// waitTickets waits until there are n tickets.
func waitTickets(t *testing.T, svc *service, n int, d time.Duration) {
	t.Helper()
	if _, ok := poll(d, func() int { return len(svc.tickets()) }, func(k int) bool { return k >= n }); !ok {
		t.Fatalf("fewer than %d ticket(s) after %s", n, d)
	}
}

// sdpAudioAddr reads c= and m=audio from an SDP body.
func sdpAudioAddr(t *testing.T, body []byte) *net.UDPAddr {
	t.Helper()
	var ip net.IP
	port := 0
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "c=IN IP4 "); ok {
			ip = net.ParseIP(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip == nil || port == 0 {
		t.Fatalf("no audio address in the answer:\n%s", body)
	}
	return &net.UDPAddr{IP: ip, Port: port}
}
