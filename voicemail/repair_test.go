package voicemail

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/audio"
)

// crash records in, then drops the recorder as a killed process would: the
// file is closed by the kernel, nothing else happens.
func crash(t *testing.T, path string, meta RecordingMeta, in []int16) {
	t.Helper()
	r, err := NewRecorder(path, meta)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r, in)
	r.f.Close()
}

// talking is n samples of a caller talking (the flow tests' syllables).
func talking(n int) []int16 {
	var s []int16
	for frames := syllables(); len(s) < n; {
		for _, f := range frames {
			s = append(s, f...)
		}
	}
	return s[:n]
}

func TestRepairAfterCrash(t *testing.T) {
	const chunk = recordChunk / 2    // samples the recorder writes at once
	in := talking(7*chunk + chunk/2) // seven chunks written, half a chunk buffered and lost
	flushed := in[:7*chunk]
	tests := []struct {
		name  string
		after func(t *testing.T, part string) // what else the crash left
		want  []int16
	}{
		{"killed", nil, flushed},
		{"killed in the middle of a write, half a sample", func(t *testing.T, part string) {
			appendTo(t, part, []byte{0x12, 0x34, 0x56})
		}, append(slices.Clone(flushed), 0x3412)},
		{"header sizes never written", func(t *testing.T, part string) {
			f, err := os.OpenFile(part, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.WriteAt([]byte{42, 0, 0, 0}, 4) // go-audio/wav's placeholder
			f.WriteAt([]byte{0, 0, 0, 0}, 40)
		}, flushed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "2026", "01", "09", "031502-abc.wav")
			os.MkdirAll(filepath.Dir(path), 0o700)
			crash(t, path, testMeta, in)
			if tt.after != nil {
				tt.after(t, path+".part")
			}

			found, err := RepairRecordings(dir)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(len(tt.want))
			want := Recovered{Path: path, Meta: testMeta, Duration: audio.DurationOf(n)}
			if len(found) == 1 {
				// The caller talked all along: nearly all of it is speech.
				if v := found[0].Voiced; v < want.Duration*2/3 || v > want.Duration {
					t.Errorf("speech %s in %s of talking", v, want.Duration)
				}
				want.Voiced = found[0].Voiced
			}
			if len(found) != 1 || found[0] != want {
				t.Fatalf("found %+v, want %+v", found, want)
			}
			if got := readBack(t, path); !slices.Equal(got, tt.want) {
				t.Errorf("repaired file has %d samples, want the %d written before the crash", len(got), len(tt.want))
			}
			if _, err := os.Stat(path + ".part"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf(".part still there: %v", err)
			}

			// Until the ticket exists, the recording comes back (as closed).
			found, err = RepairRecordings(dir)
			want.Closed = true
			if err != nil || len(found) != 1 || found[0] != want {
				t.Errorf("second pass: %+v, %v; want %+v", found, err, want)
			}
			if err := RemoveSidecar(path); err != nil {
				t.Fatal(err)
			}
			if found, err = RepairRecordings(dir); err != nil || len(found) != 0 {
				t.Errorf("after RemoveSidecar: %+v, %v", found, err)
			}
		})
	}
}

func TestRepairRecordingsMixed(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "2026", "01", "10")
	os.MkdirAll(sub, 0o700)
	voice := talking(2 * audio.SampleRate)
	silent := make([]int16, 2*audio.SampleRate)
	path := func(name string) string { return filepath.Join(dir, name) }

	crash(t, path("a-crashed.wav"), testMeta, voice)
	crash(t, path("b-no-sidecar.wav"), RecordingMeta{}, silent)
	os.Remove(path("b-no-sidecar.wav.json"))
	writeFile(t, path("c-tiny.wav.part"), []byte("RIFF\x00\x00"))
	writeFile(t, path("c-tiny.wav.json"), []byte(`{"call_id":"c"}`))
	closed, err := NewRecorder(path("d-closed.wav"), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, closed, voice[:audio.SampleRate])
	if _, err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path("e-orphan.wav.json"), []byte(`{"call_id":"e"}`))
	writeFile(t, path("f-done.wav"), pcmWAV(make([]byte, 800)))
	writeFile(t, path("g-not-ours.json"), []byte(`{}`))
	writeFile(t, path("h-junk.wav.part"), []byte(strings.Repeat("not a wav ", 10)))
	crash(t, filepath.Join(sub, "i-nested.wav"), testMeta, voice)

	found, err := RepairRecordings(dir)
	want := []Recovered{
		{Path: path("a-crashed.wav"), Meta: testMeta, Duration: 2 * time.Second, Voiced: 2 * time.Second},
		{Path: path("b-no-sidecar.wav"), Duration: 2 * time.Second},
		{Path: filepath.Join(sub, "i-nested.wav"), Meta: testMeta, Duration: 2 * time.Second, Voiced: 2 * time.Second},
		{Path: path("d-closed.wav"), Meta: testMeta, Duration: time.Second, Voiced: time.Second, Closed: true},
	}
	for i := range found {
		// Talking is mostly speech (the syllables' gaps, the floor learnt).
		if v, d := found[i].Voiced, found[i].Duration; d > 0 && found[i].Meta.Line != "" && v >= d/2 && v <= d {
			found[i].Voiced = d
		}
	}
	slices.SortFunc(found, func(a, b Recovered) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(want, func(a, b Recovered) int { return strings.Compare(a.Path, b.Path) })
	if !slices.Equal(found, want) {
		t.Errorf("found\n%+v\nwant\n%+v", found, want)
	}
	for _, bad := range []string{"c-tiny.wav.part: invalid WAV file: 6 bytes is too short", "h-junk.wav.part: not a WAV file"} {
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("error %v does not report %q", err, bad)
		}
	}
	for name, exists := range map[string]bool{
		"c-tiny.wav.part": true, "c-tiny.wav.json": true, // left for a human to look at
		"e-orphan.wav.json": false, "g-not-ours.json": true, "f-done.wav": true,
	} {
		if _, err := os.Stat(path(name)); (err == nil) != exists {
			t.Errorf("%s: exists %v, want %v", name, err == nil, exists)
		}
	}
}

func TestRepairRecordingsMissingDir(t *testing.T) {
	found, err := RepairRecordings(filepath.Join(t.TempDir(), "none"))
	if err != nil || found != nil {
		t.Errorf("got %v, %v; want nothing", found, err)
	}
	if err := RemoveSidecar(filepath.Join(t.TempDir(), "x.wav")); err != nil {
		t.Errorf("RemoveSidecar of a missing sidecar: %v", err)
	}
}

func TestRepairedHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.wav")
	crash(t, path, testMeta, speech(recordChunk/2*3/2, 13)) // one chunk written, half one buffered
	appendTo(t, path+".part", []byte{1})
	if _, err := RepairRecordings(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) != audio.WAVHeaderSize+recordChunk || le.Uint32(b[4:]) != uint32(len(b)-8) || le.Uint32(b[40:]) != recordChunk {
		t.Errorf("file of %d bytes, RIFF size %d, data size %d", len(b), le.Uint32(b[4:]), le.Uint32(b[40:]))
	}
}

func appendTo(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// pcmWAV is a finished 16-bit mono WAV at audio.SampleRate holding data.
func pcmWAV(data []byte) []byte {
	var h [audio.WAVHeaderSize]byte
	audio.PutWAVHeader(&h, uint32(len(data)))
	return append(h[:], data...)
}
