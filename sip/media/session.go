package media

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// SampleRate is the G.711 sample rate and RTP clock rate, in Hz.
const SampleRate = 8000

// FrameSamples is the number of samples in one 20 ms RTP frame.
const FrameSamples = 160

const (
	frameDuration             = 20 * time.Millisecond
	defaultFirstPacketTimeout = 30 * time.Second
	defaultMediaTimeout       = 15 * time.Second
	dtmfQueue                 = 32   // key presses buffered in the DTMF channel
	maxReadErrors             = 50   // consecutive read errors before the reader gives up
	readBufSize               = 2048 // larger than any G.711 packet on an Ethernet path
)

// ErrClosed is returned by Play and Err once the session was closed.
var ErrClosed = errors.New("media: session closed")

// ErrMediaTimeout is returned by Play and Err once no RTP arrived for too long.
var ErrMediaTimeout = errors.New("media: no RTP received (media timeout)")

// SampleWriter receives decoded caller audio: 8 kHz mono samples, gaps already
// filled with silence. The slice is only valid during the call. It runs on
// the engine's receiver goroutine, shared by many calls (or in SetRecorder
// and Close), so it must not block for long nor call SetRecorder.
type SampleWriter interface {
	WriteSamples(s []int16) error
}

// Config describes the media of one call. Zero timeouts take their defaults.
type Config struct {
	// Conn is the bound local RTP socket. NewSession takes it over: the
	// session keeps a duplicate of its descriptor outside the runtime's
	// poller, closes Conn, and closes the socket in Close. If NewSession
	// fails, the caller keeps Conn.
	Conn *net.UDPConn
	// Remote is where the peer wants RTP, from its SDP. The source of the
	// first valid RTP packet replaces it (symmetric RTP through NAT). A zero
	// or unspecified address means "not known yet": nothing is sent.
	Remote netip.AddrPort
	// Codec is the negotiated G.711 codec, in both directions.
	Codec Codec
	// DTMFPayloadType is the payload type of telephone-event in the offer;
	// 0 means not negotiated.
	DTMFPayloadType uint8
	// FirstPacketTimeout ends the media if no RTP at all arrives within it
	// after the start (default 30 s).
	FirstPacketTimeout time.Duration
	// MediaTimeout ends the media if no RTP arrives for this long after the
	// first packet (default 15 s). It is suspended while on hold.
	MediaTimeout time.Duration
	// SRTP, when set, encrypts what is sent and authenticates and decrypts
	// what is received (SDES keys, AES_CM_128_HMAC_SHA1_80). Packets that
	// fail are dropped and counted in Stats.SRTPFailed.
	SRTP *SRTPKeys
	// Logger receives the session's events; nil discards them.
	Logger *slog.Logger
}

// conn is what a Session needs of its socket: the engine's non-blocking
// udpSocket, or a fake in tests that run under testing/synctest. Neither
// method blocks.
type conn interface {
	// recvBatch reads up to rxBatchLen waiting datagrams into b; 0 and no
	// error when none waits.
	recvBatch(b *rxBatch) (int, error)
	// send writes one datagram to addr.
	send(b []byte, addr netip.AddrPort) error
	LocalAddr() net.Addr
	Close() error
}

// Session is the RTP media of one call: one socket, served by the shared
// engine (a pacer and a receiver goroutine per CPU for all calls). Its
// methods are safe for concurrent use.
type Session struct {
	conn         conn
	log          *slog.Logger
	codec        Codec
	dtmfPT       uint8
	firstTimeout time.Duration
	mediaTimeout time.Duration
	local        netip.AddrPort
	st           counters
	srtp         *srtpSession // nil for plain RTP

	remoteMu sync.Mutex
	remote   netip.AddrPort // signalled in SDP
	latched  netip.AddrPort // source of the RTP we accept; zero until latched

	held     atomic.Bool
	epoch    time.Time    // start, with its monotonic clock reading
	lastRx   atomic.Int64 // time since epoch of the last accepted packet, hold release or move
	gotFirst atomic.Bool

	recMu sync.Mutex // guards rec and jb
	rec   SampleWriter
	jb    *jitterBuffer

	dtmf chan rune

	rxMu       sync.Mutex // held by the receive pass for this session, drain and Close
	rd         reader     // under rxMu
	readErrs   int        // consecutive failed receives; under rxMu
	connClosed bool       // under rxMu
	wr         sender     // send pass only, under playMu
	playMu     sync.Mutex
	slot       chan struct{} // holds a token while a prompt is queued or playing
	shard      *shard        // nil when not started

	done    chan struct{}
	stopped atomic.Bool // done is closed
	errOnce sync.Once
	errMu   sync.Mutex
	err     error
	closing atomic.Bool
	closed  chan struct{}
}

// NewSession validates cfg and starts the media on the shared engine: no
// goroutine of its own.
func NewSession(cfg Config) (*Session, error) {
	if cfg.Conn == nil {
		return nil, errors.New("media: Config.Conn is nil")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c, err := newUDPSocket(cfg.Conn)
	if err != nil {
		return nil, err
	}
	s, err := newSession(cfg, c)
	if err != nil {
		c.Close() // the duplicate; cfg.Conn stays the caller's
		return nil, err
	}
	// The runtime forgets its descriptor; the duplicate keeps the socket.
	if err := cfg.Conn.Close(); err != nil {
		c.Close()
		return nil, fmt.Errorf("media: rtp socket: %w", err)
	}
	s.start(defaultEngine())
	return s, nil
}

func (cfg *Config) validate() error {
	if !cfg.Codec.valid() {
		return fmt.Errorf("media: unsupported codec %s", cfg.Codec)
	}
	if cfg.DTMFPayloadType > 127 || (cfg.DTMFPayloadType != 0 && cfg.DTMFPayloadType == uint8(cfg.Codec)) {
		return fmt.Errorf("media: invalid telephone-event payload type %d", cfg.DTMFPayloadType)
	}
	if cfg.FirstPacketTimeout < 0 || cfg.MediaTimeout < 0 {
		return errors.New("media: negative media timeout")
	}
	if cfg.SRTP != nil && (len(cfg.SRTP.Local) != SRTPKeyLen || len(cfg.SRTP.Remote) != SRTPKeyLen) {
		return errSRTPKey
	}
	return nil
}

// newSession builds a session on c without starting it, so that benchmarks
// and fuzz targets can drive the per-packet methods directly.
func newSession(cfg Config, c conn) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Session{
		conn:         c,
		log:          cfg.Logger,
		codec:        cfg.Codec,
		dtmfPT:       cfg.DTMFPayloadType,
		firstTimeout: cmp.Or(cfg.FirstPacketTimeout, defaultFirstPacketTimeout),
		mediaTimeout: cmp.Or(cfg.MediaTimeout, defaultMediaTimeout),
		remote:       unmap(cfg.Remote),
		epoch:        time.Now(),
		dtmf:         make(chan rune, dtmfQueue),
		slot:         make(chan struct{}, 1),
		done:         make(chan struct{}),
		closed:       make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		s.local = unmap(a.AddrPort())
	}
	if cfg.SRTP != nil {
		var err error
		if s.srtp, err = newSRTPSession(cfg.SRTP); err != nil {
			return nil, err
		}
	}
	s.jb = newJitterBuffer(&s.st, s, cfg.Codec)
	s.wr.init(cfg.Codec)
	return s, nil
}

// start hands the session to e's pacer and receiver.
func (s *Session) start(e *engine) {
	s.lastRx.Store(int64(s.since()))
	e.add(s)
}

// unmap turns an IPv4-mapped IPv6 address into plain IPv4, so that addresses
// read from a dual-stack socket compare equal to those from the SDP.
func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// since returns the time elapsed since the start, on the monotonic clock.
func (s *Session) since() time.Duration { return time.Since(s.epoch) }

// LocalAddr returns the address of the session's RTP socket.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetRemote points the media at a new address (a re-INVITE moved it) and
// resets the latch: the next valid RTP packet fixes the source again.
func (s *Session) SetRemote(addr netip.AddrPort) {
	addr = unmap(addr)
	s.remoteMu.Lock()
	s.remote, s.latched = addr, netip.AddrPort{}
	s.remoteMu.Unlock()
	s.lastRx.Store(int64(s.since())) // give the new source a full media timeout
	s.log.Info("rtp remote changed", "remote", addr)
}

// SetHold stops (held) or resumes sending RTP; timestamps keep advancing
// while held, and the media timeout is suspended.
func (s *Session) SetHold(held bool) {
	if s.held.Swap(held) == held {
		return
	}
	if !held {
		s.lastRx.Store(int64(s.since()))
	}
	s.log.Debug("rtp hold", "held", held)
}

// sendAddr returns where the writer sends: the latched source once RTP has
// arrived, the signalled address before.
func (s *Session) sendAddr() (netip.AddrPort, bool) {
	s.remoteMu.Lock()
	a := s.latched
	if !a.IsValid() {
		a = s.remote
	}
	s.remoteMu.Unlock()
	return a, a.IsValid() && a.Port() != 0 && !a.Addr().IsUnspecified()
}

// accept reports whether a valid packet from src is taken, latching onto src
// when no source is latched yet. Packets from the signalled address are
// always taken (they re-latch), so that a stray packet from the old address
// after SetRemote cannot lock the new media out.
func (s *Session) accept(src netip.AddrPort) bool {
	s.remoteMu.Lock()
	defer s.remoteMu.Unlock()
	if src == s.latched {
		return true
	}
	if s.latched.IsValid() && src != s.remote {
		return false
	}
	s.latched = src
	s.log.Info("rtp source latched", "source", src, "signalled", s.remote)
	return true
}

// SetRecorder starts (w non-nil) or stops (nil) delivering caller audio to w.
// Audio pending for the previous recorder is flushed to it first; once
// SetRecorder returns, the previous recorder is never called again. Audio
// received while no recorder is set is discarded.
//
// It first reads what waits on the socket since the last receive pass, so
// that the previous recorder gets everything that arrived before the call
// (a hang-up ends a message: its last words are already here).
func (s *Session) SetRecorder(w SampleWriter) {
	s.drain()
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.jb.flushAll()
	s.rec = w
}

var _ sink = (*Session)(nil)

// emit hands flushed audio to the recorder; recMu is held. A recorder that
// fails is dropped: its owner got the error back and keeps what it wrote.
func (s *Session) emit(pcm []int16) {
	if s.rec == nil {
		return
	}
	if err := s.rec.WriteSamples(pcm); err != nil {
		s.log.Warn("recorder failed; caller audio no longer recorded", "error", err)
		s.rec = nil
	}
}

// flushRecording hands everything pending to the recorder.
func (s *Session) flushRecording() {
	s.recMu.Lock()
	s.jb.flushAll()
	s.recMu.Unlock()
}

// DTMF returns the channel of key presses ('0'-'9', '*', '#', 'A'-'D'), one
// per press, from RTP (RFC 4733) and InjectDTMF. It is never closed: select
// on Done as well. When the buffer is full, new presses are dropped and
// counted.
func (s *Session) DTMF() <-chan rune { return s.dtmf }

// InjectDTMF delivers a key press received out of band (SIP INFO) on the DTMF
// channel. Lower-case 'a'-'d' are accepted; other runes are ignored.
func (s *Session) InjectDTMF(r rune) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	if !validKey(r) {
		s.log.Debug("ignoring injected dtmf", "key", string(r))
		return
	}
	s.deliverDTMF(r)
}

func (s *Session) deliverDTMF(r rune) {
	s.st.dtmfEvents.Add(1)
	select {
	case s.dtmf <- r:
	default:
		s.st.dtmfDropped.Add(1)
		s.log.Debug("dtmf channel full; key dropped", "key", string(r))
	}
}

// Done returns a channel closed when the media timed out, the reader failed
// or the session was closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session runs, then why it stopped: ErrClosed,
// ErrMediaTimeout or a read error. The first cause sticks.
func (s *Session) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// stop records why the session ended and closes Done, once.
func (s *Session) stop(err error) {
	s.errOnce.Do(func() {
		s.errMu.Lock()
		s.err = err
		s.errMu.Unlock()
		s.stopped.Store(true)
		close(s.done)
	})
}

// Close stops the media: it takes the session out of the engine (waiting
// for a pass in progress), ends the prompt playing, flushes pending audio to
// the recorder and closes the socket. It is idempotent; later calls wait for
// the first to finish.
func (s *Session) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		<-s.closed
		return nil
	}
	defer close(s.closed)
	s.stop(ErrClosed)
	s.detach()
	s.playMu.Lock()
	if cur := s.wr.cur; cur != nil {
		s.endPlay(cur, s.Err())
	}
	s.playMu.Unlock()
	// The last read and the close under rxMu: a drain racing Close never
	// reads a descriptor number the kernel may have given to another socket.
	s.rxMu.Lock()
	s.drainLocked()
	s.connClosed = true
	err := s.conn.Close()
	s.rxMu.Unlock()
	s.flushRecording()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("media: close rtp socket: %w", err)
	}
	return nil
}

// Stats counts what a session sent and received. All fields only grow.
type Stats struct {
	PacketsSent     uint64 // RTP packets written to the socket
	PacketsReceived uint64 // valid RTP packets accepted from the peer (audio and DTMF)
	Duplicates      uint64 // audio packets received twice (the copy overwrote the same slot)
	Reordered       uint64 // audio packets that arrived after a later one and still found their slot
	Late            uint64 // audio packets that arrived after their slot was flushed (dropped)
	LostPackets     uint64 // packets missing from the recording, estimated from its gaps
	SilenceSamples  uint64 // samples of silence inserted in the recording for the gaps
	SSRCChanges     uint64 // times the audio SSRC changed (the recording continued without a gap)
	Resyncs         uint64 // timestamp jumps (over 1 s, or backwards) that rebased the recording
	Paused          uint64 // samples of silence kept for pauses in the caller's sending (silence suppression)
	ComfortNoise    uint64 // RFC 3389 packets: keep the call alive, recorded as silence
	ForeignSource   uint64 // packets ignored because they came from another address than the latched one
	BadPackets      uint64 // packets that were not RTP version 2 or had an unknown payload type
	DTMFEvents      uint64 // key presses reported (from RTP and InjectDTMF), dropped ones included
	DTMFDropped     uint64 // key presses dropped because the DTMF channel was full
	SendErrors      uint64 // failed socket writes
	SRTPFailed      uint64 // SRTP packets dropped: authentication failed, or too short
}

type counters struct {
	packetsSent, packetsReceived, duplicates, reordered, late   atomic.Uint64
	lostPackets, silenceSamples, ssrcChanges, resyncs, paused   atomic.Uint64
	comfortNoise                                                atomic.Uint64
	foreignSource, badPackets, dtmfEvents, dtmfDropped, sendErr atomic.Uint64
	srtpFailed                                                  atomic.Uint64
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats { return s.st.snapshot() }

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsSent:     c.packetsSent.Load(),
		PacketsReceived: c.packetsReceived.Load(),
		Duplicates:      c.duplicates.Load(),
		Reordered:       c.reordered.Load(),
		Late:            c.late.Load(),
		LostPackets:     c.lostPackets.Load(),
		SilenceSamples:  c.silenceSamples.Load(),
		SSRCChanges:     c.ssrcChanges.Load(),
		Resyncs:         c.resyncs.Load(),
		Paused:          c.paused.Load(),
		ComfortNoise:    c.comfortNoise.Load(),
		ForeignSource:   c.foreignSource.Load(),
		BadPackets:      c.badPackets.Load(),
		DTMFEvents:      c.dtmfEvents.Load(),
		DTMFDropped:     c.dtmfDropped.Load(),
		SendErrors:      c.sendErr.Load(),
		SRTPFailed:      c.srtpFailed.Load(),
	}
}
