package mailer

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte/mailer/mailertest"
)

func poolMessage(i int, to string) *Message {
	return &Message{To: []*mail.Address{{Address: to}}, Subject: fmt.Sprintf("page %d", i), Text: "ticket\n"}
}

func TestPool(t *testing.T) {
	tests := []struct {
		name string
		// run sends with p and returns the error of the last message
		run          func(t *testing.T, p *Pool, drop func()) error
		wantErr      string
		wantMessages int
		wantSessions int
	}{
		{"one session for messages in a row", func(t *testing.T, p *Pool, _ func()) error {
			for i := range 3 {
				if err := p.Send(context.Background(), poolMessage(i, "alice@example.com")); err != nil {
					return err
				}
			}
			return nil
		}, "", 3, 1},
		{"session closed by the server: sent again on a new one", func(t *testing.T, p *Pool, drop func()) error {
			if err := p.Send(context.Background(), poolMessage(0, "alice@example.com")); err != nil {
				return err
			}
			drop()
			time.Sleep(20 * time.Millisecond) // the close reaches the client's socket
			return p.Send(context.Background(), poolMessage(1, "alice@example.com"))
		}, "", 2, 2},
		{"idle session checked, closed: a new one", func(t *testing.T, p *Pool, drop func()) error {
			p.CheckAfter = time.Nanosecond
			if err := p.Send(context.Background(), poolMessage(0, "alice@example.com")); err != nil {
				return err
			}
			drop()
			time.Sleep(20 * time.Millisecond)
			return p.Send(context.Background(), poolMessage(1, "alice@example.com"))
		}, "", 2, 2},
		{"idle too long: a new session", func(t *testing.T, p *Pool, _ func()) error {
			p.IdleTimeout = time.Millisecond
			if err := p.Send(context.Background(), poolMessage(0, "alice@example.com")); err != nil {
				return err
			}
			time.Sleep(5 * time.Millisecond)
			return p.Send(context.Background(), poolMessage(1, "alice@example.com"))
		}, "", 2, 2},
		{"a refusal is not sent again", func(t *testing.T, p *Pool, _ func()) error {
			if err := p.Send(context.Background(), poolMessage(0, "alice@example.com")); err != nil {
				return err
			}
			return p.Send(context.Background(), poolMessage(1, "nobody@example.com"))
		}, "550", 1, 1},
		{"messages at once: a session each, two kept", func(t *testing.T, p *Pool, _ func()) error {
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for i := range 4 {
				wg.Go(func() { errs <- p.Send(context.Background(), poolMessage(i, "alice@example.com")) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			p.mu.Lock()
			kept := len(p.idle)
			p.mu.Unlock()
			if kept > 2 {
				t.Errorf("%d sessions kept, want at most 2", kept)
			}
			return p.Send(context.Background(), poolMessage(4, "alice@example.com"))
		}, "", 5, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, sink := start(t)
			p := &Pool{Config: &Config{Addr: addr, From: "astreinte@example.com", TLS: TLSNone, Timeout: 5 * time.Second}}
			defer p.Close()
			err := tt.run(t, p, sink.Drop)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("send: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("send: %v, want an error with %q", err, tt.wantErr)
			}
			if got := len(sink.Wait(tt.wantMessages, 2*time.Second)); got != tt.wantMessages {
				t.Errorf("%d messages received, want %d", got, tt.wantMessages)
			}
			if got := sink.Sessions(); tt.wantSessions >= 0 && got != tt.wantSessions {
				t.Errorf("%d sessions opened, want %d", got, tt.wantSessions)
			}
		})
	}
}

func TestPoolCancelled(t *testing.T) {
	addr, sink := start(t)
	p := &Pool{Config: &Config{Addr: addr, From: "astreinte@example.com", TLS: TLSNone, Timeout: 5 * time.Second}}
	defer p.Close()
	if err := p.Send(context.Background(), poolMessage(0, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Send(ctx, poolMessage(1, "alice@example.com")); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("send cancelled = %v, want cancelled", err)
	}
	// The kept session is still there for the next message.
	if err := p.Send(context.Background(), poolMessage(2, "alice@example.com")); err != nil {
		t.Fatal(err)
	}
	if got := len(sink.Wait(2, 2*time.Second)); got != 2 {
		t.Errorf("%d messages received, want 2", got)
	}
	if got := sink.Sessions(); got != 1 {
		t.Errorf("%d sessions, want 1", got)
	}
}

// BenchmarkSendPage sends a page-sized message (a 4 s recording attached)
// to a real SMTP server on loopback: on a new session each time (Config),
// and on a kept one (Pool).
func BenchmarkSendPage(b *testing.B) {
	wav := bytes.Repeat([]byte{1, 2, 3, 4}, 16_000) // 64 KB: 4 s at 8 kHz, 16 bits
	for _, kept := range []bool{false, true} {
		name := "new-session"
		if kept {
			name = "kept-session"
		}
		b.Run(name, func(b *testing.B) {
			sink := mailertest.Start(b)
			c := &Config{Addr: sink.Addr, From: "astreinte@example.com", TLS: TLSNone, Timeout: 5 * time.Second}
			p := &Pool{Config: c}
			defer p.Close()
			send := c.Send
			if kept {
				send = p.Send
			}
			b.ReportAllocs()
			for b.Loop() {
				m := poolMessage(0, "alice@example.com")
				m.Parts = []Part{{ContentType: "audio/wav", Name: "message.wav", Body: bytes.NewReader(wav)}}
				if err := send(context.Background(), m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
