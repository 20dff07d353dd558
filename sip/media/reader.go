package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pion/rtp"
)

// reader is the state of the reader goroutine: one reused read buffer, one
// reused rtp.Packet and one decode buffer.
type reader struct {
	buf []byte
	pkt rtp.Packet
	pcm []int16
	det dtmfDetector
}

func (r *reader) init() {
	r.buf = make([]byte, readBufSize)
	r.pcm = make([]int16, readBufSize)
	// Room for the most a header can carry, so that Unmarshal never grows them.
	r.pkt.CSRC = make([]uint32, 0, 15)
	r.pkt.Extensions = make([]rtp.Extension, 0, 16)
}

// runReader reads RTP until Close, a media timeout or too many read errors.
func (s *Session) runReader() {
	s.lastRx.Store(int64(s.since()))
	s.setDeadline(s.firstTimeout)
	errs := 0
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(s.rd.buf)
		if err == nil {
			errs = 0
			s.receive(s.rd.buf[:n], src)
			continue
		}
		if s.closing.Load() {
			return
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if s.timedOut() {
				s.log.Info("media timeout", "first_packet", !s.gotFirst.Load(), "stats", s.Stats())
				s.flushRecording()
				s.stop(ErrMediaTimeout)
				return
			}
		case errors.Is(err, net.ErrClosed):
			s.flushRecording()
			s.stop(fmt.Errorf("media: read rtp: %w", err))
			return
		default:
			errs++
			if errs >= maxReadErrors {
				s.log.Error("rtp reader gave up", "errors", errs, "error", err)
				s.flushRecording()
				s.stop(fmt.Errorf("media: read rtp: %d consecutive errors: %w", errs, err))
				return
			}
		}
	}
}

// timedOut is called when the read deadline passed. It reports whether the
// media timed out, or sets the next deadline: the deadline is only moved when
// it fires, not per packet.
func (s *Session) timedOut() bool {
	now := s.since()
	limit := s.firstTimeout
	if s.gotFirst.Load() {
		limit = s.mediaTimeout
	}
	if s.held.Load() {
		s.setDeadline(now + limit) // look again later; SetHold(false) restarts the clock
		return false
	}
	due := time.Duration(s.lastRx.Load()) + limit
	if now >= due {
		return true
	}
	s.setDeadline(due)
	return false
}

// setDeadline moves the read deadline to at (since the start). If Close ran
// meanwhile, its deadline in the past is put back, so the reader still wakes.
func (s *Session) setDeadline(at time.Duration) {
	if err := s.conn.SetReadDeadline(s.epoch.Add(at)); err != nil {
		s.log.Debug("rtp read deadline", "error", err)
	}
	if s.closing.Load() {
		_ = s.conn.SetReadDeadline(aLongTimeAgo)
	}
}

// receive handles one datagram from src: audio goes to the recording, events
// to the DTMF channel. It does not allocate for well-formed packets.
func (s *Session) receive(b []byte, src netip.AddrPort) {
	// Cheap checks first: pion's errors allocate.
	if len(b) < 12 || b[0]>>6 != 2 {
		s.st.badPackets.Add(1)
		return
	}
	pt := b[1] & 0x7F
	if pt == ptComfortNoise {
		s.comfortNoise(b, src)
		return
	}
	audio := pt == uint8(s.codec)
	event := s.dtmfPT != 0 && pt == s.dtmfPT
	p := &s.rd.pkt
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
	payload := p.Payload[:min(len(p.Payload), len(s.rd.pcm))]
	pcm := s.rd.pcm[:len(payload)]
	Decode(s.codec, pcm, payload)
	s.recMu.Lock()
	s.jb.put(p.SSRC, p.SequenceNumber, p.Timestamp, pcm)
	s.recMu.Unlock()
}

// ptComfortNoise is RFC 3389 comfort noise, the static payload type 13.
const ptComfortNoise = 13

// alive notes that the caller's RTP flows: it holds the media timeout off.
func (s *Session) alive() {
	s.lastRx.Store(int64(s.since()))
	if !s.gotFirst.Load() {
		s.gotFirst.Store(true)
		s.setDeadline(s.since() + s.mediaTimeout) // from now on, the media timeout applies
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
