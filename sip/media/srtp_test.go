package media

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

func mustKey(testing.TB) []byte { return NewSRTPKey() }

// srtpPeer is the far end of an SRTP call, made with pion/srtp directly:
// it encrypts with its own key and decrypts with ours.
type srtpPeer struct{ tx, rx *srtp.Context }

func newSRTPPeer(t testing.TB, own, ours []byte) srtpPeer {
	t.Helper()
	const p = srtp.ProtectionProfileAes128CmHmacSha1_80
	tx, err := srtp.CreateContext(own[:16], own[16:], p)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := srtp.CreateContext(ours[:16], ours[16:], p)
	if err != nil {
		t.Fatal(err)
	}
	return srtpPeer{tx, rx}
}

func (p srtpPeer) seal(t testing.TB, plain []byte) []byte {
	t.Helper()
	b, err := p.tx.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSRTPLoopback: a call whose peer speaks SRTP (pion/srtp) over real
// sockets. Its audio is authenticated, decrypted and recorded; packets with
// another key, tampered or in clear are dropped and counted; what the
// session sends decrypts with its key into the prompt, in sequence.
func TestSRTPLoopback(t *testing.T) {
	ours, theirs := mustKey(t), mustKey(t)
	local, caller := listenLoopback(t), listenLoopback(t)
	s, err := NewSession(Config{Conn: local, Remote: addrOf(caller), Codec: PCMA,
		SRTP: &SRTPKeys{Local: ours, Remote: theirs}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rec recorder
	s.SetRecorder(&rec)
	peer := newSRTPPeer(t, theirs, ours)
	stranger := newSRTPPeer(t, mustKey(t), ours)

	const frames = 25
	for k := range frames {
		p := pkt(8, k == 0, uint16(65530+k), uint32(k*FrameSamples), 0x5E5E, frameOf(byte(0x20+k)))
		if _, err := caller.WriteToUDPAddrPort(peer.seal(t, p), s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		switch k {
		case 5: // the same frame under another key
			caller.WriteToUDPAddrPort(stranger.seal(t, p), s.LocalAddr())
		case 6: // in clear
			caller.WriteToUDPAddrPort(p, s.LocalAddr())
		case 7: // tampered payload
			b := peer.seal(t, pkt(8, false, 999, 999, 0x5E5E, frameOf(0x7F)))
			b[20] ^= 1
			caller.WriteToUDPAddrPort(b, s.LocalAddr())
		}
		time.Sleep(frameDuration)
	}
	if err := s.Play(t.Context(), tone(3*FrameSamples, 2000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var want []int16
	for k := range frames {
		want = append(want, tone(FrameSamples, AlawDecode(byte(0x20+k)))...)
	}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v", runs(got), runs(want))
	}
	if st := s.Stats(); st.SRTPFailed != 3 || st.PacketsReceived != frames || st.LostPackets != 0 {
		t.Errorf("stats %+v: want %d received, 3 SRTP failures", st, frames)
	}

	// What the session sent: every packet authenticates with our key.
	caller.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	var got []rtp.Packet
	for {
		n, err := caller.Read(buf)
		if err != nil {
			break
		}
		plain, err := peer.rx.DecryptRTP(nil, buf[:n], nil)
		if err != nil {
			t.Fatalf("packet %d from the session: %v", len(got), err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(plain); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	prompt := 0
	for i, p := range got {
		if i > 0 && p.SequenceNumber != got[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, p.SequenceNumber, got[i-1].SequenceNumber)
		}
		if p.PayloadType != 8 || len(p.Payload) != FrameSamples {
			t.Errorf("packet %d: type %d, %d bytes", i, p.PayloadType, len(p.Payload))
		}
		if p.Payload[0] == AlawEncode(2000) {
			prompt++
		}
	}
	if prompt != 3 || len(got) < frames {
		t.Errorf("%d packets received from the session, %d of the prompt; want >= %d and 3", len(got), prompt, frames)
	}
}

func TestSRTPKeysChecked(t *testing.T) {
	for _, k := range []*SRTPKeys{{Local: make([]byte, 16), Remote: make([]byte, 30)}, {Local: make([]byte, 30)}} {
		if _, err := newSession(Config{Codec: PCMU, SRTP: k}, newFakeConn()); !errors.Is(err, errSRTPKey) {
			t.Errorf("keys of %d and %d bytes: %v, want errSRTPKey", len(k.Local), len(k.Remote), err)
		}
	}
}

// BenchmarkSendSRTP: one pacer tick with a prompt frame, encrypted.
func BenchmarkSendSRTP(b *testing.B) {
	s, _ := benchSession(b, Config{Codec: PCMU, Remote: peer, SRTP: &SRTPKeys{Local: mustKey(b), Remote: mustKey(b)}})
	r := &playRequest{ctx: b.Context(), pcm: tone(SampleRate, 1234)}
	b.ReportAllocs()
	for b.Loop() {
		if s.tick(r) {
			r.off = 0
		}
	}
	if st := s.Stats(); st.PacketsSent == 0 || st.SendErrors != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkReceiveSRTP: authenticate and decrypt in place, then the plain
// receive path to the recorder.
func BenchmarkReceiveSRTP(b *testing.B) {
	ours, theirs := mustKey(b), mustKey(b)
	s, _ := benchSession(b, Config{Codec: PCMU, Remote: peer, SRTP: &SRTPKeys{Local: ours, Remote: theirs}})
	s.SetRecorder(&discardRecorder{})
	p := newSRTPPeer(b, theirs, ours)
	// Packets sealed ahead (decryption works in place, so each is copied
	// into the read buffer first, as the receive pass reads it).
	const n = 1024
	sealed := make([][]byte, n)
	for i := range n {
		plain := pkt(0, false, uint16(i), uint32(i*FrameSamples), 42, frameOf(0x35))
		sealed[i] = p.seal(b, plain)
	}
	buf := make([]byte, 2048)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % n
		if k == 0 && i > 0 {
			// A new round of the same packets: a new SSRC keeps the
			// recording and the rollover counter consistent.
			b.StopTimer()
			ssrc := uint32(i / n)
			for j := range n {
				sealed[j] = p.seal(b, pkt(0, false, uint16(j), uint32(j*FrameSamples), 42+ssrc, frameOf(0x35)))
			}
			b.StartTimer()
		}
		m := copy(buf, sealed[k])
		s.receive(buf[:m], peer)
	}
	if st := s.Stats(); st.PacketsReceived == 0 || st.SRTPFailed != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// FuzzReceiveSRTP: arbitrary datagrams on an SRTP session (authentication
// fails for anything not sealed with the peer's key, which the seeds are):
// nothing panics, every datagram is accounted for.
func FuzzReceiveSRTP(f *testing.F) {
	ours, theirs := make([]byte, SRTPKeyLen), make([]byte, SRTPKeyLen)
	theirs[0] = 1
	p := newSRTPPeer(f, theirs, ours)
	f.Add(p.seal(f, pkt(0, true, 1, 160, 7, frameOf(0x12))))
	f.Add(p.seal(f, pkt(101, true, 2, 160, 7, event(5, false, 0))))
	f.Add(pkt(0, false, 3, 320, 7, frameOf(0x34)))
	f.Add([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := newSession(Config{Codec: PCMU, DTMFPayloadType: 101, SRTP: &SRTPKeys{Local: ours, Remote: theirs}}, newFakeConn())
		if err != nil {
			t.Fatal(err)
		}
		s.SetRecorder(&discardRecorder{})
		s.receive(slices.Clone(b), peer)
		s.SetRecorder(nil)
		st := s.Stats()
		if got := st.PacketsReceived + st.BadPackets + st.ForeignSource + st.SRTPFailed + st.ComfortNoise; got != 1 {
			t.Fatalf("1 datagram, %d accounted for: %+v", got, st)
		}
	})
}
