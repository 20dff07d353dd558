package media

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The engine serves the media of every call with a few goroutines instead
// of two per call. Calls are spread over shards (one per CPU); each shard
// has two goroutines:
//
//   - the pacer: one time.Ticker at the frame duration; each tick sends the
//     next frame of every call of the shard in one pass. Every call's
//     packets are 20 ms apart because the clock is shared, and a call keeps
//     its place in the pass, so its offset from the tick stays the same.
//   - the receiver: one time.Ticker at recvInterval; each tick drains every
//     socket of the shard with recvmmsg(2) (five packets per call and
//     syscall at 100 ms), puts the audio in the calls' jitter buffers, hands
//     key presses over and checks the media timeouts.
//
// The sockets are not in the runtime's poller: a datagram arriving wakes no
// thread. The receiver is kept apart from the pacer so that a slow
// recording write (page-cache throttling) cannot delay the sending.
//
// A shard's goroutines start with its first call and stop with its last,
// so an idle service has none.

const (
	// recvInterval is how often a shard drains its sockets: five packets
	// of a call per recvmmsg(2). The recording holds playoutDelay (100 ms)
	// back anyway; key presses and the media timeout are seen at most this
	// much later. A socket's default receive buffer (about 200 KB) holds
	// seconds of one call's RTP. 100 ms took 15-25 % less CPU than 40 ms
	// in BenchmarkCalls (1,000 calls).
	recvInterval = 5 * frameDuration
	// rxBatchLen is the number of datagrams one recvmmsg(2) reads.
	rxBatchLen = 8
	// recvYield is how many calls a receive pass serves before it lets
	// other goroutines run: a pass over a thousand calls takes
	// milliseconds, and a pacer woken meanwhile must not wait for a free P
	// (that wait is jitter on every call of its shard).
	recvYield = 16
	// yieldAfter is how long a receive pass runs before it yields: short
	// passes (a few hundred calls) never yield, since a yield can wake an
	// idle P for nothing.
	yieldAfter = 500 * time.Microsecond
	// maxBatchesPerPoll bounds the datagrams read from one socket in one
	// pass, so that a flooded socket cannot hold the others back.
	maxBatchesPerPoll = 4
	// lateReceive is how late a receive pass may be before the pacer runs
	// one itself, ahead of its sends: short of CPU, the receiver's
	// goroutine may wait for a thread while the pacer's runs, and the
	// sockets fill up meanwhile.
	lateReceive = 2 * recvInterval
)

// engine owns the shards.
type engine struct {
	shards []*shard
	next   atomic.Uint32
}

// shard is a set of calls served by one pacer and one receiver goroutine.
// Each has its own list and lock, so that a receive pass held up by a slow
// recorder never holds the pacer up.
type shard struct {
	pacer    loop
	receiver loop
	rx       rxBatch // receiver goroutine only
	late     rxBatch // pacer goroutine only: receiveIfLate
	// lastRecv is when the last receive pass began (nanoseconds since
	// epoch, monotonic).
	lastRecv atomic.Int64
}

// epoch is the engine's monotonic time origin.
var epoch = time.Now()

func newEngine(shards int) *engine {
	e := &engine{shards: make([]*shard, max(shards, 1))}
	for i := range e.shards {
		sh := &shard{}
		sh.pacer = loop{every: frameDuration, f: (*Session).writeTick, before: sh.receiveIfLate}
		sh.receiver = loop{every: recvInterval, f: sh.poll, yieldEvery: recvYield, before: sh.receiving}
		e.shards[i] = sh
	}
	return e
}

// defaultEngine serves the sessions of NewSession: one shard per CPU.
var defaultEngine = sync.OnceValue(func() *engine { return newEngine(runtime.GOMAXPROCS(0)) })

// add puts s in the next shard, in round robin, and starts that shard's
// goroutines if it was idle.
func (e *engine) add(s *Session) {
	sh := e.shards[int(e.next.Add(1))%len(e.shards)]
	s.shard = sh
	sh.pacer.add(s)
	sh.receiver.add(s)
}

// detach takes s out of its shard; when it returns, no pass touches s any
// more.
func (s *Session) detach() {
	if sh := s.shard; sh != nil {
		sh.pacer.remove(s)
		sh.receiver.remove(s)
	}
}

// loop runs f on every call of its list once per tick of its own
// time.Ticker. A pass holds mu for reading; add and remove hold it for
// writing, so a pass never sees a call being added or removed. Its goroutine
// starts with the first call and stops with the last, so an idle service
// has none.
type loop struct {
	every      time.Duration
	f          func(*Session)
	yieldEvery int    // calls between two runtime.Gosched in a pass; 0: never
	before     func() // when set, runs at the start of each pass

	mu       sync.RWMutex
	sessions []*Session
	quit     chan struct{} // closed when the list empties; nil while idle
}

func (l *loop) add(s *Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sessions = append(l.sessions, s)
	if l.quit == nil {
		l.quit = make(chan struct{})
		go l.run(l.quit)
	}
}

func (l *loop) remove(s *Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.Index(l.sessions, s); i >= 0 {
		l.sessions = slices.Delete(l.sessions, i, i+1)
	}
	if len(l.sessions) == 0 && l.quit != nil {
		close(l.quit)
		l.quit = nil
	}
}

func (l *loop) run(quit chan struct{}) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			if !l.pass(quit) {
				return
			}
		}
	}
}

// pass runs f on every call of the list. It reports false when the list
// emptied since quit was made: another goroutine may serve it by now.
func (l *loop) pass(quit chan struct{}) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.quit != quit {
		return false
	}
	if l.before != nil {
		l.before()
	}
	last := time.Now()
	for i, s := range l.sessions {
		if l.yieldEvery > 0 && i > 0 && i%l.yieldEvery == 0 && time.Since(last) > yieldAfter {
			runtime.Gosched()
			last = time.Now()
		}
		l.f(s)
	}
	return true
}

// receiving notes that a receive pass begins.
func (sh *shard) receiving() { sh.lastRecv.Store(int64(time.Since(epoch))) }

// receiveIfLate runs, at the start of a pacer pass, a receive pass over
// the shard's calls when the receiver's is overdue by lateReceive: the
// datagrams waiting are read before the frames are sent. The two passes
// may overlap; each socket is read under its session's lock.
func (sh *shard) receiveIfLate() {
	now := int64(time.Since(epoch))
	if now-sh.lastRecv.Load() < int64(lateReceive) {
		return
	}
	sh.lastRecv.Store(now)
	sh.receiver.mu.RLock()
	defer sh.receiver.mu.RUnlock()
	for _, s := range sh.receiver.sessions {
		sh.pollWith(s, &sh.late)
	}
}

// poll reads what waits on the socket of s and checks its media timeout.
func (sh *shard) poll(s *Session) { sh.pollWith(s, &sh.rx) }

func (sh *shard) pollWith(s *Session, b *rxBatch) {
	if s.stopped.Load() {
		return
	}
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	s.rd.use(b)
	for range maxBatchesPerPoll {
		n, err := s.conn.recvBatch(b)
		if err != nil {
			s.readError(err)
			return
		}
		s.readErrs = 0
		for i := range n {
			s.receive(b.buf[i][:b.n[i]], b.src[i])
		}
		if n < rxBatchLen {
			break
		}
	}
	s.checkTimeout()
}

// spareBatches serve the reads made outside the receive pass.
var spareBatches = sync.Pool{New: func() any { return new(rxBatch) }}

// drain reads what arrived since the last receive pass (SetRecorder, and
// Close for the caller's last words).
func (s *Session) drain() {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	s.drainLocked()
}

func (s *Session) drainLocked() {
	if s.shard == nil || s.connClosed {
		return // not started (benchmarks drive receive directly), or closed
	}
	b := spareBatches.Get().(*rxBatch)
	defer spareBatches.Put(b)
	s.rd.use(b)
	defer func() { s.rd.pkt = nil }() // b goes back to the pool
	for range maxBatchesPerPoll {
		n, err := s.conn.recvBatch(b)
		for i := range n {
			s.receive(b.buf[i][:b.n[i]], b.src[i])
		}
		if err != nil || n < rxBatchLen {
			return
		}
	}
}
