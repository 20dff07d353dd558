package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// ErrPprofPublic is returned by ListenPprof for an address that is not a
// loopback one when public was not asked for: the profiles show the
// process's memory and its goroutines' stacks, call details included.
var ErrPprofPublic = errors.New("pprof: listen address is not a loopback address (pass --pprof-public to allow it)")

// Pprof serves net/http/pprof's handlers (/debug/pprof/…) on a listener of
// its own, apart from the web pages and /metrics.
type Pprof struct {
	srv *http.Server
	ln  net.Listener
}

// ListenPprof listens on addr (host:port; port 0 picks one) and serves the
// profiles until Close. addr must be a loopback address (127.0.0.0/8, ::1,
// localhost) unless public is set.
func ListenPprof(addr string, public bool) (*Pprof, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: listen address %q: %w", addr, err)
	}
	if !public && !isLoopback(host) {
		return nil, fmt.Errorf("%w: %q", ErrPprofPublic, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &Pprof{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go p.srv.Serve(ln) // returns http.ErrServerClosed at Close
	return p, nil
}

// Addr returns the address the profiles are served on.
func (p *Pprof) Addr() net.Addr { return p.ln.Addr() }

// Close stops serving; a profile being taken is cut.
func (p *Pprof) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil {
		return p.srv.Close()
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
