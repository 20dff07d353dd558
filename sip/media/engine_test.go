package media

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestEngineSharedClock: calls on one shard send on the same 20 ms clock
// whenever they started; closing one does not disturb the others; the
// shard's goroutines stop with its last call and start again with the next.
func TestEngineSharedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEngine(1)
		start := time.Now()
		var fcs []*fakeConn
		var ss []*Session
		for _, delay := range []time.Duration{0, 7 * time.Millisecond, 13 * time.Millisecond} {
			time.Sleep(delay)
			fc := newFakeConn()
			fcs = append(fcs, fc)
			ss = append(ss, startOn(t, e, fc, Config{Codec: PCMU, Remote: peer}))
		}
		time.Sleep(200 * time.Millisecond)
		ss[1].Close()
		time.Sleep(200 * time.Millisecond)
		for i, fc := range fcs {
			ps := fc.packets(t)
			checkContinuity(t, ps, 0)
			fc.mu.Lock()
			for k, d := range fc.sent {
				if off := d.at.Sub(start) % frameDuration; off != 0 {
					t.Errorf("call %d packet %d sent %v after a tick of the shared clock", i, k, off)
				}
				if k > 0 && d.at.Sub(fc.sent[k-1].at) != frameDuration {
					t.Errorf("call %d packet %d: %v after the previous one", i, k, d.at.Sub(fc.sent[k-1].at))
				}
			}
			fc.mu.Unlock()
		}
		if n := len(fcs[1].sent); n < 9 || n > 11 {
			t.Errorf("the closed call sent %d packets in its 200 ms, want about 10", n)
		}
		before := loopGoroutines(e)
		ss[0].Close()
		ss[2].Close()
		synctest.Wait()
		if stopped := before - loopGoroutines(e); stopped != 2 {
			t.Errorf("%d engine goroutines stopped with the last calls, want 2 (pacer and receiver)", stopped)
		}
		// A new call wakes the engine up again.
		fc := newFakeConn()
		s := startOn(t, e, fc, Config{Codec: PCMU, Remote: peer})
		time.Sleep(110 * time.Millisecond)
		if n := len(fc.packets(t)); n != 5 {
			t.Errorf("a call on the idle engine sent %d packets in 110 ms, want 5", n)
		}
		s.Close()
	})
}

// TestEngineSpreadsCalls: calls go to the shards in turn, each shard with
// its own pacer and receiver.
func TestEngineSpreadsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEngine(2)
		before := loopGoroutines(e)
		var ss []*Session
		for range 4 {
			ss = append(ss, startOn(t, e, newFakeConn(), Config{Codec: PCMU, Remote: peer}))
		}
		// Let the new loops start: a goroutine not yet run shows no
		// arguments in its stack, so it could not be counted.
		synctest.Wait()
		if n := loopGoroutines(e) - before; n != 4 {
			t.Errorf("%d goroutines for 4 calls on 2 shards, want 4", n)
		}
		for i, sh := range e.shards {
			if n := len(sh.pacer.sessions); n != 2 || len(sh.receiver.sessions) != 2 {
				t.Errorf("shard %d serves %d calls, want 2", i, n)
			}
		}
		for _, s := range ss {
			s.Close()
		}
	})
}

// loopGoroutines counts the goroutines running e's pacers and receivers,
// found by their loop's address in the stacks: runtime.NumGoroutine counts
// the whole process, where another test's goroutines may be ending.
func loopGoroutines(e *engine) int {
	buf := make([]byte, 1<<22)
	stacks := string(buf[:runtime.Stack(buf, true)])
	n := 0
	for i := range e.shards {
		sh := e.shards[i]
		for _, l := range []*loop{&sh.pacer, &sh.receiver} {
			n += strings.Count(stacks, fmt.Sprintf("(*loop).run(%p", l))
		}
	}
	return n
}

// TestPacerReceivesForALateReceiver: when the receive pass is overdue (its
// goroutine got no CPU), the pacer reads the sockets before it sends; when
// it is on time, the pacer leaves them to it.
func TestPacerReceivesForALateReceiver(t *testing.T) {
	sh := newEngine(1).shards[0]
	fc := newFakeConn()
	s, err := newSession(Config{Codec: PCMU, Remote: peer}, fc)
	if err != nil {
		t.Fatal(err)
	}
	s.shard = sh
	sh.receiver.sessions = []*Session{s} // listed, goroutines not started
	push := func(n int) {
		for k := range n {
			fc.in <- datagram{b: pkt(0, k == 0, uint16(k+1), uint32(k*FrameSamples), 7, frameOf(0x12)), addr: peer}
		}
	}

	push(5)
	sh.receiving() // a receive pass just began
	sh.receiveIfLate()
	if got := s.Stats().PacketsReceived; got != 0 || len(fc.in) != 5 {
		t.Fatalf("receiver on time: the pacer read %d packets (%d left), want none", got, len(fc.in))
	}

	sh.lastRecv.Store(int64(time.Since(epoch) - lateReceive)) // the receiver is late
	sh.receiveIfLate()
	if got := s.Stats().PacketsReceived; got != 5 || len(fc.in) != 0 {
		t.Fatalf("receiver late: the pacer read %d packets (%d left), want 5", got, len(fc.in))
	}
	if late := time.Since(epoch) - time.Duration(sh.lastRecv.Load()); late >= lateReceive {
		t.Errorf("after the pacer's receive pass the receiver still looks %v late", late)
	}
}
