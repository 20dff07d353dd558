package recording

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
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

// retries are the waits before writing a failed batch again.
var retries = []time.Duration{200 * time.Millisecond, time.Second}

// Shipper takes the recorders' flushed audio and writes it to the store
// from one goroutine, many calls' rows in one statement. Ship, on the
// media path, neither waits nor allocates once warm: it copies the PCM
// into a pooled buffer and queues it, or, when the queue is full (the
// store slow or gone), counts the row as not shipped and returns. The
// file on disk is the recording; the store's copy is best effort, and what
// it misses is counted (Stats) and logged.
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
}

// Stats counts what a Shipper did.
type Stats struct {
	Rows     int64 // rows written
	Bytes    int64 // PCM bytes written
	Batches  int64 // statements (batches) that wrote them
	MaxBatch int64 // rows of the biggest batch
	Dropped  int64 // rows not queued: the queue was full, or the shipper stopped
	Failed   int64 // rows queued whose batch the store refused, even after retries
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
func (s *Shipper) Ship(op Op) bool {
	if s.stopped.Load() {
		s.dropped.Add(1)
		return false
	}
	if op.PCM != nil {
		buf, ok := s.buffer(len(op.PCM))
		if !ok {
			s.dropped.Add(1)
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
		return false
	}
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
		Dropped: s.dropped.Load(), Failed: s.failed.Load()}
}

// Run writes what is queued until Close: as soon as a row comes, with
// every row queued behind it (up to 256), so that batches grow with the
// load and a row waits no more than one write. Run returns once Close
// stopped it and the queue is written (or ctx ended).
func (s *Shipper) Run(ctx context.Context) {
	defer close(s.done)
	batch := make([]Op, 0, maxBatch)
	var lost int64 // dropped+failed already logged
	for {
		select {
		case op := <-s.q:
			batch = append(batch, op)
		case <-s.stop:
			s.drain(ctx, batch)
			return
		case <-ctx.Done():
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case op := <-s.q:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.write(ctx, batch)
		batch = batch[:0]
		if n := s.dropped.Load() + s.failed.Load(); n != lost {
			s.log.Warn("recordings: audio not copied to the store (the files have it)",
				"rows", n-lost, "dropped", s.dropped.Load(), "failed", s.failed.Load())
			lost = n
		}
	}
}

// drain writes what is left in the queue after Close.
func (s *Shipper) drain(ctx context.Context, batch []Op) {
	for {
		for len(batch) < maxBatch {
			select {
			case op := <-s.q:
				batch = append(batch, op)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return
		}
		s.write(ctx, batch)
		batch = batch[:0]
	}
}

// write writes one batch, again after a failure (rows already written are
// kept), and frees its buffers.
func (s *Shipper) write(ctx context.Context, batch []Op) {
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
	if err != nil {
		s.failed.Add(int64(len(batch)))
		s.log.Error("recordings: audio not written to the store", "rows", len(batch), "error", err)
	} else {
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
