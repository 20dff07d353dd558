package audio

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedPrompts(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			// The files themselves are telephone format, and no stray file
			// is embedded.
			entries, err := embeddedPrompts.ReadDir("prompts/" + lang)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, e := range entries {
				files = append(files, strings.TrimSuffix(e.Name(), ".wav"))
				b, err := embeddedPrompts.ReadFile("prompts/" + lang + "/" + e.Name())
				if err != nil {
					t.Fatal(err)
				}
				le := binary.LittleEndian
				if len(b) < 44 || le.Uint16(b[20:]) != tagPCM || le.Uint16(b[22:]) != 1 ||
					le.Uint32(b[24:]) != SampleRate || le.Uint16(b[34:]) != 16 {
					t.Errorf("%s: not a 8 kHz mono 16-bit PCM WAV", e.Name())
				}
			}
			if !slices.Equal(files, promptNames) {
				t.Errorf("embedded %s prompts %v, want %v", lang, files, promptNames)
			}

			p, err := LoadPrompts(lang, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Lang() != lang || !slices.Equal(p.Names(), promptNames) {
				t.Fatalf("Lang() = %q, Names() = %v", p.Lang(), p.Names())
			}
			for _, name := range promptNames {
				s := p.Must(name)
				d := DurationOf(int64(len(s)))
				lo, hi := 600*time.Millisecond, 12*time.Second
				switch {
				case name == PromptBeep:
					lo, hi = 400*time.Millisecond, 400*time.Millisecond
				case strings.HasPrefix(name, "digit_") || name == PromptDash:
					lo, hi = 150*time.Millisecond, 800*time.Millisecond
				case isDateWord(name):
					lo, hi = 200*time.Millisecond, 2*time.Second
				}
				if d < lo || d > hi {
					t.Errorf("%s lasts %v, want %v to %v", name, d, lo, hi)
				}
				peak, voiced := levels(s)
				if peak < -3.5 || peak > -2.5 {
					t.Errorf("%s peaks at %.1f dBFS, want -3 (normalised)", name, peak)
				}
				if v := DurationOf(voiced); v < d/3 {
					t.Errorf("%s has %v of voice in %v", name, v, d)
				}
			}
			if a := amplitude(p.Must(PromptBeep)[400:2800], 1000); db(a) < -4 {
				t.Errorf("beep: 1 kHz at %.1f dBFS, want about -3", db(a))
			}
		})
	}
}

func TestNumber(t *testing.T) {
	p, err := LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	gap := len(Silence(digitGap))
	digit := func(c byte) []int16 { return p.Must(digitPrompts[c-'0']) }
	tests := []struct {
		in    string
		parts [][]int16
	}{
		{"2026-000123", [][]int16{digit('2'), digit('0'), digit('2'), digit('6'), p.Must(PromptDash),
			digit('0'), digit('0'), digit('0'), digit('1'), digit('2'), digit('3')}},
		{"+33 6 12", [][]int16{digit('3'), digit('3'), digit('6'), digit('1'), digit('2')}},
		{"7", [][]int16{digit('7')}},
		{"", nil},
		{"anonymous", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := p.Number(tt.in)
			if len(tt.parts) == 0 {
				if got != nil {
					t.Fatalf("Number(%q) has %d samples, want nil", tt.in, len(got))
				}
				return
			}
			var want []int16
			for i, part := range tt.parts {
				if i > 0 {
					want = append(want, make([]int16, gap)...)
				}
				want = append(want, part...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Number(%q): %d samples, want %d: the parts with %d of silence between",
					tt.in, len(got), len(want), gap)
			}
		})
	}
}

func TestSpeakTicket(t *testing.T) {
	tests := []struct{ number, short string }{
		{"2026-000123", "123"},
		{"2026-100000", "100000"},
		{"2026-000000", "0"},
		{"000042", "42"},
		{"T-42", "42"},
		{"2026-", "2026"},
	}
	p, err := LoadPrompts("en", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			if got := ticketShortForm(tt.number); got != tt.short {
				t.Fatalf("short form %q, want %q", got, tt.short)
			}
			if !slices.Equal(p.SpeakTicket(tt.number), p.Number(tt.short)) {
				t.Errorf("SpeakTicket(%q) is not Number(%q)", tt.number, tt.short)
			}
		})
	}
}

func TestMustPanicsOnUnknownName(t *testing.T) {
	p, err := LoadPrompts("en", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Get("nope") != nil {
		t.Error("Get of an unknown name is not nil")
	}
	defer func() {
		if recover() == nil {
			t.Error("Must of an unknown name did not panic")
		}
	}()
	p.Must("nope")
}

func TestLoadPromptsUnknownLanguage(t *testing.T) {
	_, err := LoadPrompts("de", "")
	if !errors.Is(err, ErrUnknownLanguage) || !strings.Contains(err.Error(), "en, fr") {
		t.Errorf("got %v, want ErrUnknownLanguage listing en, fr", err)
	}
}

func TestLoadPromptsOverride(t *testing.T) {
	dir := t.TempDir()
	// An admin's greeting at 44.1 kHz, 24-bit stereo; a beep at 48 kHz, 8-bit.
	greeting := goAudioWAV(t, 44100, 24, signal(44100, 44100*3/2, 2, []float64{1.2, 0.8}, tone{1000, 0.5}))
	beep := goAudioWAV(t, 48000, 8, signal(48000, 48000/4, 1, nil, tone{1000, 0.5}, tone{6300, 0.3}))
	writeFile(t, filepath.Join(dir, "greeting_closed.wav"), greeting)
	writeFile(t, filepath.Join(dir, "beep.WAV"), beep)
	writeFile(t, filepath.Join(dir, "README.txt"), []byte("my prompts"))
	os.Mkdir(filepath.Join(dir, "old"), 0o700)

	p, err := LoadPrompts("fr", dir)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		samples int
	}{
		{PromptGreetingClosed, 12000},
		{PromptBeep, 2000},
	}
	for _, tt := range tests {
		s := p.Must(tt.name)
		if d := len(s) - tt.samples; d < -1 || d > 1 {
			t.Errorf("%s: %d samples, want %d ±1", tt.name, len(s), tt.samples)
		}
		if a := amplitude(s[400:1600], 1000); math.Abs(db(a/0.5)) > 0.5 {
			t.Errorf("%s: 1 kHz at %.1f dB of the original", tt.name, db(a/0.5))
		}
	}
	if !slices.Equal(p.Must(PromptGoodbye), embedded.Must(PromptGoodbye)) {
		t.Error("a prompt without an override file changed")
	}
}

func TestLoadPromptsOverrideErrors(t *testing.T) {
	valid := rawWAV(tagPCM, 8000, 16, 1, false, make([]byte, 1600))
	tests := []struct {
		name  string
		files map[string][]byte
		is    error
		want  []string // in the message
	}{
		{"typo", map[string][]byte{"greting_closed.wav": valid}, ErrUnknownPrompt,
			[]string{"greting_closed.wav", `"greting_closed"`, "valid names: beep, callback_by"}},
		{"not a WAV", map[string][]byte{"goodbye.wav": []byte("RIFX")}, ErrNotWAV,
			[]string{"prompt override ", "goodbye.wav: not a WAV file"}},
		{"float", map[string][]byte{"goodbye.wav": rawWAV(tagFloat, 48000, 32, 1, false, make([]byte, 400))}, ErrUnsupportedWAV,
			[]string{"goodbye.wav: 32-bit float is not supported, convert with: sox in.wav -b 16 out.wav"}},
		{"no audio", map[string][]byte{"goodbye.wav": rawWAV(tagPCM, 8000, 16, 1, false, nil)}, nil,
			[]string{"goodbye.wav: no audio"}},
		{"mp3", map[string][]byte{"goodbye.mp3": []byte("ID3")}, nil,
			[]string{"goodbye.mp3: only .wav files are read"}},
		{"every bad file named", map[string][]byte{"error.wav": []byte("x"), "saved.wav": []byte("y"), "beep.wav": valid}, ErrNotWAV,
			[]string{"error.wav: not a WAV file", "saved.wav: not a WAV file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tt.files {
				writeFile(t, filepath.Join(dir, name), b)
			}
			p, err := LoadPrompts("en", dir)
			if err == nil || p != nil {
				t.Fatalf("got prompts and error %v, want an error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := LoadPrompts("en", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing override directory is not an error")
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLoadPrompts(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadPrompts("fr", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// levels returns the peak of s in dBFS and how many samples lie in 20 ms
// frames whose RMS is above -40 dBFS (voice, not line noise).
func levels(s []int16) (peakDBFS float64, voiced int64) {
	var peak float64
	const frame = SampleRate / 50
	for i := 0; i+frame <= len(s); i += frame {
		var sum float64
		for _, v := range s[i : i+frame] {
			x := float64(v)
			peak = max(peak, math.Abs(x))
			sum += x * x
		}
		if 10*math.Log10(sum/frame/(32768*32768)) > -40 {
			voiced += frame
		}
	}
	return 20 * math.Log10(peak/32768), voiced
}

// isDateWord reports whether name is one word of a spoken date or time.
func isDateWord(name string) bool {
	for _, p := range []string{"weekday_", "month_", "day_", "hour_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == PromptToday || name == PromptTomorrow || name == PromptReopens
}
