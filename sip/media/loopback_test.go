package media

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// listenLoopback opens a UDP socket on 127.0.0.1 with an OS-chosen port.
func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func nextKey(t *testing.T, s *Session) rune {
	t.Helper()
	select {
	case r := <-s.DTMF():
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no key press within 5s")
		return 0
	}
}

// TestLoopback runs the full receive path over real sockets: shuffled,
// duplicated and missing packets, a late one, a foreign source, garbage, an
// SSRC change and a key press in the middle of the audio.
func TestLoopback(t *testing.T) {
	local, caller, stranger := listenLoopback(t), listenLoopback(t), listenLoopback(t)
	s, err := NewSession(Config{Conn: local, Remote: addrOf(caller), Codec: PCMU, DTMFPayloadType: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rec recorder
	s.SetRecorder(&rec)

	const ssrcA, ssrcB = 0xA0A0A0A0, 0xB0B0B0B0
	var tsA uint32 = 4294967000                        // wraps during the call
	code := func(k int) byte { return byte(0x20 + k) } // frame k is 160 samples of one level
	audioA := func(k int) []byte {
		return pkt(0, k == 0, uint16(65530+k), tsA+uint32(k*FrameSamples), ssrcA, frameOf(code(k)))
	}
	audioB := func(k int) []byte { // another SSRC, unrelated sequence and timestamps
		return pkt(0, k == 20, uint16(k*7), 777+uint32(k*FrameSamples), ssrcB, frameOf(code(k)))
	}
	dtmf := func(ts uint32, ev uint8, end bool, d uint16) []byte {
		return pkt(101, false, 0, ts, ssrcA, event(ev, end, d)) // never a marker
	}
	keyTS := tsA + uint32(12*FrameSamples)

	type send struct {
		from *net.UDPConn
		b    []byte
	}
	var sends []send
	add := func(from *net.UDPConn, bs ...[]byte) {
		for _, b := range bs {
			sends = append(sends, send{from, b})
		}
	}
	add(caller, audioA(0), audioA(1), audioA(2), audioA(4), audioA(3)) // reordered
	add(caller, audioA(5), audioA(5))                                  // duplicate
	add(caller, audioA(6), audioA(7), audioA(9))                       // 8 is lost
	add(stranger, audioA(10))                                          // foreign
	add(caller, []byte("not rtp at all"), pkt(96, false, 1, 1, ssrcA, []byte{1, 2, 3}))
	add(caller, audioA(10), audioA(11), audioA(12))
	add(caller, dtmf(keyTS, 5, false, 0), dtmf(keyTS, 5, false, 160))
	add(caller, audioA(13), dtmf(keyTS, 5, false, 320), audioA(14))
	add(caller, dtmf(keyTS, 5, true, 480), dtmf(keyTS, 5, true, 480), dtmf(keyTS, 5, true, 480))
	for k := 15; k < 20; k++ {
		add(caller, audioA(k))
	}
	add(caller, audioA(1)) // long flushed: late
	for k := 20; k < 30; k++ {
		add(caller, audioB(k))
	}
	add(caller, dtmf(keyTS+10000, 11, false, 0)) // '#', last: when it is seen, all was read
	for _, sd := range sends {
		if _, err := sd.from.WriteToUDPAddrPort(sd.b, s.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	if k1, k2 := nextKey(t, s), nextKey(t, s); k1 != '5' || k2 != '#' {
		t.Fatalf("keys %q %q, want '5' '#'", k1, k2)
	}
	s.SetRecorder(nil)

	var want []int16
	for k := range 30 {
		level := UlawDecode(code(k))
		if k == 8 {
			level = 0
		}
		want = append(want, frames(level)...)
	}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Errorf("recorded %v\nwant %v", runs(got), runs(want))
	}
	wantStats := Stats{
		PacketsReceived: uint64(len(sends)) - 3, // the foreign one and two bad ones
		Duplicates:      1, Reordered: 1, Late: 1, LostPackets: 1, SilenceSamples: FrameSamples,
		SSRCChanges: 1, ForeignSource: 1, BadPackets: 2, DTMFEvents: 2,
	}
	got := s.Stats()
	got.PacketsSent, got.SendErrors = 0, 0 // checked below
	if got != wantStats {
		t.Errorf("stats\n%+v\nwant\n%+v", got, wantStats)
	}

	// The writer sends to the latched source; a prompt starts with a marker.
	if err := s.Play(t.Context(), tone(2*FrameSamples, 2000)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	var p rtp.Packet
	caller.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, from, err := caller.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no prompt received by the caller: %v", err)
		}
		if err := p.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if from != s.LocalAddr() || p.PayloadType != 0 || len(p.Payload) != FrameSamples {
			t.Fatalf("packet from %s pt %d len %d", from, p.PayloadType, len(p.Payload))
		}
		if !bytes.Equal(p.Payload, frameOf(0xFF)) {
			if !p.Marker || p.Payload[0] != UlawEncode(2000) {
				t.Errorf("first prompt packet: marker %v payload %#x", p.Marker, p.Payload[0])
			}
			break
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.PacketsSent < 2 || st.SendErrors != 0 {
		t.Errorf("sent %d packets, %d errors", st.PacketsSent, st.SendErrors)
	}
}

// TestLoopbackMediaTimeout checks the read deadline of a real socket: the
// caller stops sending, the media times out and its audio is all recorded.
func TestLoopbackMediaTimeout(t *testing.T) {
	local, caller := listenLoopback(t), listenLoopback(t)
	s, err := NewSession(Config{Conn: local, Remote: addrOf(caller), Codec: PCMA, MediaTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rec recorder
	s.SetRecorder(&rec)
	for k := range 3 {
		caller.WriteToUDPAddrPort(pkt(8, false, uint16(k), uint32(k*FrameSamples), 1, frameOf(0x33)), s.LocalAddr())
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no media timeout")
	}
	if !errors.Is(s.Err(), ErrMediaTimeout) {
		t.Errorf("Err() = %v, want ErrMediaTimeout", s.Err())
	}
	if got, want := rec.get(), tone(3*FrameSamples, AlawDecode(0x33)); !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v", runs(got), runs(want))
	}
}
