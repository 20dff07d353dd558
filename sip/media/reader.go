package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// reader is the receive state of a session. The rtp.Packet a datagram is
// parsed into belongs to the shard (rxBatch): whoever calls receive points
// pkt at the one of its batch first (use); a session driven directly
// (benchmarks, fuzzing) gets its own.
type reader struct {
	pkt *rtp.Packet
	det dtmfDetector
}

// use points the reader at the packet of b.
func (r *reader) use(b *rxBatch) {
	if b.pkt.Extensions == nil {
		readyPacket(&b.pkt)
	}
	r.pkt = &b.pkt
}

// readyPacket gives p room for the most a header can carry, so that
// Unmarshal never grows its slices.
func readyPacket(p *rtp.Packet) {
	p.CSRC = make([]uint32, 0, 15)
	p.Extensions = make([]rtp.Extension, 0, 16)
}

// readError handles a failed receive: the session gives up after
// maxReadErrors passes in a row failed.
func (s *Session) readError(err error) {
	if s.closing.Load() {
		return
	}
	s.readErrs++
	if errors.Is(err, net.ErrClosed) || s.readErrs >= maxReadErrors {
		s.log.Error("rtp reader gave up", "errors", s.readErrs, "error", err)
		s.flushRecording()
		s.stop(fmt.Errorf("media: read rtp: %d consecutive errors: %w", s.readErrs, err))
	}
}

// checkTimeout ends the media when no RTP arrived for too long: the first
// packet timeout before any packet, the media timeout after. It is checked
// on each receive pass, and suspended while on hold (SetHold(false) restarts
// the clock).
func (s *Session) checkTimeout() {
	if s.held.Load() {
		return
	}
	limit := s.firstTimeout
	if s.gotFirst.Load() {
		limit = s.mediaTimeout
	}
	if s.since() < time.Duration(s.lastRx.Load())+limit {
		return
	}
	s.log.Info("media timeout", "first_packet", !s.gotFirst.Load(), "stats", s.Stats())
	s.flushRecording()
	s.stop(ErrMediaTimeout)
}

// receive handles one datagram from src: audio goes to the recording, events
// to the DTMF channel. It does not allocate for well-formed packets.
func (s *Session) receive(b []byte, src netip.AddrPort) {
	// Cheap checks first: pion's errors allocate.
	if len(b) < 12 || b[0]>>6 != 2 {
		s.st.badPackets.Add(1)
		return
	}
	if s.srtp != nil {
		var err error
		if b, err = s.srtp.decrypt(b); err != nil {
			s.st.srtpFailed.Add(1)
			return
		}
	}
	pt := b[1] & 0x7F
	if pt == ptComfortNoise {
		s.comfortNoise(b, src)
		return
	}
	audio := pt == uint8(s.codec)
	event := s.dtmfPT != 0 && pt == s.dtmfPT
	if s.rd.pkt == nil {
		s.rd.pkt = new(rtp.Packet)
		readyPacket(s.rd.pkt)
	}
	p := s.rd.pkt
	if !audio && !event || p.Unmarshal(b) != nil {
		s.st.badPackets.Add(1)
		return
	}
	var ev dtmfEvent
	if event {
		var ok bool
		if ev, ok = parseDTMF(p.Payload); !ok {
			s.st.badPackets.Add(1)
			return
		}
	}
	if !s.accept(unmap(src)) {
		s.st.foreignSource.Add(1)
		return
	}
	s.st.packetsReceived.Add(1)
	s.alive()
	if event {
		if r, ok := s.rd.det.observe(p.SSRC, p.Timestamp, ev); ok {
			s.deliverDTMF(r)
		}
		return
	}
	s.recMu.Lock()
	s.jb.put(p.SSRC, p.SequenceNumber, p.Timestamp, p.Payload) // decoded as the ring flushes
	s.recMu.Unlock()
}

// ptComfortNoise is RFC 3389 comfort noise, the static payload type 13.
const ptComfortNoise = 13

// alive notes that the caller's RTP flows: it holds the media timeout off.
func (s *Session) alive() {
	s.lastRx.Store(int64(s.since()))
	if !s.gotFirst.Load() {
		s.gotFirst.Store(true) // from now on, the media timeout applies
	}
}

// comfortNoise takes an RFC 3389 packet: a phone with silence suppression
// sends one now and then while its user says nothing. It keeps the call
// alive and its sequence number tells the recording that the pause is a
// pause, not a loss; the noise itself is recorded as silence.
func (s *Session) comfortNoise(b []byte, src netip.AddrPort) {
	if !s.accept(unmap(src)) {
		s.st.foreignSource.Add(1)
		return
	}
	s.st.comfortNoise.Add(1)
	s.alive()
	seq := uint16(b[2])<<8 | uint16(b[3])
	ssrc := uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	s.recMu.Lock()
	s.jb.noteSeq(ssrc, seq)
	s.recMu.Unlock()
}
