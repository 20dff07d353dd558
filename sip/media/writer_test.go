package media

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

var peer = netip.MustParseAddrPort("192.0.2.10:30000")

// tone returns n samples of a constant non-zero level, so that prompt frames
// are told apart from silence on the wire.
func tone(n int, level int16) []int16 { return slices.Repeat([]int16{level}, n) }

// checkContinuity asserts that the packets form one stream: same SSRC and
// payload type, sequence +1 and timestamp +160 from each packet to the next.
func checkContinuity(t *testing.T, ps []sentPacket, pt uint8) {
	t.Helper()
	for i, p := range ps {
		if p.PayloadType != pt || p.SSRC != ps[0].SSRC || len(p.Payload) != FrameSamples || p.to != peer {
			t.Fatalf("packet %d: pt %d ssrc %#x payload %d to %s", i, p.PayloadType, p.SSRC, len(p.Payload), p.to)
		}
		if i == 0 {
			continue
		}
		if d := p.SequenceNumber - ps[i-1].SequenceNumber; d != 1 {
			t.Errorf("packet %d: sequence +%d", i, d)
		}
		if d := p.Timestamp - ps[i-1].Timestamp; d != FrameSamples {
			t.Errorf("packet %d: timestamp +%d", i, d)
		}
	}
}

// kinds describes the payloads: '.' silence, 'p' prompt, 'M' marker.
func kinds(ps []sentPacket, silence byte) (payload, markers string) {
	var b, m []byte
	for _, p := range ps {
		switch {
		case bytes.Count(p.Payload, []byte{silence}) == len(p.Payload):
			b = append(b, '.')
		default:
			b = append(b, 'p')
		}
		if p.Marker {
			m = append(m, 'M')
		} else {
			m = append(m, ' ')
		}
	}
	return string(b), string(m)
}

func TestWriterPacing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Remote: peer, Codec: PCMU})
		time.Sleep(110 * time.Millisecond) // 5 frames of silence
		start := time.Now()
		if err := s.Play(t.Context(), tone(SampleRate, 1000)); err != nil { // 1 s
			t.Fatal(err)
		}
		if d := time.Since(start); d != 990*time.Millisecond {
			t.Errorf("Play took %v, want the 50th tick at 990ms", d)
		}
		time.Sleep(110 * time.Millisecond) // 5 more frames of silence
		ps := fc.packets(t)
		payload, markers := kinds(ps, 0xFF)
		want := "....." + string(bytes.Repeat([]byte("p"), 50)) + "....."
		if payload != want {
			t.Errorf("payloads\n%s\nwant\n%s", payload, want)
		}
		if want := "M    M" + string(bytes.Repeat([]byte(" "), 54)); markers != want {
			t.Errorf("markers\n%q\nwant\n%q", markers, want)
		}
		if p := ps[5]; p.Payload[0] != UlawEncode(1000) {
			t.Errorf("prompt payload %#x, want %#x", p.Payload[0], UlawEncode(1000))
		}
		checkContinuity(t, ps, 0)
		if st := s.Stats(); st.PacketsSent != 60 {
			t.Errorf("PacketsSent %d, want 60", st.PacketsSent)
		}
	})
}

func TestWriterTwoPromptsAndSilence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Remote: peer, Codec: PCMA})
		time.Sleep(50 * time.Millisecond) // 2 frames
		if err := s.Play(t.Context(), tone(250, -3000)); err != nil {
			t.Fatal(err) // 2 frames, the second padded
		}
		if err := s.Play(t.Context(), tone(FrameSamples*3, 3000)); err != nil {
			t.Fatal(err) // 3 frames, right after the first prompt
		}
		time.Sleep(70 * time.Millisecond) // 3 frames
		ps := fc.packets(t)
		payload, markers := kinds(ps, 0xD5)
		if want := "..ppppp..."; payload != want {
			t.Errorf("payloads %q, want %q", payload, want)
		}
		if want := "M M M     "; markers != want {
			t.Errorf("markers %q, want %q", markers, want)
		}
		padded := ps[3].Payload
		if padded[89] != AlawEncode(-3000) || padded[90] != 0xD5 {
			t.Errorf("last frame of the first prompt: % x", padded)
		}
		checkContinuity(t, ps, 8)
	})
}

func TestWriterHoldAndUnknownRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, DTMFPayloadType: 101})
		time.Sleep(110 * time.Millisecond)
		if n := len(fc.packets(t)); n != 0 {
			t.Fatalf("%d packets sent before the remote is known", n)
		}
		s.SetRemote(peer)
		time.Sleep(100 * time.Millisecond) // 5 frames
		s.SetHold(true)
		time.Sleep(200 * time.Millisecond) // 10 frames not sent
		s.SetHold(false)
		time.Sleep(100 * time.Millisecond) // 5 frames
		ps := fc.packets(t)
		if len(ps) != 10 {
			t.Fatalf("%d packets, want 10", len(ps))
		}
		checkContinuity(t, ps[:5], 0)
		checkContinuity(t, ps[5:], 0)
		if d := ps[5].SequenceNumber - ps[4].SequenceNumber; d != 1 {
			t.Errorf("sequence after hold +%d, want +1", d)
		}
		if d := ps[5].Timestamp - ps[4].Timestamp; d != 11*FrameSamples {
			t.Errorf("timestamp after hold +%d, want +%d", d, 11*FrameSamples)
		}
		if _, markers := kinds(ps, 0xFF); markers != "M    M    " {
			t.Errorf("markers %q, want the first packet and the first after hold", markers)
		}
	})
}

func TestPlayCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Remote: peer, Codec: PCMU})
		ctx, cancel := context.WithTimeout(t.Context(), 210*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Play(ctx, tone(10*SampleRate, 1000))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Play: %v, want deadline exceeded", err)
		}
		if d := time.Since(start); d != 210*time.Millisecond {
			t.Errorf("Play returned after %v, want at once (210ms)", d)
		}
		time.Sleep(100 * time.Millisecond)
		payload, _ := kinds(fc.packets(t), 0xFF)
		if want := "pppppppppp....."; payload != want {
			t.Errorf("payloads %q, want %q", payload, want)
		}
		// The next prompt starts cleanly.
		if err := s.Play(t.Context(), tone(FrameSamples, 1000)); err != nil {
			t.Fatal(err)
		}
		checkContinuity(t, fc.packets(t), 0)
	})
}

func TestPlayConcurrentAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Remote: peer, Codec: PCMU})
		errs := make(chan error, 3)
		for _, level := range []int16{1000, -1000} {
			go func() { errs <- s.Play(context.Background(), tone(4*FrameSamples, level)) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		payload := ""
		for _, p := range fc.packets(t) {
			payload += map[byte]string{0xFF: ".", UlawEncode(1000): "a", UlawEncode(-1000): "b"}[p.Payload[0]]
		}
		if payload != "aaaabbbb" && payload != "bbbbaaaa" {
			t.Errorf("payloads %q: prompts interleaved", payload)
		}

		go func() { errs <- s.Play(context.Background(), tone(10*SampleRate, 1000)) }()
		time.Sleep(time.Second)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("Play during Close: %v, want ErrClosed", err)
		}
		if err := s.Play(context.Background(), tone(1, 1)); !errors.Is(err, ErrClosed) {
			t.Errorf("Play after Close: %v, want ErrClosed", err)
		}
	})
}

func TestStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Remote: peer, Codec: PCMU})
		start := time.Now()
		done := s.Start(t.Context(), tone(3*FrameSamples, 1000))
		if time.Since(start) != 0 {
			t.Error("Start blocked with nothing playing")
		}
		<-done
		if d := time.Since(start); d != 60*time.Millisecond {
			t.Errorf("prompt done after %v, want 60ms", d)
		}
		// Cancelling the context stops the prompt at once (barge-in).
		ctx, cancel := context.WithCancel(t.Context())
		done = s.Start(ctx, tone(10*SampleRate, 1000))
		time.Sleep(110 * time.Millisecond)
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Error("prompt still playing after cancel")
		}
		time.Sleep(100 * time.Millisecond)
		payload, _ := kinds(fc.packets(t), 0xFF)
		if want := "ppp" + "ppppp" + "....."; payload != want { // 3 frames, then 5 before the cancel
			t.Errorf("payloads %q, want %q", payload, want)
		}
		s.Close()
		select {
		case <-s.Start(t.Context(), tone(10, 1)):
		default:
			t.Error("Start after Close: channel not closed")
		}
	})
}
