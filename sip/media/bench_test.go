package media

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the per-packet work. allocs/op must stay 0.

type discardRecorder struct{ n int }

func (d *discardRecorder) WriteSamples(s []int16) error { d.n += len(s); return nil }

// benchSession builds a session whose goroutines are not started, so that
// the per-packet methods run in the benchmark goroutine.
func benchSession(b *testing.B, cfg Config) (*Session, *fakeConn) {
	b.Helper()
	fc := newFakeConn()
	fc.discard = true
	s, err := newSession(cfg, fc)
	if err != nil {
		b.Fatal(err)
	}
	return s, fc
}

// BenchmarkReceiveAudio: parse, latch check, decode, place in the ring and
// flush one 20 ms packet to the recorder.
func BenchmarkReceiveAudio(b *testing.B) {
	s, _ := benchSession(b, Config{Codec: PCMU, Remote: peer})
	s.SetRecorder(&discardRecorder{})
	p := pkt(0, false, 0, 0, 42, frameOf(0x35))
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(p[2:], uint16(i))
		binary.BigEndian.PutUint32(p[4:], uint32(i*FrameSamples))
		s.receive(p, peer)
	}
	if st := s.Stats(); st.PacketsReceived == 0 || st.Late+st.Duplicates+st.BadPackets != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkReceiveShuffled: the same with every pair of packets swapped and
// one in 50 lost (reorder and gap handling on the hot path).
func BenchmarkReceiveShuffled(b *testing.B) {
	s, _ := benchSession(b, Config{Codec: PCMA, Remote: peer})
	s.SetRecorder(&discardRecorder{})
	p := pkt(8, false, 0, 0, 42, frameOf(0x35))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i ^ 1
		if k%50 == 49 {
			continue
		}
		binary.BigEndian.PutUint16(p[2:], uint16(k))
		binary.BigEndian.PutUint32(p[4:], uint32(k*FrameSamples))
		s.receive(p, peer)
	}
}

// BenchmarkReceiveDTMF: one key press every 10 packets (start, repeats,
// end), through the receive path to the channel.
func BenchmarkReceiveDTMF(b *testing.B) {
	s, _ := benchSession(b, Config{Codec: PCMU, Remote: peer, DTMFPayloadType: 101})
	p := pkt(101, false, 0, 0, 42, event(5, false, 0))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		press, n := i/10, i%10
		binary.BigEndian.PutUint16(p[2:], uint16(i))
		binary.BigEndian.PutUint32(p[4:], uint32(press*8000))
		p[13] = byte(min(n, 7)) << 7 // end bit on the last three
		binary.BigEndian.PutUint16(p[14:], uint16(n*160))
		s.receive(p, peer)
		select {
		case <-s.DTMF():
		default:
		}
	}
	if s.Stats().DTMFEvents == 0 {
		b.Fatal("no key detected")
	}
}

// BenchmarkParseDTMF: payload parsing and deduplication alone.
func BenchmarkParseDTMF(b *testing.B) {
	var d dtmfDetector
	payload := event(5, false, 160)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev, _ := parseDTMF(payload)
		d.observe(42, uint32(i/10), ev)
	}
}

// BenchmarkSend: one writer tick with a prompt frame: encode, marshal into
// the reused buffer, write.
func BenchmarkSend(b *testing.B) {
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String(), func(b *testing.B) {
			s, _ := benchSession(b, Config{Codec: c, Remote: peer})
			r := &playRequest{ctx: b.Context(), pcm: tone(SampleRate, 1234)}
			b.ReportAllocs()
			for b.Loop() {
				if s.tick(r) {
					r.off = 0
				}
			}
			if s.Stats().PacketsSent == 0 {
				b.Fatal("nothing sent")
			}
		})
	}
}

// countRecorder counts the samples recorded and signals each write.
type countRecorder struct {
	n  atomic.Int64
	ch chan struct{}
}

func (c *countRecorder) WriteSamples(s []int16) error {
	c.n.Add(int64(len(s)))
	select {
	case c.ch <- struct{}{}:
	default:
	}
	return nil
}

// BenchmarkLoopback: packets sent from another socket on 127.0.0.1 until
// their audio reaches the recorder, through the engine's receive pass (its
// pacer runs too). Every 50 packets (one second of a call) it waits for the
// recording to catch up, so ns/op includes the wait for the next receive
// pass; allocs/op counts every goroutine.
func BenchmarkLoopback(b *testing.B) {
	local, caller := listenLoopback(b), listenLoopback(b)
	s, err := NewSession(Config{Conn: local, Remote: addrOf(caller), Codec: PCMU})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rec := &countRecorder{ch: make(chan struct{}, 1)}
	s.SetRecorder(rec)
	p := pkt(0, false, 0, 0, 42, frameOf(0x35))
	dst := s.LocalAddr()
	send := func(i int) {
		binary.BigEndian.PutUint16(p[2:], uint16(i))
		binary.BigEndian.PutUint32(p[4:], uint32(i*FrameSamples))
		if _, err := caller.WriteToUDPAddrPort(p, dst); err != nil {
			b.Fatal(err)
		}
	}
	// Fill the playout delay: from then on each packet flushes one frame.
	i := 0
	for ; i < playoutDelay/FrameSamples; i++ {
		send(i)
	}
	timeout := time.NewTimer(time.Hour)
	wait := func(n int) {
		want := int64(n-playoutDelay/FrameSamples) * FrameSamples
		timeout.Reset(5 * time.Second)
		for rec.n.Load() < want {
			select {
			case <-rec.ch:
			case <-timeout.C:
				b.Fatalf("packet %d not recorded: stats %+v", n, s.Stats())
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		send(i)
		i++
		if i%50 == 0 {
			wait(i)
		}
	}
	wait(i)
	if st := s.Stats(); st.Late+st.LostPackets != 0 {
		b.Fatalf("stats %+v", st)
	}
}

func BenchmarkG711(b *testing.B) {
	pcm := tone(FrameSamples, 1234)
	enc := make([]byte, FrameSamples)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run("Encode"+c.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Encode(c, enc, pcm)
			}
		})
		b.Run("Decode"+c.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decode(c, pcm, enc)
			}
		})
	}
}
