package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hostile input against the running binary: the RFC 4475 torture messages
// over UDP and TCP, broken SDP offers, broken RTP inside a call, and a burst
// of garbage datagrams. Afterwards the process is alive, its goroutines and
// open files are back to their level, its log is not flooded, and a normal
// call still leaves a ticket.

// rawUAC is a hand-driven SIP client over UDP on 127.0.0.1.
type rawUAC struct {
	t      testing.TB
	conn   *net.UDPConn
	target *net.UDPAddr
	n      int
}

func newRawUAC(t testing.TB, svc *service) *rawUAC {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ra, _ := net.ResolveUDPAddr("udp", svc.target())
	return &rawUAC{t: t, conn: c, target: ra}
}

func (u *rawUAC) send(b []byte) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDP(b, u.target); err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// dialog is what a request needs to stay in one call.
type dialog struct {
	callID, fromTag, toTag, uri string
	cseq                        int
}

// request builds a request in d; branch is new unless given.
func (u *rawUAC) request(method string, d *dialog, body []byte, branch string) []byte {
	la := u.conn.LocalAddr().(*net.UDPAddr)
	if branch == "" {
		u.n++
		branch = fmt.Sprintf("z9hG4bK-torture-%d-%d", u.n, rand.Int64())
	}
	to := "<" + d.uri + ">"
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n", method, d.uri, la, branch)
	fmt.Fprintf(&b, "From: <sip:torture@127.0.0.1>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n", d.fromTag, to, d.callID)
	cseqMethod := method
	fmt.Fprintf(&b, "CSeq: %d %s\r\nContact: <sip:torture@%s>\r\nUser-Agent: astreinte-torture\r\n", d.cseq, cseqMethod, la)
	if len(body) > 0 {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// response is a parsed SIP response (just what the test needs).
type response struct {
	code          int
	callID, toTag string
	cseq          string
	via           string
	body          []byte
}

var toTagRE = regexp.MustCompile(`(?i)^(?:to|t)\s*:.*;\s*tag=([^;\s>]+)`)

func parseResponse(b []byte) (response, bool) {
	var r response
	head, body, _ := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "SIP/2.0 ") {
		return r, false
	}
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return r, false
	}
	r.code, _ = strconv.Atoi(f[1])
	for _, l := range lines[1:] {
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "call-id", "i":
			r.callID = v
		case "cseq":
			r.cseq = v
		case "via", "v":
			if r.via == "" {
				r.via = v
			}
		case "to", "t":
			if m := toTagRE.FindStringSubmatch(l); m != nil {
				r.toTag = m[1]
			}
		}
	}
	r.body = body
	return r, true
}

// final waits for the final response to d's current request.
func (u *rawUAC) final(d *dialog, method string, wait time.Duration) (response, bool) {
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		u.conn.SetReadDeadline(deadline)
		n, err := u.conn.Read(buf)
		if err != nil {
			return response{}, false
		}
		r, ok := parseResponse(buf[:n])
		if !ok || r.callID != d.callID || r.code < 200 || r.cseq != fmt.Sprintf("%d %s", d.cseq, method) {
			continue
		}
		return r, true
	}
}

// invite sends an INVITE with body and returns its final response; a 2xx
// is acknowledged (the call is up, d has its tag), a failure too.
func (u *rawUAC) invite(d *dialog, body []byte) (response, bool) {
	u.t.Helper()
	u.n++
	branch := fmt.Sprintf("z9hG4bK-inv-%d-%d", u.n, rand.Int64())
	u.send(u.request("INVITE", d, body, branch))
	r, ok := u.final(d, "INVITE", 15*time.Second)
	if !ok {
		return r, false
	}
	d.toTag = r.toTag
	if r.code >= 300 {
		// ACK for a failure: same branch, in the INVITE's transaction.
		u.send(u.request("ACK", d, nil, branch))
		return r, true
	}
	u.send(u.request("ACK", d, nil, ""))
	return r, true
}

// bye ends a call that was answered.
func (u *rawUAC) bye(d *dialog) (response, bool) {
	d.cseq++
	u.send(u.request("BYE", d, nil, ""))
	return u.final(d, "BYE", 10*time.Second)
}

func newDialog(svc *service, user string) *dialog {
	return &dialog{callID: fmt.Sprintf("torture-%d@127.0.0.1", rand.Int64()), fromTag: fmt.Sprint(rand.Int64()),
		uri: fmt.Sprintf("sip:%s@%s", user, svc.target()), cseq: 1}
}

var mAudioRE = regexp.MustCompile(`(?m)^m=audio (\d+) `)

// brokenRTP is RTP that a peer must survive: truncated headers, bad
// versions, CSRC counts and extension lengths past the end, padding longer
// than the packet, DTMF events too short or out of range, wild sequence
// numbers and timestamps, unknown payload types, RTCP, and random bytes.
func brokenRTP(r *rand.Rand) [][]byte {
	hdr := func(b0, b1 byte, seq uint16, ts, ssrc uint32) []byte {
		h := make([]byte, 12)
		h[0], h[1] = b0, b1
		binary.BigEndian.PutUint16(h[2:], seq)
		binary.BigEndian.PutUint32(h[4:], ts)
		binary.BigEndian.PutUint32(h[8:], ssrc)
		return h
	}
	pcmu := bytes.Repeat([]byte{0xff}, 160)
	var out [][]byte
	out = append(out,
		[]byte{}, []byte{0x80}, []byte{0x80, 0x00, 0x00}, hdr(0x80, 0, 1, 0, 1)[:11],
		append(hdr(0x00, 0, 2, 160, 1), pcmu...),                         // version 0
		append(hdr(0x40, 0, 3, 320, 1), pcmu...),                         // version 1
		append(hdr(0xC0, 0, 4, 480, 1), pcmu...),                         // version 3
		hdr(0x8F, 0, 5, 640, 1),                                          // 15 CSRCs announced, none there
		append(hdr(0x90, 0, 6, 800, 1), 0xBE, 0xDE, 0xFF, 0xFF),          // extension of 65535 words
		append(append(hdr(0xA0, 0, 7, 960, 1), pcmu[:10]...), 200),       // padding 200 > payload
		append(append(hdr(0xA0, 0, 8, 1120, 1), pcmu[:10]...), 0),        // padding 0
		append(hdr(0x80, 101, 9, 1280, 1), 0x01),                         // DTMF event, 1 byte
		append(hdr(0x80, 101|0x80, 10, 1440, 1), 0xFF, 0x80, 0xFF, 0xFF), // event 255, end
		append(hdr(0x80, 101, 11, 1440, 1), 0x05, 0x80, 0x00, 0x00),      // end with zero duration
		append(hdr(0x80, 0, 65535, 0xFFFFFF00, 1), pcmu...),              // sequence and timestamp wrap
		append(hdr(0x80, 0, 0, 0, 1), pcmu...),
		append(hdr(0x80, 0, 30000, 0x7FFFFFFF, 1), pcmu...), // timestamp jump
		append(hdr(0x80, 0, 30001, 10, 1), pcmu...),         // and back
		append(hdr(0x80, 0, 30002, 170, 2), pcmu...),        // SSRC change
		hdr(0x80, 0, 30003, 330, 2),                         // empty payload
		append(hdr(0x80, 0, 30004, 490, 2), bytes.Repeat([]byte{0x7f}, 1400)...),
		append(hdr(0x80, 127, 30005, 650, 2), pcmu...), // unknown payload type
		append(hdr(0x80, 13, 30006, 810, 2), 0x40),     // comfort noise
		[]byte{0x80, 200, 0x00, 0x06, 0, 0, 0, 1},      // an RTCP sender report header
		bytes.Repeat([]byte{0x80}, 65000),
	)
	for range 300 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if len(b) > 0 && r.IntN(2) == 0 {
			b[0] = 0x80 // looks like RTP version 2
		}
		out = append(out, b)
	}
	return out
}

// levels reads goroutines and open files from /metrics.
func (s *service) levels() (goroutines, fds float64) {
	m := s.metrics()
	return m["go_goroutines"], m["process_open_fds"]
}

func TestTortureAndBrokenInput(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, map[string]any{"line": map[string]any{"answer_after": "200ms"}})
	root := filepath.Join(moduleRoot, "sip", "testdata", "torture")

	// A first call opens what the service keeps open (database
	// connections, …); the levels are taken after it.
	leaveMessageSIPp(t, svc, "before")
	svc.waitCalls(20*time.Second, allEnded(1))
	// /readyz opens the write probe's database connection, which the
	// service also opens on its own every 15 s.
	if code, body := svc.get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	g0, f0 := svc.levels()

	// 1. RFC 4475, over UDP and over TCP (one connection per message).
	var msgs []string
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.dat"))
		msgs = append(msgs, files...)
	}
	if len(msgs) < 40 {
		t.Fatalf("only %d torture messages in %s", len(msgs), root)
	}
	u := newRawUAC(t, svc)
	for _, p := range msgs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		u.send(b)
		c, err := net.DialTimeout("tcp", svc.target(), 2*time.Second)
		if err != nil {
			t.Fatalf("tcp: %v", err)
		}
		c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		c.Write(b)
		buf := make([]byte, 4096)
		c.Read(buf) // whatever comes back within the deadline
		c.Close()
	}

	// 2. Broken SDP offers: each INVITE gets a final answer, never a hang.
	sdps, _ := filepath.Glob(filepath.Join(root, "sdp", "*.sdp"))
	codes := map[int][]string{}
	for _, p := range sdps {
		body, _ := os.ReadFile(p)
		d := newDialog(svc, "support")
		r, ok := u.invite(d, body)
		if !ok {
			t.Errorf("%s: no final response to the INVITE within 15s", filepath.Base(p))
			continue
		}
		codes[r.code] = append(codes[r.code], filepath.Base(p))
		if r.code >= 500 {
			t.Errorf("%s: %d, want a 4xx (or a call)", filepath.Base(p), r.code)
		}
		if r.code == 200 {
			if br, ok := u.bye(d); !ok || br.code != 200 {
				t.Errorf("%s: the call answered on a broken offer did not end on BYE: %+v", filepath.Base(p), br)
			}
		}
	}
	t.Logf("broken SDP answers: %v", codes)

	// 3. Broken RTP inside a call, from the caller and from a stranger.
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	offer := fmt.Sprintf("v=0\r\no=torture 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n",
		rtp.LocalAddr().(*net.UDPAddr).Port)
	d := newDialog(svc, "support")
	r, ok := u.invite(d, []byte(offer))
	if !ok || r.code != 200 {
		t.Fatalf("the call for broken RTP was not answered: %+v", r)
	}
	m := mAudioRE.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no m=audio in the answer:\n%s", r.body)
	}
	port, _ := strconv.Atoi(string(m[1]))
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	rng := rand.New(rand.NewPCG(4475, 13))
	for i, p := range brokenRTP(rng) {
		from := rtp
		if i%5 == 4 {
			from = stranger
		}
		from.WriteToUDP(p, dst)
	}
	if br, ok := u.bye(d); !ok || br.code != 200 {
		t.Errorf("BYE after the broken RTP: %+v (ok %v)", br, ok)
	}

	// 4. Garbage datagrams, as a scanner's fuzzer sends them.
	drops0 := udpDrops(t, svc.sipPort)
	before := svc.metrics()
	for i := range 2000 {
		b := make([]byte, 1+rng.IntN(1200))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%3 == 0 {
			copy(b, "INVITE sip:")
		}
		u.send(b)
	}

	// The process is alive and answers.
	if !svc.p.running() {
		t.Fatalf("astreinte exited:\n%s", tail(svc.log(), 60))
	}
	if strings.Contains(svc.log(), "panic") {
		t.Errorf("a panic was logged:\n%s", tail(svc.log(), 60))
	}
	// Goroutines and open files come back to their level once the
	// transactions the torture opened have timed out (32 s for an
	// unacknowledged answer over UDP). The database pool may keep a
	// connection or two more than after one call (its idle connections,
	// a file each): a leak per message would be hundreds.
	type lv struct{ g, f float64 }
	last, ok := poll(90*time.Second, func() lv { g, f := svc.levels(); return lv{g, f} }, func(l lv) bool {
		return l.g <= g0+3 && l.f <= f0+4
	})
	t.Logf("goroutines %v → %v, open files %v → %v", g0, last.g, f0, last.f)
	if !ok {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", svc.p.cmd.Process.Pid))
		var open []string
		for _, fd := range fds {
			if to, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", svc.p.cmd.Process.Pid, fd.Name())); err == nil {
				open = append(open, to)
			}
		}
		t.Errorf("goroutines or open files not back to their level within 90s; open: %v", open)
	}
	// The log holds a few lines per kind of garbage, not one per datagram.
	parseErrors := strings.Count(svc.log(), "failed to parse")
	if parseErrors > 20 {
		t.Errorf("%d parse errors logged for %d garbage datagrams: the log is not throttled", parseErrors, 2000)
	}
	mt := svc.metrics()
	t.Logf("malformed messages counted: %.0f, dropped past the request rate: %.0f, log lines suppressed: %.0f, parse errors logged: %d",
		refused(mt, "malformed"), refused(mt, "request_rate"), mt["astreinte_log_lines_suppressed_total"], parseErrors)
	// Each garbage datagram is dropped unparsed (past the source's request
	// rate) or fails to parse, and counted either way, unless the kernel
	// dropped it first because the socket's buffer was full.
	counted := refused(mt, "malformed", "request_rate") - refused(before, "malformed", "request_rate")
	kernel := udpDrops(t, svc.sipPort) - drops0
	t.Logf("garbage datagrams: %.0f counted, %d dropped by the kernel (socket buffer full)", counted, kernel)
	if counted+float64(kernel) < 2000 {
		t.Errorf("garbage datagrams counted %.0f + dropped by the kernel %d, want 2,000", counted, kernel)
	}

	// A normal call still works.
	leaveMessageSIPp(t, svc, "after")
	var callers []string
	tk, ok := poll(20*time.Second, svc.tickets, func(ts []ticketRow) bool {
		callers = callers[:0]
		for _, x := range ts {
			callers = append(callers, x.CallerNumber)
		}
		return len(ts) == 2
	})
	sort.Strings(callers)
	if !ok || strings.Join(callers, ",") != "after,before" {
		t.Fatalf("tickets after the torture: %+v", tk)
	}
}

// udpDrops is the kernel's drop count of the UDP socket bound to
// 127.0.0.1:port (/proc/net/udp, last column).
func udpDrops(t testing.TB, port int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatalf("udp drops: %v", err)
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[1] == want {
			n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			return n
		}
	}
	t.Fatalf("no UDP socket on 127.0.0.1:%d in /proc/net/udp", port)
	return 0
}
