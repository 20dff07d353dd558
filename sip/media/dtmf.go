package media

import "encoding/binary"

// RFC 4733 telephone events. A key press is one event, identified by the
// SSRC and RTP timestamp of its packets: the sender repeats the packet with a
// growing duration while the key is down and sends the end packet three
// times. The press is reported once, on the first packet seen, whatever it
// is (the marker bit is not required, and a press whose start packets were
// lost is still reported from its end packets).

// dtmfEvent is the payload of an RFC 4733 event packet (section 2.3).
type dtmfEvent struct {
	Event    uint8  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', others ignored
	End      bool   // E bit: the event has ended
	Volume   uint8  // power level in -dBm0, 0-63
	Duration uint16 // in timestamp units since the event's RTP timestamp
}

// parseDTMF reads the first event of an RFC 4733 payload. Further events in
// the same packet (section 2.5.1.5) describe earlier presses and are ignored.
func parseDTMF(p []byte) (dtmfEvent, bool) {
	if len(p) < 4 {
		return dtmfEvent{}, false
	}
	return dtmfEvent{
		Event:    p[0],
		End:      p[1]&0x80 != 0,
		Volume:   p[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(p[2:4]),
	}, true
}

const dtmfKeys = "0123456789*#ABCD"

// eventKey maps an RFC 4733 event code to its key.
func eventKey(e uint8) (rune, bool) {
	if int(e) >= len(dtmfKeys) {
		return 0, false
	}
	return rune(dtmfKeys[e]), true
}

// validKey reports whether r is one of the sixteen DTMF keys.
func validKey(r rune) bool {
	for _, k := range dtmfKeys {
		if r == k {
			return true
		}
	}
	return false
}

type dtmfKey struct{ ssrc, ts uint32 }

// dtmfDetector turns event packets into key presses, once per press.
type dtmfDetector struct {
	seen  [8]dtmfKey // presses seen recently, so that stragglers are not reported again
	nseen int
	next  int

	// The latest press, to recognise the next segment of a long one.
	last      dtmfKey
	lastEvent uint8
	lastEnded bool
}

// observe takes one event packet and returns the key when it starts a press.
func (d *dtmfDetector) observe(ssrc, ts uint32, ev dtmfEvent) (rune, bool) {
	r, ok := eventKey(ev.Event)
	if !ok {
		return 0, false
	}
	k := dtmfKey{ssrc, ts}
	if d.has(k) {
		if k == d.last && ev.End {
			d.lastEnded = true
		}
		return 0, false
	}
	d.add(k)
	// An event longer than 0xFFFF timestamp units goes on in a new segment
	// stamped where the previous one reached its maximum (section 2.5.1.3).
	long := d.nseen > 1 && ssrc == d.last.ssrc && ev.Event == d.lastEvent &&
		!d.lastEnded && ts == d.last.ts+0xFFFF
	d.last, d.lastEvent, d.lastEnded = k, ev.Event, ev.End
	return r, !long
}

func (d *dtmfDetector) has(k dtmfKey) bool {
	for _, s := range d.seen[:d.nseen] {
		if s == k {
			return true
		}
	}
	return false
}

func (d *dtmfDetector) add(k dtmfKey) {
	d.seen[d.next] = k
	d.next = (d.next + 1) % len(d.seen)
	d.nseen = min(d.nseen+1, len(d.seen))
}
