package media

import (
	"context"
	"math/rand/v2"

	"github.com/pion/rtp"
)

// sender is the send state of a session: one reused rtp.Packet, one
// payload buffer and one output buffer. Timestamps come from the frame
// count, never from the clock.
type sender struct {
	pkt     rtp.Packet
	payload []byte // FrameSamples encoded samples
	silence []byte // FrameSamples encoded zeros, shared by every session of the codec
	out     []byte
	codec   Codec
	ts0     uint32
	frames  uint32 // frames elapsed, sent or not
	mark    bool   // the next packet sent gets the marker bit
	cur     *playRequest
}

// silenceFrames are a frame of encoded zeros in each codec, read-only.
var silenceFrames = func() (f struct{ ulaw, alaw [FrameSamples]byte }) {
	for i := range FrameSamples {
		f.ulaw[i], f.alaw[i] = PCMU.silence(), PCMA.silence()
	}
	return f
}()

func (w *sender) init(c Codec) {
	w.codec = c
	w.payload = make([]byte, FrameSamples)
	w.silence = silenceFrames.ulaw[:]
	if c == PCMA {
		w.silence = silenceFrames.alaw[:]
	}
	w.out = make([]byte, 12+FrameSamples)
	w.pkt.Version = 2
	w.pkt.PayloadType = uint8(c)
	w.pkt.SSRC = rand.Uint32()
	w.pkt.SequenceNumber = uint16(rand.Uint32())
	w.ts0 = rand.Uint32()
	w.mark = true
}

// playRequest is one prompt queued by Play or Start. The pacer reads pcm
// until the request ends; endPlay closes done once it has let go of pcm.
type playRequest struct {
	ctx   context.Context
	pcm   []int16
	off   int
	err   error
	done  chan struct{}
	unreg func() bool // stops the context.AfterFunc that cancels the request
}

// Play sends pcm (8 kHz mono) in 20 ms frames, the last one padded with
// silence, and returns once the last frame is sent. It returns ctx.Err() at
// once when ctx is done (the rest is not sent), ErrClosed after Close and
// ErrMediaTimeout after a media timeout. Concurrent calls play one after the
// other. pcm must not change until Play returns. While on hold, or before
// the remote address is known, the frames are consumed at the same pace
// without being sent.
func (s *Session) Play(ctx context.Context, pcm []int16) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.stopped.Load() {
		return s.Err()
	}
	if len(pcm) == 0 {
		return nil
	}
	r := s.enqueue(ctx, pcm)
	<-r.done
	return r.err
}

// enqueue waits until no other prompt is queued, then gives r to the pacer,
// which sends its first frame on its next tick. The returned request is
// done already when ctx ended or the session stopped while waiting.
func (s *Session) enqueue(ctx context.Context, pcm []int16) *playRequest {
	r := &playRequest{ctx: ctx, pcm: pcm, done: make(chan struct{})}
	select {
	case s.slot <- struct{}{}:
	case <-ctx.Done():
		r.err = ctx.Err()
		close(r.done)
		return r
	case <-s.done:
		r.err = s.Err()
		close(r.done)
		return r
	}
	s.playMu.Lock()
	defer s.playMu.Unlock()
	s.wr.cur = r
	if s.stopped.Load() { // Close may have run its clean-up already
		s.endPlay(r, s.Err())
		return r
	}
	// A cancelled prompt stops at once, not at the next tick: the caller
	// of Play returns and may reuse pcm.
	r.unreg = context.AfterFunc(ctx, func() {
		s.playMu.Lock()
		defer s.playMu.Unlock()
		if s.wr.cur == r {
			s.endPlay(r, ctx.Err())
		}
	})
	return r
}

// endPlay ends the current prompt r with err; playMu is held.
func (s *Session) endPlay(r *playRequest, err error) {
	s.wr.cur = nil
	<-s.slot
	r.err = err
	close(r.done)
	if r.unreg != nil {
		r.unreg()
	}
}

// writeTick is the pacer's work for one session on one tick: the next frame
// of the prompt playing, or silence.
func (s *Session) writeTick() {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	cur := s.wr.cur
	if s.stopped.Load() {
		if cur != nil {
			s.endPlay(cur, s.Err())
		}
		return
	}
	if s.tick(cur) {
		s.endPlay(cur, nil)
	}
}

// tick sends the next frame of cur, or silence when cur is nil. It reports
// whether that was the last frame of cur.
func (s *Session) tick(cur *playRequest) (last bool) {
	if cur == nil {
		s.sendFrame(nil)
		return false
	}
	if cur.off == 0 {
		s.wr.mark = true
	}
	frame := cur.pcm[cur.off:]
	var padded [FrameSamples]int16 // the last frame, padded with silence
	if len(frame) >= FrameSamples {
		frame = frame[:FrameSamples]
	} else {
		copy(padded[:], frame)
		frame = padded[:]
	}
	cur.off = min(cur.off+FrameSamples, len(cur.pcm))
	s.sendFrame(frame)
	return cur.off == len(cur.pcm)
}

// sendFrame sends one 20 ms frame (nil for silence) and advances the
// timestamp, whether or not it could send: nothing goes out while on hold
// or before the remote is known. It does not allocate.
func (s *Session) sendFrame(frame []int16) {
	w := &s.wr
	ts := w.ts0 + w.frames*FrameSamples
	w.frames++
	dst, ok := s.sendAddr()
	if !ok || s.held.Load() {
		w.mark = true // the first packet after a pause starts a talkspurt
		return
	}
	w.pkt.Payload = w.silence
	if frame != nil {
		Encode(w.codec, w.payload, frame)
		w.pkt.Payload = w.payload
	}
	w.pkt.Timestamp = ts
	w.pkt.Marker = w.mark
	n, err := w.pkt.MarshalTo(w.out)
	if err != nil { // cannot happen: out fits a G.711 frame
		s.log.Debug("rtp marshal", "error", err)
		return
	}
	w.mark = false
	w.pkt.SequenceNumber++
	out := w.out[:n]
	if s.srtp != nil {
		if out, err = s.srtp.encrypt(out); err != nil {
			if s.st.sendErr.Add(1) == 1 {
				s.log.Warn("srtp encrypt failed", "error", err)
			}
			return
		}
	}
	if err := s.conn.send(out, dst); err != nil {
		if s.st.sendErr.Add(1) == 1 { // once: the count is in Stats
			s.log.Warn("rtp send failed", "remote", dst, "error", err)
		}
		return
	}
	s.st.packetsSent.Add(1)
}
