package recording

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte/audio"
)

// Writer writes recordings' rows to the store, in order (store.DB). Rows
// already there are kept, so a batch may be written again after a failure.
type Writer interface {
	WriteRecordingAudio(ctx context.Context, ops []Op) error
}

// ChunkBytes is the PCM a pooled buffer holds without growing: the
// recorder's flush, half a second of 16-bit audio at 8 kHz.
const ChunkBytes = 8000

// DefaultQueue is the Shipper's queue by default: 2,048 rows, 16 MB of
// audio at most, ~17 minutes of one call or 2 s of 500 calls' audio while
// the store does not answer.
const DefaultQueue = 2048

// maxBatch bounds the rows of one write (about 2 MB of audio).
const maxBatch = 256

// MaxOwed bounds the rows a Shipper owes the store (about 100 bytes each,
// no audio): 9 hours of one call, a minute of 500 calls' audio. Past it a
// row is lost to the store (the file keeps it).
const MaxOwed = 1 << 16

// retries are the waits before writing a failed batch again.
var retries = []time.Duration{200 * time.Millisecond, time.Second}

// Shipper takes the recorders' flushed audio and writes it to the store
// from one goroutine, many calls' rows in one statement. Ship, on the
// media path, never waits and does not allocate once warm: it copies the
// PCM into a pooled buffer and queues it, or, when the queue is full (the
// store slow or gone), notes the row as owed (its place, not its audio;
// the list grows, once, to the deepest burst) and returns. A batch the store refuses, even after retries, is owed too.
// Whenever the queue is empty the shipper writes what it owes, the audio
// read back from the recordings' files: under a burst the store's copy
// lags, it does not keep holes. Only a node that dies loses, to the
// store, the rows it still owed (its disk has them); past MaxOwed rows
// are lost (counted, logged).
type Shipper struct {
	w   Writer
	log *slog.Logger
	q   chan Op
	// free holds the PCM buffers of rows written; at most cap(q) exist.
	free    chan []byte
	buffers atomic.Int64

	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	stopped atomic.Bool

	rows, batches, biggest, bytes atomic.Int64
	dropped, failed               atomic.Int64

	// owed are the rows not written yet, in the order they came; nowed
	// their count, read without the lock on the media path.
	owedMu       sync.Mutex
	owed         []debt
	nowed        atomic.Int64
	repaid, lost atomic.Int64
	refused      atomic.Bool // the last write failed
}

// debt is a row owed to the store: its op without the PCM, and how many
// PCM bytes it had at op.Offset in the recording's audio (0: a row
// without audio).
type debt struct {
	op Op
	n  int
}

// Stats counts what a Shipper did.
type Stats struct {
	Rows     int64 // rows written (repaid ones included)
	Bytes    int64 // PCM bytes written
	Batches  int64 // statements (batches) that wrote them
	MaxBatch int64 // rows of the biggest batch
	Dropped  int64 // rows not queued when they came, the queue full: owed
	Failed   int64 // rows whose batch the store refused, even after retries: owed
	Owed     int64 // rows owed now, to be written from the files
	Repaid   int64 // rows written late, their audio read from the files
	// Lost counts rows the store will not have: past MaxOwed, their file
	// gone or cut before they were repaid, or shipped after Close.
	Lost int64
}

// NewShipper returns a Shipper writing to w, with room for queue rows
// waiting (DefaultQueue if 0). Run it.
func NewShipper(w Writer, queue int, log *slog.Logger) *Shipper {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if log == nil {
		log = slog.Default()
	}
	return &Shipper{w: w, log: log, q: make(chan Op, queue), free: make(chan []byte, queue),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Ship queues op, its PCM copied (the caller's buffer is free on return).
// It reports whether op was queued; it never blocks.
// A row not queued (the queue full) is owed: written later, its audio
// read from the recording's file.
func (s *Shipper) Ship(op Op) bool {
	if s.stopped.Load() {
		s.lost.Add(1)
		return false
	}
	if op.Drop && s.nowed.Load() > 0 {
		s.forgive(op)
	}
	n := len(op.PCM)
	if op.PCM != nil {
		buf, ok := s.buffer(n)
		if !ok {
			s.dropped.Add(1)
			s.owe(op, n)
			return false
		}
		op.PCM = append(buf, op.PCM...)
	}
	select {
	case s.q <- op:
		return true
	default:
		s.release(op.PCM)
		s.dropped.Add(1)
		s.owe(op, n)
		return false
	}
}

// owe notes op (n bytes of audio) as owed to the store.
func (s *Shipper) owe(op Op, n int) {
	op.PCM = nil
	s.owedMu.Lock()
	defer s.owedMu.Unlock()
	if len(s.owed) >= MaxOwed {
		s.lost.Add(1)
		return
	}
	s.owed = append(s.owed, debt{op: op, n: n})
	s.nowed.Store(int64(len(s.owed)))
}

// forgive forgets the rows owed that drop, a restart or a deletion of
// their recording, supersedes: written after it, they would bring back
// audio the recording no longer has.
func (s *Shipper) forgive(drop Op) {
	s.owedMu.Lock()
	defer s.owedMu.Unlock()
	keep := s.owed[:0]
	for _, d := range s.owed {
		if !superseded(d.op, drop) {
			keep = append(keep, d)
		}
	}
	clear(s.owed[len(keep):])
	s.owed = keep
	s.nowed.Store(int64(len(s.owed)))
}

// superseded says whether drop deletes the row op would write: every row
// of its recording (Seq 0), or those with 0 < seq < drop.Seq.
func superseded(op, drop Op) bool {
	if op.Recording != drop.Recording {
		return false
	}
	if drop.Seq == 0 {
		return true
	}
	return !op.Drop && op.Seq > 0 && op.Seq < drop.Seq
}

// buffer returns an empty pooled buffer, a new one while fewer than the
// queue's length exist; false when all are in use.
func (s *Shipper) buffer(n int) ([]byte, bool) {
	select {
	case b := <-s.free:
		return b[:0], true
	default:
	}
	if s.buffers.Add(1) > int64(cap(s.q)) {
		s.buffers.Add(-1)
		return nil, false
	}
	return make([]byte, 0, max(n, ChunkBytes)), true
}

func (s *Shipper) release(b []byte) {
	if b == nil {
		return
	}
	select {
	case s.free <- b[:0]:
	default: // cannot happen: at most cap(q) buffers
		s.buffers.Add(-1)
	}
}

// Stats returns the counts so far.
func (s *Shipper) Stats() Stats {
	return Stats{Rows: s.rows.Load(), Bytes: s.bytes.Load(), Batches: s.batches.Load(), MaxBatch: s.biggest.Load(),
		Dropped: s.dropped.Load(), Failed: s.failed.Load(), Owed: s.nowed.Load(), Repaid: s.repaid.Load(), Lost: s.lost.Load()}
}

// Run writes what is queued until Close: as soon as a row comes, with
// every row queued behind it (up to 256), so that batches grow with the
// load and a row waits no more than one write. Run returns once Close
// stopped it and the queue is written (or ctx ended).
//
// Whenever the queue is empty, Run writes the rows it owes.
func (s *Shipper) Run(ctx context.Context) {
	defer close(s.done)
	batch := make([]Op, 0, maxBatch)
	var late, lost int64 // dropped+failed and lost already logged
	behind := false
	for {
		if len(s.q) == 0 && !s.stopping(ctx) && s.repay(ctx, batch) {
			batch = batch[:0]
		} else {
			select {
			case op := <-s.q:
				batch = append(batch, op)
			case <-s.stop:
				s.drain(ctx, batch)
				return
			case <-ctx.Done():
				return
			}
			batch = s.fill(batch)
			s.write(ctx, batch, false)
			batch = batch[:0]
		}
		if n := s.dropped.Load() + s.failed.Load(); n != late {
			if !behind {
				s.log.Warn("recordings: the store's copy falls behind (queue full or store refusing); the rows are written from the files when it keeps up",
					"rows", n-late, "dropped", s.dropped.Load(), "failed", s.failed.Load(), "owed", s.nowed.Load())
			}
			late, behind = n, true
		}
		if n := s.lost.Load(); n != lost {
			s.log.Error("recordings: audio rows lost to the store (the files have them)", "rows", n-lost, "lost", n)
			lost = n
		}
		if behind && s.nowed.Load() == 0 {
			s.log.Info("recordings: the store's copy caught up", "repaid", s.repaid.Load())
			behind = false
		}
	}
}

// stopping reports whether Close was called or ctx ended: Run then
// drains its queue (drain repays only while the store takes rows), rather
// than repaying what it owes to a store that may never take it.
func (s *Shipper) stopping(ctx context.Context) bool {
	select {
	case <-s.stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// repay writes up to maxBatch of the rows owed, in the order they came,
// their audio read back from the recordings' files (the final WAV, or
// the one still being recorded); it reports whether any were owed. A row
// a trim cut since is written as far as the file still has it (the trim's
// own row cuts it there too); a row whose file is gone is lost.
func (s *Shipper) repay(ctx context.Context, batch []Op) bool {
	if s.nowed.Load() == 0 {
		return false
	}
	s.owedMu.Lock()
	n := min(len(s.owed), maxBatch)
	due := slices.Clone(s.owed[:n])
	s.owed = slices.Delete(s.owed, 0, n)
	s.nowed.Store(int64(len(s.owed)))
	s.owedMu.Unlock()
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for _, d := range due {
		op := d.op
		if d.n > 0 {
			f, ok := files[op.Recording]
			if !ok {
				f = openAudio(op.Recording)
				files[op.Recording] = f
			}
			if f == nil {
				s.lost.Add(1)
				continue
			}
			buf, ok := s.buffer(d.n)
			if !ok { // the queue filled meanwhile: later
				s.owe(op, d.n)
				continue
			}
			buf = buf[:d.n]
			got, err := f.ReadAt(buf, audio.WAVHeaderSize+op.Offset)
			if err != nil && !errors.Is(err, io.EOF) {
				s.release(buf)
				s.lost.Add(1)
				continue
			}
			if got == 0 { // trimmed off since (the end of the message): nothing to write
				s.release(buf)
				continue
			}
			op.PCM = buf[:got] // what a trim left of it
		}
		batch = append(batch, op)
	}
	if len(batch) > 0 {
		s.write(ctx, batch, true)
	}
	return true
}

// openAudio opens the recording at path, or its file still being recorded
// (".part"); nil when neither exists.
func openAudio(path string) *os.File {
	if f, err := os.Open(path); err == nil {
		return f
	}
	if f, err := os.Open(path + ".part"); err == nil {
		return f
	}
	return nil
}

// fill adds to batch what is queued, up to maxBatch rows, without waiting.
func (s *Shipper) fill(batch []Op) []Op {
	for len(batch) < maxBatch {
		select {
		case op := <-s.q:
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}

// drain writes what is left in the queue after Close, then what is owed
// (until ctx ends).
func (s *Shipper) drain(ctx context.Context, batch []Op) {
	for batch = s.fill(batch); len(batch) > 0; batch = s.fill(batch[:0]) {
		s.write(ctx, batch, false)
	}
	// Not while the store refuses: what is owed then stays on the disk.
	for ctx.Err() == nil && !s.refused.Load() && s.repay(ctx, batch[:0]) {
	}
}

// write writes one batch, again after a failure (rows already written are
// kept), and frees its buffers. The rows of a batch the store refused are
// owed. repaid says the batch is rows owed before.
func (s *Shipper) write(ctx context.Context, batch []Op, repaid bool) {
	var err error
	for i := 0; ; i++ {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = s.w.WriteRecordingAudio(wctx, batch)
		cancel()
		if err == nil || i == len(retries) || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(retries[i]):
		case <-ctx.Done():
		}
	}
	s.refused.Store(err != nil)
	if err != nil {
		s.failed.Add(int64(len(batch)))
		s.log.Error("recordings: audio not written to the store; owed", "rows", len(batch), "error", err)
		for _, op := range batch {
			s.owe(op, len(op.PCM))
		}
	} else {
		if repaid {
			s.repaid.Add(int64(len(batch)))
		}
		s.rows.Add(int64(len(batch)))
		s.batches.Add(1)
		for n := int64(len(batch)); ; {
			b := s.biggest.Load()
			if n <= b || s.biggest.CompareAndSwap(b, n) {
				break
			}
		}
	}
	for i := range batch {
		if err == nil {
			s.bytes.Add(int64(len(batch[i].PCM)))
		}
		s.release(batch[i].PCM)
		batch[i] = Op{}
	}
}

// Close stops the shipper: nothing more is queued, what is queued is
// written, until ctx ends. It may be called more than once.
func (s *Shipper) Close(ctx context.Context) {
	s.once.Do(func() {
		s.stopped.Store(true)
		close(s.stop)
	})
	select {
	case <-s.done:
	case <-ctx.Done():
	}
}
