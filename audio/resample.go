package audio

import (
	"math"
	"sync"
)

// Resampling to SampleRate is band-limited interpolation (J. O. Smith's
// "bandlimited interpolation" with a Kaiser-windowed sinc, as in
// libsamplerate and sox): each output sample is the input convolved with a
// low-pass kernel centred on the output instant. The kernel's cutoff is
// rolloff × the lower of the two Nyquist frequencies: 3.6 kHz when
// downsampling to 8 kHz, so a 6 kHz tone in a 44.1 kHz prompt does not fold
// back to 2 kHz. With sincZeros zero crossings each side and Kaiser β = 8.6 the
// stop band is ~85 dB down from ~4.0 kHz and the pass band is flat to ~3.2 kHz
// (the telephone band is 300–3400 Hz).
const (
	rolloff   = 0.9
	sincZeros = 24  // zero crossings of the sinc on each side
	sincRes   = 512 // kernel table entries per zero crossing
	kaiserB   = 8.6
)

// sincTable holds the right half of the windowed sinc at sincRes points per
// zero crossing, plus a guard entry for the interpolation; built once.
var sincTable = sync.OnceValue(func() []float64 {
	n := sincZeros * sincRes
	t := make([]float64, n+2)
	i0b := besselI0(kaiserB)
	for i := 0; i <= n; i++ {
		x := float64(i) / sincRes // in zero crossings
		s := 1.0
		if i > 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		r := x / sincZeros
		t[i] = s * besselI0(kaiserB*math.Sqrt(1-r*r)) / i0b
	}
	return t
})

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (converges fast for the arguments used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// resample converts x, mono audio at rate from, to SampleRate. The output
// lasts as long as the input, rounded to the nearest output sample.
func resample(x []float32, from int) []float32 {
	if from == SampleRate || len(x) == 0 {
		return x
	}
	table := sincTable()
	scale := rolloff * min(1, float64(SampleRate)/float64(from)) // cutoff / input Nyquist
	half := sincZeros / scale                                    // kernel half-width in input samples
	step := scale * sincRes                                      // table entries per input sample
	nOut := int((int64(len(x))*SampleRate + int64(from)/2) / int64(from))
	out := make([]float32, nOut)
	for m := range out {
		// The output instant in input samples: whole part i, fraction frac.
		pos := int64(m) * int64(from)
		i := int(pos / SampleRate)
		frac := float64(pos%SampleRate) / SampleRate
		t := float64(i) + frac
		lo := max(0, int(math.Ceil(t-half)))
		hi := min(len(x)-1, int(math.Floor(t+half)))
		var acc float64
		for k := lo; k <= hi; k++ {
			u := math.Abs(t-float64(k)) * step
			j := int(u)
			if j >= sincZeros*sincRes {
				continue
			}
			f := u - float64(j)
			h := table[j] + f*(table[j+1]-table[j])
			acc += float64(x[k]) * h
		}
		out[m] = float32(acc * scale)
	}
	return out
}
