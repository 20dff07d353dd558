package audio

import "time"

// SampleRate is the rate of all audio in this package: 8 kHz, mono, int16.
const SampleRate = 8000

// Silence returns SamplesIn(d) zero samples at SampleRate: d of silence,
// rounded down to a whole sample (125 µs), so that a d shorter than one
// sample gives an empty slice; it returns nil when d is not positive.
func Silence(d time.Duration) []int16 {
	if d <= 0 {
		return nil
	}
	return make([]int16, SamplesIn(d))
}

// Concat returns the parts one after the other in a single new slice.
func Concat(parts ...[]int16) []int16 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]int16, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// SamplesIn returns the number of samples in d at SampleRate, rounded down.
func SamplesIn(d time.Duration) int {
	return int(int64(d) * SampleRate / int64(time.Second))
}

// DurationOf returns how long n samples at SampleRate last.
func DurationOf(n int64) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}
