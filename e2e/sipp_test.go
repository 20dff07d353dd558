package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// scenario fills a SIPp scenario template from testdata.
type scenario struct {
	Caller        string // user part of From
	Formats       string // payload types offered, e.g. "8 0 101"
	RTPMaps       string // the a=rtpmap lines
	Stream        string // rtp_stream argument
	HangupAfterMS int    // 0: wait for astreinte's BYE
	ByeTimeoutMS  int    // how long to wait for it
	Status        int    // the final response expected (uac_rejected)
	ContactParams string // appended to the Contact URI (uac_message)
	SDPAddr       string // c= address instead of SIPp's media address (uac_message)
	SDPPort       int    // m= port instead of SIPp's media port (uac_message)
	DTMFPcap      string // an RFC 2833 key press to play (uac_message)…
	DTMFAtMS      int    // …this long after the answer
}

// dtmfPcap is the RFC 2833 press of key that SIPp ships (payload type 101).
func dtmfPcap(t *testing.T, key byte) string {
	t.Helper()
	p := fmt.Sprintf("/usr/share/sip-tester/dtmf_2833_%c.pcap", key)
	if !fileExists(p) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: apt-get install -y sip-tester", p)
		}
		t.Skipf("%s missing: apt-get install -y sip-tester", p)
	}
	return p
}

// offerG711 is an offer of PCMA and PCMU (in that order when alawFirst)
// with telephone-event 101.
func offerG711(alawFirst bool) (formats, rtpmaps string) {
	const indent = "      "
	pcma, pcmu := indent+"a=rtpmap:8 PCMA/8000\n", indent+"a=rtpmap:0 PCMU/8000\n"
	ev := indent + "a=rtpmap:101 telephone-event/8000\n" + indent + "a=fmtp:101 0-16\n"
	if alawFirst {
		return "8 0 101", pcma + pcmu + ev
	}
	return "0 8 101", pcmu + pcma + ev
}

// writeScenario renders testdata/name with sc into the test's directory.
func writeScenario(t testing.TB, name string, sc scenario) string {
	t.Helper()
	if sc.Caller == "" {
		sc.Caller = "0612345678"
	}
	if sc.ByeTimeoutMS == 0 {
		sc.ByeTimeoutMS = 120000
	}
	tpl, err := template.ParseFiles(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, sc); err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	path := filepath.Join(testDir(t), strings.TrimSuffix(name, ".xml")+"-run.xml")
	writeFile(t, path, b.Bytes())
	return path
}

// writeCallerStream writes pcm as headerless G.711 for rtp_stream and
// returns the rtp_stream argument (file, loop forever, payload type).
func writeCallerStream(t testing.TB, pcm []int16, alaw bool) string {
	t.Helper()
	name, pt := "caller.ulaw", 0
	if alaw {
		name, pt = "caller.alaw", 8
	}
	path := filepath.Join(testDir(t), name)
	writeFile(t, path, encodeG711(pcm, alaw))
	return fmt.Sprintf("%s,-1,%d", path, pt)
}

// sipp is one SIPp run.
type sipp struct {
	t    testing.TB
	p    *proc
	dir  string
	name string
}

// sippOptions tune a run; the zero value places one call.
type sippOptions struct {
	service string // -s (default support)
	calls   int    // -m (default 1)
	limit   int    // -l
	rate    int    // -r
	tcp     bool   // -t t1: one TCP connection
	timeout time.Duration
}

// startSIPp runs a SIPp UAC with the scenario file against svc, in the
// foreground (no -bg), traces in the test's directory.
func startSIPp(t testing.TB, svc *service, scenarioPath string, o sippOptions) *sipp {
	t.Helper()
	requirePeer(t, "sipp")
	if o.service == "" {
		o.service = "support"
	}
	if o.calls == 0 {
		o.calls = 1
	}
	if o.timeout == 0 {
		o.timeout = 120 * time.Second
	}
	dir := testDir(t)
	name := strings.TrimSuffix(filepath.Base(scenarioPath), ".xml")
	s := &sipp{t: t, dir: dir, name: name}
	args := []string{
		"-sf", scenarioPath,
		"-i", "127.0.0.1", "-mi", "127.0.0.1",
		// Its UDP remote-control socket too: loopback, a port of our own.
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(freeUDPPort(t, false)),
		"-p", fmt.Sprint(freeUDPPort(t, false)),
		"-mp", fmt.Sprint(freeUDPPort(t, true)),
		"-s", o.service,
		"-m", fmt.Sprint(o.calls),
		"-nostdin",
		"-timeout", fmt.Sprintf("%ds", int(o.timeout.Seconds())), "-timeout_error",
		"-max_retrans", "3",
		"-trace_err", "-error_file", filepath.Join(dir, name+"_errors.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, name+"_messages.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, name+"_screen.log"),
		"-trace_stat", "-stf", filepath.Join(dir, name+"_stat.csv"),
	}
	if o.limit > 0 {
		args = append(args, "-l", fmt.Sprint(o.limit))
	}
	if o.rate > 0 {
		args = append(args, "-r", fmt.Sprint(o.rate))
	}
	if o.tcp {
		args = append(args, "-t", "t1")
	}
	args = append(args, svc.target())
	s.p = startProc(t, o.timeout+30*time.Second, dir, name+"_sipp", syscall.SIGTERM, "sipp", args...)
	t.Cleanup(func() {
		if t.Failed() {
			s.report()
		}
	})
	return s
}

// wait waits for SIPp to end and returns its exit status (0: every call
// went through the scenario). -1 when it had to be stopped.
func (s *sipp) wait(d time.Duration) int {
	if code, ok := s.p.wait(d); ok {
		return code
	}
	s.t.Errorf("sipp still running after %s; stopping it", d)
	return s.p.stop(syscall.SIGTERM, 5*time.Second)
}

// runSIPp runs a scenario to its end and returns the exit status.
func runSIPp(t testing.TB, svc *service, scenarioPath string, o sippOptions) int {
	t.Helper()
	s := startSIPp(t, svc, scenarioPath, o)
	timeout := o.timeout
	if timeout == 0 {
		timeout = 120 * time.Second
	}
	code := s.wait(timeout + 20*time.Second)
	if code != 0 {
		t.Errorf("sipp exited with status %d (0: all calls succeeded)", code)
	}
	return code
}

// report prints SIPp's error trace, the end of its message trace and the
// end of its output (its last screen).
func (s *sipp) report() {
	for _, f := range []struct {
		suffix string
		lines  int
	}{{"_errors.log", 60}, {"_messages.log", 80}} {
		b, err := os.ReadFile(filepath.Join(s.dir, s.name+f.suffix))
		if err != nil {
			continue
		}
		s.t.Logf("==== sipp %s%s ====\n%s", s.name, f.suffix, tail(string(b), f.lines))
	}
	s.t.Logf("==== sipp output (end) ====\n%s", tail(s.p.output(), 30))
}
