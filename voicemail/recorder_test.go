package voicemail

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/astreinte/astreinte/audio"
	"github.com/go-audio/wav"
)

var testMeta = RecordingMeta{
	CallID: "a84b4c76e66710@pc33.example.com", CallRow: 42, Line: "support",
	CallerNumber: "+33612345678", CallerName: "Jean Dupont", Urgency: "urgent",
	Case: "out_of_hours", StartedAt: time.Date(2026, 1, 9, 3, 15, 2, 0, time.UTC), Lang: "fr",
}

// speech returns n samples of noise-like audio at about -20 dBFS RMS,
// the same for a given seed.
func speech(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(r.NormFloat64() * 3277)
	}
	return s
}

// feed writes s to r in pieces of 160 samples, as the media reader does.
func feed(t testing.TB, r *Recorder, s []int16) {
	t.Helper()
	for len(s) > 0 {
		n := min(160, len(s))
		if err := r.WriteSamples(s[:n]); err != nil {
			t.Fatal(err)
		}
		s = s[n:]
	}
}

// readBack reads a WAV with go-audio/wav, independently of DecodeWAV, and
// checks it is 8 kHz 16-bit mono.
func readBack(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := wav.NewDecoder(f)
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	if d.SampleRate != audio.SampleRate || d.NumChans != 1 || d.BitDepth != 16 || d.WavAudioFormat != 1 {
		t.Fatalf("%s: %d Hz, %d channels, %d bits, format %d", path, d.SampleRate, d.NumChans, d.BitDepth, d.WavAudioFormat)
	}
	st, _ := f.Stat()
	if int64(d.PCMSize) != st.Size()-audio.WAVHeaderSize {
		t.Errorf("%s: data chunk says %d bytes, the file holds %d", path, d.PCMSize, st.Size()-audio.WAVHeaderSize)
	}
	s := make([]int16, len(buf.Data))
	for i, v := range buf.Data {
		s[i] = int16(v)
	}
	return s
}

func TestRecorderRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "msg.wav")
	r, err := NewRecorder(path, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	in := speech(audio.SampleRate*7/2, 1) // 3.5 s: three whole chunks and a half
	feed(t, r, in)
	if d := r.Duration(); d != 3500*time.Millisecond {
		t.Errorf("Duration() = %v", d)
	}
	res, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Path: path, Duration: 3500 * time.Millisecond, Samples: int64(len(in))}
	if res.Path != want.Path || res.Duration != want.Duration || res.Samples != want.Samples {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	if math.Abs(res.RMS+20) > 0.5 || res.Peak < res.RMS || res.Peak > 0 {
		t.Errorf("levels: peak %.1f dBFS, RMS %.1f dBFS, want RMS -20", res.Peak, res.RMS)
	}
	if got := readBack(t, path); !slices.Equal(got, in) {
		t.Errorf("read back %d samples, not the %d written", len(got), len(in))
	}
	if _, err := os.Stat(path + ".part"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".part still there: %v", err)
	}
	var meta RecordingMeta
	b, err := os.ReadFile(path + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil || meta != testMeta {
		t.Errorf("sidecar %s, want %+v (%v)", b, testMeta, err)
	}
	for _, p := range []string{path, path + ".json"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", p, st.Mode().Perm(), err)
		}
	}
	if res2, err := r.Close(); err != nil || res2 != res {
		t.Errorf("second Close: %+v, %v", res2, err)
	}
	if err := r.WriteSamples(in[:160]); !errors.Is(err, ErrRecorderClosed) {
		t.Errorf("WriteSamples after Close: %v", err)
	}
}

func TestRecorderDiscard(t *testing.T) {
	for _, closeFirst := range []bool{false, true} {
		name := map[bool]string{false: "open", true: "closed"}[closeFirst]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r, err := NewRecorder(filepath.Join(dir, "msg.wav"), testMeta)
			if err != nil {
				t.Fatal(err)
			}
			feed(t, r, speech(audio.SampleRate*3/2, 5))
			if closeFirst {
				if _, err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Discard(); err != nil {
				t.Fatal(err)
			}
			if err := r.Discard(); err != nil {
				t.Errorf("second Discard: %v", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("files left: %v", left)
			}
			if _, err := r.Close(); !errors.Is(err, ErrRecorderClosed) {
				t.Errorf("Close after Discard: %v", err)
			}
			if err := r.WriteSamples(make([]int16, 160)); !errors.Is(err, ErrRecorderClosed) {
				t.Errorf("WriteSamples after Discard: %v", err)
			}
		})
	}
}

func TestNewRecorderErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "done.wav"), []byte("a recording"))
	writeFile(t, filepath.Join(dir, "side.wav.json"), []byte("{}"))
	writeFile(t, filepath.Join(dir, "file"), nil)
	tests := []struct {
		name, path string
		is         error
	}{
		{"recording exists", filepath.Join(dir, "done.wav"), fs.ErrExist},
		{"sidecar exists", filepath.Join(dir, "side.wav"), fs.ErrExist},
		{"no directory", filepath.Join(dir, "missing", "msg.wav"), fs.ErrNotExist},
		{"parent is a file", filepath.Join(dir, "file", "msg.wav"), syscall.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRecorder(tt.path, testMeta)
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, %v; want %v", r, err, tt.is)
			}
			if _, err := os.Stat(tt.path + ".part"); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf(".part created: %v", err)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "side.wav.json")); string(b) != "{}" {
		t.Errorf("existing sidecar overwritten: %s", b)
	}
}

// fullDisk lets the first room bytes of writes through, then fails with
// ENOSPC, after a short write.
type fullDisk struct {
	*os.File
	room int
}

func (f *fullDisk) Write(b []byte) (int, error) {
	if len(b) <= f.room {
		f.room -= len(b)
		return f.File.Write(b)
	}
	n, _ := f.File.Write(b[:f.room])
	f.room = 0
	return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func TestRecorderDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "msg.wav")
	r, err := NewRecorder(path, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	r.f = &fullDisk{File: r.f.(*os.File), room: recordChunk + 101} // one chunk and 50.5 samples
	in := speech(3*audio.SampleRate, 6)
	var werr error
	for s := in; len(s) > 0 && werr == nil; s = s[160:] {
		werr = r.WriteSamples(s[:160])
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("write error %v, want ENOSPC", werr)
	}
	if err := r.WriteSamples(in[:160]); err != werr || r.Err() != werr {
		t.Errorf("later write: %v, Err() %v; want the same error", err, r.Err())
	}
	res, err := r.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	const kept = recordChunk/2 + 50
	if res.Samples != kept || res.Path != path {
		t.Errorf("Result %+v, want %d samples at %s", res, kept, path)
	}
	if got := readBack(t, path); !slices.Equal(got, in[:kept]) {
		t.Errorf("read back %d samples, want the first %d written", len(got), kept)
	}
}

func TestRecorderConcurrentUse(t *testing.T) {
	r, err := NewRecorder(filepath.Join(t.TempDir(), "msg.wav"), testMeta)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { feed(t, r, speech(2*audio.SampleRate, 7)) })
	wg.Go(func() {
		for range 1000 {
			_, _ = r.Duration(), r.Samples()
		}
	})
	wg.Wait()
	if res, err := r.Close(); err != nil || res.Samples != 2*audio.SampleRate {
		t.Errorf("Close: %+v, %v", res, err)
	}
}

func BenchmarkRecorderWriteSamples(b *testing.B) {
	r, err := NewRecorder(filepath.Join(b.TempDir(), "msg.wav"), testMeta)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	frame := speech(160, 8)
	b.SetBytes(2 * 160)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.WriteSamples(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRecorderCheckpoint: the flow files the recording at the end of the
// message and goes on recording what the caller says after it; the file
// under its final name is the same file, playable at every step; cut back,
// it is what was filed; killed, it is repaired as filed (its ticket may
// exist) with all that was written.
func TestRecorderCheckpoint(t *testing.T) {
	dir := t.TempDir()
	msg, more := talking(3*audio.SampleRate), talking(2*audio.SampleRate)
	t.Run("more said, closed", func(t *testing.T) {
		path := filepath.Join(dir, "a.wav")
		r, err := NewRecorder(path, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, msg)
		res, err := r.Checkpoint()
		if err != nil || res.Path != path || res.Samples != int64(len(msg)) {
			t.Fatalf("Checkpoint: %+v, %v", res, err)
		}
		if got := readBack(t, path); !slices.Equal(got, msg) {
			t.Errorf("after Checkpoint the file holds %d samples, want the %d of the message", len(got), len(msg))
		}
		feed(t, r, more)
		res, err = r.Close()
		if err != nil || res.Path != path || res.Samples != int64(len(msg)+len(more)) {
			t.Fatalf("Close: %+v, %v", res, err)
		}
		if got := readBack(t, path); !slices.Equal(got, append(slices.Clone(msg), more...)) {
			t.Errorf("closed, the file holds %d samples, want %d", len(got), len(msg)+len(more))
		}
		if _, err := os.Stat(path + ".part"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf(".part still there: %v", err)
		}
	})
	t.Run("nothing more said: trimmed", func(t *testing.T) {
		path := filepath.Join(dir, "b.wav")
		r, err := NewRecorder(path, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, msg)
		filed, err := r.Checkpoint()
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, make([]int16, 3*audio.SampleRate+77))
		if err := r.Trim(filed.Samples); err != nil {
			t.Fatal(err)
		}
		res, err := r.Close()
		if err != nil || res.Samples != filed.Samples {
			t.Fatalf("Close: %+v, %v", res, err)
		}
		if got := readBack(t, path); !slices.Equal(got, msg) {
			t.Errorf("trimmed, the file holds %d samples, want %d", len(got), len(msg))
		}
	})
	t.Run("killed after the checkpoint", func(t *testing.T) {
		sub := filepath.Join(dir, "crash")
		os.MkdirAll(sub, 0o700)
		path := filepath.Join(sub, "c.wav")
		r, err := NewRecorder(path, testMeta)
		if err != nil {
			t.Fatal(err)
		}
		feed(t, r, msg)
		if _, err := r.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		feed(t, r, more)
		r.f.Close() // killed: no Close
		found, err := RepairRecordings(sub)
		if err != nil || len(found) != 1 || !found[0].Closed || found[0].Path != path {
			t.Fatalf("repair: %+v, %v; want the recording back as filed", found, err)
		}
		flushed := (len(msg) + len(more)) / (recordChunk / 2) * (recordChunk / 2)
		if got := readBack(t, path); len(got) < len(msg) || len(got) != flushed {
			t.Errorf("repaired file holds %d samples, want the %d flushed before the kill", len(got), flushed)
		}
		if _, err := os.Stat(path + ".part"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf(".part still there: %v", err)
		}
	})
}

// countSyncs counts the file's fsyncs.
type countSyncs struct {
	*os.File
	syncs int
}

func (f *countSyncs) Sync() error {
	f.syncs++
	return f.File.Sync()
}

// Close after Checkpoint syncs the file again only if it holds something
// else than what Checkpoint synced.
func TestRecorderCloseAfterCheckpointSyncs(t *testing.T) {
	tests := []struct {
		name      string
		after     func(t *testing.T, r *Recorder, filed int64) // between Checkpoint and Close
		wantSyncs int                                          // by Close
		wantLen   int64                                        // samples in the closed file
	}{
		{"nothing after", func(*testing.T, *Recorder, int64) {}, 0, 8000},
		{"more audio kept", func(t *testing.T, r *Recorder, _ int64) {
			writeAll(t, r, speech(audio.SampleRate, 7))
		}, 1, 16000},
		{"more audio cut back", func(t *testing.T, r *Recorder, filed int64) {
			writeAll(t, r, speech(audio.SampleRate, 7))
			if err := r.Trim(filed); err != nil {
				t.Fatal(err)
			}
		}, 0, 8000},
		{"cut before the checkpoint", func(t *testing.T, r *Recorder, filed int64) {
			if err := r.Trim(filed / 2); err != nil {
				t.Fatal(err)
			}
		}, 1, 4000},
		{"restarted", func(t *testing.T, r *Recorder, _ int64) {
			if err := r.Restart(); err != nil {
				t.Fatal(err)
			}
			writeAll(t, r, speech(audio.SampleRate, 5))
		}, 1, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "msg.wav")
			r, err := NewRecorder(path, testMeta)
			if err != nil {
				t.Fatal(err)
			}
			f := &countSyncs{File: r.f.(*os.File)}
			r.f = f
			in := speech(audio.SampleRate, 6)
			writeAll(t, r, in)
			res, err := r.Checkpoint()
			if err != nil || res.Samples != int64(len(in)) {
				t.Fatalf("Checkpoint: %+v, %v", res, err)
			}
			f.syncs = 0
			tt.after(t, r, res.Samples)
			res, err = r.Close()
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			if f.syncs != tt.wantSyncs {
				t.Errorf("Close synced the file %d times, want %d", f.syncs, tt.wantSyncs)
			}
			if got := readBack(t, path); int64(len(got)) != tt.wantLen || res.Samples != tt.wantLen {
				t.Errorf("closed file has %d samples (Result %d), want %d", len(got), res.Samples, tt.wantLen)
			}
		})
	}
}

func writeAll(t *testing.T, r *Recorder, s []int16) {
	t.Helper()
	for ; len(s) >= 160; s = s[160:] {
		if err := r.WriteSamples(s[:160]); err != nil {
			t.Fatal(err)
		}
	}
}

// slowSync holds its first Sync until released, as a busy disk does.
type slowSync struct {
	*os.File
	once             sync.Once
	started, release chan struct{}
}

func (f *slowSync) Sync() error {
	f.once.Do(func() {
		close(f.started)
		<-f.release
	})
	return f.File.Sync()
}

// The media receiver goes on writing while Checkpoint waits for the disk;
// what Checkpoint returns is what it synced. (A WriteSamples that waited
// for the sync would hang this test.)
func TestRecorderCheckpointDoesNotBlockWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "msg.wav")
	r, err := NewRecorder(path, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	f := &slowSync{File: r.f.(*os.File), started: make(chan struct{}), release: make(chan struct{})}
	r.f = f
	writeAll(t, r, speech(audio.SampleRate, 3))
	type result struct {
		res Result
		err error
	}
	done := make(chan result)
	go func() {
		res, err := r.Checkpoint()
		done <- result{res, err}
	}()
	<-f.started
	writeAll(t, r, speech(audio.SampleRate, 4)) // during the sync
	close(f.release)
	got := <-done
	if got.err != nil || got.res.Samples != audio.SampleRate || got.res.Path != path {
		t.Fatalf("Checkpoint = %+v, %v; want %d samples at %s", got.res, got.err, audio.SampleRate, path)
	}
	res, err := r.Close()
	if err != nil || res.Samples != 2*audio.SampleRate {
		t.Fatalf("Close = %+v, %v; want %d samples", res, err, 2*audio.SampleRate)
	}
}
