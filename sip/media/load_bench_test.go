package media

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCalls holds many media sessions at once against a peer running in
// another process (this test binary again, see TestLoadPeer), the way a load
// generator would: each call plays a looping prompt and records what the
// peer sends, 50 packets a second each way. It reports this process's CPU
// time per call-second (getrusage, user + system), heap per call, and the
// send timing the peer measured (worst gap, RFC 3550 jitter).
//
//	MEDIA_BENCH_CALLS=200 MEDIA_BENCH_SECONDS=10 go test -run '^$' -bench Calls -benchtime 1x ./sip/media/
//
// It measures the media path alone (no SIP, no WAV files): the figure to
// compare before and after a change of the media design.
func BenchmarkCalls(b *testing.B) {
	calls := envInt("MEDIA_BENCH_CALLS", 200)
	secs := envInt("MEDIA_BENCH_SECONDS", 10)
	for b.Loop() {
		runCalls(b, calls, time.Duration(secs)*time.Second)
	}
}

type peerReport struct {
	Packets   int     `json:"packets"`
	MaxGapMs  float64 `json:"max_gap_ms"`
	P99GapMs  float64 `json:"p99_gap_ms"`
	JitterMs  float64 `json:"jitter_ms"` // mean over calls of the final RFC 3550 estimate
	MaxJitter float64 `json:"max_jitter_ms"`
}

func runCalls(b *testing.B, calls int, hold time.Duration) {
	sessions := make([]*Session, calls)
	recs := make([]*discardRecorder, calls)
	ports := make([]string, calls)
	for i := range calls {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewSession(Config{Conn: c, Codec: PCMU, MediaTimeout: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
		recs[i] = &discardRecorder{}
		s.SetRecorder(recs[i])
		ports[i] = strconv.Itoa(int(s.LocalAddr().Port()))
	}
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadPeer$")
	cmd.Env = append(os.Environ(), "MEDIA_LOAD_PEER="+strconv.Itoa(int(hold/time.Millisecond)))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	// The peer answers with its own ports, one per call, in order.
	for _, p := range ports {
		fmt.Fprintln(stdin, p)
	}
	stdin.Close()
	for i := range calls {
		if !sc.Scan() {
			b.Fatalf("peer: %v", sc.Err())
		}
		port, _ := strconv.Atoi(sc.Text())
		sessions[i].SetRemote(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prompt := tone(5*SampleRate, 3000) // a 5 s prompt, played in a loop
	for _, s := range sessions {
		go func() {
			for ctx.Err() == nil && s.Play(ctx, prompt) == nil {
			}
		}()
	}
	var ms0, ms1 runtimeMem
	ms0.read()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	b.ResetTimer()
	var rep peerReport
	if !sc.Scan() {
		b.Fatalf("peer report: %v", sc.Err())
	}
	el := time.Since(t0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	ms1.read()
	if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
		b.Fatalf("peer report %q: %v", sc.Text(), err)
	}
	cmd.Wait()
	cpu := tv(ru1.Utime) - tv(ru0.Utime) + tv(ru1.Stime) - tv(ru0.Stime)
	callSec := float64(calls) * el.Seconds()
	var recorded, lost, late uint64
	for i, s := range sessions {
		st := s.Stats()
		recorded += uint64(recs[i].n)
		lost += st.LostPackets
		late += st.Late
	}
	b.ReportMetric(cpu.Seconds()*1000/callSec, "ms-cpu/call-s")
	b.ReportMetric(100*cpu.Seconds()/el.Seconds(), "%core")
	b.ReportMetric(float64(ms1.heapInuse)/float64(calls)/1024, "KB-heap/call")
	b.ReportMetric(float64(ms1.goroutines), "goroutines")
	b.ReportMetric(rep.MaxGapMs, "ms-max-gap")
	b.ReportMetric(rep.P99GapMs, "ms-p99-gap")
	b.ReportMetric(rep.MaxJitter, "ms-max-jitter")
	b.ReportMetric(float64(recorded)/float64(SampleRate)/callSec, "recorded/held")
	b.ReportMetric(float64(lost+late), "lost+late")
}

type runtimeMem struct {
	heapInuse  uint64
	goroutines int
}

func (m *runtimeMem) read() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapInuse, m.goroutines = ms.HeapInuse+ms.StackInuse, runtime.NumGoroutine()
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLoadPeer is the far end of BenchmarkCalls, in its own process: it
// reads the sessions' ports on stdin, answers with one port of its own per
// call, sends each session 50 packets a second for the time given in
// MEDIA_LOAD_PEER (ms), measures the arrival of the packets it gets back and
// prints a JSON report. Without the variable it is skipped.
func TestLoadPeer(t *testing.T) {
	ms, err := strconv.Atoi(os.Getenv("MEDIA_LOAD_PEER"))
	if err != nil {
		t.Skip("the peer process of BenchmarkCalls")
	}
	var dsts []netip.AddrPort
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		p, _ := strconv.Atoi(sc.Text())
		dsts = append(dsts, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p)))
	}
	conns := make([]*net.UDPConn, len(dsts))
	out := bufio.NewWriter(os.Stdout)
	for i := range dsts {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadBuffer(1 << 20)
		conns[i] = c
		fmt.Fprintln(out, c.LocalAddr().(*net.UDPAddr).Port)
	}
	out.Flush()
	type stat struct {
		gaps    []float64
		jitter  float64
		last    time.Time
		transit float64
		n       int
	}
	stats := make([]stat, len(conns))
	done := make(chan struct{}, len(conns))
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for i, c := range conns {
		c.SetReadDeadline(deadline)
		go func() {
			defer func() { done <- struct{}{} }()
			buf := make([]byte, 2048)
			st := &stats[i]
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				now := time.Now()
				if n < 12 {
					continue
				}
				ts := uint32(buf[4])<<24 | uint32(buf[5])<<16 | uint32(buf[6])<<8 | uint32(buf[7])
				transit := float64(now.UnixNano())/1e6 - float64(ts)/8 // ms
				if st.n > 0 {
					st.gaps = append(st.gaps, float64(now.Sub(st.last))/1e6)
					d := math.Abs(transit - st.transit)
					st.jitter += (d - st.jitter) / 16
				}
				st.last, st.transit = now, transit
				st.n++
			}
		}()
	}
	frame := pkt(0, false, 0, 0, 7, frameOf(0x35))
	tk := time.NewTicker(frameDuration)
	for k := 0; time.Now().Before(deadline); k++ {
		<-tk.C
		frame[2], frame[3] = byte(k>>8), byte(k)
		ts := uint32(k * FrameSamples)
		frame[4], frame[5], frame[6], frame[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		for i, c := range conns {
			frame[11] = byte(i)
			c.WriteToUDPAddrPort(frame, dsts[i])
		}
	}
	tk.Stop()
	for range conns {
		<-done
	}
	var rep peerReport
	var all []float64
	for _, st := range stats {
		// Leave out the first second: the sessions start before the peer.
		skip := min(len(st.gaps), 50)
		all = append(all, st.gaps[skip:]...)
		rep.Packets += st.n
		rep.JitterMs += st.jitter / float64(len(stats))
		rep.MaxJitter = max(rep.MaxJitter, st.jitter)
	}
	slices.Sort(all)
	if len(all) > 0 {
		rep.MaxGapMs = all[len(all)-1]
		rep.P99GapMs = all[len(all)*99/100]
	}
	j, _ := json.Marshal(rep)
	fmt.Println(string(j))
}
