package voicemail

import "math"

// meter measures the level of a stream of samples: peak and overall
// energy, for the log and the ticket. Whether the caller speaks is the vad
// package's to say. It allocates nothing.
type meter struct {
	total int64  // samples measured
	sumSq uint64 // sum of squares of all samples (no overflow before 500 h)
	peak  int32  // largest absolute sample value
}

// add measures s.
func (m *meter) add(s []int16) {
	var sq uint64
	for _, v := range s {
		x := int32(v)
		if x < 0 {
			x = -x
		}
		m.peak = max(m.peak, x)
		sq += uint64(x * x)
	}
	m.sumSq += sq
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
	return 10 * math.Log10(float64(m.sumSq)/float64(m.total)/(32768*32768))
}
