package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// All audio here is telephone audio: 8000 Hz, mono, 16-bit.
const sampleRate = 8000

// --- The caller's audio ----------------------------------------------------

// tone is a stretch of sine at freq Hz (0: silence).
type tone struct {
	freq float64
	dur  time.Duration
}

// patternUnit is what the caller says: easy to find again in a recording
// with a per-100 ms frequency scan.
var patternUnit = []tone{
	{0, 500 * time.Millisecond},
	{600, time.Second},
	{0, 300 * time.Millisecond},
	{2400, time.Second},
}

func samplesIn(d time.Duration) int { return int(d * sampleRate / time.Second) }

func durationOf(n int) time.Duration { return time.Duration(n) * time.Second / sampleRate }

// synth renders tones peaking at -6 dBFS with 5 ms ramps (no clicks),
// their level moving like speech.
func synth(parts ...tone) []int16 {
	var out []int16
	for _, p := range parts {
		n := samplesIn(p.dur)
		ramp := samplesIn(5 * time.Millisecond)
		for i := range n {
			if p.freq == 0 {
				out = append(out, 0)
				continue
			}
			g := 1.0
			if i < ramp {
				g = float64(i) / float64(ramp)
			} else if n-i < ramp {
				g = float64(n-i) / float64(ramp)
			}
			// Syllables: the level swings 20 dB four times a second, as a
			// voice's does; a steady tone would be taken for noise.
			g *= 0.55 + 0.45*math.Cos(2*math.Pi*4*float64(i)/sampleRate)
			v := 0.5 * 32767 * g * math.Sin(2*math.Pi*p.freq*float64(i)/sampleRate)
			out = append(out, int16(math.Round(v)))
		}
	}
	return out
}

// callerAudio is lead silence, the pattern repeated, then tail silence.
func callerAudio(lead time.Duration, repeats int, tail time.Duration) []int16 {
	parts := []tone{{0, lead}}
	for range repeats {
		parts = append(parts, patternUnit...)
	}
	parts = append(parts, tone{0, tail})
	return synth(parts...)
}

// --- WAV -------------------------------------------------------------------

// writeWAV writes 8 kHz mono 16-bit PCM.
func writeWAV(path string, pcm []int16) error {
	var b bytes.Buffer
	data := len(pcm) * 2
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1)) // PCM
	binary.Write(&b, binary.LittleEndian, uint16(1)) // mono
	binary.Write(&b, binary.LittleEndian, uint32(sampleRate))
	binary.Write(&b, binary.LittleEndian, uint32(sampleRate*2))
	binary.Write(&b, binary.LittleEndian, uint16(2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, pcm)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// readWAV reads a 16-bit PCM WAV, mono or the first channel. It tolerates a
// header whose sizes were never patched (a recording cut by a crash, a dump
// still being written): the data chunk then runs to the end of the file.
func readWAV(path string) (pcm []int16, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%s: not a RIFF/WAVE file", path)
	}
	var channels, bits int
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		switch id {
		case "fmt ":
			if body+16 > len(b) {
				return nil, 0, fmt.Errorf("%s: short fmt chunk", path)
			}
			format := binary.LittleEndian.Uint16(b[body:])
			channels = int(binary.LittleEndian.Uint16(b[body+2:]))
			rate = int(binary.LittleEndian.Uint32(b[body+4:]))
			bits = int(binary.LittleEndian.Uint16(b[body+14:]))
			if format != 1 && format != 0xFFFE || bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("%s: want 16-bit PCM, have format %d, %d bits, %d channels", path, format, bits, channels)
			}
		case "data":
			if channels == 0 {
				return nil, 0, fmt.Errorf("%s: data before fmt", path)
			}
			end := body + size
			if size == 0 || size == 0xFFFFFFFF || end > len(b) {
				end = len(b)
			}
			frame := 2 * channels
			n := (end - body) / frame
			pcm = make([]int16, n)
			for i := range n {
				pcm[i] = int16(binary.LittleEndian.Uint16(b[body+i*frame:]))
			}
			return pcm, rate, nil
		}
		off = body + size + size%2
	}
	return nil, 0, fmt.Errorf("%s: no data chunk", path)
}

// readWAV8k reads a WAV and insists on 8 kHz.
func readWAV8k(t testing.TB, path string) []int16 {
	t.Helper()
	pcm, rate, err := readWAV(path)
	if err != nil {
		t.Fatalf("read WAV: %v", err)
	}
	if rate != sampleRate {
		t.Fatalf("%s: %d Hz, want %d", path, rate, sampleRate)
	}
	return pcm
}

// prompt reads one of astreinte's prompts (the reference for what a caller
// must hear).
func prompt(t testing.TB, lang, name string) []int16 {
	t.Helper()
	return readWAV8k(t, filepath.Join(promptsDir, lang, name+".wav"))
}

func promptLen(t testing.TB, lang, name string) time.Duration {
	t.Helper()
	return durationOf(len(prompt(t, lang, name)))
}

// --- G.711 -----------------------------------------------------------------

// linearToULaw is the G.711 µ-law encoder (with the usual bias and clip).
func linearToULaw(s int16) byte {
	const bias, clip = 0x84, 32635
	v := int(s)
	sign := 0
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > clip {
		v = clip
	}
	v += bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func ulawToLinear(u byte) int16 {
	u = ^u
	sign := u & 0x80
	exp := int(u>>4) & 0x07
	mant := int(u & 0x0F)
	v := ((mant << 3) + 0x84) << exp
	v -= 0x84
	if sign != 0 {
		return int16(-v)
	}
	return int16(v)
}

// linearToALaw is the G.711 A-law encoder (as in the classic Sun g711.c).
func linearToALaw(s int16) byte {
	segEnd := [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
	v := int(s) >> 3
	mask := 0xD5
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for seg < 8 && v > segEnd[seg] {
		seg++
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	out := seg << 4
	if seg < 2 {
		out |= (v >> 1) & 0x0F
	} else {
		out |= (v >> seg) & 0x0F
	}
	return byte(out ^ mask)
}

func alawToLinear(a byte) int16 {
	a ^= 0x55
	sign := a & 0x80
	exp := int(a>>4) & 0x07
	mant := int(a & 0x0F)
	var v int
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if sign != 0 {
		return int16(v)
	}
	return int16(-v)
}

func encodeG711(pcm []int16, alaw bool) []byte {
	out := make([]byte, len(pcm))
	for i, s := range pcm {
		if alaw {
			out[i] = linearToALaw(s)
		} else {
			out[i] = linearToULaw(s)
		}
	}
	return out
}

// --- Finding the tone pattern ----------------------------------------------

// goertzelShare is the share of a window's energy at freq (0..1).
func goertzelShare(x []int16, freq float64) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/sampleRate)
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		energy += f * f
		s0 := f + k*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - k*s1*s2
	return power / (energy * float64(n) / 2)
}

// segment is a run of 100 ms windows of one kind: "600", "2400", "silence"
// or "other".
type segment struct {
	kind  string
	start time.Duration
	dur   time.Duration
}

func (s segment) String() string {
	return fmt.Sprintf("%s@%.1fs/%.1fs", s.kind, s.start.Seconds(), s.dur.Seconds())
}

const scanWindow = 100 * time.Millisecond

// scanTones classifies each 100 ms window and merges runs.
func scanTones(pcm []int16) []segment {
	w := samplesIn(scanWindow)
	var segs []segment
	for i := 0; i+w <= len(pcm); i += w {
		x := pcm[i : i+w]
		var e float64
		for _, v := range x {
			e += float64(v) * float64(v)
		}
		rms := math.Sqrt(e / float64(w))
		kind := "other"
		switch {
		case rms < 100: // about -50 dBFS
			kind = "silence"
		case goertzelShare(x, 600) > 0.5:
			kind = "600"
		case goertzelShare(x, 2400) > 0.5:
			kind = "2400"
		}
		at := durationOf(i)
		if n := len(segs); n > 0 && segs[n-1].kind == kind {
			segs[n-1].dur += scanWindow
			continue
		}
		segs = append(segs, segment{kind: kind, start: at, dur: scanWindow})
	}
	return segs
}

// near reports whether d is within ±tol of want.
func near(d, want time.Duration, tol float64) bool {
	lo := time.Duration(float64(want) * (1 - tol))
	hi := time.Duration(float64(want) * (1 + tol))
	return d >= lo && d <= hi
}

// patternMatch is one 600 Hz then 2400 Hz pair found.
type patternMatch struct {
	at time.Duration // start of the 600 Hz tone
}

// findPattern finds every 1 s 600 Hz tone followed, after at most 0.6 s of
// anything, by a 1 s 2400 Hz tone; both ±20 %.
func findPattern(segs []segment) []patternMatch {
	var out []patternMatch
	for i, s := range segs {
		if s.kind != "600" || !near(s.dur, time.Second, 0.2) {
			continue
		}
		end := s.start + s.dur
		for _, n := range segs[i+1:] {
			if n.start-end > 600*time.Millisecond {
				break
			}
			if n.kind == "2400" {
				if near(n.dur, time.Second, 0.2) {
					out = append(out, patternMatch{at: s.start})
				}
				break
			}
			if n.kind == "600" {
				break
			}
		}
	}
	return out
}

// describeSegments is a short text of the tone segments, for failures.
func describeSegments(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i == 60 {
			fmt.Fprintf(&b, " … (%d more)", len(segs)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// --- Did the caller hear the prompt? ----------------------------------------

// ncc returns the peak normalised cross-correlation of ref inside x, and the
// lag (in samples of x) where ref best fits. Both are compared as waveforms:
// astreinte sends its prompts through G.711, which keeps the waveform, so a
// caller who heard the prompt has a copy correlating near 1. When x is
// shorter than ref, only the start of ref that fits is compared.
func ncc(x, ref []int16) (peak float64, lag int) {
	if len(x) == 0 || len(ref) == 0 {
		return 0, 0
	}
	if len(ref) > len(x) {
		ref = ref[:len(x)]
	}
	m := len(ref)
	n := 1
	for n < len(x)+m {
		n <<= 1
	}
	a := make([]complex128, n)
	b := make([]complex128, n)
	for i, v := range x {
		a[i] = complex(float64(v), 0)
	}
	var refEnergy float64
	for i, v := range ref {
		b[i] = complex(float64(v), 0)
		refEnergy += float64(v) * float64(v)
	}
	if refEnergy == 0 {
		return 0, 0
	}
	fft(a, false)
	fft(b, false)
	for i := range a {
		a[i] *= cmplx.Conj(b[i])
	}
	fft(a, true) // a[k] = Σ x[k+i]·ref[i]
	// Energy of each window of x, from prefix sums.
	prefix := make([]float64, len(x)+1)
	for i, v := range x {
		prefix[i+1] = prefix[i] + float64(v)*float64(v)
	}
	peak = -1
	for k := 0; k+m <= len(x); k++ {
		e := prefix[k+m] - prefix[k]
		if e <= refEnergy*1e-4 { // silence: nothing to compare
			continue
		}
		c := real(a[k]) / math.Sqrt(e*refEnergy)
		if c > peak {
			peak, lag = c, k
		}
	}
	return max(peak, 0), lag
}

// fft is an in-place iterative radix-2 FFT; len(a) must be a power of two.
// With invert it computes the inverse, scaled by 1/n.
func fft(a []complex128, invert bool) {
	n := len(a)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		ang := 2 * math.Pi / float64(size)
		if !invert {
			ang = -ang
		}
		wl := cmplx.Rect(1, ang)
		half := size / 2
		// Twiddles per stage, computed once.
		tw := make([]complex128, half)
		w := complex(1, 0)
		for k := range half {
			tw[k] = w
			w *= wl
		}
		for i := 0; i < n; i += size {
			for k := range half {
				u := a[i+k]
				v := a[i+k+half] * tw[k]
				a[i+k] = u + v
				a[i+k+half] = u - v
			}
		}
	}
	if invert {
		inv := complex(1/float64(n), 0)
		for i := range a {
			a[i] *= inv
		}
	}
}

// --- Self-checks of the analysis, so that a failing e2e test means the
// product, not the ruler. ---------------------------------------------------

func TestAnalysisSelfCheck(t *testing.T) {
	t.Parallel()
	t.Run("g711 round trip", func(t *testing.T) {
		for _, alaw := range []bool{false, true} {
			for _, s := range []int16{0, 1, -1, 100, -100, 1000, -1000, 12345, -12345, 32767, -32768} {
				var back int16
				if alaw {
					back = alawToLinear(linearToALaw(s))
				} else {
					back = ulawToLinear(linearToULaw(s))
				}
				if d := math.Abs(float64(back) - float64(s)); d > math.Abs(float64(s))/16+16 {
					t.Errorf("alaw=%v: %d → %d", alaw, s, back)
				}
			}
		}
		// Known code points: µ-law 0xFF and A-law 0xD5 are (near) zero.
		if v := ulawToLinear(0xFF); v != 0 {
			t.Errorf("µ-law 0xFF = %d, want 0", v)
		}
		if v := alawToLinear(0xD5); v != 8 {
			t.Errorf("A-law 0xD5 = %d, want 8", v)
		}
	})
	t.Run("pattern through G.711", func(t *testing.T) {
		pcm := callerAudio(1234*time.Millisecond, 2, time.Second)
		for _, alaw := range []bool{false, true} {
			enc := encodeG711(pcm, alaw)
			dec := make([]int16, len(enc))
			for i, b := range enc {
				if alaw {
					dec[i] = alawToLinear(b)
				} else {
					dec[i] = ulawToLinear(b)
				}
			}
			segs := scanTones(dec)
			if got := findPattern(segs); len(got) != 2 {
				t.Errorf("alaw=%v: found %d patterns, want 2: %s", alaw, len(got), describeSegments(segs))
			}
		}
	})
	t.Run("correlation finds a prompt", func(t *testing.T) {
		ref := prompt(t, "fr", "greeting_closed")
		other := prompt(t, "fr", "record_instructions")
		// What a caller hears: silence, the prompt through µ-law, more.
		heard := append(make([]int16, 3000), ref...)
		heard = append(heard, other...)
		for i, v := range heard {
			heard[i] = ulawToLinear(linearToULaw(v))
		}
		peak, lag := ncc(heard, ref)
		if peak < 0.95 || lag != 3000 {
			t.Errorf("ncc = %.3f at %d, want > 0.95 at 3000", peak, lag)
		}
		if p, _ := ncc(other, ref); p > 0.5 {
			t.Errorf("ncc of another prompt = %.3f, want < 0.5", p)
		}
	})
}

// --- Small I/O helpers -----------------------------------------------------

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
