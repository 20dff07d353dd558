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

func TestAnalyzeCalls(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }
	// Call a: answered at 0, beep ends at 1 s (urgency chosen at 0.4 s +
	// 0.6 s prelude), caller hangs up at 4 s: 3 s to record, the WAV has
	// 2.8 s (200 ms missing). Call b: ended by astreinte at 3 s (media
	// timeout), 2 s after its beep, its WAV complete.
	log := `{"time":"` + at(0) + `","msg":"incoming call","call_id":"a"}
{"time":"` + at(400*time.Millisecond) + `","msg":"urgency chosen","call_id":"a"}
{"time":"` + at(4*time.Second) + `","msg":"remote hung up","call_id":"a"}
{"time":"` + at(4*time.Second) + `","msg":"message recorded","call_id":"a","duration":2800000000,"voiced":2800000000,"stats":"{PacketsSent:200 PacketsReceived:200 LostPackets:1 SilenceSamples:160 Late:0}"}
{"time":"` + at(0) + `","msg":"incoming call","call_id":"b"}
{"time":"` + at(400*time.Millisecond) + `","msg":"urgency chosen","call_id":"b"}
{"time":"` + at(3*time.Second) + `","msg":"call ended","call_id":"b"}
{"time":"` + at(0) + `","msg":"incoming call","call_id":"x","dir":"out"}
`
	wav := func(name string, samples int) string {
		var w []byte
		w = append(w, "RIFF\x00\x00\x00\x00WAVEfmt "...)
		w = binary.LittleEndian.AppendUint32(w, 16)
		w = append(w, 1, 0, 1, 0)
		w = binary.LittleEndian.AppendUint32(w, 8000)
		w = binary.LittleEndian.AppendUint32(w, 16000)
		w = append(w, 2, 0, 16, 0)
		w = append(w, "data"...)
		w = binary.LittleEndian.AppendUint32(w, uint32(2*samples))
		w = append(w, make([]byte, 2*samples)...)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, w, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wa, wb := wav("a.wav", 22400), wav("b.wav", 16000)
	logPath := filepath.Join(dir, "log")
	if err := os.WriteFile(logPath, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	calls, err := readCallLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := []callRow{{"a", wa, 2800, t0}, {"b", wb, 2000, t0}}
	births := map[string]time.Time{wa: t0.Add(1010 * time.Millisecond)}
	r := analyzeCalls(calls, rows, births, 600*time.Millisecond, 300*time.Millisecond)
	if r.calls != 2 || r.hungUp != 1 || r.reached != 2 || r.messages != 2 || r.tickets != 2 {
		t.Fatalf("calls %d hung up %d reached %d messages %d tickets %d; want 2 1 2 2 2", r.calls, r.hungUp, r.reached, r.messages, r.tickets)
	}
	// Only call a's WAV is checked (b was not hung up by the caller): it
	// started 10 ms after the beep and misses 2.99 s − 2.8 s = 190 ms.
	if r.wavs != 1 || r.short != 1 || r.maxMissing != 190*time.Millisecond {
		t.Errorf("wavs %d short %d most missing %v; want 1, 1, 190ms", r.wavs, r.short, r.maxMissing)
	}
	if len(r.beepToRecord) != 1 || r.beepToRecord[0] != 10*time.Millisecond {
		t.Errorf("beep → recording %v; want [10ms]", r.beepToRecord)
	}
	if r.lost != 1 || r.silence != 160 || len(r.pktRatios) != 1 || r.pktRatios[0] != 1 {
		t.Errorf("lost %d silence %d packet ratios %v; want 1, 160, [1]", r.lost, r.silence, r.pktRatios)
	}
}
