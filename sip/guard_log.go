package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Log throttling: a stranger must not be able to fill the disk or bury real
// errors by sending garbage. Records are keyed by source address and message;
// each key may write perWindow lines per window, the rest are counted and
// summed up in one line ("log lines suppressed") when the window is over.

// maxThrottleKeys bounds the keys remembered; past it, new keys share one.
const maxThrottleKeys = 4096

// parseErrorMsg is the message sipgo logs for a message it cannot parse.
const parseErrorMsg = "failed to parse"

type throttleState struct {
	perWindow int
	window    time.Duration
	now       func() time.Time
	// lastUDP returns the source of the UDP datagram being parsed: sipgo's
	// parse errors do not name it, and its single UDP reader parses right
	// after the read filter saw the datagram.
	lastUDP func() netip.Addr
	// onParseError counts malformed messages.
	onParseError func(src netip.Addr)

	suppressed atomic.Uint64

	mu   sync.Mutex
	keys map[throttleKey]*throttleEntry
}

type throttleKey struct {
	src netip.Addr
	msg string
}

type throttleEntry struct {
	start      time.Time
	n          int
	suppressed int
	level      slog.Level
	next       slog.Handler // the handler of the last suppressed record
}

func newThrottle(perWindow int, window time.Duration, now func() time.Time) *throttleState {
	return &throttleState{perWindow: perWindow, window: window, now: now, keys: map[throttleKey]*throttleEntry{}}
}

// throttleHandler is the slog.Handler of a throttled logger.
type throttleHandler struct {
	next   slog.Handler
	st     *throttleState
	src    netip.Addr // from WithAttrs
	caller string     // sipgo's "caller" attribute (Transport<UDP>, …)
}

func (h *throttleHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *throttleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	for _, a := range as {
		c.note(a)
	}
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *throttleHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

func (h *throttleHandler) note(a slog.Attr) {
	switch a.Key {
	case "src", "raddr", "source":
		if ip := addrOf(a.Value.String()); ip.IsValid() {
			h.src = ip
		} else if ip := addrOf(a.Value.Any()); ip.IsValid() {
			h.src = ip
		}
	case "caller":
		h.caller = a.Value.String()
	}
}

func (h *throttleHandler) Handle(ctx context.Context, r slog.Record) error {
	hh := *h
	r.Attrs(func(a slog.Attr) bool { hh.note(a); return true })
	src := hh.src
	if r.Message == parseErrorMsg {
		if !src.IsValid() && hh.caller == "Transport<UDP>" && h.st.lastUDP != nil {
			src = h.st.lastUDP()
			r.AddAttrs(slog.String("src", src.String()))
		}
		if h.st.onParseError != nil {
			h.st.onParseError(src)
		}
	}
	if !h.st.admit(throttleKey{src: src, msg: r.Message}, r.Level, h.next) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// admit counts a record under its key and reports whether it is written.
func (st *throttleState) admit(k throttleKey, l slog.Level, next slog.Handler) bool {
	now := st.now()
	st.mu.Lock()
	var flushed []pendingSummary
	e := st.keys[k]
	if e == nil {
		if len(st.keys) >= maxThrottleKeys {
			flushed = st.flushLocked(now, false)
		}
		if len(st.keys) >= maxThrottleKeys {
			k = throttleKey{msg: "(many sources)"}
			e = st.keys[k]
		}
		if e == nil {
			e = &throttleEntry{start: now}
			st.keys[k] = e
		}
	}
	var summary *slog.Record
	var summaryTo slog.Handler
	if now.Sub(e.start) >= st.window {
		if e.suppressed > 0 {
			r := st.summary(k, e, now)
			summary, summaryTo = &r, e.next
		}
		*e = throttleEntry{start: now}
	}
	e.n++
	ok := e.n <= st.perWindow
	if !ok {
		e.suppressed++
		e.level = max(e.level, l)
		e.next = next
		st.suppressed.Add(1)
	}
	st.mu.Unlock()
	for _, s := range flushed {
		_ = s.to.Handle(context.Background(), s.r)
	}
	if summary != nil {
		_ = summaryTo.Handle(context.Background(), *summary)
	}
	return ok
}

func (st *throttleState) summary(k throttleKey, e *throttleEntry, now time.Time) slog.Record {
	r := slog.NewRecord(now, max(e.level, slog.LevelWarn), "log lines suppressed", 0)
	src := "unknown"
	if k.src.IsValid() {
		src = k.src.String()
	}
	r.AddAttrs(slog.String("src", src), slog.String("message", k.msg), slog.Int("count", e.suppressed),
		slog.Duration("over", now.Sub(e.start).Round(time.Second)))
	return r
}

// flush writes the summaries of the windows that are over (all of them with
// force) and forgets their keys.
func (st *throttleState) flush(now time.Time, force bool) {
	st.mu.Lock()
	out := st.flushLocked(now, force)
	st.mu.Unlock()
	for _, s := range out {
		_ = s.to.Handle(context.Background(), s.r)
	}
}

type pendingSummary struct {
	r  slog.Record
	to slog.Handler
}

func (st *throttleState) flushLocked(now time.Time, force bool) []pendingSummary {
	var out []pendingSummary
	for k, e := range st.keys {
		if !force && now.Sub(e.start) < st.window {
			continue
		}
		if e.suppressed > 0 {
			out = append(out, pendingSummary{st.summary(k, e, now), e.next})
		}
		delete(st.keys, k)
	}
	return out
}
