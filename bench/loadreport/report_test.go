package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func rtpPacket(seq uint16, ts, ssrc uint32) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	return p
}

func TestAnalyzeRTP(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var ds []datagram
	// Stream A: a packet every 20 ms exactly: no jitter.
	// Stream B: arrivals alternately 10 and 30 ms apart, timestamps 160
	// apart: |D| = 80 units every packet, so J tends to 80 units = 10 ms.
	// Stream C: 10 packets only, left out.
	at := t0
	for i := range 400 {
		ds = append(ds, datagram{at: t0.Add(time.Duration(i) * 20 * time.Millisecond), srcPort: 1000, dstPort: 2000, payload: rtpPacket(uint16(i), uint32(i*160), 1)})
		step := 10 * time.Millisecond
		if i%2 == 1 {
			step = 30 * time.Millisecond
		}
		if i > 0 {
			at = at.Add(step)
		}
		seq := uint16(i)
		if i >= 200 {
			seq++ // one packet lost
		}
		ds = append(ds, datagram{at: at, srcPort: 1002, dstPort: 2000, payload: rtpPacket(seq, uint32(int(seq)*160), 2)})
	}
	for i := range 10 {
		ds = append(ds, datagram{at: t0.Add(time.Duration(i) * 20 * time.Millisecond), srcPort: 1004, dstPort: 2000, payload: rtpPacket(uint16(i), uint32(i*160), 3)})
	}
	r := analyzeRTP(ds, 50)
	if r.streams != 2 || r.packets != 800 || r.lost != 1 {
		t.Fatalf("streams %d packets %d lost %d; want 2, 800, 1", r.streams, r.packets, r.lost)
	}
	if r.gapMax != 30*time.Millisecond || r.gapP50 != 20*time.Millisecond {
		t.Errorf("gap p50 %v max %v; want 20ms, 30ms", r.gapP50, r.gapMax)
	}
	var onlyA []datagram
	for _, d := range ds {
		if d.srcPort == 1000 {
			onlyA = append(onlyA, d)
		}
	}
	if a := analyzeRTP(onlyA, 50); a.jitMax != 0 || a.jitPeak != 0 || a.gapMax != 20*time.Millisecond {
		t.Errorf("steady stream: jitter %.3f (peak %.3f) ms, worst gap %v; want 0, 0, 20ms", a.jitMax, a.jitPeak, a.gapMax)
	}
	if math.Abs(r.jitMax-10) > 0.5 {
		t.Errorf("worst stream's jitter %.2f ms; want about 10 (the lost packet aside)", r.jitMax)
	}
}

func TestAnalyzeSIP(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	msg := func(first, callID, cseq string) []byte {
		return []byte(first + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5061\r\nCall-ID: " + callID + "\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")
	}
	const port = 5060
	ds := []datagram{
		{at: t0, srcPort: 5061, dstPort: port, payload: msg("INVITE sip:bench@127.0.0.1 SIP/2.0", "a", "1 INVITE")},
		{at: t0.Add(500 * time.Millisecond), srcPort: 5061, dstPort: port, payload: msg("INVITE sip:bench@127.0.0.1 SIP/2.0", "a", "1 INVITE")}, // retransmission
		{at: t0.Add(100 * time.Microsecond), srcPort: port, dstPort: 5061, payload: msg("SIP/2.0 100 Trying", "a", "1 INVITE")},
		{at: t0.Add(time.Millisecond), srcPort: port, dstPort: 5061, payload: msg("SIP/2.0 180 Ringing", "a", "1 INVITE")},
		{at: t0.Add(1500 * time.Microsecond), srcPort: port, dstPort: 5061, payload: msg("SIP/2.0 200 OK", "a", "1 INVITE")},
		{at: t0.Add(10 * time.Millisecond), srcPort: 5061, dstPort: port, payload: msg("INVITE sip:bench@127.0.0.1 SIP/2.0", "b", "1 INVITE")},
		{at: t0.Add(11 * time.Millisecond), srcPort: port, dstPort: 5061, payload: msg("SIP/2.0 200 OK", "b", "2 BYE")}, // not the INVITE's
		{at: t0.Add(12 * time.Millisecond), srcPort: port, dstPort: 5061, payload: []byte("\x80\x00 not SIP")},
	}
	s := analyzeSIP(ds, port)
	if s.invites != 2 || s.answered != 1 || s.p50 != 1500*time.Microsecond || s.maxTime != 1500*time.Microsecond {
		t.Fatalf("%+v; want 2 INVITEs, 1 answered in 1.5 ms", s)
	}
	if s.ringing[0] != time.Millisecond || s.answer[0] != 500*time.Microsecond {
		t.Errorf("INVITE→180 %v, 180→200 %v; want 1ms, 500µs", s.ringing[0], s.answer[0])
	}
}

func TestPcapAndWAV(t *testing.T) {
	dir := t.TempDir()
	// A classic pcap, Ethernet framing, one UDP datagram 127.0.0.1:4000 → :5000.
	payload := []byte("hello")
	ip := make([]byte, 20+8+len(payload))
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[20:], 4000)
	binary.BigEndian.PutUint16(ip[22:], 5000)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload)))
	copy(ip[28:], payload)
	frame := append(make([]byte, 14), ip...)
	var f []byte
	f = binary.LittleEndian.AppendUint32(f, 0xa1b2c3d4)
	f = append(f, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0)
	f = binary.LittleEndian.AppendUint32(f, 1_800_000_000)
	f = binary.LittleEndian.AppendUint32(f, 250_000)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(frame)))
	f = binary.LittleEndian.AppendUint32(f, uint32(len(frame)))
	f = append(f, frame...)
	pc := filepath.Join(dir, "x.pcap")
	if err := os.WriteFile(pc, f, 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err := readPcap(pc)
	if err != nil || len(ds) != 1 || ds[0].srcPort != 4000 || ds[0].dstPort != 5000 || string(ds[0].payload) != "hello" ||
		!ds[0].at.Equal(time.Unix(1_800_000_000, 250_000_000)) {
		t.Fatalf("readPcap: %+v, %v", ds, err)
	}

	// A WAV with a LIST chunk before its 8000 samples.
	var w []byte
	w = append(w, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	w = binary.LittleEndian.AppendUint32(w, 16)
	w = append(w, 1, 0, 1, 0)
	w = binary.LittleEndian.AppendUint32(w, 8000)
	w = binary.LittleEndian.AppendUint32(w, 16000)
	w = append(w, 2, 0, 16, 0)
	w = append(w, "LIST\x04\x00\x00\x00abcd"...)
	w = append(w, "data"...)
	w = binary.LittleEndian.AppendUint32(w, 16000)
	w = append(w, make([]byte, 16000)...)
	wp := filepath.Join(dir, "x.wav")
	if err := os.WriteFile(wp, w, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := wavSamples(wp); n != 8000 || err != nil {
		t.Fatalf("wavSamples = %d, %v; want 8000", n, err)
	}
}
