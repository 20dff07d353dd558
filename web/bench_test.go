package web

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// BenchmarkTicketsPage is the open list of 200 tickets rendered for a
// logged-in technician, over the real store (SQLite file), through HTTP.
func BenchmarkTicketsPage(b *testing.B) {
	a := newApp(b)
	for i := range 200 {
		a.ticket(fmt.Sprintf("+336%08d", i), astreinte.NotUrgent, time.Duration(i)*time.Minute)
	}
	br := a.browser()
	br.mustLogin("alice")
	req, _ := http.NewRequest("GET", a.ts.URL+"/tickets", nil)
	b.ReportAllocs()
	b.ResetTimer()
	var n int64
	for b.Loop() {
		resp, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		n = m
	}
	b.ReportMetric(float64(n), "bytes/page")
}
