package media

// Recording path: caller audio is placed in a fixed ring by RTP timestamp and
// flushed to the SampleWriter once it is playoutDelay behind the newest
// sample, so that late and reordered packets still land in their slot. The
// ring holds the G.711 codes as they came, a byte a sample, and decodes them
// to 16-bit samples as it flushes.

const (
	ringSize     = 1 << 11 // samples in the ring: 256 ms at 8 kHz, 2.5 times the playout delay
	ringMask     = ringSize - 1
	playoutDelay = 800             // samples held back before flushing: 100 ms
	maxJump      = SampleRate      // a timestamp jump beyond 1 s rebases the stream…
	maxPause     = 30 * SampleRate // …unless it is a pause in sending up to 30 s
	maxPacket    = 2048            // largest payload, in samples, placed in the ring
	flushChunk   = FrameSamples    // samples decoded at once by flush
)

// jitterBuffer reorders one received audio stream. Positions are sample
// counts on a 64-bit axis that never wraps; an RTP timestamp maps to
// refPos + int32(ts-refTS), so 32-bit wrap-around needs no special case.
// Samples in [tail, head) are pending; everything before tail was flushed.
// Invariant: the filled bit of every slot outside [tail, head) is clear.
type jitterBuffer struct {
	// codes is an allocation of its own: 2,048 bytes is a size class,
	// where the ring inside the struct would make one of 2,736 take 3,072.
	codes  *[ringSize]byte
	dec    *[256]int16           // the codec's decoding table
	filled [ringSize / 64]uint64 // a bit per slot: a packet wrote it
	pcm    [flushChunk]int16     // flush decodes here (on its stack, it would escape to the sink)

	started bool
	ssrc    uint32
	refTS   uint32
	refPos  int64
	maxSeq  uint16 // highest sequence number seen since the last rebase
	head    int64
	tail    int64
	emitted bool  // samples flushed since the last (re)start
	frame   int64 // samples per packet, to count lost packets from gaps
	gapRun  int64 // length of the silence run being flushed

	st  *counters
	out sink
}

// sink receives contiguous chunks of flushed audio; the slice is only valid
// during the call. The Session is the sink of its jitter buffer.
type sink interface {
	emit(pcm []int16)
}

// origin is the first position; far from zero so that a packet placed just
// before the first one never gives a negative position.
const origin = 1 << 40

func newJitterBuffer(st *counters, out sink, c Codec) *jitterBuffer {
	return &jitterBuffer{codes: new([ringSize]byte), dec: c.decodeTable(), st: st, out: out, head: origin, tail: origin, frame: FrameSamples}
}

// rebase makes the packet (ssrc, seq, ts) continue at the write position.
func (j *jitterBuffer) rebase(ssrc uint32, seq uint16, ts uint32) {
	j.ssrc, j.refTS, j.refPos, j.maxSeq = ssrc, ts, j.head, seq
}

// noteSeq takes the sequence number of a packet that carries no audio
// (comfort noise) on the current stream, so that the next audio packet
// after a pause is seen as following on, not as a loss.
func (j *jitterBuffer) noteSeq(ssrc uint32, seq uint16) {
	if j.started && ssrc == j.ssrc && int16(seq-j.maxSeq) > 0 {
		j.maxSeq = seq
	}
}

// put places one packet's G.711 payload, a code a sample, and flushes what
// is older than the playout delay. Outcomes go to the counters.
func (j *jitterBuffer) put(ssrc uint32, seq uint16, ts uint32, pcm []byte) {
	j.place(ssrc, seq, ts, pcm)
	j.flush(j.head - playoutDelay)
}

func (j *jitterBuffer) place(ssrc uint32, seq uint16, ts uint32, pcm []byte) {
	if len(pcm) == 0 {
		return
	}
	if len(pcm) > maxPacket {
		pcm = pcm[:maxPacket]
	}
	n := int64(len(pcm))
	switch {
	case !j.started:
		j.started, j.emitted = true, false
		j.rebase(ssrc, seq, ts)
	case ssrc != j.ssrc:
		j.st.ssrcChanges.Add(1)
		j.rebase(ssrc, seq, ts)
	}
	pos := j.refPos + int64(int32(ts-j.refTS))
	newer := int16(seq-j.maxSeq) > 0
	switch {
	case pos > j.head+maxJump && seq == j.maxSeq+1 && pos-j.head <= maxPause:
		// The next packet after more than a second: the sender stopped
		// during a pause (silence suppression, RFC 3551 §4.1). The pause
		// lasted; keep it as silence instead of closing it up.
		j.pause(pos - j.head)
	case pos > j.head+maxJump:
		// More than a second lost, or a long pause: no silence for it.
		j.st.resyncs.Add(1)
		j.rebase(ssrc, seq, ts)
		pos = j.head
	case pos+n <= j.head && newer:
		// The timestamps went back while the sequence went on: a restart.
		j.st.resyncs.Add(1)
		j.rebase(ssrc, seq, ts)
		pos = j.head
	}
	if newer {
		j.maxSeq = seq
	}
	if pos < j.tail {
		if !j.emitted && j.tail-pos <= playoutDelay {
			// Reordered before the first packet, nothing flushed yet.
			j.st.reordered.Add(1)
			j.tail = pos
			j.write(pos, pcm)
			return
		}
		j.st.late.Add(1)
		if pos+n <= j.tail {
			return
		}
		pcm = pcm[j.tail-pos:] // keep the part that is not flushed yet
		pos = j.tail
	}
	if pos < j.head {
		if j.isFilled(pos & ringMask) {
			j.st.duplicates.Add(1)
		} else {
			j.st.reordered.Add(1)
		}
	} else {
		j.frame = n
	}
	j.write(pos, pcm)
}

// write copies pcm (codes) into the ring at pos, which is at or after tail.
func (j *jitterBuffer) write(pos int64, pcm []byte) {
	end := pos + int64(len(pcm))
	if end-j.tail > ringSize {
		// A gap longer than the ring (256 ms lost, under maxJump): the
		// ring never overwrites pending samples, so what is older than
		// the ring is flushed now, a packet reordered into it is late.
		// The ring stays small (2.6 KB a call) for a rare case.
		j.flush(end - ringSize)
	}
	for len(pcm) > 0 {
		i := pos & ringMask
		c := copy(j.codes[i:], pcm)
		j.fill(i, i+int64(c))
		pcm = pcm[c:]
		pos += int64(c)
	}
	if end > j.head {
		j.head = end
	}
}

// isFilled reports whether a packet wrote ring slot i.
func (j *jitterBuffer) isFilled(i int64) bool { return j.filled[i>>6]&(1<<(i&63)) != 0 }

// fill marks ring slots [lo, hi) as written, a word at a time.
func (j *jitterBuffer) fill(lo, hi int64) {
	for lo < hi {
		w, b := lo>>6, lo&63
		n := min(hi-lo, 64-b)
		m := ^uint64(0)
		if n < 64 {
			m = (uint64(1)<<n - 1) << b
		}
		j.filled[w] |= m
		lo += n
	}
}

// flush hands the samples in [tail, upto) to the sink, decoded, with
// silence in the slots no packet filled, and advances tail.
func (j *jitterBuffer) flush(upto int64) {
	for j.tail < upto {
		i := j.tail & ringMask
		n := min(upto-j.tail, ringSize-i, flushChunk)
		codes, out := j.codes[i:i+n], j.pcm[:n]
		for k := int64(0); k < n; {
			// The slots of one bitmap word at a time.
			b := i + k
			w := &j.filled[b>>6]
			c := min(n-k, 64-b&63)
			m := ^uint64(0)
			if c < 64 {
				m = (uint64(1)<<c - 1) << (b & 63)
			}
			if *w&m == m {
				// Every slot written by packets: the common case.
				*w &^= m
				if j.gapRun > 0 {
					j.endGap()
				}
				decode(j.dec, out[k:k+c], codes[k:k+c])
				k += c
				continue
			}
			for end := k + c; k < end; k++ {
				if m := uint64(1) << ((i + k) & 63); *w&m != 0 {
					*w &^= m
					if j.gapRun > 0 {
						j.endGap()
					}
					out[k] = j.dec[codes[k]]
				} else {
					out[k] = 0
					j.gapRun++
				}
			}
		}
		j.tail += n
		j.emitted = true
		j.out.emit(out)
	}
}

// decode expands the codes src into dst with table, a tight loop.
func decode(table *[256]int16, dst []int16, src []byte) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = table[b]
	}
}

// flushAll hands every pending sample to the sink and ends any gap in
// progress.
func (j *jitterBuffer) flushAll() {
	j.flush(j.head)
	if j.gapRun > 0 {
		j.endGap()
	}
}

// zeros is the silence handed out for pauses; sinks only read it.
var zeros [FrameSamples * 10]int16

// pause flushes what is pending and hands n samples of silence to the sink,
// moving the write position on by n.
func (j *jitterBuffer) pause(n int64) {
	j.flushAll()
	j.st.paused.Add(uint64(n))
	for left := n; left > 0; {
		c := min(left, int64(len(zeros)))
		j.out.emit(zeros[:c])
		left -= c
	}
	j.head += n
	j.tail = j.head
	j.emitted = true
}

// endGap counts a finished run of inserted silence.
func (j *jitterBuffer) endGap() {
	j.st.silenceSamples.Add(uint64(j.gapRun))
	j.st.lostPackets.Add(uint64((j.gapRun + j.frame - 1) / j.frame))
	j.gapRun = 0
}
