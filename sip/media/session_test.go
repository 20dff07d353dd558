package media

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestNewSessionValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no conn", Config{Codec: PCMU}},
		{"unknown codec", Config{Codec: 9}},
		{"dtmf type above 127", Config{Codec: PCMU, DTMFPayloadType: 128}},
		{"dtmf type is the codec", Config{Codec: PCMA, DTMFPayloadType: 8}},
		{"negative timeout", Config{Codec: PCMU, MediaTimeout: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.name == "no conn" {
				_, err = NewSession(tc.cfg)
			} else {
				_, err = newSession(tc.cfg, newFakeConn())
			}
			if err == nil {
				t.Error("no error")
			}
		})
	}
}

// waitReceive returns once a receive pass ran after the call, inside a
// synctest bubble: the packets fed so far are handled.
func waitReceive() { time.Sleep(recvInterval + time.Millisecond) }

// feed sends n audio frames from src, one per 20 ms of (fake) time, frame k
// encoded from code codes[k%len(codes)].
func feed(fc *fakeConn, src netip.AddrPort, ssrc uint32, seq0 uint16, ts0 uint32, n int, code byte) {
	for k := range n {
		fc.in <- datagram{b: pkt(0, k == 0, seq0+uint16(k), ts0+uint32(k*FrameSamples), ssrc, frameOf(code)), addr: src}
		time.Sleep(frameDuration)
	}
}

func TestMediaTimeout(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		packets int           // audio frames sent at the start
		hold    time.Duration // on hold for this long after the packets
		want    time.Duration // from the start to Done
	}{
		{name: "no packet at all", want: 30 * time.Second},
		{name: "no packet, configured", cfg: Config{FirstPacketTimeout: 5 * time.Second}, want: 5 * time.Second},
		// The 10th packet arrives at 180 ms.
		{name: "after 10 packets", packets: 10, want: 180*time.Millisecond + 15*time.Second},
		{name: "configured", cfg: Config{MediaTimeout: 3 * time.Second}, packets: 10, want: 180*time.Millisecond + 3*time.Second},
		// On hold from 200 ms for a minute; the timeout counts from the release.
		{name: "suspended on hold", packets: 10, hold: time.Minute, want: 200*time.Millisecond + time.Minute + 15*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fc := newFakeConn()
				cfg := tc.cfg
				cfg.Codec, cfg.Remote = PCMU, peer
				start := time.Now()
				s := startFake(t, fc, cfg)
				var rec recorder
				s.SetRecorder(&rec)
				feed(fc, peer, 1, 1, 1, tc.packets, UlawEncode(500))
				if tc.hold > 0 {
					s.SetHold(true)
					time.Sleep(tc.hold)
					s.SetHold(false)
				}
				<-s.Done()
				// The receive pass checks the timeout every recvInterval.
				if d := time.Since(start); d < tc.want || d >= tc.want+recvInterval {
					t.Errorf("Done after %v, want %v (within %v)", d, tc.want, recvInterval)
				}
				if err := s.Err(); !errors.Is(err, ErrMediaTimeout) {
					t.Errorf("Err() = %v, want ErrMediaTimeout", err)
				}
				// Everything received was flushed before Done closed,
				// the playout delay included.
				if got, want := rec.get(), tone(tc.packets*FrameSamples, UlawDecode(UlawEncode(500))); !slices.Equal(got, want) {
					t.Errorf("recorded %v, want %v", runs(got), runs(want))
				}
				if err := s.Play(t.Context(), tone(10, 1)); !errors.Is(err, ErrMediaTimeout) {
					t.Errorf("Play after timeout: %v, want ErrMediaTimeout", err)
				}
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if err := s.Err(); !errors.Is(err, ErrMediaTimeout) {
					t.Errorf("Err() after Close = %v, want ErrMediaTimeout still", err)
				}
			})
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		var rec recorder
		s.SetRecorder(&rec)
		feed(fc, peer, 1, 1, 1, 3, UlawEncode(-500))
		if s.Err() != nil {
			t.Fatalf("Err() = %v while running", s.Err())
		}
		done := make(chan error, 2)
		for range 2 {
			go func() { done <- s.Close() }()
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		select {
		case <-s.Done():
		default:
			t.Error("Done not closed")
		}
		if !errors.Is(s.Err(), ErrClosed) {
			t.Errorf("Err() = %v, want ErrClosed", s.Err())
		}
		select {
		case <-fc.closed:
		default:
			t.Error("socket not closed")
		}
		if n := len(rec.get()); n != 3*FrameSamples {
			t.Errorf("recorded %d samples, want %d flushed by Close", n, 3*FrameSamples)
		}
	})
}

func TestSetRecorder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		a, b := UlawEncode(100), UlawEncode(200)
		feed(fc, peer, 1, 1, 0, 5, a) // no recorder yet: discarded
		waitReceive()
		var r1, r2 recorder
		s.SetRecorder(&r1)
		feed(fc, peer, 1, 6, 5*FrameSamples, 10, b)
		waitReceive()
		s.SetRecorder(nil)
		calls := r1.calls
		feed(fc, peer, 1, 16, 15*FrameSamples, 10, a) // discarded
		waitReceive()
		if r1.calls != calls {
			t.Error("recorder called after SetRecorder(nil) returned")
		}
		if got, want := r1.get(), tone(10*FrameSamples, UlawDecode(b)); !slices.Equal(got, want) {
			t.Errorf("first recorder got %v, want %v", runs(got), runs(want))
		}
		s.SetRecorder(&r2)
		feed(fc, peer, 1, 26, 25*FrameSamples, 2, b)
		s.Close()
		if got, want := r2.get(), tone(2*FrameSamples, UlawDecode(b)); !slices.Equal(got, want) {
			t.Errorf("second recorder got %v, want %v", runs(got), runs(want))
		}
	})
}

func TestRecorderErrorStopsRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		rec := &recorder{err: errors.New("disk full")}
		s.SetRecorder(rec)
		feed(fc, peer, 1, 1, 0, 20, 0x10)
		s.Close()
		if rec.calls != 1 {
			t.Errorf("failing recorder called %d times, want once", rec.calls)
		}
	})
}

func TestLatch(t *testing.T) {
	other := netip.MustParseAddrPort("198.51.100.7:40002")
	moved := netip.MustParseAddrPort("192.0.2.99:30010")
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		// Behind NAT: the packets come from another address than the SDP's.
		feed(fc, other, 1, 1, 0, 2, 0x10)
		feed(fc, netip.MustParseAddrPort("[::ffff:198.51.100.7]:40002"), 1, 3, 2*FrameSamples, 1, 0x10)
		feed(fc, netip.MustParseAddrPort("203.0.113.1:9"), 1, 4, 3*FrameSamples, 1, 0x10) // foreign
		fc.in <- datagram{b: []byte("not rtp"), addr: other}
		waitReceive()
		ps := fc.packets(t)
		if last := ps[len(ps)-1]; last.to != other {
			t.Errorf("sending to %s, want the latched source %s", last.to, other)
		}
		if st := s.Stats(); st.PacketsReceived != 3 || st.ForeignSource != 1 || st.BadPackets != 1 {
			t.Errorf("stats %+v: want 3 received, 1 foreign, 1 bad", st)
		}
		// A re-INVITE moves the media: the latch is reset.
		s.SetRemote(moved)
		time.Sleep(30 * time.Millisecond)
		ps = fc.packets(t)
		if last := ps[len(ps)-1]; last.to != moved {
			t.Errorf("sending to %s after SetRemote, want %s", last.to, moved)
		}
		feed(fc, other, 1, 5, 4*FrameSamples, 1, 0x10) // a straggler from the old source latches...
		feed(fc, moved, 2, 1, 0, 1, 0x10)              // ...but the signalled address wins
		feed(fc, other, 1, 6, 5*FrameSamples, 1, 0x10) // and the old source is now foreign
		waitReceive()
		time.Sleep(frameDuration)
		ps = fc.packets(t)
		if last := ps[len(ps)-1]; last.to != moved {
			t.Errorf("sending to %s, want %s", last.to, moved)
		}
		if st := s.Stats(); st.ForeignSource != 2 {
			t.Errorf("ForeignSource %d, want 2", st.ForeignSource)
		}
	})
}

func TestDTMFChannel(t *testing.T) {
	s, err := newSession(Config{Codec: PCMU}, newFakeConn())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "12x3a#\n" {
		s.InjectDTMF(r)
	}
	for range dtmfQueue {
		s.InjectDTMF('0')
	}
	var got []rune
	for len(s.DTMF()) > 0 {
		got = append(got, <-s.DTMF())
	}
	if want := "123A#" + string(slices.Repeat([]rune{'0'}, dtmfQueue-5)); string(got) != want {
		t.Errorf("keys %q, want %q", string(got), want)
	}
	if st := s.Stats(); st.DTMFEvents != dtmfQueue+5 || st.DTMFDropped != 5 {
		t.Errorf("stats %+v: want %d events, 5 dropped", st, dtmfQueue+5)
	}
}

func TestReaderGivesUpAfterErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		fc.readErr = errors.New("network is down")
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		<-s.Done()
		if err := s.Err(); err == nil || !errors.Is(err, fc.readErr) {
			t.Errorf("Err() = %v, want the read error", err)
		}
	})
}

// A phone with silence suppression: 10 frames of speech, then comfort noise
// (RFC 3389) once a second for 20 s while its user says nothing, then speech
// again. The media timeout (3 s) does not end the call, and the recording
// keeps the 20 s pause as silence between the two bursts.
func TestComfortNoiseKeepsTheCallAndThePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer, MediaTimeout: 3 * time.Second})
		var rec recorder
		s.SetRecorder(&rec)
		start := time.Now()
		feed(fc, peer, 7, 1, 1000, 10, UlawEncode(500))
		// 10 frames sent: the next timestamp is 1000+1600. Comfort noise
		// carries on the sequence and the clock.
		seq, ts := uint16(11), uint32(1000+10*FrameSamples)
		for range 20 {
			fc.in <- datagram{b: pkt(ptComfortNoise, false, seq, ts, 7, []byte{0x40}), addr: peer}
			seq++
			time.Sleep(time.Second)
			ts += SampleRate
		}
		select {
		case <-s.Done():
			t.Fatalf("the call timed out at %s despite comfort noise", time.Since(start))
		default:
		}
		// Speech again: the next sequence number, the timestamp of now.
		feed(fc, peer, 7, seq, ts, 10, UlawEncode(500))
		<-s.Done()
		st := s.Stats()
		if st.ComfortNoise != 20 || st.Resyncs != 0 || st.LostPackets != 0 {
			t.Errorf("stats %+v: want 20 comfort noise packets, no resync, no loss", st)
		}
		speech := tone(10*FrameSamples, UlawDecode(UlawEncode(500)))
		pause := int(ts - (1000 + 10*FrameSamples))
		want := slices.Concat(speech, make([]int16, pause), speech)
		if got := rec.get(); !slices.Equal(got, want) {
			t.Errorf("recorded %v, want %v", runs(got), runs(want))
		}
		if err := s.Err(); !errors.Is(err, ErrMediaTimeout) {
			t.Errorf("Err() = %v, want the media timeout after the last speech", err)
		}
	})
}

// A hang-up ends the message: what arrived since the last receive pass is
// read by SetRecorder(nil) and reaches the recorder being replaced.
func TestSetRecorderReadsWhatWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := newFakeConn()
		s := startFake(t, fc, Config{Codec: PCMU, Remote: peer})
		var rec recorder
		s.SetRecorder(&rec)
		for k := range 3 { // all within one receive interval
			fc.in <- datagram{b: pkt(0, k == 0, uint16(k), uint32(k*FrameSamples), 9, frameOf(UlawEncode(700))), addr: peer}
		}
		s.SetRecorder(nil)
		if got, want := rec.get(), tone(3*FrameSamples, UlawDecode(UlawEncode(700))); !slices.Equal(got, want) {
			t.Errorf("recorded %v, want %v", runs(got), runs(want))
		}
	})
}
