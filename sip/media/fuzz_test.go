package media

import (
	"net/netip"
	"slices"
	"testing"
)

// checkRecorder asserts that every recorded sample is a G.711 level or the
// silence of a gap.
type checkRecorder struct {
	t     *testing.T
	valid map[int16]bool
	n     int
}

func (c *checkRecorder) WriteSamples(s []int16) error {
	c.n += len(s)
	for _, v := range s {
		if !c.valid[v] {
			c.t.Fatalf("recorded sample %d is no µ-law level", v)
		}
	}
	return nil
}

// FuzzReceivePacket feeds arbitrary datagrams to the receive path (RTP
// parsing, latch, decoding, jitter buffer, DTMF): nothing may panic, and the
// recording holds only decodable levels.
func FuzzReceivePacket(f *testing.F) {
	f.Add(pkt(0, true, 1, 160, 7, frameOf(0x12)), pkt(0, false, 2, 320, 7, frameOf(0x34)))
	f.Add(pkt(0, false, 9, 1<<32-80, 7, frameOf(0x12)), pkt(0, false, 3, 8000*3, 7, frameOf(0x34)))
	f.Add(pkt(101, true, 1, 160, 7, event(5, false, 0)), pkt(101, false, 2, 160, 7, event(5, true, 800)))
	f.Add(pkt(0, false, 1, 0, 7, make([]byte, readBufSize+4)), pkt(0, false, 1, 0, 8, nil))                                              // larger than a read
	f.Add([]byte{0x80, 0x00, 0, 1}, []byte{0xBF, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})                                                    // short, CSRC count beyond the end
	f.Add([]byte{0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xFF, 0x00}, []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 9}) // padding, extension
	valid := map[int16]bool{}
	for b := range 256 {
		valid[UlawDecode(byte(b))] = true
	}
	src := netip.MustParseAddrPort("192.0.2.1:4000")
	other := netip.MustParseAddrPort("192.0.2.2:4000")
	f.Fuzz(func(t *testing.T, a, b []byte) {
		s, err := newSession(Config{Codec: PCMU, DTMFPayloadType: 101}, newFakeConn())
		if err != nil {
			t.Fatal(err)
		}
		rec := &checkRecorder{t: t, valid: valid}
		s.SetRecorder(rec)
		s.receive(a, src)
		s.receive(b, src)
		s.receive(a, other)
		s.receive(b, src)
		s.SetRecorder(nil)
		for len(s.DTMF()) > 0 {
			if r := <-s.DTMF(); !validKey(r) {
				t.Fatalf("key %q", r)
			}
		}
		st := s.Stats()
		// Comfort noise (payload type 13) is counted apart: the corpus
		// entry 4ca00d8059238563 found it left out.
		if got := st.PacketsReceived + st.BadPackets + st.ForeignSource + st.ComfortNoise; got != 4 {
			t.Fatalf("4 packets, %d accounted for: %+v", got, st)
		}
	})
}

// FuzzDTMF feeds arbitrary event payloads and timestamps to the RFC 4733
// parser and detector: a press is reported at most once per (SSRC,
// timestamp), and only for the sixteen keys.
func FuzzDTMF(f *testing.F) {
	f.Add([]byte{5, 0x0A, 0, 160}, uint32(7), uint32(1000))
	f.Add([]byte{11, 0x8A, 0xFF, 0xFF, 0, 0, 0, 0}, uint32(0), uint32(0))
	f.Add([]byte{16, 0, 0, 0}, uint32(1), uint32(1<<32-1))
	f.Fuzz(func(t *testing.T, payload []byte, ssrc, ts uint32) {
		e, ok := parseDTMF(payload)
		if ok != (len(payload) >= 4) {
			t.Fatalf("parseDTMF(% x) ok=%v", payload, ok)
		}
		if !ok {
			return
		}
		if e.Event != payload[0] || e.Volume > 63 || e.End != (payload[1]&0x80 != 0) {
			t.Fatalf("parseDTMF(% x) = %+v", payload, e)
		}
		var d dtmfDetector
		r, first := d.observe(ssrc, ts, e)
		if first != (e.Event < 16) || first && !validKey(r) {
			t.Fatalf("event %d: key %q, reported %v", e.Event, r, first)
		}
		// Repeats and end packets of the same press are never reported.
		for _, end := range []bool{false, true, true, true} {
			e.End = end
			if _, again := d.observe(ssrc, ts, e); again {
				t.Fatal("same press reported twice")
			}
		}
		// The remaining bytes drive a sequence of events, checked against a
		// model of the detector's memory: the last 8 presses seen.
		var window []dtmfKey
		last := dtmfKey{ssrc, ts}
		if first {
			window = append(window, last)
		}
		for rest := payload[4:]; len(rest) >= 6; rest = rest[6:] {
			k := dtmfKey{ssrc ^ uint32(rest[5]&1), ts + uint32(rest[4])<<8}
			ev, _ := parseDTMF(rest[:4])
			_, reported := d.observe(k.ssrc, k.ts, ev)
			if ev.Event >= 16 {
				if reported {
					t.Fatalf("event %d reported", ev.Event)
				}
				continue
			}
			known := slices.Contains(window, k)
			if known && reported {
				t.Fatalf("press %+v reported again", k)
			}
			long := k.ssrc == last.ssrc && k.ts == last.ts+0xFFFF
			if !known && !reported && !long {
				t.Fatalf("new press %+v not reported", k)
			}
			if !known {
				window = append(window, k)
				if len(window) > len(d.seen) {
					window = window[1:]
				}
				last = k
			}
		}
	})
}
