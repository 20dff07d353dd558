package media

import (
	"net/netip"
	"testing"
)

func TestParseDTMF(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    dtmfEvent
		ok      bool
	}{
		{"start", []byte{5, 0x0A, 0x00, 0xA0}, dtmfEvent{Event: 5, Volume: 10, Duration: 160}, true},
		{"end", []byte{11, 0x8A, 0x03, 0x20}, dtmfEvent{Event: 11, End: true, Volume: 10, Duration: 800}, true},
		{"reserved bit ignored", []byte{1, 0x7F, 0xFF, 0xFF}, dtmfEvent{Event: 1, Volume: 63, Duration: 0xFFFF}, true},
		{"two events", []byte{1, 0x8A, 0, 160, 2, 0x0A, 0, 80}, dtmfEvent{Event: 1, End: true, Volume: 10, Duration: 160}, true},
		{"short", []byte{1, 2, 3}, dtmfEvent{}, false},
		{"empty", nil, dtmfEvent{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseDTMF(tc.payload)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseDTMF(% x) = %+v, %v; want %+v, %v", tc.payload, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// ev is one event packet for the detector.
type ev struct {
	ssrc  uint32
	ts    uint32
	event uint8
	end   bool
	dur   uint16
}

// press returns the packets of one key press as a sender emits them: a start
// packet, repeats with a growing duration, and the end packet three times.
func press(ssrc, ts uint32, event uint8) []ev {
	out := []ev{{ssrc, ts, event, false, 0}}
	for d := uint16(160); d <= 800; d += 160 {
		out = append(out, ev{ssrc, ts, event, false, d})
	}
	for range 3 {
		out = append(out, ev{ssrc, ts, event, true, 960})
	}
	return out
}

func cat(parts ...[]ev) []ev {
	var out []ev
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDTMFDetector(t *testing.T) {
	const a, b = 0xAAAA, 0xBBBB
	p1, p2 := press(a, 1000, 1), press(a, 3000, 2)
	tests := []struct {
		name string
		in   []ev
		want string
	}{
		{"one press", press(a, 1000, 5), "5"},
		{"same key twice", cat(press(a, 1000, 5), press(a, 3000, 5)), "55"},
		{"two keys", cat(p1, p2), "12"},
		{"start lost", p1[6:], "1"},
		{"only one end packet", p1[8:], "1"},
		{"end of the first after the second started", cat(p1[:7], p2[:3], p1[7:], p2[3:]), "12"},
		{"same timestamp, other ssrc", cat(press(a, 1000, 3), press(b, 1000, 3)), "33"},
		{"flash and other events ignored", cat(press(a, 1000, 16), press(a, 2000, 255)), ""},
		{"every key", func() []ev {
			var out []ev
			for e := range uint8(16) {
				out = append(out, press(a, uint32(e)*2000, e)...)
			}
			return out
		}(), "0123456789*#ABCD"},
		{
			"long press in two segments",
			[]ev{{a, 1000, 7, false, 0}, {a, 1000, 7, false, 0xFFFF}, {a, 1000 + 0xFFFF, 7, false, 160}, {a, 1000 + 0xFFFF, 7, true, 800}},
			"7",
		},
		{
			"same key again after a long press ended",
			[]ev{{a, 1000, 7, false, 0xFFFF}, {a, 1000, 7, true, 0xFFFF}, {a, 1000 + 0xFFFF, 7, false, 160}},
			"77",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d dtmfDetector
			var got []rune
			for _, e := range tc.in {
				if r, ok := d.observe(e.ssrc, e.ts, dtmfEvent{Event: e.event, End: e.end, Volume: 10, Duration: e.dur}); ok {
					got = append(got, r)
				}
			}
			if string(got) != tc.want {
				t.Errorf("keys %q, want %q", string(got), tc.want)
			}
		})
	}
}

// TestDTMFOverRTP feeds event packets through the receive path: the marker
// bit does not matter, audio packets are not keys, DTMF is never recorded.
func TestDTMFOverRTP(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.1:5004")
	tests := []struct {
		name   string
		marker bool
	}{
		{"marker on the first packet", true},
		{"no marker at all", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSession(Config{Codec: PCMA, DTMFPayloadType: 101}, newFakeConn())
			if err != nil {
				t.Fatal(err)
			}
			var rec recorder
			s.SetRecorder(&rec)
			seq := uint16(1)
			send := func(b []byte) { s.receive(b, src); seq++ }
			for i, e := range cat(press(7, 8000, 9), press(7, 16000, 10)) {
				send(pkt(101, tc.marker && (i == 0 || i == 9), seq, e.ts, 7, event(e.event, e.end, e.dur)))
			}
			send(pkt(8, false, seq, 20000, 7, frameOf(0xD5)))  // audio is not a key
			send(pkt(101, false, seq, 24000, 7, []byte{1, 2})) // too short: bad
			var got []rune
			for len(s.DTMF()) > 0 {
				got = append(got, <-s.DTMF())
			}
			if string(got) != "9*" {
				t.Errorf("keys %q, want %q", string(got), "9*")
			}
			s.SetRecorder(nil)
			if n := len(rec.get()); n != FrameSamples {
				t.Errorf("recorded %d samples, want only the audio frame (%d)", n, FrameSamples)
			}
			st := s.Stats()
			if st.DTMFEvents != 2 || st.BadPackets != 1 || st.PacketsReceived != 19 {
				t.Errorf("stats %+v: want 2 DTMF events, 1 bad packet, 19 received", st)
			}
		})
	}
}
