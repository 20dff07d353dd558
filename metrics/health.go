package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Health answers /healthz (the process serves HTTP) and /readyz (it can take
// calls: SIP listening, database writable, trunks registered where
// configured).
type Health struct {
	// SIPReady is closed once SIP listens (sip.Server.Ready).
	SIPReady <-chan struct{}
	// Probe checks that the database can be written (DB.ProbeWrite).
	Probe func(context.Context) (time.Duration, error)
	// Registered, when set, returns an error while a configured trunk is
	// not registered (hook for the trunk code).
	Registered func() error
	// Draining, when set, reports that the service is stopping: not ready
	// for new calls (sip.Server.Draining).
	Draining func() bool
	// Metrics, when set, records the probe's latency.
	Metrics *Metrics

	mu sync.Mutex // one probe at a time
}

// Handler serves /metrics (when m is not nil), /healthz and /readyz, and
// hands every other path to next.
func Handler(m *Metrics, h *Health, next http.Handler) http.Handler {
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", h)
	if m != nil && m.opts.Guard != nil {
		mux.HandleFunc("GET /status/refusals", m.serveRefusals)
	}
	mux.Handle("/", next)
	return mux
}

// refusalJSON is one recently refused source in /status/refusals.
type refusalJSON struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Reason string    `json:"reason"`
	Count  uint64    `json:"count"`
}

// serveRefusals lists the last refused sources, most recent first, as JSON
// (for `astreinte status`).
func (m *Metrics) serveRefusals(w http.ResponseWriter, r *http.Request) {
	out := []refusalJSON{}
	for _, x := range m.opts.Guard.RecentRefusals() {
		out = append(out, refusalJSON{At: x.At.UTC(), Source: x.Source.String(), Reason: string(x.Reason), Count: x.Count})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// ServeHTTP answers 200 "ready" or 503 with the failing checks.
func (h *Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	problems := h.Check(ctx)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
		for _, p := range problems {
			fmt.Fprintln(w, "-", p)
		}
		return
	}
	fmt.Fprintln(w, "ready")
}

// Check runs the readiness checks and returns what fails.
func (h *Health) Check(ctx context.Context) []string {
	var out []string
	if h.SIPReady != nil {
		select {
		case <-h.SIPReady:
		default:
			out = append(out, "sip: not listening yet")
		}
	}
	if h.Draining != nil && h.Draining() {
		out = append(out, "sip: draining, new calls get 503")
	}
	if h.Probe != nil {
		if err := h.probe(ctx); err != nil {
			out = append(out, "database: "+oneLine(err.Error()))
		}
	}
	if h.Registered != nil {
		if err := h.Registered(); err != nil {
			out = append(out, "trunks: "+oneLine(err.Error()))
		}
	}
	return out
}

func (h *Health) probe(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, err := h.Probe(ctx)
	if h.Metrics != nil {
		h.Metrics.ObserveSQLiteWrite(d)
	}
	return err
}

// Run probes the database every interval until ctx is done, so that the
// write latency is measured even when nobody asks /readyz.
func (h *Health) Run(ctx context.Context, interval time.Duration) {
	if h.Probe == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_ = h.probe(pctx)
			cancel()
		}
	}
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ") }
