package main

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// rtpStream is what the receiver saw of one RTP stream.
type rtpStream struct {
	packets  int
	lost     int // sequence numbers skipped
	lastAt   time.Time
	lastTS   uint32
	lastSeq  uint16
	jitter   float64 // RFC 3550 interarrival jitter, in timestamp units
	maxJit   float64
	gaps     []time.Duration
	clockHz  float64
	prevSeen bool
}

// rtpTiming is the summary over every stream of a capture.
type rtpTiming struct {
	streams, packets, lost int
	gapP50, gapP99, gapMax time.Duration
	// Jitter in milliseconds: median and worst over the streams of the
	// final RFC 3550 estimate, and the worst running value seen.
	jitP50, jitMax, jitPeak float64
}

// analyzeRTP groups the datagrams into streams (source port, destination
// port, SSRC) and measures interarrival gaps and RFC 3550 jitter. Streams
// with fewer than minPackets packets (cut by the capture window) are left
// out.
func analyzeRTP(ds []datagram, minPackets int) rtpTiming {
	type key struct {
		src, dst uint16
		ssrc     uint32
	}
	streams := map[key]*rtpStream{}
	for _, d := range ds {
		p := d.payload
		if len(p) < 12 || p[0]>>6 != 2 {
			continue
		}
		pt := p[1] & 0x7f
		if pt >= 72 && pt <= 76 { // RTCP
			continue
		}
		k := key{d.srcPort, d.dstPort, binary.BigEndian.Uint32(p[8:])}
		s := streams[k]
		if s == nil {
			s = &rtpStream{clockHz: 8000}
			streams[k] = s
		}
		seq := binary.BigEndian.Uint16(p[2:])
		ts := binary.BigEndian.Uint32(p[4:])
		if s.prevSeen {
			gap := d.at.Sub(s.lastAt)
			s.gaps = append(s.gaps, gap)
			if skipped := int(seq-s.lastSeq) - 1; skipped > 0 && skipped < 1000 {
				s.lost += skipped
			}
			// D(i,j) = (Rj - Ri) - (Sj - Si), in timestamp units.
			dr := gap.Seconds() * s.clockHz
			dsTS := float64(int32(ts - s.lastTS))
			dd := dr - dsTS
			if dd < 0 {
				dd = -dd
			}
			s.jitter += (dd - s.jitter) / 16
			s.maxJit = max(s.maxJit, s.jitter)
		}
		s.prevSeen = true
		s.lastAt, s.lastTS, s.lastSeq = d.at, ts, seq
		s.packets++
	}
	var res rtpTiming
	var gaps []time.Duration
	var finals []float64
	for _, s := range streams {
		if s.packets < minPackets {
			continue
		}
		res.streams++
		res.packets += s.packets
		res.lost += s.lost
		gaps = append(gaps, s.gaps...)
		finals = append(finals, s.jitter/s.clockHz*1000)
		res.jitPeak = max(res.jitPeak, s.maxJit/s.clockHz*1000)
	}
	if len(gaps) == 0 {
		return res
	}
	slices.Sort(gaps)
	slices.Sort(finals)
	res.gapP50 = pct(gaps, 0.50)
	res.gapP99 = pct(gaps, 0.99)
	res.gapMax = gaps[len(gaps)-1]
	res.jitP50 = finals[len(finals)/2]
	res.jitMax = finals[len(finals)-1]
	return res
}

// pct returns the p-quantile (nearest rank) of sorted values.
func pct[T any](sorted []T, p float64) T {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
