package e2e

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// capture is a tshark capture on lo, started before a call and stopped
// after it: SIPp does not keep what it hears, so this is the caller's ear.
type capture struct {
	p    *proc
	path string
}

// startCapture captures the UDP packets matching filter (a BPF expression)
// into a pcap file, returning once tshark is capturing.
func startCapture(t testing.TB, filter string) *capture {
	t.Helper()
	requirePeer(t, "tshark")
	dir := testDir(t)
	path := filepath.Join(dir, "caller.pcap")
	c := &capture{path: path}
	// -F pcap: the classic format, simple to read here. -a duration: a
	// bound in case the test forgets to stop it.
	c.p = startProc(t, 10*time.Minute, dir, "tshark", syscall.SIGINT, "tshark",
		"-i", "lo", "-f", filter, "-F", "pcap", "-w", path, "-a", "duration:600", "-q")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(c.p.output(), "Capturing on") {
			// dumpcap reports before its first read; give it a moment.
			time.Sleep(200 * time.Millisecond)
			return c
		}
		if !c.p.running() {
			t.Fatalf("tshark exited with status %d:\n%s", c.p.exitCode(), c.p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tshark not capturing within 20s:\n%s", c.p.output())
	return nil
}

// stop ends the capture and returns the RTP packets in it.
func (c *capture) stop(t testing.TB) []rtpPacket {
	t.Helper()
	c.p.stop(syscall.SIGINT, 10*time.Second)
	pkts, err := readPcapRTP(c.path)
	if err != nil {
		t.Fatalf("capture: %v\ntshark said:\n%s", err, c.p.output())
	}
	return pkts
}

// rtpPacket is one RTP packet seen on the wire.
type rtpPacket struct {
	at      time.Time
	src     netip.AddrPort
	dst     netip.AddrPort
	pt      uint8
	marker  bool
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

// Link types readPcapRTP knows.
const (
	linkNull     = 0   // BSD loopback
	linkEthernet = 1   // what tshark gives on lo
	linkRaw      = 101 // raw IP
	linkLinuxSLL = 113 // Linux cooked
)

// readPcapRTP reads a classic pcap file (µs or ns timestamps, either byte
// order) and returns the UDP packets over IPv4 that look like RTP version 2.
func readPcapRTP(path string) ([]rtpPacket, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: %d bytes, no pcap header", path, len(b))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	nano := false
	switch binary.LittleEndian.Uint32(b[0:4]) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%s: not a classic pcap file (pcapng?)", path)
	}
	link := bo.Uint32(b[20:24]) & 0x0FFFFFFF
	var out []rtpPacket
	for off := 24; off+16 <= len(b); {
		sec := bo.Uint32(b[off:])
		frac := bo.Uint32(b[off+4:])
		capLen := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+capLen > len(b) {
			break // cut short by the stop
		}
		frame := b[off : off+capLen]
		off += capLen
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		at := time.Unix(int64(sec), ns)
		ip, ok := ipPayload(link, frame)
		if !ok {
			continue
		}
		if p, ok := parseIPv4UDPRTP(ip); ok {
			p.at = at
			out = append(out, p)
		}
	}
	return out, nil
}

// ipPayload strips the link-layer header and returns an IPv4 packet.
func ipPayload(link uint32, f []byte) ([]byte, bool) {
	switch link {
	case linkEthernet:
		if len(f) < 14 {
			return nil, false
		}
		etype := binary.BigEndian.Uint16(f[12:14])
		f = f[14:]
		if etype == 0x8100 && len(f) >= 4 { // VLAN tag
			etype = binary.BigEndian.Uint16(f[2:4])
			f = f[4:]
		}
		return f, etype == 0x0800
	case linkLinuxSLL:
		if len(f) < 16 {
			return nil, false
		}
		return f[16:], binary.BigEndian.Uint16(f[14:16]) == 0x0800
	case linkNull:
		if len(f) < 4 {
			return nil, false
		}
		return f[4:], true
	case linkRaw:
		return f, true
	}
	return nil, false
}

func parseIPv4UDPRTP(ip []byte) (rtpPacket, bool) {
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
		return rtpPacket{}, false
	}
	ihl := int(ip[0]&0x0F) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if total < len(ip) && total >= ihl {
		ip = ip[:total]
	}
	if len(ip) < ihl+8 {
		return rtpPacket{}, false
	}
	src, _ := netip.AddrFromSlice(ip[12:16])
	dst, _ := netip.AddrFromSlice(ip[16:20])
	udp := ip[ihl:]
	sport := binary.BigEndian.Uint16(udp[0:2])
	dport := binary.BigEndian.Uint16(udp[2:4])
	r := udp[8:]
	if len(r) < 12 || r[0]>>6 != 2 {
		return rtpPacket{}, false
	}
	cc := int(r[0] & 0x0F)
	hdr := 12 + 4*cc
	if r[0]&0x10 != 0 { // header extension
		if len(r) < hdr+4 {
			return rtpPacket{}, false
		}
		hdr += 4 + 4*int(binary.BigEndian.Uint16(r[hdr+2:hdr+4]))
	}
	if len(r) < hdr {
		return rtpPacket{}, false
	}
	payload := r[hdr:]
	if r[0]&0x20 != 0 && len(payload) > 0 { // padding
		pad := int(payload[len(payload)-1])
		if pad <= len(payload) {
			payload = payload[:len(payload)-pad]
		}
	}
	return rtpPacket{
		src:     netip.AddrPortFrom(src, sport),
		dst:     netip.AddrPortFrom(dst, dport),
		pt:      r[1] & 0x7F,
		marker:  r[1]&0x80 != 0,
		seq:     binary.BigEndian.Uint16(r[2:4]),
		ts:      binary.BigEndian.Uint32(r[4:8]),
		ssrc:    binary.BigEndian.Uint32(r[8:12]),
		payload: payload,
	}, true
}

// heardAudio rebuilds what the receiver of pkts heard: G.711 payloads
// (types 0 and 8) decoded and placed by RTP timestamp, gaps as silence (at
// most 2 s per gap). A new SSRC is appended after the previous one.
func heardAudio(pkts []rtpPacket) []int16 {
	var out []int16
	var base uint32
	var ssrc uint32
	var offset int // where the current SSRC's timestamp base lands in out
	first := true
	for _, p := range pkts {
		if p.pt != 0 && p.pt != 8 {
			continue
		}
		if first || p.ssrc != ssrc {
			first, ssrc, base, offset = false, p.ssrc, p.ts, len(out)
		}
		pos := offset + int(int32(p.ts-base))
		if pos < 0 || pos > len(out)+2*sampleRate {
			// Out of order by a lot or a jump: append.
			pos = len(out)
			base, offset = p.ts, pos
		}
		need := pos + len(p.payload)
		if need > len(out) {
			out = append(out, make([]int16, need-len(out))...)
		}
		for i, c := range p.payload {
			if p.pt == 8 {
				out[pos+i] = alawToLinear(c)
			} else {
				out[pos+i] = ulawToLinear(c)
			}
		}
	}
	return out
}

// pacing is the inter-packet gaps of the audio packets of one stream.
type pacing struct {
	packets                int
	median, p95, max, mean time.Duration
}

func measurePacing(pkts []rtpPacket) pacing {
	var gaps []time.Duration
	var last time.Time
	n := 0
	for _, p := range pkts {
		if p.pt != 0 && p.pt != 8 {
			continue
		}
		if n > 0 {
			gaps = append(gaps, p.at.Sub(last))
		}
		last = p.at
		n++
	}
	if len(gaps) == 0 {
		return pacing{packets: n}
	}
	var sum time.Duration
	for _, g := range gaps {
		sum += g
	}
	slices.Sort(gaps)
	return pacing{
		packets: n,
		median:  gaps[len(gaps)/2],
		p95:     gaps[len(gaps)*95/100],
		max:     gaps[len(gaps)-1],
		mean:    sum / time.Duration(len(gaps)),
	}
}

// playbackLag is how far astreinte's sending fell behind real time: the
// largest (capture time since the first packet) − (RTP time since the
// first packet), over the audio packets of the first SSRC. Its writer paces
// with a ticker and drops the ticks it misses, so on a starved host its
// prompts stretch; a lag of seconds means the host, not the product, set
// the timing.
func playbackLag(pkts []rtpPacket) time.Duration {
	var lag time.Duration
	var first *rtpPacket
	for i := range pkts {
		p := &pkts[i]
		if p.pt != 0 && p.pt != 8 {
			continue
		}
		if first == nil {
			first = p
		}
		if p.ssrc != first.ssrc {
			continue
		}
		rtpTime := time.Duration(int64(int32(p.ts-first.ts))) * time.Second / sampleRate
		lag = max(lag, p.at.Sub(first.at)-rtpTime)
	}
	return lag
}
