package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte/audio"
)

func samples(d time.Duration) int { return int(d * SampleRate / time.Second) }

// voice is a speech-like signal of length d: syllables of 120–260 ms of a
// vowel-like harmonic sound (f0 110–190 Hz, formant-ish weighting) with an
// attack and decay, separated by 30–90 ms of near silence, as a sentence
// said without stopping. Its RMS over the whole length is level dBFS.
func voice(d time.Duration, level float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 7))
	n := samples(d)
	x := make([]float64, n)
	for i := 0; i < n; {
		syl := samples(time.Duration(120+r.IntN(140)) * time.Millisecond)
		f0 := 110 + r.Float64()*80
		for j := 0; j < syl && i+j < n; j++ {
			t := float64(j) / SampleRate
			env := math.Sin(math.Pi * float64(j) / float64(syl))
			var v float64
			for h := 1; h <= 12; h++ {
				f := f0 * float64(h)
				w := math.Exp(-math.Pow((f-700)/500, 2)) + 0.5*math.Exp(-math.Pow((f-1500)/600, 2)) + 0.1
				v += w * math.Sin(2*math.Pi*f*t)
			}
			x[i+j] = env * v
		}
		i += syl + samples(time.Duration(30+r.IntN(60))*time.Millisecond)
	}
	return scale(x, level)
}

// noise is d of white (or pink) noise at level dBFS RMS.
func noise(d time.Duration, level float64, pink bool, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 11))
	x := make([]float64, samples(d))
	var b0, b1, b2 float64
	for i := range x {
		w := r.NormFloat64()
		if pink { // Paul Kellet's economy filter
			b0 = 0.99765*b0 + w*0.0990460
			b1 = 0.96300*b1 + w*0.2965164
			b2 = 0.57000*b2 + w*1.0526913
			w = b0 + b1 + b2 + w*0.1848
		}
		x[i] = w
	}
	return scale(x, level)
}

// scale brings x to an RMS of level dBFS.
func scale(x []float64, level float64) []int16 {
	var sq float64
	for _, v := range x {
		sq += v * v
	}
	rms := math.Sqrt(sq / float64(len(x)))
	g := 32768 * math.Pow(10, level/20) / rms
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v*g))))
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, samples(d)) }

// mix adds b into a from offset at (a is extended as needed).
func mix(a, b []int16, at time.Duration) []int16 {
	off := samples(at)
	for len(a) < off+len(b) {
		a = append(a, 0)
	}
	for i, v := range b {
		a[off+i] = int16(max(-32768, min(32767, int32(a[off+i])+int32(v))))
	}
	return a
}

func cat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// run feeds s to a detector 160 samples at a time, as the media path does,
// and returns it with the times at which it signalled barge-in.
func run(c Config, s []int16) (*Detector, []time.Duration) {
	d := New(c)
	var barges []time.Duration
	for i := 0; i < len(s); i += FrameSamples {
		d.Write(s[i:min(len(s), i+FrameSamples)])
		select {
		case <-d.BargeIn():
			barges = append(barges, time.Duration(i+FrameSamples)*time.Second/SampleRate)
		default:
		}
	}
	return d, barges
}

// A short utterance at any level never cuts a prompt, and its speech is
// counted; a sustained one does, once it has lasted about 1.5 s.
func TestUtterances(t *testing.T) {
	for _, level := range []float64{-35, -28, -22, -15} {
		for _, dur := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second, 1300 * time.Millisecond, 2 * time.Second, 3 * time.Second} {
			t.Run(fmt.Sprintf("%s at %.0f dBFS", dur, level), func(t *testing.T) {
				s := cat(silence(500*time.Millisecond), voice(dur, level, uint64(dur)), silence(2*time.Second))
				d, barges := run(Config{}, s)
				sp := d.Speech()
				if sp < dur/2 || sp > dur+DefaultHangover {
					t.Errorf("speech counted %s, want about %s", sp, dur)
				}
				if d.Segments() < 1 {
					t.Errorf("no segment")
				}
				sustained := dur >= 1500*time.Millisecond && level >= -28
				switch {
				case !sustained && len(barges) > 0:
					t.Errorf("a %s utterance cut the prompt at %v", dur, barges)
				case sustained && len(barges) != 1:
					t.Errorf("a %s utterance signalled barge-in %d times (%v), want once", dur, len(barges), barges)
				case sustained:
					after := barges[0] - 500*time.Millisecond
					if after < 1400*time.Millisecond || after > 1800*time.Millisecond {
						t.Errorf("barge-in %s after the start of speech, want about 1.5 s", after)
					}
				}
				if q := d.Quiet(); q < 1800*time.Millisecond || q > 2100*time.Millisecond {
					t.Errorf("quiet %s after the speech, want about 2 s", q)
				}
			})
		}
	}
}

// "Allô ?", a pause to listen, "Allô ?" again, "oui bonjour": each is a
// segment of its own, none long enough to cut the greeting.
func TestSpeechThatStopsToListen(t *testing.T) {
	s := cat(silence(300*time.Millisecond), voice(600*time.Millisecond, -22, 1), silence(700*time.Millisecond),
		voice(600*time.Millisecond, -22, 2), silence(900*time.Millisecond), voice(1200*time.Millisecond, -20, 3), silence(time.Second))
	d, barges := run(Config{}, s)
	if len(barges) != 0 {
		t.Errorf("barge-in at %v", barges)
	}
	if n := d.Segments(); n != 3 {
		t.Errorf("%d segments, want 3", n)
	}
}

// Noise alone is never speech, whatever its colour, from the answer on or
// starting mid-call; speech in it is.
func TestNoise(t *testing.T) {
	for _, pink := range []bool{false, true} {
		for _, level := range []float64{-55, -45, -38} {
			name := fmt.Sprintf("white %.0f dBFS", level)
			if pink {
				name = fmt.Sprintf("pink %.0f dBFS", level)
			}
			t.Run(name, func(t *testing.T) {
				n := noise(20*time.Second, level, pink, 5)
				d, barges := run(Config{}, n)
				if sp := d.Speech(); sp > 200*time.Millisecond || len(barges) > 0 {
					t.Errorf("noise alone: %s of speech, barge-in at %v (floor %.1f dBFS)", sp, barges, d.FloorDBFS())
				}
				// The same noise starting 2 s into the call, after digital silence.
				d, barges = run(Config{}, cat(silence(2*time.Second), n))
				if sp := d.Speech(); sp > 1200*time.Millisecond || len(barges) > 0 {
					t.Errorf("noise starting mid-call: %s of speech, cut the prompt at %v", sp, barges)
				}
				// Speech 12 dB above the noise, over it.
				v := voice(3*time.Second, level+12, 9)
				d, barges = run(Config{}, mix(append([]int16(nil), n...), v, 8*time.Second))
				if sp := d.Speech(); level+12 > DefaultThreshold && (sp < 1500*time.Millisecond || sp > 3500*time.Millisecond) {
					t.Errorf("3 s of speech over the noise: %s counted", sp)
				}
				if level+12 > DefaultBargeLevel && len(barges) != 1 {
					t.Errorf("3 s of speech at %.0f dBFS over the noise: barge-in %v, want once", level+12, barges)
				}
			})
		}
	}
}

// A quiet handset: speech at -45 dBFS on a quiet line is speech for the
// message (never silence that ends it), though too quiet to cut a prompt.
func TestQuietSpeech(t *testing.T) {
	for _, level := range []float64{-45, -41} {
		s := cat(noise(time.Second, -70, false, 3), voice(4*time.Second, level, 4), noise(3*time.Second, -70, false, 6))
		d, barges := run(Config{Threshold: -50}, s)
		if sp := d.Speech(); sp < 2*time.Second {
			t.Errorf("%.0f dBFS: %s of 4 s counted as speech", level, sp)
		}
		if len(barges) > 0 {
			t.Errorf("%.0f dBFS: barge-in at %v", level, barges)
		}
	}
}

// A click or a key's tone leaking through (under MinSpeech) is not speech.
func TestClicksAreNotSpeech(t *testing.T) {
	var s []int16
	for range 10 {
		s = cat(s, silence(400*time.Millisecond), voice(60*time.Millisecond, -15, 2))
	}
	d, _ := run(Config{}, s)
	if d.Segments() != 0 || d.Speech() != 0 {
		t.Errorf("clicks: %d segments, %s of speech", d.Segments(), d.Speech())
	}
}

// Real speech, as espeak-ng says it: French callers' openings are short,
// a message is not.
func TestSpokenSignals(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("espeak-ng is missing: apt-get install espeak-ng sox")
		}
		t.Skip("espeak-ng missing")
	}
	cases := []struct {
		text     string
		level    float64
		noise    float64 // 0: none
		sustains bool
	}{
		{"Allô ?", -22, 0, false},
		{"Allô ?", -22, -45, false},
		{"Oui, bonjour.", -20, 0, false},
		{"Hmm.", -25, 0, false},
		{"Bonjour, c'est la société Durand, notre serveur de messagerie ne répond plus depuis ce soir.", -22, 0, true},
		{"Bonjour, c'est la société Durand, notre serveur de messagerie ne répond plus depuis ce soir.", -25, -45, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q at %.0f dBFS, noise %.0f", c.text, c.level, c.noise), func(t *testing.T) {
			sp := speak(t, c.text, c.level)
			s := cat(silence(300*time.Millisecond), sp, silence(2*time.Second))
			if c.noise != 0 {
				s = mix(noise(durationOf(len(s))+time.Second, c.noise, true, 1), s, time.Second)
			}
			d, barges := run(Config{}, s)
			t.Logf("%s said, %s of speech, %d segment(s), barge-in %v", durationOf(len(sp)), d.Speech(), d.Segments(), barges)
			if d.Speech() < durationOf(len(sp))/3 {
				t.Errorf("speech %s of %s said", d.Speech(), durationOf(len(sp)))
			}
			if c.sustains != (len(barges) > 0) {
				t.Errorf("barge-in %v, want sustained=%v", barges, c.sustains)
			}
		})
	}
}

func durationOf(n int) time.Duration { return time.Duration(n) * time.Second / SampleRate }

// speak has espeak-ng say text in French, as telephone audio at level dBFS
// RMS over its voiced part.
func speak(t *testing.T, text string, level float64) []int16 {
	t.Helper()
	dir := t.TempDir()
	raw, wav := filepath.Join(dir, "raw.wav"), filepath.Join(dir, "8k.wav")
	if out, err := exec.Command("espeak-ng", "-v", "fr", "-w", raw, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	if out, err := exec.Command("sox", raw, "-r", "8000", "-c", "1", "-b", "16", wav, "silence", "1", "0.02", "-50d", "reverse", "silence", "1", "0.02", "-50d", "reverse").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	s, err := audio.DecodeWAVFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = float64(v)
	}
	return scale(x, level)
}

// The per-packet path allocates nothing.
func BenchmarkWrite(b *testing.B) {
	d := New(Config{})
	s := voice(time.Second, -22, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		off := (i * FrameSamples) % (len(s) - FrameSamples)
		d.Write(s[off : off+FrameSamples])
	}
}
