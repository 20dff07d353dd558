package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkPageLatency measures how long after a caller hangs up the first
// page leaves astreinte: callers (SIPp) leave messages at night and hang up
// mid-message, nearly together; the webhook receiver and the SMTP server note
// when each page arrives, and astreinte's call log says when it saw each
// BYE (astreinte runs on the wall clock here, so both are on one clock).
//
//	go test -run '^$' -bench PageLatency -benchtime 1x ./e2e/
//
// Each iteration is one batch of pageBatch calls; it prints p50, p99 and
// max for the webhook and the email.
func BenchmarkPageLatency(b *testing.B) {
	const pageBatch = 20
	var hookLat, mailLat []time.Duration
	b.StopTimer() // the figures are the pages' delays, not the batch's length
	for i := 0; i < b.N; i++ {
		h, m := pageLatencyBatch(b, pageBatch)
		hookLat = append(hookLat, h...)
		mailLat = append(mailLat, m...)
	}
	b.ReportMetric(0, "ns/op") // the batch's wall time says nothing here
	for _, s := range []struct {
		name string
		lat  []time.Duration
	}{{"webhook", hookLat}, {"email", mailLat}} {
		slices.Sort(s.lat)
		p50, p99, mx := percentile(s.lat, 0.50), percentile(s.lat, 0.99), s.lat[len(s.lat)-1]
		b.ReportMetric(float64(p50.Microseconds())/1000, s.name+"-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, s.name+"-p99-ms")
		b.Logf("hang-up → %s page: %d pages, p50 %s, p99 %s, max %s", s.name, len(s.lat),
			p50.Round(time.Millisecond), p99.Round(time.Millisecond), mx.Round(time.Millisecond))
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// pageLatencyBatch runs n calls against a fresh astreinte and returns the
// hang-up → page delays seen by the webhook receiver and the SMTP server.
// The processes it starts are stopped when the benchmark run ends.
func pageLatencyBatch(tb testing.TB, n int) (hookLat, mailLat []time.Duration) {
	ms := startMailSink(tb)
	var svc *service
	hs := startHookSink(tb, hookSecret, func() time.Time { return svc.clock() })
	phone := startSIPpUAS(tb, "uas_busy.xml")
	people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), "alice@e2e.test"}}
	tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
	o := pagingOverrides(people, nil, tiers, ms, hs, "out_of_hours")
	o["clock"] = map[string]any{"now": ""} // the wall clock: compare with the receivers' times
	svc = startAstreinte(tb, o)
	if out, err := svc.cli("calendar", "force", "closed", "--until", "+3h", "--reason", "latency benchmark"); err != nil {
		tb.Fatalf("calendar force closed: %v\n%s", err, out)
	}
	beepEnd := closedBeepEnd(tb)
	stream := writeCallerStream(tb, callerAudio(beepEnd+300*time.Millisecond, 3, 10*time.Second), false)
	formats, maps := offerG711(false)
	sc := writeScenario(tb, "uac_message.xml", scenario{Caller: "0600[call_number]", Formats: formats, RTPMaps: maps, Stream: stream,
		HangupAfterMS: int((beepEnd + 3*time.Second) / time.Millisecond)})
	runSIPp(tb, svc, sc, sippOptions{calls: n, limit: n, rate: 10})
	posts, ok := hs.wait(n, 60*time.Second)
	if !ok {
		tb.Fatalf("%d webhooks for %d calls", len(posts), n)
	}
	mails, ok := ms.waitTo("alice@e2e.test", n, 60*time.Second)
	if !ok {
		tb.Fatalf("%d emails for %d calls", len(mails), n)
	}
	ended := svc.hangups()
	for _, p := range posts {
		at, ok := ended[p.payload.Ticket.Number]
		if !ok {
			tb.Fatalf("no ended call for ticket %s", p.payload.Ticket.Number)
		}
		hookLat = append(hookLat, p.at.Sub(at))
	}
	for _, m := range mails {
		for num, at := range ended {
			if strings.Contains(m.subject, num) {
				mailLat = append(mailLat, m.at.Sub(at))
			}
		}
	}
	return hookLat, mailLat
}

// hangups maps each ticket number to when its call ended, by astreinte's
// clock.
func (s *service) hangups() map[string]time.Time {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT t.number, c.ended_at FROM tickets t JOIN calls c ON c.id = t.call_id WHERE c.ended_at IS NOT NULL`)
	if err != nil {
		s.t.Fatalf("hangups: %v", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var num, at string
		if err := rows.Scan(&num, &at); err != nil {
			s.t.Fatalf("hangups: %v", err)
		}
		ts, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			s.t.Fatalf("ended_at %q: %v", at, err)
		}
		out[num] = ts
	}
	return out
}
