package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSRTPCall_Baresip: a line that requires SRTP, called by baresip with
// mediaenc=srtp-mand over UDP. The call is answered with SDES keys, the
// caller hears the whole closed greeting and the later prompts through
// SRTP, its key press (RFC 4733 inside SRTP) is understood, and its audio is
// recorded into the ticket's message. A baresip without SRTP is refused.
func TestSRTPCall_Baresip(t *testing.T) {
	t.Parallel()
	requirePeer(t, "baresip")
	svc := startAstreinte(t, map[string]any{"line": map[string]any{"srtp": "required"}})
	rec := svc.watchRecording()

	// A caller without SRTP gets 488 from this line.
	plainMic := filepath.Join(testDir(t), "plain.wav")
	if err := writeWAV(plainMic, callerAudio(time.Second, 40, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	plain := startBaresip(t, "plain", plainMic)
	if err := plain.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	closed, ok := plain.waitEvent("CALL_CLOSED", 15*time.Second)
	if !ok || !strings.Contains(closed.Param, "488") {
		t.Fatalf("plain RTP call to an SRTP-only line: closed %v %q, want 488", ok, closed.Param)
	}
	plain.quit()

	// Once the greeting is heard, 1 (urgent) cuts the rest short: the beep.
	keyAt := promptLen(t, "fr", "greeting_closed") + 500*time.Millisecond
	mic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(mic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	b := startBaresip(t, "caller", mic, "mediaenc=srtp-mand")
	if err := b.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	ev, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	if !ok {
		t.Fatal("SRTP call not established within 15s")
	}
	recAt, end := b.urgentMessage(t, rec, keyAt)
	t.Logf("SRTP call: recording started %.1fs after the answer, closed %.1fs after it: %s",
		recAt.Sub(ev.at).Seconds(), end.at.Sub(ev.at).Seconds(), end.Param)
	b.quit()

	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", Line: "support", CallerNumber: "caller", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 1)
	checkHeardAll(t, b.heard(), "fr", "greeting_closed", "saved_ticket")
}

// TestTLSAndSRTPCall_Baresip: baresip calls over SIP/TLS (verifying
// astreinte's certificate) with mediaenc=srtp-mand, to a line that requires
// SRTP: signalling and media both encrypted, the call is answered, the
// caller hears the greeting, and what it says becomes the ticket's message.
// Only the TLS listener is dialled, and the line answers a plain offer with
// 488: an established call is a TLS call with SRTP.
func TestTLSAndSRTPCall_Baresip(t *testing.T) {
	t.Parallel()
	requirePeer(t, "baresip")
	dir := testDir(t)
	certFile, keyFile, _ := writeCert(t, dir, "sip", "astreinte-tls-srtp")
	tlsPort := freeTCPPort(t)
	svc := startAstreinte(t, map[string]any{
		"line": map[string]any{"srtp": "required"},
		"sip": map[string]any{"tls": map[string]any{
			"listen": fmt.Sprintf("127.0.0.1:%d", tlsPort), "cert_file": certFile, "key_file": keyFile,
		}},
	})
	rec := svc.watchRecording()
	keyAt := promptLen(t, "fr", "greeting_closed") + 500*time.Millisecond
	mic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(mic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	b := startBaresipConfig(t, "tlscaller", mic, []string{"sip_cafile " + certFile}, "mediaenc=srtp-mand")
	if err := b.command("dial", fmt.Sprintf("sip:support@127.0.0.1:%d;transport=tls", tlsPort)); err != nil {
		t.Fatalf("dial: %v", err)
	}
	ev, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	if !ok {
		t.Fatalf("TLS+SRTP call not established within 15s:\n%s", tail(svc.log(), 30))
	}
	recAt, _ := b.urgentMessage(t, rec, keyAt)
	t.Logf("TLS+SRTP call: beep %.1fs after the answer", recAt.Sub(ev.at).Seconds())
	b.quit()
	tk, call := oneTicket(t, svc)
	checkTicket(t, tk, ticketRow{Urgency: "urgent", Status: "new", Line: "support", CallerNumber: "tlscaller", Case: "out_of_hours"})
	checkCall(t, call, "voicemail", "us")
	checkRecordingPattern(t, tk, 1)
	checkHeardAll(t, b.heard(), "fr", "greeting_closed")
}
