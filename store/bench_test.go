package store

import (
	"context"
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
	b.ReportAllocs()
	for b.Loop() {
		tk := astreinte.Ticket{
			CallID: call.ID, Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent,
			Case: astreinte.CaseOutOfHours, Recording: "/var/lib/astreinte/rec/x.wav", Duration: 42 * time.Second,
		}
		if err := db.CreateTicket(ctx, &tk, &NewPage{Policy: "default", NextAt: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateCall stores the row written when a call comes in.
func BenchmarkCreateCall(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c := astreinte.Call{SIPCallID: "bench@pbx", Line: "support", CallerNumber: "+33612345678", Called: "support"}
		if err := db.CreateCall(ctx, &c); err != nil {
			b.Fatal(err)
		}
	}
}
