package recording

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte/audio"
)

// rows is a store in memory: the rows written, by recording, in the order
// the Shipper wrote them (store.DB is tested on both back-ends in store/).
type rows struct {
	mu      sync.Mutex
	by      map[string][]Chunk
	batches []int
	gate    chan struct{} // when set, each write waits for a value
	fail    int           // writes to refuse
}

func (r *rows) WriteRecordingAudio(ctx context.Context, ops []Op) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("connection refused")
	}
	if r.by == nil {
		r.by = map[string][]Chunk{}
	}
	r.batches = append(r.batches, len(ops))
	for _, op := range ops {
		if op.Drop {
			var keep []Chunk
			for _, c := range r.by[op.Recording] {
				if op.Seq != 0 && (c.Seq == 0 || c.Seq >= op.Seq) {
					keep = append(keep, c)
				}
			}
			r.by[op.Recording] = keep
			continue
		}
		r.by[op.Recording] = append(r.by[op.Recording], Chunk{Seq: op.Seq, Offset: op.Offset,
			PCM: bytes.Clone(op.PCM), Meta: op.Meta, At: time.Unix(1000+op.Seq, 0)})
	}
	return nil
}

// open lets every write through the gate until none came for idle.
func (r *rows) open(idle time.Duration) {
	for {
		select {
		case r.gate <- struct{}{}:
		case <-time.After(idle):
			return
		}
	}
}

func (r *rows) RecordingAudio(ctx context.Context, path string) ([]Chunk, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[path], nil
}

func pcmOf(v int16, n int) []byte {
	b := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// TestRebuild: rows in seq order make the audio: appended, cut at a trim,
// restarted, and a lost row's place padded with silence.
func TestRebuild(t *testing.T) {
	tests := []struct {
		name   string
		chunks []Chunk
		want   []byte
		meta   string
	}{
		{"appended", []Chunk{{Seq: 0, Meta: "m"}, {Seq: 1, PCM: pcmOf(1, 4)}, {Seq: 2, Offset: 8, PCM: pcmOf(2, 2)}},
			append(pcmOf(1, 4), pcmOf(2, 2)...), "m"},
		{"trimmed", []Chunk{{Seq: 1, PCM: pcmOf(1, 4)}, {Seq: 2, Offset: 8, PCM: pcmOf(2, 4)}, {Seq: 3, Offset: 10}},
			append(pcmOf(1, 4), pcmOf(2, 1)...), ""},
		{"trimmed then more", []Chunk{{Seq: 1, PCM: pcmOf(1, 4)}, {Seq: 2, Offset: 4}, {Seq: 3, Offset: 4, PCM: pcmOf(3, 1)}},
			append(pcmOf(1, 2), pcmOf(3, 1)...), ""},
		{"restarted", []Chunk{{Seq: 0, Meta: "a"}, {Seq: 1, PCM: pcmOf(1, 4)}, {Seq: 2, Meta: "b"}, {Seq: 3, PCM: pcmOf(3, 1)}},
			pcmOf(3, 1), "b"},
		{"a row lost", []Chunk{{Seq: 1, PCM: pcmOf(1, 2)}, {Seq: 3, Offset: 12, PCM: pcmOf(3, 2)}},
			append(append(pcmOf(1, 2), pcmOf(0, 4)...), pcmOf(3, 2)...), ""},
		{"nothing recorded", []Chunk{{Seq: 0, Meta: "m"}}, nil, "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wav, meta, at := Rebuild(tt.chunks)
			pcm, err := audio.DecodeWAV(bytes.NewReader(wav))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 2*len(pcm))
			for i, v := range pcm {
				binary.LittleEndian.PutUint16(got[2*i:], uint16(v))
			}
			if !bytes.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("audio %v, want %v", got, tt.want)
			}
			if len(wav) != audio.WAVHeaderSize+len(tt.want) || meta != tt.meta {
				t.Errorf("%d bytes, meta %q; want %d, %q", len(wav), meta, audio.WAVHeaderSize+len(tt.want), tt.meta)
			}
			if at.IsZero() && len(tt.chunks) > 0 && !tt.chunks[0].At.IsZero() {
				t.Errorf("no time")
			}
		})
	}
}

// TestOpen: the file when it is here, else the store's rows rebuilt; an
// error wrapping fs.ErrNotExist when neither has it.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := &rows{}
	here := filepath.Join(dir, "here.wav")
	var h [audio.WAVHeaderSize]byte
	audio.PutWAVHeader(&h, 4)
	if err := os.WriteFile(here, append(h[:], 1, 0, 2, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	st.WriteRecordingAudio(ctx, []Op{{Recording: here, Seq: 1, PCM: pcmOf(9, 100)}}) // the file wins
	away := filepath.Join(dir, "elsewhere", "away.wav")
	st.WriteRecordingAudio(ctx, []Op{{Recording: away, Seq: 0, Meta: `{"x":1}`}, {Recording: away, Seq: 1, PCM: pcmOf(7, 3)}})

	o := NewOpener(st)
	f, err := o.Open(ctx, here)
	if err != nil || f.FromStore() || f.Size != audio.WAVHeaderSize+4 {
		t.Fatalf("open the file here: %+v, %v", f, err)
	}
	f.Close()
	f, err = o.Open(ctx, away)
	if err != nil || !f.FromStore() || f.Size != audio.WAVHeaderSize+6 || f.Meta != `{"x":1}` || !f.ModTime.Equal(time.Unix(1001, 0)) {
		t.Fatalf("open from the store: %+v, %v", f, err)
	}
	b, _ := io.ReadAll(f)
	if string(b[:4]) != "RIFF" || !bytes.Equal(b[audio.WAVHeaderSize:], pcmOf(7, 3)) {
		t.Errorf("rebuilt file %v", b)
	}
	if pcm, _, err := o.Samples(ctx, away); err != nil || len(pcm) != 3 || pcm[2] != 7 {
		t.Errorf("samples from the store: %v, %v", pcm, err)
	}
	if _, err := o.Open(ctx, filepath.Join(dir, "none.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("neither: %v, want fs.ErrNotExist", err)
	}
	var files *Opener // files only
	if _, err := files.Open(ctx, away); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("files only, not here: %v", err)
	}
	if f, err := files.Open(ctx, here); err != nil {
		t.Errorf("files only, here: %v", err)
	} else {
		f.Close()
	}
	if _, err := o.Open(ctx, dir); err == nil {
		t.Errorf("a directory opened as a recording")
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestShipperBatches: rows queued while a write goes on are written in the
// next one, many recordings' together, in order; a row shipped is copied
// (the caller's buffer reused at once); a write refused is retried.
func TestShipperBatches(t *testing.T) {
	st := &rows{gate: make(chan struct{}), fail: 1}
	s := NewShipper(st, 64, quiet())
	go s.Run(context.Background())
	buf := pcmOf(1, 4000)
	s.Ship(Op{Recording: "a", Seq: 1, PCM: buf})
	time.Sleep(50 * time.Millisecond) // the first write waits at the gate
	for i := range 20 {
		for j := range buf {
			buf[j] = byte(i)
		}
		s.Ship(Op{Recording: []string{"a", "b"}[i%2], Seq: int64(2 + i), Offset: int64(8000 * (i + 1)), PCM: buf})
	}
	go func() {
		for range 3 {
			st.gate <- struct{}{}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Close(ctx)
	stats := s.Stats()
	if stats.Rows != 21 || stats.Batches != 2 || stats.MaxBatch != 20 || stats.Dropped != 0 || stats.Failed != 0 ||
		stats.Bytes != 21*8000 {
		t.Errorf("stats %+v, want 21 rows in 2 batches (1, then 20), the first retried", stats)
	}
	if len(st.by["a"]) != 11 || len(st.by["b"]) != 10 || st.by["b"][9].PCM[0] != 19 || st.by["a"][1].PCM[0] != 0 {
		t.Errorf("rows: a %d, b %d", len(st.by["a"]), len(st.by["b"]))
	}
}

// TestShipperBackpressure: with the store stuck, Ship neither blocks nor
// grows: past the queue's rows it counts them dropped; once the store
// answers, what was queued is written.
func TestShipperBackpressure(t *testing.T) {
	st := &rows{gate: make(chan struct{})}
	s := NewShipper(st, 8, quiet())
	go s.Run(context.Background())
	buf := pcmOf(1, 4000)
	queued := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			if s.Ship(Op{Recording: "a", Seq: int64(i + 1), Offset: int64(8000 * i), PCM: buf}) {
				queued++
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Ship blocked with the store stuck")
	}
	if queued > 9 || s.Stats().Dropped != int64(100-queued) || s.buffers.Load() > 8 {
		t.Errorf("%d queued, %+v, %d buffers; want at most the queue's 8 (+1 being written), the rest counted dropped",
			queued, s.Stats(), s.buffers.Load())
	}
	go st.open(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Close(ctx)
	if got := s.Stats().Rows; got != int64(queued) {
		t.Errorf("%d rows written, want the %d queued", got, queued)
	}
	if s.Ship(Op{Recording: "a", Seq: 1000}) {
		t.Errorf("shipped after Close")
	}
}

// BenchmarkShip is the recorder's flush shipping half a second of audio:
// no allocation once the buffers exist.
func BenchmarkShip(b *testing.B) {
	s := NewShipper(discard{}, 0, quiet())
	go s.Run(context.Background())
	defer s.Close(context.Background())
	buf := pcmOf(1, ChunkBytes/2)
	op := Op{Recording: "/data/recordings/x.wav", PCM: buf}
	warm(s)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op.Seq = int64(i)
		s.Ship(op)
	}
}

type discard struct{}

func (discard) WriteRecordingAudio(context.Context, []Op) error { return nil }

func TestShipAllocs(t *testing.T) {
	s := NewShipper(discard{}, 0, quiet())
	go s.Run(context.Background())
	defer s.Close(context.Background())
	op := Op{Recording: "/r.wav", PCM: pcmOf(1, ChunkBytes/2)}
	warm(s)
	if n := testing.AllocsPerRun(1000, func() { s.Ship(op) }); n != 0 {
		t.Errorf("Ship allocates %v times", n)
	}
}

// warm makes every buffer the shipper may hold, as a busy node has.
func warm(s *Shipper) {
	var bufs [][]byte
	for {
		b, ok := s.buffer(ChunkBytes)
		if !ok {
			break
		}
		bufs = append(bufs, b)
	}
	for _, b := range bufs {
		s.release(b)
	}
}

// recordingFile writes a WAV of rows half-seconds at path (".part": still
// being recorded), row i's samples all i+1, as the recorder does before it
// ships each one; it returns the rows' ops.
func recordingFile(t *testing.T, path, file string, rows int) []Op {
	t.Helper()
	var hdr [audio.WAVHeaderSize]byte
	audio.PutWAVHeader(&hdr, uint32(rows*ChunkBytes))
	data := hdr[:]
	var ops []Op
	for i := range rows {
		pcm := pcmOf(int16(i+1), ChunkBytes/2)
		ops = append(ops, Op{Recording: path, Seq: int64(i + 1), Offset: int64(i * ChunkBytes), PCM: pcm})
		data = append(data, pcm...)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return ops
}

// TestShipperRepaysFromFiles: rows the queue could not take while the
// store was stuck, and a batch the store refused, are owed and written
// once it keeps up, their audio read back from the recordings' files (the
// final WAV, or the .part still being recorded): the store ends with every
// row, the same audio. Rows a restart superseded are not written, and a
// recording deleted meanwhile loses its owed rows (counted).
func TestShipperRepaysFromFiles(t *testing.T) {
	dir := t.TempDir()
	done := filepath.Join(dir, "done.wav")
	live := filepath.Join(dir, "live.wav")
	gone := filepath.Join(dir, "gone.wav")
	restarted := filepath.Join(dir, "restarted.wav")
	doneOps := recordingFile(t, done, done, 20)
	liveOps := recordingFile(t, live, live+".part", 20)
	goneOps := recordingFile(t, gone, gone, 5)
	restOps := recordingFile(t, restarted, restarted, 6)
	trimmed := filepath.Join(dir, "trimmed.wav")
	trimOps := recordingFile(t, trimmed, trimmed, 6)

	st := &rows{gate: make(chan struct{})}
	s := NewShipper(st, 4, quiet())
	go s.Run(context.Background())
	for i := range 20 {
		s.Ship(doneOps[i])
		s.Ship(liveOps[i])
	}
	for _, op := range goneOps {
		s.Ship(op)
	}
	for _, op := range restOps {
		s.Ship(op)
	}
	for _, op := range trimOps {
		s.Ship(op)
	}
	// The end of the message trimmed: 4.5 rows kept, cut by a row of its own.
	s.Ship(Op{Recording: trimmed, Seq: 7, Offset: 4*ChunkBytes + ChunkBytes/2})
	if err := os.Truncate(trimmed, audio.WAVHeaderSize+4*ChunkBytes+ChunkBytes/2); err != nil {
		t.Fatal(err)
	}
	// The caller started again from the 5th row: rows 1-4 superseded.
	s.Ship(Op{Recording: restarted, Seq: 5, Drop: true})
	if st := s.Stats(); st.Dropped < 40 || st.Owed < 40 {
		t.Fatalf("with the store stuck: %+v; want most rows dropped and owed", st)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	st.fail = 3 // the first batch after the gate is refused, retries included
	st.mu.Unlock()
	go st.open(3 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for s.Stats().Owed > 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	s.Close(ctx)
	stats := s.Stats()
	if stats.Owed != 0 || stats.Repaid == 0 || stats.Failed == 0 {
		t.Errorf("stats %+v: want every row repaid, a refused batch among them", stats)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, rec := range []struct {
		path string
		want []Op
	}{{done, doneOps}, {live, liveOps}, {restarted, restOps[4:]},
		{trimmed, append(trimOps[:4:4], Op{Seq: 5, PCM: trimOps[4].PCM[:ChunkBytes/2]}, Op{Seq: 7})}} {
		got := map[int64][]byte{}
		for _, c := range st.by[rec.path] {
			got[c.Seq] = c.PCM
		}
		if len(got) != len(rec.want) {
			t.Errorf("%s: %d rows in the store, want %d", filepath.Base(rec.path), len(got), len(rec.want))
		}
		for _, op := range rec.want {
			if !bytes.Equal(got[op.Seq], op.PCM) {
				t.Errorf("%s row %d: not the file's audio", filepath.Base(rec.path), op.Seq)
			}
		}
	}
	written := len(st.by[gone])
	if int64(5-written) != stats.Lost {
		t.Errorf("deleted recording: %d rows written, %d lost; want the rest of its 5 counted lost", written, stats.Lost)
	}
}

// TestShipperStopsWhileOwingToARefusingStore: rows owed to a store that
// refuses every write do not keep Run from stopping: Close returns, and
// Run with it, once ctx ends; what is owed stays on the disk.
func TestShipperStopsWhileOwingToARefusingStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "owed.wav")
	ops := recordingFile(t, path, path, 3)
	st := &rows{fail: 1 << 30}
	s := NewShipper(st, 4, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); s.Run(ctx) }()
	for _, op := range ops {
		s.Ship(op)
	}
	for s.Stats().Failed == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	stop, cancelStop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelStop()
	s.Close(stop) // the store still refuses: gives up when stop ends
	cancel()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run still going 10 s after Close and its context's end: owed rows kept it repaying")
	}
	if st := s.Stats(); st.Owed == 0 || st.Rows != 0 {
		t.Errorf("stats %+v: want the rows still owed, none written", st)
	}
}
