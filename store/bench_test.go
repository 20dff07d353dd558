package store

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// BenchmarkCreateTicket stores a ticket with its call link, timeline entry
// and page: the write made once per voicemail.
func BenchmarkCreateTicket(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	call := &astreinte.Call{SIPCallID: "bench@pbx", CallerNumber: "+33612345678"}
	if err := db.CreateCall(ctx, call); err != nil {
		b.Fatal(err)
	}
	for _, first := range []bool{false, true} {
		name := "page"
		if first {
			name = "first-step" // the page's first step written with the ticket (three sends, one event)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tk := astreinte.Ticket{
					CallID: call.ID, Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent,
					Case: astreinte.CaseOutOfHours, Recording: "/var/lib/astreinte/rec/x.wav", Duration: 42 * time.Second,
				}
				page := &NewPage{Policy: "default", NextAt: t0}
				if first {
					page.First = &astreinte.FiredStep{NextAt: t0.Add(5 * time.Minute), LeaseUntil: t0.Add(time.Minute),
						Sends: []astreinte.Send{{Channel: "sip", Person: "alice"}, {Channel: "email", Person: "alice", State: astreinte.SendSending},
							{Channel: "webhook", Person: "alice", State: astreinte.SendSending}},
						Events: []astreinte.Event{{At: t0, Kind: astreinte.EventPageQueued, Actor: "system", Detail: "tier 1/1 primary: paging Alice by sip, email"}}}
				}
				if err := db.CreateTicket(ctx, &tk, page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCallLog is what the call log writes for a call: "row" the row
// written when it comes in, "life" that row, its recording's path and its
// end (ASTREINTE_BENCH_SYNCED=1: every commit waits for the disk, as
// before the log was written unsynced).
func BenchmarkCallLog(b *testing.B) {
	for _, life := range []bool{false, true} {
		name := "row"
		if life {
			name = "life"
		}
		b.Run(name, func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				c := astreinte.Call{SIPCallID: "bench-" + strconv.Itoa(n) + "@pbx", Line: "support", CallerNumber: "+33612345678", Called: "support"}
				if err := db.CreateCall(ctx, &c); err != nil {
					b.Fatal(err)
				}
				if !life {
					continue
				}
				if err := db.UpdateCall(ctx, &astreinte.Call{ID: c.ID, Recording: "2026/12/07/031502-x.wav"}); err != nil {
					b.Fatal(err)
				}
				c.Outcome, c.HangupBy, c.EndedAt = astreinte.OutcomeVoicemail, "caller", c.StartedAt.Add(time.Minute)
				if err := db.UpdateCall(ctx, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateTicketConcurrent is many calls ending at once (a regional
// outage: every caller leaves a message together): each goroutine writes a
// call's rows as the voicemail flow does (the call, its ticket with a page,
// the call's end). Writers queue on the one writer connection (BEGIN
// IMMEDIATE); tickets/s is what one node sustains. The benchmark fails if a
// ticket number repeats or a ticket is missing.
func BenchmarkCreateTicketConcurrent(b *testing.B) {
	for _, per := range []int{1, 8, 128} {
		// RunParallel starts per × GOMAXPROCS goroutines.
		b.Run(fmt.Sprintf("goroutines=%d", per*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			var made, seq atomic.Int64
			b.SetParallelism(per)
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call := astreinte.Call{SIPCallID: "bench-" + strconv.FormatInt(seq.Add(1), 10) + "@pbx", Line: "support", CallerNumber: "+33612345678", Called: "support"}
					if err := db.CreateCall(ctx, &call); err != nil {
						b.Error(err)
						return
					}
					tk := astreinte.Ticket{
						CallID: call.ID, Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent,
						Case: astreinte.CaseOutOfHours, Recording: "/var/lib/astreinte/rec/x.wav", Duration: 42 * time.Second,
					}
					if err := db.CreateTicket(ctx, &tk, &NewPage{Policy: "default", NextAt: t0}); err != nil {
						b.Error(err)
						return
					}
					call.Outcome, call.TicketID = astreinte.OutcomeVoicemail, tk.ID
					if err := db.UpdateCall(ctx, &call); err != nil {
						b.Error(err)
						return
					}
					made.Add(1)
				}
			})
			elapsed := time.Since(start)
			b.ReportMetric(float64(made.Load())/elapsed.Seconds(), "tickets/s")
			var n, distinct int64
			if err := db.rdb.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT number) FROM tickets`).Scan(&n, &distinct); err != nil {
				b.Fatal(err)
			}
			if n != made.Load() || distinct != n {
				b.Fatalf("%d tickets made, %d stored, %d distinct numbers", made.Load(), n, distinct)
			}
		})
	}
}

// BenchmarkPageBookkeeping is the paging engine's writes for one paged
// ticket reaching a technician on three channels: the step fired with its
// sends, each send claimed and finished. "claimed" is what the engine
// does: the sends stored claimed by the step (FireStep); "separate" what it
// did before: the step (AdvancePage), the sends read and each claimed on
// its own (ClaimSend). These commits do not wait for the disk
// (unsynced.go); compare with ASTREINTE_BENCH_SYNCED=1, which makes them
// synced as before.
func BenchmarkPageBookkeeping(b *testing.B) {
	for _, claimed := range []bool{true, false} {
		name := "claimed"
		if !claimed {
			name = "separate"
		}
		b.Run(name, func(b *testing.B) { benchPageBookkeeping(b, claimed) })
	}
}

func benchPageBookkeeping(b *testing.B, claimed bool) {
	db, _ := openTest(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tk := createTicket(b, db, astreinte.Ticket{CallerNumber: "+33612345678", Urgency: astreinte.Urgent}, &NewPage{Policy: "p", NextAt: t0})
		p, err := db.PageByTicket(ctx, tk.ID)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sends := []astreinte.Send{{Channel: "sip", Person: "alice"}, {Channel: "email", Person: "alice"}, {Channel: "webhook", Person: "alice"}}
		var ids []int64
		if claimed {
			for i := range sends {
				sends[i].State = astreinte.SendSending
			}
			var ok bool
			if ids, ok, err = db.FireStep(ctx, p.ID, 0, 1, t0.Add(5*time.Minute), t0.Add(time.Minute), sends, nil); err != nil || !ok {
				b.Fatalf("FireStep = %v, %v", ok, err)
			}
		} else {
			if ok, err := db.AdvancePage(ctx, p.ID, 0, 1, t0.Add(5*time.Minute), sends, nil); err != nil || !ok {
				b.Fatalf("AdvancePage = %v, %v", ok, err)
			}
			queued, err := db.Sends(ctx, p.ID)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range queued {
				if ok, err := db.ClaimSend(ctx, s.ID, t0.Add(time.Minute)); err != nil || !ok {
					b.Fatalf("ClaimSend = %v, %v", ok, err)
				}
				ids = append(ids, s.ID)
			}
		}
		for _, id := range ids {
			if err := db.FinishSend(ctx, id, astreinte.SendDone, time.Time{}, "", nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWriteRecordingAudio writes one batch of the recordings
// shipper's rows (256 half-seconds of 8 KB, many calls'), as the shipper
// does under load: rows per second is what one node can copy to the store.
func BenchmarkWriteRecordingAudio(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	pcm := make([]byte, 8000)
	ops := make([]astreinte.RecordingOp, 256)
	seq := int64(0)
	b.SetBytes(int64(len(ops) * len(pcm)))
	for b.Loop() {
		seq++
		for i := range ops {
			ops[i] = astreinte.RecordingOp{Recording: "/var/lib/astreinte/rec/" + strconv.Itoa(i) + ".wav", Seq: seq, Offset: seq * 8000, PCM: pcm}
		}
		if err := db.WriteRecordingAudio(ctx, ops); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(ops))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkOpenTicketFrom is the repeat caller's look-up made for every
// message (tickets.Take), with n tickets still open from other numbers.
func BenchmarkOpenTicketFrom(b *testing.B) {
	for _, n := range []int{0, 200, 5000} {
		b.Run(strconv.Itoa(n)+"-open", func(b *testing.B) {
			db, _ := openTest(b)
			ctx := context.Background()
			for i := range n {
				tk := astreinte.Ticket{Line: "support", CallerNumber: fmt.Sprintf("+3361%07d", i), Urgency: astreinte.NotUrgent,
					Case: astreinte.CaseOutOfHours, CallbackNumber: fmt.Sprintf("+3362%07d", i)}
				if err := db.CreateTicket(ctx, &tk, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.OpenTicketFrom(ctx, "support", "+33699999999"); err == nil {
					b.Fatal("found a ticket for a new number")
				}
			}
		})
	}
}
