package sip

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is a set of token buckets, one per source address, holding at
// most max addresses: past that, the least recently seen address is
// forgotten (it starts again with a full bucket), so a flood from many
// addresses costs bounded memory. Safe for concurrent use.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int

	mu      sync.Mutex
	lru     list.List // of *bucket, most recent at the front
	byAddr  map[netip.Addr]*list.Element
	evicted uint64
}

type bucket struct {
	addr   netip.Addr
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst, max int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), max: max, byAddr: make(map[netip.Addr]*list.Element, min(max, 1024))}
}

// allow takes a token from a's bucket at now; false when it is empty.
func (r *rateLimiter) allow(a netip.Addr, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b *bucket
	if e, ok := r.byAddr[a]; ok {
		r.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if dt := now.Sub(b.last).Seconds(); dt > 0 {
			b.tokens = min(r.burst, b.tokens+dt*r.rate)
		}
		b.last = now
	} else {
		if r.lru.Len() >= r.max {
			old := r.lru.Back()
			ob := r.lru.Remove(old).(*bucket)
			delete(r.byAddr, ob.addr)
			r.evicted++
			// Reuse the evicted bucket: no allocation per new source once full.
			*ob = bucket{addr: a, tokens: r.burst, last: now}
			b = ob
		} else {
			b = &bucket{addr: a, tokens: r.burst, last: now}
		}
		r.byAddr[a] = r.lru.PushFront(b)
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// size is the number of addresses remembered.
func (r *rateLimiter) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len()
}

// callCounter counts calls in progress per source and in all. Its map holds
// only sources with a call in progress, so it is bounded by the global cap.
type callCounter struct {
	perSource, total int

	mu    sync.Mutex
	n     int
	bySrc map[netip.Addr]int
}

func newCallCounter(perSource, total int) *callCounter {
	return &callCounter{perSource: perSource, total: total, bySrc: map[netip.Addr]int{}}
}

// acquire takes a slot for a call from a; it returns the reason when the
// source or the whole service is at its cap.
func (c *callCounter) acquire(a netip.Addr) (release func(), reason RefuseReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n >= c.total {
		return nil, RefusedMaxCalls
	}
	if c.bySrc[a] >= c.perSource {
		return nil, RefusedSourceCalls
	}
	c.n++
	c.bySrc[a]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.n--
			if c.bySrc[a]--; c.bySrc[a] <= 0 {
				delete(c.bySrc, a)
			}
		})
	}, ""
}

// active is the number of calls holding a slot.
func (c *callCounter) active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
