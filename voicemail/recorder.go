package voicemail

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/vad"
)

// ErrRecorderClosed is returned by WriteSamples after Close or Discard, and
// by Close after Discard.
var ErrRecorderClosed = errors.New("recorder closed")

// recordChunk is how much audio the recorder buffers before writing it:
// a quarter of a second, the most a crash can lose. Every call recording
// holds this buffer (4 KB) for four writes and header updates a second: at
// 1,000 calls, 4 KB less a call costs 2,000 more writes a second, about 1 %
// of a core (BenchmarkRecorderWriteSamples: 1.1–1.2 µs a 20-ms frame with
// half a second, 1.3–1.5 µs with a quarter). A recording copied to the
// shared store writes half a second at a time (recording.ChunkBytes): each
// write is also a row there, and rows cost more than writes.
const recordChunk = audio.SampleRate / 2 // bytes: 0.25 s of 16-bit samples

// minDBFS floors the levels in Result, so that digital silence logs as a
// number rather than -Inf.
const minDBFS = -100

// RecordingMeta describes a recording. NewRecorder writes it beside the WAV as
// a JSON sidecar (path + ".json"), so that a recording found after a crash
// can still become a ticket.
type RecordingMeta struct {
	CallID       string    `json:"call_id"`            // SIP Call-ID
	CallRow      int64     `json:"call_row,omitempty"` // the call's row in the store; 0 if none
	Line         string    `json:"line"`
	CallerNumber string    `json:"caller_number"`
	CallerName   string    `json:"caller_name,omitempty"`
	Urgency      string    `json:"urgency"` // astreinte.Urgency
	Case         string    `json:"case"`    // astreinte.Case
	StartedAt    time.Time `json:"started_at"`
	Lang         string    `json:"lang"`
	// VAD is the line's voice detection, so that a recording repaired
	// after a crash is judged as the call would have judged it.
	VAD vad.Config `json:"vad"`
}

// Result describes a closed recording.
type Result struct {
	Path     string        // the WAV file; its ".part" name if the final rename failed
	Duration time.Duration // length of the audio in the file
	Samples  int64         // samples in the file
	Peak     float64       // peak level in dBFS (floored at -100)
	RMS      float64       // RMS level in dBFS (floored at -100)
}

// recFile is what the recorder needs of its file; *os.File has it, and tests
// put a failing one in its place.
type recFile interface {
	io.Writer
	io.WriterAt
	Sync() error
	Close() error
	Truncate(size int64) error
}

// Recorder writes caller audio to a 16-bit mono PCM WAV file at SampleRate
// and measures it as it goes. It implements the media package's SampleWriter.
// Its methods are safe for concurrent use: the media reader writes while the
// call's flow watches Silence.
//
// Audio goes to path + ".part" a quarter of a second at a time from a
// reused buffer (recordChunk), with the WAV header's sizes brought up to
// date after each write, so the file is playable at any moment. Close
// renames it to path; after a crash, RepairRecordings does. The WAV writing
// is done here rather than with go-audio/wav's Encoder, which allocates once
// per sample (8000 allocations per second of audio); the format written is
// the same canonical 44-byte header plus data.
type Recorder struct {
	// fileMu orders what the call's flow does with the file (Checkpoint,
	// Trim, Restart, Close, Discard); mu guards the rest, and is all that
	// WriteSamples takes. Checkpoint syncs holding fileMu only, so that
	// the media receiver, which writes the audio of many calls, never
	// waits for a disk sync.
	fileMu  sync.Mutex
	mu      sync.Mutex
	path    string
	part    string
	f       recFile
	hdr     [audio.WAVHeaderSize]byte // the header; also scratch for patching sizes
	buf     []byte                    // pending PCM, up to recordChunk bytes (ChunkBytes when shipped)
	written int64                     // PCM bytes in the file
	samples int64                     // samples in the file or buf
	m       meter
	err     error // first write error; sticky

	// linked: Checkpoint gave the file its final name too, while it grows.
	linked bool
	// synced is the PCM bytes in the file when Checkpoint synced it; -1
	// before, or after Restart. When the file holds exactly that at Close
	// (nothing more written, or Trim cut back to it), Close does not sync
	// it again.
	synced int64

	// ship, when set, copies the recording to the shared store as it is
	// written (recording.Shipper): each flush, trim, restart and discard
	// is a row, numbered by seq.
	ship AudioShipper
	seq  int64
	meta string // the sidecar as last written, for the rows that supersede its own

	closed    bool
	discarded bool
	res       Result
	closeErr  error
}

// AudioShipper takes a recording's rows for the shared store, without
// waiting or allocating (recording.Shipper); the op's PCM is copied.
type AudioShipper interface {
	Ship(op recording.Op) bool
}

// NewRecorder starts a recording to path. It first writes meta to path +
// ".json" (mode 0600, synced), then creates path + ".part" (0600) with a WAV
// header. It refuses to overwrite an existing recording. The directory must
// exist.
func NewRecorder(path string, meta RecordingMeta) (*Recorder, error) {
	return NewRecorderTo(path, meta, nil)
}

// NewRecorderTo is NewRecorder, the recording also copied to the store by
// ship as it goes (nil: the file only): its meta first, then each
// half-second written to the file, and every cut.
func NewRecorderTo(path string, meta RecordingMeta, ship AudioShipper) (*Recorder, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("record %s: %w", path, fs.ErrExist)
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	side := path + ".json"
	if err := writeFileSync(side, append(js, '\n')); err != nil {
		return nil, fmt.Errorf("record %s: write sidecar: %w", path, err)
	}
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.Remove(side)
		return nil, fmt.Errorf("record %s: %w", path, err)
	}
	chunk := recordChunk
	if ship != nil {
		chunk = recording.ChunkBytes
	}
	r := &Recorder{
		path:   path,
		part:   part,
		f:      f,
		buf:    make([]byte, 0, chunk),
		synced: -1,
	}
	audio.PutWAVHeader(&r.hdr, 0)
	if _, err := f.Write(r.hdr[:]); err != nil {
		f.Close()
		os.Remove(part)
		os.Remove(side)
		return nil, fmt.Errorf("record %s: write header: %w", path, err)
	}
	if ship != nil {
		r.ship, r.meta = ship, string(js)
		r.ship.Ship(recording.Op{Recording: path, Seq: 0, Meta: r.meta})
	}
	return r, nil
}

// writable says why nothing more can be recorded: closed, or a write
// failed before. Call with r.mu held.
func (r *Recorder) writable() error {
	if r.closed {
		return ErrRecorderClosed
	}
	return r.err
}

// WriteSamples appends s to the recording. It does not allocate; it writes
// to the file once a quarter of a second of audio is buffered
// (recordChunk). After a write error (disk full…) it returns that error,
// now and on every later call, and records nothing more; what was written
// stays, and Close still makes a valid file.
func (r *Recorder) WriteSamples(s []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(); err != nil {
		return err
	}
	r.m.add(s)
	return r.write(s)
}

// write appends s to the buffer and the file; r.mu is held.
func (r *Recorder) write(s []int16) error {
	for len(s) > 0 {
		n := min(len(s), (cap(r.buf)-len(r.buf))/2)
		b := r.buf[len(r.buf) : len(r.buf)+2*n]
		for i, v := range s[:n] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
		r.buf = r.buf[:len(r.buf)+2*n]
		r.samples += int64(n)
		s = s[n:]
		if len(r.buf) == cap(r.buf) {
			if err := r.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the buffered audio and updates the header; r.mu is held.
func (r *Recorder) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	n, err := r.f.Write(r.buf)
	if err != nil {
		// Keep the whole samples of a short write and cut the file after
		// them, so that the header and the data agree.
		n -= n % 2
		r.written += int64(n)
		r.samples -= int64(len(r.buf)-n) / 2
		r.buf = r.buf[:0]
		r.f.Truncate(audio.WAVHeaderSize + r.written) // best effort: repair also cuts half samples
		r.patchHeader()
		r.err = fmt.Errorf("record %s: %w", r.path, err)
		return r.err
	}
	if r.ship != nil {
		r.seq++
		r.ship.Ship(recording.Op{Recording: r.path, Seq: r.seq, Offset: r.written, PCM: r.buf[:n]})
	}
	r.written += int64(n)
	r.buf = r.buf[:0]
	// A failed header update is not worth stopping the recording for:
	// Close tries again and reports it, and RepairRecordings recomputes the
	// sizes from the file's length.
	r.patchHeader()
	return nil
}

// patchHeader writes the RIFF and data sizes for what is in the file: one
// pwrite(2) of header bytes 4-43, the fields between them unchanged.
func (r *Recorder) patchHeader() error {
	size := uint32(min(r.written, math.MaxUint32-audio.WAVHeaderSize))
	binary.LittleEndian.PutUint32(r.hdr[4:8], audio.WAVHeaderSize-8+size)
	binary.LittleEndian.PutUint32(r.hdr[40:44], size)
	_, err := r.f.WriteAt(r.hdr[4:44], 4)
	return err
}

// Duration returns the length of the audio recorded so far.
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return audio.DurationOf(r.samples)
}

// Err returns the write error that stopped the recording, or nil.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close writes what is buffered, brings the header up to date, syncs the
// file (unless it holds what Checkpoint synced, no more, no less), renames
// it from path + ".part" to path and syncs the directory. After Checkpoint
// it only removes the ".part" name, without syncing the directory: a crash
// that brings that name back leaves one file under both names, which
// RepairRecordings resolves (and the ticket exists). The
// sidecar stays until RemoveSidecar. It reports every step that failed; even
// then Result describes the file as it is. Close may be called again and
// returns the same.
func (r *Recorder) Close() (Result, error) {
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.res, r.closeErr
	}
	r.closed = true
	var errs []error
	if r.err == nil {
		if err := r.flush(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.patchHeader(); err != nil {
		errs = append(errs, fmt.Errorf("record %s: write header: %w", r.path, err))
	}
	// After a Checkpoint with nothing kept since, the audio and the sizes
	// in the header are those synced then. Audio written after it and cut
	// off by Trim may outlive a crash at the end of the file; the start-up
	// repair takes the sizes from the file's length.
	if r.written != r.synced {
		if err := r.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("record %s: sync: %w", r.path, err))
		}
	}
	if err := r.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("record %s: close: %w", r.path, err))
	}
	final := r.part
	// Linked by Checkpoint, the final name is the same file already: the
	// ".part" name goes (renaming a link onto itself would do nothing).
	finish := os.Rename
	if r.linked {
		finish = func(part, _ string) error { return os.Remove(part) }
	}
	if err := finish(r.part, r.path); err != nil {
		errs = append(errs, fmt.Errorf("record %s: %w", r.path, err))
	} else if final = r.path; !r.linked {
		if err := syncDir(filepath.Dir(r.path)); err != nil {
			errs = append(errs, fmt.Errorf("record %s: %w", r.path, err))
		}
	}
	if r.linked {
		final = r.path
	}
	r.res = r.result(final)
	r.closeErr = errors.Join(errs...)
	return r.res, r.closeErr
}

// result describes the file as it is; r.mu is held.
func (r *Recorder) result(path string) Result {
	return Result{
		Path:     path,
		Duration: audio.DurationOf(r.samples),
		Samples:  r.samples,
		Peak:     max(minDBFS, r.m.peakDBFS()),
		RMS:      max(minDBFS, r.m.rmsDBFS()),
	}
}

// Checkpoint makes what was recorded so far durable while the recording
// goes on, and gives it its final name: the call files its ticket with it,
// and the caller may still speak. It writes what is buffered, brings the
// header up to date, syncs the file, and links path to the ".part" file
// (one file, two names: later audio lands under both, and the header keeps
// up). Close then removes the ".part" name. It returns the recording as it
// is.
//
// The directory is not synced for the link: the ticket's commit, which
// follows, syncs the file system's journal with it on ext4 and XFS; and a
// crash that loses the link leaves the synced ".part", which
// RepairRecordings renames to path (the name the ticket has).
func (r *Recorder) Checkpoint() (Result, error) {
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	r.mu.Lock()
	if err := r.writable(); err != nil {
		defer r.mu.Unlock()
		return r.result(r.part), err
	}
	if err := r.flush(); err != nil {
		defer r.mu.Unlock()
		return r.result(r.part), err
	}
	// What is filed is what is in the file now (the buffer is empty);
	// audio written during the sync comes after it.
	res, written := r.result(r.path), r.written
	r.mu.Unlock()
	if err := r.f.Sync(); err != nil {
		res.Path = r.part
		return res, fmt.Errorf("record %s: sync: %w", r.path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.synced = written
	if !r.linked {
		if err := os.Link(r.part, r.path); err != nil {
			res.Path = r.part
			return res, fmt.Errorf("record %s: %w", r.path, err)
		}
		r.linked = true
	}
	return res, nil
}

// Trim drops what was recorded after the first samples: the flow keeps
// the call's audio after the message only when the caller spoke in it.
func (r *Recorder) Trim(samples int64) error {
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(); err != nil {
		return err
	}
	if samples >= r.samples {
		return nil
	}
	if err := r.flush(); err != nil {
		return err
	}
	r.samples, r.written = samples, 2*samples
	r.cut(r.written, "")
	if err := r.f.Truncate(audio.WAVHeaderSize + r.written); err != nil {
		r.err = fmt.Errorf("record %s: trim: %w", r.path, err)
		return r.err
	}
	if sk, ok := r.f.(io.Seeker); ok {
		if _, err := sk.Seek(audio.WAVHeaderSize+r.written, io.SeekStart); err != nil {
			r.err = fmt.Errorf("record %s: trim: %w", r.path, err)
			return r.err
		}
	}
	return r.patchHeader()
}

// Samples returns how many samples are recorded so far.
func (r *Recorder) Samples() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples
}

// Discard ends the recording and deletes its file, closed or not, and its
// sidecar: for a message too short or without voice. It may be called more
// than once; Close after Discard returns ErrRecorderClosed.
func (r *Recorder) Discard() error {
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.discarded {
		return nil
	}
	if !r.closed {
		r.f.Close() // the file is deleted: its close error does not matter
	}
	r.closed, r.discarded = true, true
	r.res, r.closeErr = Result{}, ErrRecorderClosed
	if r.ship != nil {
		r.ship.Ship(recording.Op{Recording: r.path, Drop: true})
	}
	// The audio goes first: a crash in between leaves a sidecar without
	// audio, which RepairRecordings drops, rather than audio without meta.
	var errs []error
	for _, p := range []string{r.part, r.path, r.path + ".json"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeFileSync creates path (which must not exist) with data, mode 0600,
// and syncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// syncDir syncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Mark appends s (a marker tone) to the recording without measuring its
// level: it counts in Duration only. The flow marks where
// the message proper starts after what the caller said over the prompts.
func (r *Recorder) Mark(s []int16) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(); err != nil {
		return err
	}
	return r.write(s)
}

// Restart drops everything recorded so far, as if the recording started
// now: the flow records from the answer, and when nothing was said over the
// prompts the message starts at the beep. The file keeps its name and
// sidecar.
func (r *Recorder) Restart() error {
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(); err != nil {
		return err
	}
	r.buf = r.buf[:0]
	r.written, r.samples, r.synced = 0, 0, -1
	r.m = meter{}
	r.cut(0, r.meta)
	if r.ship != nil { // the rows before the cut are superseded
		r.ship.Ship(recording.Op{Recording: r.path, Seq: r.seq, Drop: true})
	}
	if err := r.f.Truncate(audio.WAVHeaderSize); err != nil {
		r.err = fmt.Errorf("record %s: restart: %w", r.path, err)
		return r.err
	}
	// The file's offset stays where it was: go back after the header.
	if sk, ok := r.f.(io.Seeker); ok {
		if _, err := sk.Seek(audio.WAVHeaderSize, io.SeekStart); err != nil {
			r.err = fmt.Errorf("record %s: restart: %w", r.path, err)
			return r.err
		}
	}
	r.patchHeader()
	return nil
}

// UpdateMeta rewrites the recording's sidecar with meta (the caller chose
// urgent after it was written), so that a recording recovered after a
// crash still says so. The new sidecar replaces the old one atomically.
func (r *Recorder) UpdateMeta(meta RecordingMeta) error {
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("record %s: sidecar: %w", r.path, err)
	}
	side := r.path + ".json"
	tmp := side + ".tmp"
	os.Remove(tmp) // a leftover of an earlier failed update
	if err := writeFileSync(tmp, append(js, '\n')); err != nil {
		return fmt.Errorf("record %s: sidecar: %w", r.path, err)
	}
	if err := os.Rename(tmp, side); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("record %s: sidecar: %w", r.path, err)
	}
	r.mu.Lock()
	if r.ship != nil {
		r.meta = string(js)
		r.cut(r.written, r.meta) // at the end: cuts nothing
	}
	r.mu.Unlock()
	return syncDir(filepath.Dir(side))
}

// cut ships a row that cuts the store's copy at offset bytes of PCM, with
// meta if not empty; r.mu is held.
func (r *Recorder) cut(offset int64, meta string) {
	if r.ship == nil {
		return
	}
	r.seq++
	r.ship.Ship(recording.Op{Recording: r.path, Seq: r.seq, Offset: offset, Meta: meta})
}
