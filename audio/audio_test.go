package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// tone is a sine component of a test signal.
type tone struct {
	hz, amp float64
}

// signal returns n frames at rate of the sum of tones, with chans channels;
// channel c is scaled by gains[c] (1 if gains is short).
func signal(rate, n, chans int, gains []float64, tones ...tone) [][]float64 {
	frames := make([][]float64, n)
	for i := range frames {
		var v float64
		for _, t := range tones {
			v += t.amp * math.Sin(2*math.Pi*t.hz*float64(i)/float64(rate))
		}
		frames[i] = make([]float64, chans)
		for c := range chans {
			g := 1.0
			if c < len(gains) {
				g = gains[c]
			}
			frames[i][c] = v * g
		}
	}
	return frames
}

// pcmBytes encodes frames of values in [-1, 1) as little-endian integer PCM.
func pcmBytes(frames [][]float64, bits int) []byte {
	var b []byte
	for _, f := range frames {
		for _, v := range f {
			switch bits {
			case 8:
				b = append(b, byte(math.Round(v*127)+128))
			case 16:
				b = binary.LittleEndian.AppendUint16(b, uint16(int16(math.Round(v*32767))))
			case 24:
				x := int32(math.Round(v * (1<<23 - 1)))
				b = append(b, byte(x), byte(x>>8), byte(x>>16))
			case 32:
				b = binary.LittleEndian.AppendUint32(b, uint32(int32(math.Round(v*(1<<31-1)))))
			}
		}
	}
	return b
}

// rawWAV builds a WAV file by hand: a fmt chunk (WAVE_FORMAT_EXTENSIBLE with
// the tag as sub-format if ext), any extra chunks, then data.
func rawWAV(tag uint16, rate, bits, chans int, ext bool, data []byte, extra ...[]byte) []byte {
	le := binary.LittleEndian
	align := chans * ((bits + 7) / 8)
	var fmtc []byte
	fmtTag := tag
	if ext {
		fmtTag = tagExtensible
	}
	fmtc = le.AppendUint16(fmtc, fmtTag)
	fmtc = le.AppendUint16(fmtc, uint16(chans))
	fmtc = le.AppendUint32(fmtc, uint32(rate))
	fmtc = le.AppendUint32(fmtc, uint32(rate*align))
	fmtc = le.AppendUint16(fmtc, uint16(align))
	fmtc = le.AppendUint16(fmtc, uint16(bits))
	if ext {
		fmtc = le.AppendUint16(fmtc, 22)           // cbSize
		fmtc = le.AppendUint16(fmtc, uint16(bits)) // valid bits
		fmtc = le.AppendUint32(fmtc, 0)            // channel mask
		fmtc = le.AppendUint16(fmtc, tag)          // SubFormat GUID …
		fmtc = append(fmtc, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71)
	}
	body := []byte("WAVE")
	body = append(body, chunk("fmt ", fmtc)...)
	for _, e := range extra {
		body = append(body, e...)
	}
	body = append(body, chunk("data", data)...)
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...), body...)
}

// chunk returns a RIFF chunk, padded to an even size.
func chunk(id string, data []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// goAudioWAV writes frames with go-audio/wav's encoder, as an admin's tool
// would, and returns the file's bytes.
func goAudioWAV(t *testing.T, rate, bits int, frames [][]float64) []byte {
	t.Helper()
	chans := len(frames[0])
	buf := &audio.IntBuffer{Format: &audio.Format{NumChannels: chans, SampleRate: rate}, SourceBitDepth: bits}
	full := float64(int(1)<<(bits-1) - 1)
	for _, f := range frames {
		for _, v := range f {
			x := int(math.Round(v * full))
			if bits == 8 { // unsigned
				x += 128
			}
			buf.Data = append(buf.Data, x)
		}
	}
	path := filepath.Join(t.TempDir(), "in.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	e := wav.NewEncoder(f, rate, bits, chans, 1)
	if err := e.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// amplitude measures, with the Goertzel algorithm, the amplitude of the hz
// component of s (full scale 1). Use a whole number of cycles.
func amplitude(s []int16, hz float64) float64 {
	w := 2 * math.Pi * hz / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v)/32768 + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(power) / float64(len(s))
}

func db(x float64) float64 { return 20 * math.Log10(x) }

func TestDecodeWAVConversion(t *testing.T) {
	const dur = 1 // second
	tests := []struct {
		name        string
		rate, bits  int
		gains       []float64 // per channel: they average 1, and keep peaks below full scale
		ext, goEnc  bool
		minRejectDB float64 // how far below the 1 kHz tone the 6.3 kHz alias must be
	}{
		{name: "8k 16-bit mono", rate: 8000, bits: 16, gains: []float64{1}},
		{name: "8k 8-bit mono", rate: 8000, bits: 8, gains: []float64{1}},
		{name: "6k 16-bit mono (upsampled)", rate: 6000, bits: 16, gains: []float64{1}},
		{name: "11.025k 16-bit mono", rate: 11025, bits: 16, gains: []float64{1}},
		{name: "16k 16-bit stereo", rate: 16000, bits: 16, gains: []float64{1.2, 0.8}, minRejectDB: 70},
		{name: "22.05k 32-bit mono", rate: 22050, bits: 32, gains: []float64{1}, minRejectDB: 70},
		{name: "44.1k 24-bit stereo", rate: 44100, bits: 24, gains: []float64{1.2, 0.8}, goEnc: true, minRejectDB: 70},
		{name: "48k 8-bit mono", rate: 48000, bits: 8, gains: []float64{1}, goEnc: true, minRejectDB: 40},
		{name: "48k 24-bit 3ch extensible", rate: 48000, bits: 24, gains: []float64{1.2, 0.6, 1.2}, ext: true, minRejectDB: 70},
		{name: "96k 16-bit stereo", rate: 96000, bits: 16, gains: []float64{0.8, 1.2}, minRejectDB: 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tones := []tone{{1000, 0.5}}
			if tt.minRejectDB > 0 {
				tones = append(tones, tone{6300, 0.3})
			}
			frames := signal(tt.rate, tt.rate*dur, len(tt.gains), tt.gains, tones...)
			var file []byte
			if tt.goEnc {
				file = goAudioWAV(t, tt.rate, tt.bits, frames)
			} else {
				file = rawWAV(tagPCM, tt.rate, tt.bits, len(tt.gains), tt.ext, pcmBytes(frames, tt.bits))
			}
			got, err := DecodeWAV(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if d := len(got) - SampleRate*dur; d < -1 || d > 1 {
				t.Fatalf("got %d samples, want %d ±1", len(got), SampleRate*dur)
			}
			mid := got[1000:7000] // away from the filter's edges; 750 cycles of 1 kHz
			if a := amplitude(mid, 1000); math.Abs(db(a/0.5)) > 0.5 {
				t.Errorf("1 kHz at %.1f dB of the input, want 0 ±0.5 dB", db(a/0.5))
			}
			if tt.minRejectDB > 0 {
				alias := amplitude(mid, 1700) // 6.3 kHz folds to 8 - 6.3 = 1.7 kHz
				if r := db(0.5 / alias); r < tt.minRejectDB {
					t.Errorf("6.3 kHz alias only %.1f dB below the 1 kHz tone, want ≥ %v dB", r, tt.minRejectDB)
				}
			}
		})
	}
}

func TestDecodeWAVExact(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1234, -4321}
	var data []byte
	for _, v := range in {
		data = binary.LittleEndian.AppendUint16(data, uint16(v))
	}
	tests := []struct {
		name string
		file []byte
		want []int16
	}{
		{"16-bit", rawWAV(tagPCM, 8000, 16, 1, false, data), in},
		{"LIST chunk of odd size first", rawWAV(tagPCM, 8000, 16, 1, false, data, chunk("LIST", []byte("INFOabc"))), in},
		{"cut short, half sample", rawWAV(tagPCM, 8000, 16, 1, false, data)[:44+5], in[:2]},
		{"placeholder size of a pipe", func() []byte {
			b := rawWAV(tagPCM, 8000, 16, 1, false, data)
			binary.LittleEndian.PutUint32(b[40:], 0x7ffff000)
			return b
		}(), in},
		{"size 0 (crashed in its first second)", func() []byte {
			b := rawWAV(tagPCM, 8000, 16, 1, false, data)
			binary.LittleEndian.PutUint32(b[40:], 0)
			return b
		}(), in},
		{"µ-law", rawWAV(tagMuLaw, 8000, 8, 1, false, []byte{0xff, 0x80, 0x00, 0x7f}), []int16{0, 32124, -32124, 0}},
		{"A-law", rawWAV(tagALaw, 8000, 8, 1, false, []byte{0xd5, 0x55, 0xaa, 0x2a}), []int16{8, -8, 32256, -32256}},
		{"8-bit", rawWAV(tagPCM, 8000, 8, 1, false, []byte{128, 0, 255, 192}), []int16{0, -32768, 32512, 16384}},
		{"24-bit", rawWAV(tagPCM, 8000, 24, 1, false, []byte{0, 0, 0x80, 0xff, 0xff, 0x7f, 0, 1, 0}), []int16{-32768, 32767, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	pcm := make([]byte, 100)
	tests := []struct {
		name    string
		file    []byte
		is      error
		message string
	}{
		{"empty", nil, ErrNotWAV, "not a WAV file"},
		{"text", []byte("this is not a WAV file at all"), ErrNotWAV, "not a WAV file"},
		{"float", rawWAV(tagFloat, 44100, 32, 2, false, pcm), ErrUnsupportedWAV, "32-bit float is not supported, convert with: sox in.wav -b 16 out.wav"},
		{"extensible float", rawWAV(tagFloat, 48000, 32, 2, true, pcm), ErrUnsupportedWAV, "32-bit float is not supported"},
		{"IMA ADPCM", rawWAV(0x11, 8000, 4, 1, false, pcm), ErrUnsupportedWAV, "0x0011 (IMA ADPCM) is not supported, convert with: sox"},
		{"rate too low", rawWAV(tagPCM, 1000, 16, 1, false, pcm), ErrUnsupportedWAV, "1000 Hz"},
		{"no data chunk", rawWAV(tagPCM, 8000, 16, 1, false, nil)[:36], ErrInvalidWAV, "no data chunk"},
		{"truncated fmt", rawWAV(tagPCM, 8000, 16, 1, false, nil)[:28], ErrInvalidWAV, "fmt"},
		{"bad block align", func() []byte {
			b := rawWAV(tagPCM, 8000, 16, 1, false, pcm)
			b[32] = 3
			return b
		}(), ErrInvalidWAV, "block align"},
		{"RF64", append([]byte("RF64\xff\xff\xff\xffWAVE"), make([]byte, 40)...), ErrUnsupportedWAV, "RF64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(tt.file))
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got error %v, want %v containing %q", err, tt.is, tt.message)
			}
		})
	}
}

func TestSilenceConcat(t *testing.T) {
	for _, tt := range []struct {
		d       time.Duration
		samples int
		isNil   bool
	}{
		{d: 120 * time.Millisecond, samples: 960},
		{d: 125 * time.Microsecond, samples: 1},
		{d: 249 * time.Microsecond, samples: 1}, // rounded down
		{d: 124 * time.Microsecond, samples: 0}, // less than a sample: empty, not nil
		{d: 0, isNil: true},
		{d: -time.Second, isNil: true},
	} {
		s := Silence(tt.d)
		if len(s) != tt.samples || (s == nil) != tt.isNil {
			t.Errorf("Silence(%v) = %d samples (nil %t), want %d (nil %t)", tt.d, len(s), s == nil, tt.samples, tt.isNil)
		}
		if slices.ContainsFunc(s, func(v int16) bool { return v != 0 }) {
			t.Errorf("Silence(%v) is not all zeros", tt.d)
		}
	}
	got := Concat([]int16{1, 2}, nil, []int16{3})
	if !slices.Equal(got, []int16{1, 2, 3}) {
		t.Errorf("Concat = %v", got)
	}
}

func FuzzDecodeWAV(f *testing.F) {
	pcm := pcmBytes(signal(16000, 64, 2, nil, tone{1000, 0.5}), 16)
	f.Add(rawWAV(tagPCM, 8000, 16, 1, false, pcm))
	f.Add(rawWAV(tagPCM, 16000, 16, 2, false, pcm))
	f.Add(rawWAV(tagPCM, 44100, 24, 3, true, pcm[:63]))
	f.Add(rawWAV(tagMuLaw, 8000, 8, 1, false, pcm))
	f.Add(rawWAV(tagPCM, 8000, 16, 1, false, pcm, chunk("LIST", []byte("INFOx"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeWAV(bytes.NewReader(b))
		if err != nil && s != nil {
			t.Errorf("audio and an error")
		}
	})
}

// amplitudeF is amplitude for the resampler's float output.
func amplitudeF(s []float32, hz float64) float64 {
	w := 2 * math.Pi * hz / SampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(s1*s1+s2*s2-coeff*s1*s2) / float64(len(s))
}

// TestResampleResponse measures the anti-alias filter before quantisation:
// flat across the telephone band, and what lies above 4 kHz (which would fold
// back into it) gone.
func TestResampleResponse(t *testing.T) {
	for _, rate := range []int{11025, 16000, 22050, 44100, 48000} {
		for _, hz := range []float64{300, 1000, 2000, 3000, 3200, 3400, 4100, 4200, 5000, 6300, 9000, 15000, 20000} {
			if hz >= float64(rate)/2 {
				continue
			}
			x := make([]float32, rate)
			for i := range x {
				x[i] = float32(0.5 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
			}
			y := resample(x, rate)[1000:7000]
			out := hz
			if hz > SampleRate/2 { // where it would fold to
				out = math.Abs(SampleRate*math.Round(hz/SampleRate) - hz)
			}
			gain := db(amplitudeF(y, out) / 0.5)
			switch {
			case hz <= 3200 && math.Abs(gain) > 0.1:
				t.Errorf("%d Hz input: %v Hz at %.2f dB, want 0 ±0.1 dB", rate, hz, gain)
			case hz == 3400 && gain < -1:
				t.Errorf("%d Hz input: %v Hz at %.2f dB, want ≥ -1 dB", rate, hz, gain)
			case hz > 4000 && gain > -85:
				t.Errorf("%d Hz input: %v Hz folds to %v Hz at %.1f dB, want ≤ -85 dB", rate, hz, out, gain)
			}
		}
	}
}

// TestDecodeWAVSoxFiles reads files written by sox, the tool admins are told
// to use, rather than by this package's tests. They are 0.2 s of 1 kHz at
// half scale, made with:
//
//	sox -D -n -r RATE -c CHANNELS -b BITS -e ENCODING testdata/sox-….wav synth 0.2 sine 1000 vol 0.5
//
// sox writes WAVE_FORMAT_EXTENSIBLE for 24 and 32 bits and more than two
// channels, and a fact chunk for A-law, µ-law and ADPCM.
func TestDecodeWAVSoxFiles(t *testing.T) {
	tests := []struct {
		file string
		is   error
	}{
		{file: "sox-8k-ulaw.wav"},
		{file: "sox-8k-alaw.wav"},
		{file: "sox-11k025-16bit.wav"},
		{file: "sox-16k-32bit.wav"},
		{file: "sox-22k05-16bit-6ch.wav"},
		{file: "sox-44k1-24bit-stereo.wav"},
		{file: "sox-48k-8bit.wav"},
		{file: "sox-16k-float.wav", is: ErrUnsupportedWAV},
		{file: "sox-8k-ima-adpcm.wav", is: ErrUnsupportedWAV},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := DecodeWAVFile(filepath.Join("testdata", tt.file))
			if tt.is != nil {
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), "convert with: sox") {
					t.Errorf("got %v, want %v with a sox hint", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := len(s) - 1600; d < -1 || d > 1 {
				t.Errorf("%d samples, want 1600 ±1", len(s))
			}
			if a := amplitude(s[200:1400], 1000); math.Abs(db(a/0.5)) > 0.3 {
				t.Errorf("1 kHz at %.2f dB of the original", db(a/0.5))
			}
		})
	}
}

// BenchmarkDecodeWAV measures decoding 10 s of an admin's 44.1 kHz 24-bit
// stereo prompt down to 8 kHz mono.
func BenchmarkDecodeWAV(b *testing.B) {
	file := rawWAV(tagPCM, 44100, 24, 2, true, pcmBytes(signal(44100, 441000, 2, nil, tone{1000, 0.5}), 24))
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeWAV(bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
	}
}
