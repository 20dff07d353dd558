package voicemail

import (
	"math"

	"github.com/astreinte/astreinte/audio"
)

// DefaultSilenceThreshold is the RMS level, in dBFS, below which a 20 ms frame
// counts as silence for Recorder.Silence and as unvoiced for Recorder.Voiced.
// Line noise on a quiet G.711 call sits around -55 to -65 dBFS and speech
// around -30 to -15 dBFS.
const DefaultSilenceThreshold = -40.0

// meterFrame is the frame over which the level meter decides voiced/silent:
// 20 ms, one RTP packet of G.711.
const meterFrame = audio.SampleRate / 50

// dbfsToSumSq returns the sum of squares of a meterFrame-long frame whose RMS
// is at level dBFS (0 dBFS: RMS of 32768).
func dbfsToSumSq(dbfs float64) uint64 {
	rms := 32768 * math.Pow(10, dbfs/20)
	return uint64(rms * rms * meterFrame)
}

// meter measures the level of a stream of samples: peak, overall energy, and
// per 20 ms frame whether it is above the silence threshold. It allocates
// nothing; the zero value is not ready, use newMeter.
type meter struct {
	threshold uint64 // frame sum of squares at the silence threshold
	frameSq   uint64 // sum of squares of the frame being filled
	frameN    int    // samples in the frame being filled
	voiced    int64  // samples in frames above the threshold
	tail      int64  // samples in the silent frames since the last voiced one
	total     int64  // samples measured
	sumSq     uint64 // sum of squares of all samples (no overflow before 500 h)
	peak      int32  // largest absolute sample value
	barge     uint64 // frame sum of squares at the barge-in level
	run       int    // frames in a row above the barge-in level, up to onsetFrames
	onsets    int64  // times speech started: onsetFrames such frames in a row after a lower one
}

// onsetFrames is how many 20 ms frames in a row above the barge-in level
// make speech start (barge-in): 240 ms, longer than a click, a cough or a
// key's tone leaking through.
const onsetFrames = 12

// bargeInAbove is how far above the silence threshold a frame must be to
// count towards barge-in: a caller's voice into the phone is -30 to
// -15 dBFS, while background noise or a line's echo of our prompt that is
// just above the silence threshold must not cut the greeting short.
const bargeInAbove = 10 // dB

func newMeter(thresholdDBFS float64) meter {
	var m meter
	m.setThreshold(thresholdDBFS)
	return m
}

// setThreshold sets the silence threshold and the barge-in level above it.
func (m *meter) setThreshold(dbfs float64) {
	m.threshold, m.barge = dbfsToSumSq(dbfs), dbfsToSumSq(dbfs+bargeInAbove)
}

// add measures s.
func (m *meter) add(s []int16) {
	for _, v := range s {
		x := int32(v)
		if x < 0 {
			x = -x
		}
		if x > m.peak {
			m.peak = x
		}
		sq := uint64(x * x)
		m.frameSq += sq
		m.frameN++
		if m.frameN == meterFrame {
			if m.frameSq > m.threshold {
				m.voiced += meterFrame
				m.tail = 0
			} else {
				m.tail += meterFrame
			}
			switch {
			case m.frameSq <= m.barge:
				m.run = 0
			case m.run < onsetFrames:
				m.run++
				if m.run == onsetFrames {
					m.onsets++
				}
			}
			m.sumSq += m.frameSq
			m.frameSq, m.frameN = 0, 0
		}
	}
	m.total += int64(len(s))
}

// peakDBFS returns the peak level in dBFS (-inf for digital silence).
func (m *meter) peakDBFS() float64 {
	return 20 * math.Log10(float64(m.peak)/32768)
}

// rmsDBFS returns the RMS level of all samples in dBFS (-inf for digital
// silence or nothing measured).
func (m *meter) rmsDBFS() float64 {
	if m.total == 0 {
		return math.Inf(-1)
	}
	sum := float64(m.sumSq + m.frameSq)
	return 10 * math.Log10(sum/float64(m.total)/(32768*32768))
}

// reset is a fresh meter with the same thresholds.
func (m *meter) reset() { *m = meter{threshold: m.threshold, barge: m.barge} }
