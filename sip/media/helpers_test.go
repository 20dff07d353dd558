package media

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// fakeConn is a UDP socket made of channels, for tests under
// testing/synctest (which cannot wait on real network I/O). Reads never
// block; writes are recorded.
type fakeConn struct {
	in      chan datagram
	discard bool  // drop writes instead of recording them (benchmarks)
	readErr error // returned by every read when set

	mu   sync.Mutex
	sent []datagram

	closeOnce sync.Once
	closed    chan struct{}
}

type datagram struct {
	b    []byte
	addr netip.AddrPort
	at   time.Time // when it was sent (writes only)
}

var fakeLocal = netip.MustParseAddrPort("127.0.0.1:40000")

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan datagram, 1024), closed: make(chan struct{})}
}

func (f *fakeConn) recvBatch(b *rxBatch) (int, error) {
	if f.readErr != nil {
		return 0, f.readErr
	}
	for i := range rxBatchLen {
		select {
		case p := <-f.in:
			b.n[i], b.src[i] = copy(b.buf[i][:], p.b), p.addr
		default:
			return i, nil
		}
	}
	return rxBatchLen, nil
}

func (f *fakeConn) send(b []byte, addr netip.AddrPort) error {
	if f.discard {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, datagram{slices.Clone(b), addr, time.Now()})
	return nil
}

func (f *fakeConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(fakeLocal) }

func (f *fakeConn) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

// packets returns the parsed packets written so far.
func (f *fakeConn) packets(t *testing.T) []sentPacket {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]sentPacket, len(f.sent))
	for i, d := range f.sent {
		if err := out[i].Unmarshal(d.b); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		out[i].to = d.addr
	}
	return out
}

type sentPacket struct {
	rtp.Packet
	to netip.AddrPort
}

// startFake starts a session on a fake socket, on an engine of its own; it
// must run inside the synctest bubble that the engine's goroutines belong to.
func startFake(t *testing.T, fc *fakeConn, cfg Config) *Session {
	t.Helper()
	return startOn(t, newEngine(1), fc, cfg)
}

// startOn starts a session on a fake socket and the engine e.
func startOn(t *testing.T, e *engine, fc *fakeConn, cfg Config) *Session {
	t.Helper()
	s, err := newSession(cfg, fc)
	if err != nil {
		t.Fatal(err)
	}
	s.start(e)
	t.Cleanup(func() { s.Close() })
	return s
}

// pkt builds an RTP packet.
func pkt(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// frameOf returns one 20 ms payload of the same code.
func frameOf(code byte) []byte {
	b := make([]byte, FrameSamples)
	for i := range b {
		b[i] = code
	}
	return b
}

// event builds an RFC 4733 payload.
func event(ev uint8, end bool, duration uint16) []byte {
	b := []byte{ev, 10, byte(duration >> 8), byte(duration)}
	if end {
		b[1] |= 0x80
	}
	return b
}

// recorder collects what a session records.
type recorder struct {
	mu      sync.Mutex
	samples []int16
	calls   int
	err     error // returned by WriteSamples when set
}

func (r *recorder) WriteSamples(s []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return r.err
	}
	r.samples = append(r.samples, s...)
	return nil
}

func (r *recorder) get() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.samples)
}

// emit makes recorder a jitter buffer sink too.
func (r *recorder) emit(s []int16) { r.WriteSamples(s) }

// frames expands per-frame values into samples: one 160-sample run each.
func frames(vals ...int16) []int16 {
	out := make([]int16, 0, len(vals)*FrameSamples)
	for _, v := range vals {
		for range FrameSamples {
			out = append(out, v)
		}
	}
	return out
}

// runs describes samples as (value, count) pairs, for readable failures.
func runs(s []int16) [][2]int {
	var out [][2]int
	for _, v := range s {
		if n := len(out); n > 0 && out[n-1][0] == int(v) {
			out[n-1][1]++
			continue
		}
		out = append(out, [2]int{int(v), 1})
	}
	return out
}
