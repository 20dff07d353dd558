package sip

import (
	"context"
	"testing"
	"time"
)

// serveTest runs srv for the test: ListenAndServe on its own goroutine,
// ready within 5 s; at cleanup, Shutdown (calls given 5 s) and the
// listeners stopped. Cleanups registered after it run before it.
func serveTest(tb testing.TB, srv *Server) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.ListenAndServe(ctx) }()
	tb.Cleanup(func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		srv.Shutdown(sctx)
		cancel()
		<-done
	})
	select {
	case <-srv.Ready():
	case <-time.After(5 * time.Second):
		tb.Fatal("server not ready")
	}
}
